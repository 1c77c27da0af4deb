"""The public face, pinned (in the manner of httpx's ``test_exported_members``).

Implementation modules have ``_`` names; the ``__init__`` of each package is its face. Each
face's ``__all__`` is pinned exactly here, so adding or removing a public name is a deliberate
edit of this file. Every listed name is importable, every public name a face holds is listed,
every class or function it exports comes from that face's own package, and the public modules
are exactly the faces (plus the documented ``errors`` module and the entry points).
"""

from __future__ import annotations
import __future__

import collections.abc
import importlib
import inspect
import pkgutil
import types
import typing

import pytest

import sogni_sync

ERRORS = [
    "ApiError", "AuthenticationError", "ChatError", "ClientClosedError", "ConnectionLostError",
    "ConnectionTakenOverError", "InsufficientFundsApiError", "InsufficientFundsChatError",
    "InsufficientFundsError", "InsufficientFundsProjectError", "MissingDependencyError",
    "NotFoundError", "OutboxFullError", "ProjectCanceledError", "ProjectError",
    "ProjectFailedError", "ProjectNotFoundError", "RateLimitError", "RequestLostError",
    "ServerError", "SogniError", "TLSError", "TimeoutError", "UnexpectedResponseError",
    "ValidationError",
]

FACES: dict[str, list[str]] = {
    "sogni_sync": [
        "__version__", "errors", *ERRORS,
        "SogniClient", "Timeouts", "Retries", "Limits", "ClientOptions",
        "Project", "Job", "ErrorData", "ProjectEvent", "as_completed", "wait_all",
        "ChatCompletion", "ChatChunk", "ChatStream", "SogniTools", "ToolCall", "Usage",
        "image_part",
    ],
    "sogni_sync.errors": ERRORS,
    "sogni_sync.account": [
        "AccountApi", "Announcement", "AnnouncementsApi", "Balances", "CurrentAccount",
        "LeaderboardEntry", "LoginResult", "Me", "Reward", "StatsApi", "TokenBalance",
        "TransactionPage", "TxHistoryEntry", "UsernameCheck", "WalletBalance",
    ],
    "sogni_sync.batch": [
        "BatchApi", "BatchEstimate", "BatchSummary", "Item", "ItemResult", "ItemSource",
        "Manifest", "ManifestMismatchError", "check_item", "params_hash",
    ],
    "sogni_sync.catalog": [
        "AvailableModel", "Catalog", "CostEstimate", "ModelOptions", "NumRange", "Options",
        "SizePreset", "SupportedModel", "VideoAssetConfig",
    ],
    "sogni_sync.chat": [
        "ChatApi", "ChatChunk", "ChatCompletion", "ChatCostEstimate", "ChatMessage",
        "ChatRun", "ChatRunEvent", "ChatRunWaiting", "ChatRunsApi", "ChatStream", "ChatToolsApi",
        "Choice", "CostApproval", "CostApprovalPreview", "CostBreakdown", "FunctionCall",
        "HostedChatApi", "HostedChatCompletion", "HostedToolResult", "LLMJobCost", "LLMModel",
        "SogniTools", "ToolCall", "ToolCallDelta", "ToolExecutionResult", "ToolProgress",
        "ToolRound", "ToolSet", "Usage", "build_sogni_tools", "hosted_tools_manifest",
        "image_part", "image_part_from_bytes", "image_part_from_path", "is_sogni_tool_call",
        "parse_data_uri", "parse_tool_call_arguments", "sogni_tool_set", "text_part",
        "to_data_uri",
    ],
    "sogni_sync.cli": ["COMMANDS", "main"],
    "sogni_sync.creative_workflows": [
        "BillingMode", "CreativeWorkflow", "CreativeWorkflowEvent", "CreativeWorkflowsApi",
        "ReplayApi", "ReplayRecord", "ReplayRecordSummary", "ReplayWriteResult",
        "ReseededWorkflow", "ResumedWorkflow", "SseFrame", "SseParser", "WorkflowTemplate",
        "WorkflowTemplatePage", "WorkflowTemplatesApi", "is_terminal", "parse_sse_chunk",
    ],
    "sogni_sync.projects": [
        "AssetsApi", "AudioOutputFormat", "AudioParams", "ControlMode", "ControlNet",
        "ControlNetName", "ErrorData", "GptImageBackground", "GptImageQuality", "ImageOutputFormat",
        "ImageParams", "Job", "JobCompletedEvent", "JobEtaEvent", "JobFailedEvent",
        "DetailPreference", "JobPreviewEvent", "JobProgressEvent", "JobStartedEvent",
        "LookupStatus", "LoraCatalog", "LoraCatalogEntry", "LoraConstraints", "LoraExample",
        "LoraRangeLabels", "LoraSection", "LoraUi", "MediaInput", "PersonalLora",
        "PersonalLoraLibrary", "PersonalLoraLimits", "PersonalLoraStatus", "PersonalLoras",
        "Pixal3dTemplateVariant", "ProcessingSpeed", "Project", "ProjectCanceledEvent",
        "ProjectCompletedEvent", "ProjectElsewhere", "ProjectEvent", "ProjectFailedEvent",
        "ProjectQueuedEvent", "ProjectResult", "ProjectStatusSnapshot", "ProjectType",
        "ProjectUpdatedEvent", "ProjectsApi", "RecentJob", "RecentProject", "ResultJob",
        "Sam2Point", "Sam3Box", "Sam3Label", "Sam3Point", "Sam3Prompt", "Sampler", "SavedUpload",
        "SavedUploadLimits", "SavedUploads", "Scheduler", "SeedanceTaskType", "TimeSignature",
        "TokenType", "VideoControlNet", "VideoControlNetName", "VideoOutputFormat", "VideoParams",
        "WaitingReason", "Wan3Ratio", "as_completed", "wait_all",
    ],
    "sogni_sync.testing": [
        "Faults", "Frame", "LocalSupernet", "RestCall", "add_arguments", "main", "serve",
    ],
}

