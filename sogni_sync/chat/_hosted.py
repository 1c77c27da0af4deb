"""``client.chat.hosted``: the REST chat endpoint where Sogni runs the model and its tools.

``POST /v1/chat/completions`` answers with a bare OpenAI ``chat.completion`` (no ``{status,
data}`` envelope) and may take minutes when the server executes tools, hence its 300 s timeout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sogni_sync._convert import structure
from sogni_sync._transport import RestAccess
from sogni_sync.chat import _request as rq
from sogni_sync.chat._hosted_tools import EXECUTE_TIMEOUT, HostedToolResult, execute_hosted_tool
from sogni_sync.chat._types import HostedChatCompletion
from sogni_sync.errors import UnexpectedResponseError, ValidationError

__all__ = ["HOSTED_PATH", "HOSTED_TIMEOUT", "HostedChatApi"]

HOSTED_PATH = "/v1/chat/completions"
HOSTED_TIMEOUT = 300.0


class HostedChatApi:
    """Hosted chat completions with optional server-side Sogni tools."""

    def __init__(self, transport: RestAccess) -> None:
        self._transport = transport

    def create(
        self,
        model: str,
        messages: Sequence[Any],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        min_p: float | None = None,
        repetition_penalty: float | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        stop: str | Sequence[str] | None = None,
        token_type: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        think: bool | None = None,
        task_profile: str | None = None,
        sogni_tools: bool | str | None = None,
        sogni_tool_execution: bool | None = None,
        media_references: Sequence[Any] | None = None,
        api_media_references: Sequence[Any] | None = None,
        chat_template_kwargs: Mapping[str, Any] | None = None,
        app_source: str | None = None,
        timeout: float | None = HOSTED_TIMEOUT,
    ) -> HostedChatCompletion:
        """One hosted completion; blocks up to ``timeout`` seconds (default 300).

        Takes the socket chat options (``token_type`` may also be ``"auto"`` here) plus
        ``sogni_tools`` (``True``/``"creative-tools"``/``"creative-agent"``; legacy ``"rich"``),
        ``sogni_tool_execution`` (let the server run the hosted tools and report the workflows
        it started), ``media_references``/``api_media_references`` (opaque lists) and
        ``chat_template_kwargs`` (wins over ``think``). The endpoint does not stream: for tokens
        as they come, use the socket chat (``client.chat.stream``).
        Raises ``ApiError`` subclasses for non-2xx answers, ``ValidationError`` before sending.
        """
        options = rq.given_options(locals(), rq.HOSTED_OPTIONS)
        if sogni_tools is not None and not (
            isinstance(sogni_tools, bool) or (isinstance(sogni_tools, str) and sogni_tools.strip())
        ):
            raise ValidationError("sogni_tools must be a boolean or a mode string")
        if sogni_tool_execution is not None and not isinstance(sogni_tool_execution, bool):
            raise ValidationError("sogni_tool_execution must be a boolean")
        for name, refs in (("media_references", media_references),
                           ("api_media_references", api_media_references)):
            if refs is not None and not isinstance(refs, (list, tuple)):
                raise ValidationError(f"{name} must be a list")
        request: dict[str, Any] = {
            "model": model, "messages": list(messages) if messages is not None else None,
            **options,
        }
        # checked apart: the hosted endpoint also takes token_type "auto"
        rq.validate_params({k: v for k, v in request.items() if k != "token_type"})
        if token_type is not None and token_type not in ("sogni", "spark", "auto"):
            raise ValidationError(
                f"token_type must be 'sogni', 'spark' or 'auto', got {token_type!r}"
            )
        body = rq.build_hosted_body(
            request, default_app_source=self._transport.options.app_source
        )
        answer = self._transport.rest.request(
            "POST", HOSTED_PATH, json=body, envelope=False, idempotent=False,
            timeout=self._transport.options.chat_timeout if timeout is None else timeout,
        )
        if not isinstance(answer, Mapping) or not isinstance(answer.get("choices"), list):
            raise UnexpectedResponseError.expected(HOSTED_PATH, "a chat.completion with choices",
                                                   answer)
        return structure(answer, HostedChatCompletion, HOSTED_PATH)

    def execute_tool(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        token_type: str | None = None,
        safe_content_filter: bool | None = None,
        app_source: str | None = None,
        timeout: float | None = EXECUTE_TIMEOUT,
    ) -> HostedToolResult:
        """Run one synchronous hosted tool (``enhance_prompt``, ``compose_script``,
        ``compose_lyrics``, ``compose_instrumental``, ``compose_workflow``,
        ``compose_workflow_template``) on Sogni's servers and return its result; blocks up to
        ``timeout`` seconds (default 300). ``compose_workflow``'s ``steps`` feed
        ``client.creative_workflows.start_hosted_tool_sequence``."""
        return execute_hosted_tool(self._transport, tool, arguments, token_type=token_type,
                                   safe_content_filter=safe_content_filter,
                                   app_source=app_source, timeout=timeout)
