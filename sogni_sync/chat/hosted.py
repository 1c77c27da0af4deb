"""``client.chat.hosted``: the REST chat endpoint where Sogni runs the model and its tools.

``POST /v1/chat/completions`` answers with a bare OpenAI ``chat.completion`` (no ``{status,
data}`` envelope) and may take minutes when the server executes tools, hence its 300 s timeout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sogni_sync.chat import _request as rq
from sogni_sync.chat.types import HostedChatCompletion
from sogni_sync.errors import ValidationError

__all__ = ["HOSTED_PATH", "HOSTED_TIMEOUT", "SOGNI_TOOLS_MODES", "HostedChatApi"]

HOSTED_PATH = "/v1/chat/completions"
HOSTED_TIMEOUT = 300.0
#: accepted ``sogni_tools`` values (``"rich"`` is sent as ``"creative-tools"``)
SOGNI_TOOLS_MODES = (True, False, "creative-tools", "creative-agent", "rich")
_HOSTED_EXTRA = frozenset(
    {"media_references", "api_media_references", "chat_template_kwargs"}
)


class HostedChatApi:
    """Hosted chat completions with optional server-side Sogni tools."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport

    def create(
        self,
        model: str,
        messages: Sequence[Any],
        *,
        timeout: float | None = HOSTED_TIMEOUT,
        **params: Any,
    ) -> HostedChatCompletion:
        """One hosted completion; blocks up to ``timeout`` seconds (default 300).

        Accepts the socket chat parameters (``token_type`` may also be ``"auto"`` here) plus
        ``sogni_tools`` (``True``/``"creative-tools"``/``"creative-agent"``/``"rich"``),
        ``sogni_tool_execution`` (let the server run the tools), ``media_references``,
        ``api_media_references`` and ``chat_template_kwargs``. Streaming is not supported.
        Raises ``ApiError`` subclasses for non-2xx answers, ``ValidationError`` before sending.
        """
        if params.get("stream"):
            raise ValidationError(
                "chat.hosted.create currently supports non-streaming requests only."
            )
        params.pop("stream", None)
        unknown = set(params) - rq.CHAT_PARAMS - _HOSTED_EXTRA
        if unknown:
            raise ValidationError(f"unknown hosted chat parameter(s): {', '.join(sorted(unknown))}")
        mode = params.get("sogni_tools")
        if mode is not None and not (
            isinstance(mode, bool) or (isinstance(mode, str) and mode.strip())
        ):
            raise ValidationError("sogni_tools must be a boolean or a mode string")
        request = {"model": model, "messages": list(messages), **params}
        token_type = request.get("token_type")
        check = dict(request)
        if token_type == "auto":
            check.pop("token_type")
        for key in _HOSTED_EXTRA | {"sogni_tool_execution"}:
            check.pop(key, None)
        rq.validate_params(check)
        if params.get("sogni_tool_execution") not in (None, True, False):
            raise ValidationError("sogni_tool_execution must be a boolean")
        for key in ("media_references", "api_media_references"):
            value = params.get(key)
            if value is not None and not isinstance(value, (list, tuple)):
                raise ValidationError(f"{key} must be a list")
        body = rq.build_hosted_body(
            request, default_app_source=getattr(self._transport.options, "app_source", None)
        )
        answer = self._transport.rest.request(
            "POST", HOSTED_PATH, json=body, timeout=timeout, envelope=False, idempotent=False
        )
        return HostedChatCompletion.from_wire(answer)