#: public modules that are not package faces: the documented error module and entry points
PUBLIC_MODULES = {"sogni_sync.errors", "sogni_sync.testing.pytest_plugin",
                  "sogni_sync.cli.__main__", "sogni_sync.testing.__main__"}

#: public names a face holds without exporting them, each with its reason
NOT_EXPORTED = {
    # the table behind the deprecated error names (read by the top-level __getattr__)
    "sogni_sync.errors": {"DEPRECATED_ALIASES"},
    # the console script's parts: its parser and help text
    "sogni_sync.cli": {"EPILOG", "build_parser"},
}


def _is_plumbing(name: str, value: object) -> bool:
    """Modules, ``from __future__`` features and ``typing``/``collections.abc`` names a face
    imports for its own annotations."""
    return (isinstance(value, (types.ModuleType, __future__._Feature))
            or any(getattr(source, name, None) is value for source in (typing, collections.abc)))


@pytest.mark.parametrize("face", sorted(FACES))
def test_all_is_pinned(face: str) -> None:
    exported = importlib.import_module(face).__all__
    assert len(exported) == len(set(exported)), f"{face}.__all__ lists a name twice"
    assert sorted(exported) == sorted(FACES[face])


@pytest.mark.parametrize("face", sorted(FACES))
def test_every_exported_name_is_importable(face: str) -> None:
    module = importlib.import_module(face)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{face}.{name}"
        exec(f"from {face} import {name}", {})  # the form users write


@pytest.mark.parametrize("face", sorted(FACES))
def test_a_face_holds_no_unlisted_public_name(face: str) -> None:
    module = importlib.import_module(face)
    for name in module.__all__:
        getattr(module, name)  # lazy faces bind their names on first use
    extra = {name for name, value in vars(module).items()
             if not name.startswith("_") and not _is_plumbing(name, value)}
    assert extra - set(module.__all__) == NOT_EXPORTED.get(face, set())


@pytest.mark.parametrize("face", sorted(FACES))
def test_exported_objects_come_from_their_face(face: str) -> None:
    module = importlib.import_module(face)
    for name in module.__all__:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        home = value.__module__
        assert home == face or home.startswith(face + "."), f"{face}.{name} is from {home}"


def test_the_top_level_re_exports_each_name_from_its_one_face() -> None:
    """``sogni_sync.Project`` is ``sogni_sync.projects.Project``: a top-level name that lives in
    a sub-package is that sub-package's export, never a second public home of its own."""
    for name in sogni_sync.__all__:
        value = getattr(sogni_sync, name)
        home = getattr(value, "__module__", "sogni_sync")
        if not inspect.isclass(value) and not inspect.isfunction(value):
            continue
        package = ".".join(home.split(".")[:2])
        if package.split(".")[-1].startswith("_"):
            continue  # defined by the top level itself (the client and its options)
        assert name in importlib.import_module(package).__all__, f"{name} ({home})"


def test_the_public_modules_are_exactly_the_faces() -> None:
    public = set()
    for info in pkgutil.walk_packages(sogni_sync.__path__, "sogni_sync."):
        parts = info.name.split(".")
        if any(part.startswith("_") and part != "__main__" for part in parts[1:]):
            continue
        public.add(info.name)
    assert public == (set(FACES) - {"sogni_sync"}) | PUBLIC_MODULES


def test_the_client_keeps_its_transport_private() -> None:
    client = sogni_sync.SogniClient(app_id="face", rest_endpoint="http://127.0.0.1:9",
                                    socket_endpoint="ws://127.0.0.1:9", disable_socket=True)
    concerns = ("account", "stats", "catalog", "projects", "chat", "creative_workflows", "batch")
    with client:
        public = {name for name in dir(client) if not name.startswith("_")}
        for concern in concerns:  # nor does any concern API hand it out
            assert "transport" not in dir(getattr(client, concern)), concern
    assert "transport" not in public
    assert {*concerns, "options", "app_id", "network", "connection_state", "connect", "on",
            "close"} <= public
