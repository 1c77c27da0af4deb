"""Result classes of the chat layer: frozen, snake_case, built from the wire at one place.

The socket chat result is flat in the reference (``result.content``); OpenAI users expect
``completion.choices[0].message.content``. ``ChatCompletion`` offers both views of one value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from sogni_sync._convert import converter, register_wire

__all__ = [
    "ChatChunk",
    "ChatCompletion",
    "ChatCostEstimate",
    "ChatMessage",
    "Choice",
    "FunctionCall",
    "HostedChatCompletion",
    "LLMJobCost",
    "LLMModel",
    "ToolCall",
    "ToolCallDelta",
    "ToolExecutionResult",
    "ToolProgress",
    "ToolRound",
    "Usage",
]


@attrs.frozen
class FunctionCall:
    name: str
    arguments: str = ""


@attrs.frozen
class ToolCall:
    """One merged tool call (OpenAI shape); ``arguments`` is the JSON text the model wrote."""

    id: str
    function: FunctionCall
    type: str = "function"

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def arguments(self) -> str:
        return self.function.arguments

    def parsed_arguments(self) -> Any:
        """``json.loads(arguments)``, or ``{}`` when it is not valid JSON (like the reference)."""
        try:
            return json.loads(self.function.arguments)
        except (TypeError, ValueError):
            return {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.function.name, "arguments": self.function.arguments},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ToolCall:
        """From the OpenAI dict form (``to_dict``'s shape); missing parts read as empty."""
        return converter.structure(raw, cls)


register_wire(FunctionCall, lambda raw: {
    "name": raw.get("name") or "", "arguments": raw.get("arguments") or ""}, snake=True)
register_wire(ToolCall, lambda raw: {
    "id": raw.get("id") or "", "function": raw.get("function") or {},
    "type": raw.get("type") or "function"}, snake=True)


def coerce_tool_call(value: ToolCall | Mapping[str, Any]) -> ToolCall:
    """Accept a ``ToolCall`` or its OpenAI dict form."""
    return value if isinstance(value, ToolCall) else ToolCall.from_dict(value)


@attrs.frozen
class ToolCallDelta:
    """A piece of a streamed tool call; deltas with the same ``index`` build one call."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str | None = None


@attrs.frozen
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


def _usage_wire(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Null counts are 0; a missing total is the sum of the other two."""
    prompt = raw.get("prompt_tokens") or 0
    completion = raw.get("completion_tokens") or 0
    total = raw.get("total_tokens")
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": total if total is not None else prompt + completion}


register_wire(Usage, _usage_wire, snake=True)


@attrs.frozen
class LLMJobCost:
    """The settled cost of an LLM job (exact decimals)."""

    cost_in_usd: Decimal | None = None
    cost_in_token: Decimal | None = None
    cost_in_sogni: Decimal | None = None
    cost_in_spark: Decimal | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


@attrs.frozen
class ChatMessage:
    """An assistant (or any) message; ``to_dict()`` gives the form to append for the next turn."""

    role: str
    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [tc.to_dict() for tc in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out


@attrs.frozen
class Choice:
    index: int
    message: ChatMessage
    finish_reason: str | None


@attrs.frozen
class ChatChunk:
    """One ``jobTokens`` frame as the caller sees it."""

    job_id: str
    content: str = ""
    role: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCallDelta, ...] = ()


@attrs.frozen
class ToolExecutionResult:
    """The outcome of one tool call; ``content`` is what goes back to the model."""

    tool_call_id: str
    tool_name: str
    success: bool
    result_urls: tuple[str, ...] = ()
    content: str = ""
    error: str | None = None

    def to_message(self) -> dict[str, Any]:
        """The ``tool`` message answering this call."""
        return {
            "role": "tool",
            "content": self.content,
            "tool_call_id": self.tool_call_id,
            "name": self.tool_name,
        }


@attrs.frozen
class ToolRound:
    round: int
    tool_calls: tuple[ToolCall, ...]
    tool_results: tuple[ToolExecutionResult, ...]


@attrs.frozen
class ToolProgress:
    """Progress of a Sogni tool's project: creating → queued → processing → completed/failed."""

    status: str
    percent: float
    result_urls: tuple[str, ...] = ()


@attrs.frozen
class ChatCompletion:
    """A finished socket chat completion.

    Flat fields mirror the reference result; ``choices``/``message`` give the OpenAI view.
    ``time_taken`` is in seconds as the server reports it. ``tool_history`` is filled only by
    the auto-execute loop.
    """

    job_id: str
    model: str
    content: str
    role: str = "assistant"
    finish_reason: str = "stop"
    usage: Usage = attrs.field(factory=Usage)
    time_taken: float = 0
    worker_name: str | None = None
    cost: LLMJobCost | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_history: tuple[ToolRound, ...] = ()

    @property
    def message(self) -> ChatMessage:
        return ChatMessage(self.role, self.content, self.tool_calls)

    @property
    def choices(self) -> tuple[Choice, ...]:
        return (Choice(0, self.message, self.finish_reason),)

    def to_message(self) -> dict[str, Any]:
        """The assistant message to append for the next turn (empty text sent as ``None``
        when there are tool calls, as the reference's loop does)."""
        if self.tool_calls:
            return {
                "role": "assistant",
                "content": self.content or None,
                "tool_calls": [tc.to_dict() for tc in self.tool_calls],
            }
        return {"role": self.role, "content": self.content}


@attrs.frozen
class ChatCostEstimate:
    """The LLM quote (exact decimals)."""

    cost_in_usd: Decimal | None
    cost_in_sogni: Decimal | None
    cost_in_spark: Decimal | None
    cost_in_token: Decimal | None
    input_tokens: int | None
    output_tokens: int | None


# the estimate endpoint answers {"quote": {...}}; missing figures are None
register_wire(ChatCostEstimate, lambda body: (body or {}).get("quote") or {})


_PRESET_KEYS = {
    (True, "general"): "defaultsThinking",
    (True, "coding"): "defaultsThinkingCoding",
    (False, "general"): "defaultsNonThinking",
    (False, "reasoning"): "defaultsNonThinkingReasoning",
}


@attrs.frozen
class LLMModel:
    """One entry of the ``swarmLLMModels`` map; ``raw`` keeps every field the server sent."""

    id: str
    workers: int = 0
    max_context_length: int | None = None
    max_output_tokens: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    def sampling_defaults(
        self, *, think: bool | None = None, task_profile: str | None = None
    ) -> dict[str, Any] | None:
        """The server's preset block for a think/task-profile combination, if published.

        (``think`` true + ``general`` → ``defaultsThinking``, + ``coding`` →
        ``defaultsThinkingCoding``; false + ``general`` → ``defaultsNonThinking``, + ``reasoning``
        → ``defaultsNonThinkingReasoning``). The server applies these itself; this is
        for display or for pinning values explicitly.
        """
        key = _PRESET_KEYS.get((bool(think), task_profile or "general"))
        block = self.raw.get(key) if key else None
        return dict(block) if isinstance(block, Mapping) else None


def _llm_model_wire(entry: tuple[str, Any]) -> dict[str, Any]:
    """One ``(model id, value)`` of the map; an entry that is not an object is the worker
    count alone."""
    model_id, value = entry
    raw: dict[str, Any] = dict(value) if isinstance(value, Mapping) else {"workers": value}
    limits = raw.get("maxOutputTokens")
    return {**raw, "id": model_id, "workers": raw.get("workers") or 0,
            "maxOutputTokens": limits if isinstance(limits, Mapping) else None, "raw": raw}


register_wire(LLMModel, _llm_model_wire)
# the swarmLLMModels map gives each model its id as the key
converter.register_structure_hook_func(
    lambda tp: tp == dict[str, LLMModel],
    lambda payload, _type: {str(k): converter.structure((str(k), v), LLMModel)
                            for k, v in payload.items()})


@attrs.frozen
class HostedChatCompletion:
    """The OpenAI ``chat.completion`` body of the hosted endpoint, plus Sogni extras."""

    id: str
    model: str
    created: int
    choices: tuple[Choice, ...]
    usage: Usage | None = None
    object: str = "chat.completion"
    creative_workflows: tuple[Mapping[str, Any], ...] = ()
    sogni_tool_results: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def message(self) -> ChatMessage | None:
        return self.choices[0].message if self.choices else None

    @property
    def content(self) -> str | None:
        return self.choices[0].message.content if self.choices else None

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return self.choices[0].message.tool_calls if self.choices else ()

    @property
    def finish_reason(self) -> str | None:
        return self.choices[0].finish_reason if self.choices else None


register_wire(Choice, lambda raw: {**raw, "message": raw.get("message") or {}}, snake=True)
register_wire(ChatMessage, lambda raw: {
    **raw, "role": raw.get("role") or "assistant", "tool_calls": raw.get("tool_calls") or ()},
    snake=True)


def _hosted_wire(value: Any) -> dict[str, Any]:
    """The body with its defaults: a choice without ``index`` is numbered by position."""
    body = dict(value) if isinstance(value, Mapping) else {}
    choices = [{"index": i, **choice} for i, choice in enumerate(body.get("choices") or ())]
    return {
        **body,
        "id": body.get("id") or "",
        "model": body.get("model") or "",
        "created": body.get("created") or 0,
        "choices": choices,
        "object": body.get("object") or "chat.completion",
        "creative_workflows": body.get("creative_workflows") or (),
        "sogni_tool_results": body.get("sogni_tool_results") or (),
        "raw": body,
    }


register_wire(HostedChatCompletion, _hosted_wire, snake=True)
