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

from sogni_sync._convert import to_decimal

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


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if value else ()


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
        fn = raw.get("function") or {}
        return cls(
            id=str(raw.get("id") or ""),
            function=FunctionCall(str(fn.get("name") or ""), str(fn.get("arguments") or "")),
            type=str(raw.get("type") or "function"),
        )


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

    @classmethod
    def from_wire(cls, raw: Any) -> Usage | None:
        if not isinstance(raw, Mapping) or not raw:
            return None
        prompt = raw.get("prompt_tokens") or 0
        completion = raw.get("completion_tokens") or 0
        total = raw.get("total_tokens")
        return cls(prompt, completion, total if total is not None else prompt + completion)


#: snake_case field ← wire key, shared by the settled cost and the estimate's quote
_COST_KEYS = {
    "cost_in_usd": "costInUSD",
    "cost_in_token": "costInToken",
    "cost_in_sogni": "costInSogni",
    "cost_in_spark": "costInSpark",
    "input_tokens": "inputTokens",
    "output_tokens": "outputTokens",
}


def _cost_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {field: to_decimal(raw.get(key)) if field.startswith("cost_") else raw.get(key)
            for field, key in _COST_KEYS.items()}


@attrs.frozen
class LLMJobCost:
    """The settled cost of an LLM job (exact decimals)."""

    cost_in_usd: Decimal | None = None
    cost_in_token: Decimal | None = None
    cost_in_sogni: Decimal | None = None
    cost_in_spark: Decimal | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    @classmethod
    def from_wire(cls, raw: Any) -> LLMJobCost | None:
        if not isinstance(raw, Mapping) or not raw:
            return None
        return cls(**_cost_fields(raw))


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

    @classmethod
    def from_wire(cls, body: Any) -> ChatCostEstimate:
        """From the estimate endpoint's answer ``{"quote": {...}}`` (missing keys → None)."""
        quote = (body or {}).get("quote") or {}
        return cls(**_cost_fields(quote))


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

    @classmethod
    def from_wire(cls, model_id: str, value: Any) -> LLMModel:
        raw: dict[str, Any] = dict(value) if isinstance(value, Mapping) else {"workers": value}
        mot = raw.get("maxOutputTokens")
        return cls(
            id=model_id,
            workers=raw.get("workers") or 0,
            max_context_length=raw.get("maxContextLength"),
            max_output_tokens=dict(mot) if isinstance(mot, Mapping) else None,
            raw=raw,
        )

    def sampling_defaults(
        self, *, think: bool | None = None, task_profile: str | None = None
    ) -> dict[str, Any] | None:
        """The server's preset block for a think/task-profile combination, if published.

        (``think`` true + ``general`` → ``defaultsThinking``, + ``coding`` →
        ``defaultsThinkingCoding``; false + ``general`` → ``defaultsNonThinking``, + ``reasoning``
        → ``defaultsNonThinkingReasoning``; chat.md §3). The server applies these itself; this is
        for display or for pinning values explicitly.
        """
        key = _PRESET_KEYS.get((bool(think), task_profile or "general"))
        block = self.raw.get(key) if key else None
        return dict(block) if isinstance(block, Mapping) else None


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

    @classmethod
    def from_wire(cls, body: Any) -> HostedChatCompletion:
        body = body if isinstance(body, Mapping) else {}
        choices = []
        for i, ch in enumerate(body.get("choices") or ()):
            msg = ch.get("message") or {}
            choices.append(
                Choice(
                    index=ch.get("index", i),
                    message=ChatMessage(
                        role=msg.get("role") or "assistant",
                        content=msg.get("content"),
                        tool_calls=tuple(
                            ToolCall.from_dict(tc) for tc in msg.get("tool_calls") or ()
                        ),
                        tool_call_id=msg.get("tool_call_id"),
                    ),
                    finish_reason=ch.get("finish_reason"),
                )
            )
        return cls(
            id=str(body.get("id") or ""),
            model=str(body.get("model") or ""),
            created=int(body.get("created") or 0),
            choices=tuple(choices),
            usage=Usage.from_wire(body.get("usage")),
            object=str(body.get("object") or "chat.completion"),
            creative_workflows=_tuple(body.get("creative_workflows")),
            sogni_tool_results=_tuple(body.get("sogni_tool_results")),
            raw=dict(body),
        )
