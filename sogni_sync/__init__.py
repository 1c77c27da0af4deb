"""sogni-sync: a synchronous Python SDK for the Sogni Supernet.

``SogniClient`` is the door to everything: ``client.projects`` (images, video, music),
``client.chat`` (LLM chat, tools), ``client.creative_workflows``, ``client.account`` and
``client.stats``. Heavy modules load on first use, so ``import sogni_sync`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sogni_sync import errors
from sogni_sync._version import __version__
from sogni_sync.errors import *  # noqa: F403

if TYPE_CHECKING:
    from sogni_sync._client import SogniClient
    from sogni_sync._config import ClientOptions, Limits, Retries, Timeouts
    from sogni_sync.chat import (
        ChatChunk,
        ChatCompletion,
        ChatStream,
        SogniTools,
        ToolCall,
        Usage,
        image_part,
    )
    from sogni_sync.projects import (
        ErrorData,
        Job,
        Project,
        ProjectEvent,
        as_completed,
        wait_all,
    )

_LAZY: dict[str, str] = {
    "SogniClient": "sogni_sync._client",
    "Timeouts": "sogni_sync._config",
    "Retries": "sogni_sync._config",
    "Limits": "sogni_sync._config",
    "ClientOptions": "sogni_sync._config",
    "Project": "sogni_sync.projects",
    "Job": "sogni_sync.projects",
    "ErrorData": "sogni_sync.projects",
    "ProjectEvent": "sogni_sync.projects",
    "as_completed": "sogni_sync.projects",
    "wait_all": "sogni_sync.projects",
    "ChatCompletion": "sogni_sync.chat",
    "ChatChunk": "sogni_sync.chat",
    "ChatStream": "sogni_sync.chat",
    "SogniTools": "sogni_sync.chat",
    "ToolCall": "sogni_sync.chat",
    "Usage": "sogni_sync.chat",
    "image_part": "sogni_sync.chat",
}

__all__ = [  # grouped by meaning
    "__version__",
    "errors",
    *errors.__all__,
    "SogniClient",
    "Timeouts",
    "Retries",
    "Limits",
    "ClientOptions",
    "Project",
    "Job",
    "ErrorData",
    "ProjectEvent",
    "as_completed",
    "wait_all",
    "ChatCompletion",
    "ChatChunk",
    "ChatStream",
    "SogniTools",
    "ToolCall",
    "Usage",
    "image_part",
]


def __getattr__(name: str) -> Any:
    if name in errors.DEPRECATED_ALIASES:
        return getattr(errors, name)  # warns; never cached, so every use warns
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sogni_sync' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
