"""Hosted tool execution and the choice of Sogni tool set.

``client.chat.hosted.execute_tool(tool, arguments)`` runs one synchronous hosted composition
tool on Sogni's servers (``POST /v1/creative-agent/tools/execute``, up to 300 s) and returns its
JSON result. Two tool sets ship as package data, byte-exact: ``"seed"`` (the six ``sogni_*``
tools of ``sogni_tools.json`` / ``hosted_tools.json``) and ``"current"``
(``hosted_tools_current.json``: the 30 flat-named tools of the protocol manifest 2026-08-24.1,
including ``image_to_3d``, ``remove_background`` and ``segment_image``, byte for byte the file
the Python client 5.70 ships; the JS client 5.54 inlines the same version with small schema
differences in nine tools). Of the current set, six
run locally as media projects like the seed's (``generate_image`` … ``generate_music``); the
rest only run hosted (``chat.hosted.create`` with ``sogni_tools``, or ``execute_tool`` for the
synchronous composition tools).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any, Literal

import attrs

from sogni_sync._convert import register_wire, structure, to_snake
from sogni_sync._transport import RestAccess
from sogni_sync.errors import UnexpectedResponseError, ValidationError

__all__ = [
    "DIRECT_DISPATCH",
    "EXECUTE_PATH",
    "SYNCHRONOUS_TOOLS",
    "HostedToolResult",
    "ToolSet",
    "current_tool_names",
    "execute_hosted_tool",
    "resolve_media_indices",
    "seed_arguments",
    "sogni_tool_set",
    "tool_set_manifest",
]

EXECUTE_PATH = "/v1/creative-agent/tools/execute"
EXECUTE_TIMEOUT = 300.0
ToolSet = Literal["seed", "current"]
_FILES = {"seed": "hosted_tools.json", "current": "hosted_tools_current.json"}
#: the synchronous composition tools ``execute_tool`` is meant for
SYNCHRONOUS_TOOLS = ("enhance_prompt", "compose_script", "compose_lyrics",
                     "compose_instrumental", "compose_workflow", "compose_workflow_template")
#: current-set tools that run locally as media projects -> the seed handler they share
DIRECT_DISPATCH = {
    "generate_image": "sogni_generate_image",
    "edit_image": "sogni_edit_image",
    "generate_video": "sogni_generate_video",
    "sound_to_video": "sogni_sound_to_video",
    "video_to_video": "sogni_video_to_video",
    "generate_music": "sogni_generate_music",
}


@functools.cache
def _manifest(tool_set: str) -> dict[str, Any]:
    if tool_set not in _FILES:
        raise ValidationError(f"tool_set must be 'seed' or 'current', got {tool_set!r}")
    folder = resources.files("sogni_sync").joinpath("data")
    loaded: dict[str, Any] = json.loads(folder.joinpath(_FILES[tool_set]).read_text("utf-8"))
    return loaded


def tool_set_manifest(tool_set: ToolSet = "current") -> dict[str, Any]:
    """The manifest ``{version, source, tools}`` of a tool set (a fresh copy)."""
    return copy.deepcopy(_manifest(tool_set))


def sogni_tool_set(tool_set: ToolSet = "current") -> list[dict[str, Any]]:
    """The OpenAI tool definitions of a set, to pass as ``tools=`` (a fresh copy):
    ``"current"`` (30 flat-named tools) or ``"seed"`` (the six ``sogni_*`` tools)."""
    return copy.deepcopy(_manifest(tool_set)["tools"])


@functools.cache
def current_tool_names() -> frozenset[str]:
    return frozenset(t["function"]["name"] for t in _manifest("current")["tools"])


#: current-set argument names whose seed spelling is not their snake_case form
_RENAMED = {"videoModel": "model", "timesig": "timesignature"}


#: media kind -> (media_context key of generated media, of uploaded media)
_CONTEXT_KEYS = {"image": ("images", "uploaded_images"), "video": ("videos", "uploaded_videos"),
                 "audio": ("audio", "uploaded_audio")}
#: video tools: index argument -> (media kind, the seed arguments its entries fill, in order)
_INDEXED = {
    "referenceImageIndices": ("image", ("reference_image_url", "reference_image_end_url")),
    "referenceVideoIndices": ("video", ("reference_video_url",)),
    "referenceAudioIndices": ("audio", ("reference_audio_url",)),
}


def _indices(value: Any, argument: str) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or any(
            not isinstance(v, int) or isinstance(v, bool) for v in value):
        raise ValidationError(f"{argument} must contain only integer media indices")
    return value


def resolve_media_indices(indices: list[int], media: str,
                          media_context: Mapping[str, Any] | None) -> list[str]:
    """The media an index list names: ``i >= 0`` is the i-th generated item, ``-1, -2…`` the
    first, second… uploaded one (the reference's convention)."""
    if not indices:
        return []
    if media_context is None:
        raise ValidationError(f"Indexed {media} arguments require media_context when using "
                              "chat.tools.execute()")
    generated, uploaded = _CONTEXT_KEYS[media]
    camel = "uploaded" + uploaded.split("_", 1)[1].capitalize()
    out = []
    for index in indices:
        pool = media_context.get(generated) if index >= 0 else \
            media_context.get(uploaded, media_context.get(camel))
        at = index if index >= 0 else -index - 1
        entry = pool[at] if isinstance(pool, (list, tuple)) and at < len(pool) else None
        if not isinstance(entry, str) or not entry.strip():
            raise ValidationError(f"{media} media index {index} is unavailable in media_context")
        out.append(entry)
    return out


def seed_arguments(name: str, args: Mapping[str, Any],
                   media_context: Mapping[str, Any] | None = None
                   ) -> tuple[str, dict[str, Any]]:
    """A direct-dispatch call of the current set as the seed tool that runs it locally:
    ``(sogni_<name>, arguments)`` with camelCase names in the seed's snake_case where the seed
    tool has them (others are kept). The video tools' ``reference{Image,Video,Audio}Indices``
    pick media from ``media_context`` (``images``/``videos``/``audio`` generated,
    ``uploaded_images``/``uploaded_videos``/``uploaded_audio``, as data URIs), as the
    reference resolves them; mixing indexed images with ``reference_image_url`` is refused."""
    seed_name = DIRECT_DISPATCH[name]
    seed = next(t for t in _manifest("seed")["tools"] if t["function"]["name"] == seed_name)
    known = seed["function"]["parameters"]["properties"]
    out: dict[str, Any] = {}
    for key, value in args.items():
        wanted = _RENAMED.get(key, to_snake(key))
        out[wanted if wanted in known and wanted not in args else key] = value
    if name in ("generate_video", "sound_to_video", "video_to_video"):
        for argument, (media, targets) in _INDEXED.items():
            found = resolve_media_indices(_indices(args.get(argument), argument), media,
                                          media_context)
            if found and any(out.get(t) for t in targets):
                raise ValidationError(f"Use either {argument} with media_context or legacy "
                                      f"inline {targets[0]} arguments, not both")
            out.update(zip(targets, found, strict=False))
    return seed_name, out


@attrs.frozen
class HostedToolResult:
    """What a hosted tool returned: its ``result`` object and an optional ``message``."""

    tool: str
    tool_call_id: str = ""
    result: Mapping[str, Any] = attrs.field(factory=dict)
    message: str | None = None


def _result_wire(value: Any) -> dict[str, Any]:
    raw = dict(value) if isinstance(value, Mapping) else {}
    result = raw.get("result")
    return {**raw, "result": dict(result) if isinstance(result, Mapping) else {}}


register_wire(HostedToolResult, _result_wire)


def execute_hosted_tool(
    transport: RestAccess,
    tool: str,
    arguments: Mapping[str, Any],
    *,
    token_type: str | None = None,
    safe_content_filter: bool | None = None,
    app_source: str | None = None,
    timeout: float | None = EXECUTE_TIMEOUT,
) -> HostedToolResult:
    """Run one hosted tool server-side and wait for its result (default 300 s)."""
    if not isinstance(tool, str) or not tool.strip():
        raise ValidationError("tool must be a non-empty string")
    if not isinstance(arguments, Mapping):
        raise ValidationError("arguments must be a mapping")
    if token_type is not None and token_type not in ("sogni", "spark", "auto"):
        raise ValidationError(f"token_type must be 'sogni', 'spark' or 'auto', got {token_type!r}")
    if safe_content_filter is not None and not isinstance(safe_content_filter, bool):
        raise ValidationError("safe_content_filter must be a bool")
    body: dict[str, Any] = {"tool": tool, "arguments": dict(arguments)}
    source = app_source or transport.options.app_source
    if source:
        body["app_source"] = source
    if token_type:
        body["token_type"] = token_type
    if safe_content_filter is not None:
        body["safe_content_filter"] = safe_content_filter
    data = transport.rest.request("POST", EXECUTE_PATH, json=body, idempotent=False,
                                  timeout=timeout)
    if not isinstance(data, Mapping) or not isinstance(data.get("tool"), str):
        raise UnexpectedResponseError.expected(EXECUTE_PATH, "a hosted tool result", data)
    return structure(data, HostedToolResult, EXECUTE_PATH)
