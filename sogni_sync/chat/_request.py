"""Pure builders for the chat wire bodies: ``llmJobRequest`` (socket) and the hosted REST body.

Everything here is a function of its arguments (no I/O), so key order, omission of unset keys and
the ``sogni_tools`` normalisation can be pinned by unit tests against the reference's bodies.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from sogni_sync.chat._media import normalize_messages
from sogni_sync.errors import ValidationError

__all__ = [
    "CHAT_PARAMS",
    "HOSTED_OPTIONS",
    "REQUEST_OPTIONS",
    "SAMPLING_KEYS",
    "TASK_PROFILES",
    "build_hosted_body",
    "build_llm_job_request",
    "count_input_tokens",
    "estimate_max_output_tokens",
    "given_options",
    "js_json",
    "new_job_id",
    "normalize_sogni_tools",
    "validate_params",
]

SAMPLING_KEYS = (
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "repetition_penalty",
    "frequency_penalty",
    "presence_penalty",
)
TASK_PROFILES = ("general", "coding", "reasoning")
TOKEN_TYPES = ("sogni", "spark")
TOOL_CHOICES = ("auto", "none", "required")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
#: the request options ``chat.complete``/``chat.stream`` take as keywords (public snake_case)
REQUEST_OPTIONS = (
    *SAMPLING_KEYS,
    "stop",
    "token_type",
    "tools",
    "tool_choice",
    "response_format",
    "think",
    "task_profile",
    "sogni_tools",
    "sogni_tool_execution",
    "app_source",
)
#: ``chat.hosted.create`` takes these too
HOSTED_OPTIONS = (
    *REQUEST_OPTIONS,
    "media_references",
    "api_media_references",
    "chat_template_kwargs",
)
#: every request option of a socket chat request (``stream`` is set by ``chat.stream``)
CHAT_PARAMS = frozenset({*REQUEST_OPTIONS, "stream"})


def new_job_id() -> str:
    """Upper-case UUID v4, the form of every id the reference client makes."""
    return str(uuid.uuid4()).upper()


def js_json(value: Any) -> str:
    """Compact JSON with raw non-ASCII, as ``JSON.stringify`` writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def given_options(
    arguments: Mapping[str, Any], names: Sequence[str] = REQUEST_OPTIONS
) -> dict[str, Any]:
    """The options among ``names`` a caller set, from a public method's ``locals()``.

    ``None`` means "not given" (like JS ``undefined``), so unset options are left out and the
    server's defaults apply. The public methods keep every option as an explicit keyword.
    """
    return {name: arguments[name] for name in names if arguments.get(name) is not None}


def normalize_sogni_tools(value: Any) -> Any:
    """``"rich"`` (any case, padded) is the legacy alias of ``"creative-tools"``."""
    if isinstance(value, str) and value.strip().lower() == "rich":
        return "creative-tools"
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_params(params: Mapping[str, Any]) -> None:
    """Type checks that the reference leaves to the server but that cost nothing to do early.

    Ranges are deliberately not checked: the server's model map decides them.
    """
    model = params.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ValidationError("model must be a non-empty string (an LLM model id)")
    messages = params.get("messages")
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
        raise ValidationError("messages must be a list of message mappings")
    if not messages:
        raise ValidationError("messages must not be empty")
    for index, message in enumerate(messages):
        _check_message(index, message)
    max_tokens = params.get("max_tokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
                                   or max_tokens <= 0):
        raise ValidationError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    for key in SAMPLING_KEYS:
        value = params.get(key)
        if value is not None and not _is_number(value):
            raise ValidationError(f"{key} must be a number")
    stop = params.get("stop")
    if stop is not None and not (
        isinstance(stop, str)
        or (isinstance(stop, Sequence) and all(isinstance(s, str) for s in stop))
    ):
        raise ValidationError("stop must be a string or a list of strings")
    think = params.get("think")
    if think is not None and not isinstance(think, bool):
        raise ValidationError("think must be True, False or None")
    profile = params.get("task_profile")
    if profile is not None and profile not in TASK_PROFILES:
        raise ValidationError(
            f"task_profile must be one of {', '.join(TASK_PROFILES)}, got {profile!r}"
        )
    token_type = params.get("token_type")
    if token_type is not None and token_type not in TOKEN_TYPES:
        raise ValidationError(f"token_type must be 'sogni' or 'spark', got {token_type!r}")
    tools = params.get("tools")
    if tools is not None and (
        isinstance(tools, (str, Mapping))
        or not isinstance(tools, Sequence)
        or not all(isinstance(t, Mapping) for t in tools)
    ):
        raise ValidationError("tools must be a list of OpenAI tool definitions (mappings)")
    choice = params.get("tool_choice")
    if choice is not None and not (choice in TOOL_CHOICES or isinstance(choice, Mapping)):
        raise ValidationError(
            "tool_choice must be 'auto', 'none', 'required' or "
            "{'type': 'function', 'function': {'name': ...}}"
        )
    fmt = params.get("response_format")
    if fmt is not None and fmt != {}:
        if not isinstance(fmt, Mapping) or fmt.get("type") not in RESPONSE_FORMATS:
            raise ValidationError(
                "response_format must be {'type': 'text' | 'json_object' | 'json_schema', ...}"
            )
        if fmt.get("type") == "json_schema":
            schema = fmt.get("json_schema")
            if not isinstance(schema, Mapping) or not schema.get("name"):
                raise ValidationError(
                    "response_format json_schema needs "
                    "{'json_schema': {'name': ..., 'schema': ...}}"
                )
    sogni_tools = params.get("sogni_tools")
    if sogni_tools is not None and not isinstance(sogni_tools, (bool, str)):
        raise ValidationError("sogni_tools must be a boolean or a mode string")


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        body[key] = value


def _put_tool_options(body: dict[str, Any], params: Mapping[str, Any], *, camel_case: bool) -> None:
    """``stop`` ... ``task_profile``, in the order both bodies share; the socket body spells
    ``tokenType``/``taskProfile`` in camelCase, the hosted one in snake_case."""
    _put(body, "stop", params.get("stop"))
    _put(body, "tokenType" if camel_case else "token_type", params.get("token_type"))
    _put(body, "tools", params.get("tools"))
    _put(body, "tool_choice", params.get("tool_choice"))
    _put(body, "sogni_tools", normalize_sogni_tools(params.get("sogni_tools")))
    _put(body, "sogni_tool_execution", params.get("sogni_tool_execution"))
    _put(body, "taskProfile" if camel_case else "task_profile", params.get("task_profile"))


def build_llm_job_request(
    job_id: str,
    params: Mapping[str, Any],
    *,
    default_app_source: str | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``llmJobRequest`` body, keys in the reference's order, unset keys omitted.

    ``params`` uses the public snake_case names (``token_type``, ``task_profile``, ``think``...).
    ``messages`` may be passed already normalised; otherwise they are normalised here (vision
    validation raises before anything is sent).
    """
    body: dict[str, Any] = {
        "jobID": job_id,
        "type": "llm",
        "model": params["model"],
        "messages": messages if messages is not None else normalize_messages(params["messages"]),
    }
    _put(body, "appSource", params.get("app_source") or default_app_source or None)
    for key in SAMPLING_KEYS[:5]:
        _put(body, key, params.get(key))
    _put(body, "stream", params.get("stream"))
    for key in SAMPLING_KEYS[5:]:
        _put(body, key, params.get(key))
    _put_tool_options(body, params, camel_case=True)
    if params.get("think") is not None:
        body["chat_template_kwargs"] = {"enable_thinking": params["think"]}
    if params.get("response_format"):
        body["response_format"] = params["response_format"]
    return body


def build_hosted_body(
    params: Mapping[str, Any], *, default_app_source: str | None = None
) -> dict[str, Any]:
    """The hosted ``POST /v1/chat/completions`` body: OpenAI keys plus the Sogni options,
    all snake_case (the socket request spells the same options in camelCase)."""
    body: dict[str, Any] = {
        "model": params["model"],
        "messages": normalize_messages(params["messages"]),
    }
    _put(body, "app_source", params.get("app_source") or default_app_source or None)
    for key in SAMPLING_KEYS:
        _put(body, key, params.get(key))
    _put_tool_options(body, params, camel_case=False)
    _put(body, "media_references", params.get("media_references"))
    _put(body, "api_media_references", params.get("api_media_references"))
    if params.get("chat_template_kwargs") is not None:
        body["chat_template_kwargs"] = params["chat_template_kwargs"]
    elif params.get("think") is not None:
        body["chat_template_kwargs"] = {"enable_thinking": params["think"]}
    if params.get("response_format"):
        body["response_format"] = params["response_format"]
    return body


def count_input_tokens(messages: Sequence[Any]) -> int:
    """The estimate's input-token figure, as the reference computes it: a quarter (rounded
    up) of the length in UTF-16 code units of the compact JSON of the vision-normalised
    messages, every image URL replaced by ``[image]``."""
    text = js_json(normalize_messages(messages, placeholder_urls=True))
    return math.ceil(len(text.encode("utf-16-le")) // 2 / 4)


def _finite(value: Any) -> TypeGuard[int | float]:
    return _is_number(value) and math.isfinite(value)


def estimate_max_output_tokens(
    max_tokens: Any,
    *,
    think: bool | None,
    task_profile: str | None,
    model_limits: Mapping[str, Any] | None,
) -> int | float:
    """The estimate's output-token figure: ``max_tokens`` when it is a finite number; else,
    thinking on a ``coding``/``reasoning`` task, the model's ``thinkingComplexDefault``; else
    the model's ``default``; else 4096."""
    limits = model_limits or {}
    complex_default = limits.get("thinkingComplexDefault")
    default = limits.get("default")
    if _finite(max_tokens):
        value = max_tokens
    elif think is True and task_profile in ("coding", "reasoning") and _finite(complex_default):
        value = complex_default
    elif _finite(default):
        value = default
    else:
        value = 4096
    return value


ROLES = ("system", "user", "assistant", "tool")


def _check_message(index: int, message: Any) -> None:
    """A message has one of the four roles and content the wire knows: text, a list of
    content parts, or null where an assistant message carries only tool calls."""
    if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
        raise ValidationError(f"messages[{index}] must be a mapping with a string 'role'")
    role = message["role"]
    if role not in ROLES:
        raise ValidationError(
            f"messages[{index}].role must be one of {', '.join(ROLES)}, not {role!r}")
    content = message.get("content")
    if isinstance(content, str) or (isinstance(content, Sequence)
                                    and not isinstance(content, (bytes, bytearray))):
        return
    if content is None and role == "assistant" and message.get("tool_calls"):
        return
    raise ValidationError(
        f"messages[{index}].content must be a string or a list of content parts"
        + (" (or null when the assistant message has tool_calls)" if role == "assistant" else "")
        + f", not {type(content).__name__}")
