"""``client.chat.runs``: durable chat runs, where Sogni's servers drive the model and its tools.

A run is a server-side record (``POST /v1/chat/runs`` answers 202 with it) that outlives the
client. Its events (``{sequence, type, at, payload}``) are read live over SSE; the stream resumes
after a dropped connection with ``Last-Event-ID`` set to the last sequence it yielded, so no
event (and no piece of the answer) is lost or repeated. A run may pause in ``waiting_for_user``
with ``waiting.reason == "cost_approval_required"`` before a paid tool call; the preview it
carries must be sent back unchanged to confirm. :meth:`ChatRunsApi.wait` either returns at such a
pause (the caller decides, then waits again) or asks a callback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs

from sogni_sync._convert import register_wire, structure
from sogni_sync._sync import Deadline
from sogni_sync._transport import RestAccess, RestClient, quote_segment
from sogni_sync.creative_workflows import SseFrame, SseParser
from sogni_sync.errors import (
    ClientClosedError,
    ConnectionLostError,
    RateLimitError,
    ServerError,
    TimeoutError,
    UnexpectedResponseError,
    ValidationError,
)

__all__ = [
    "ChatRun",
    "ChatRunEvent",
    "ChatRunWaiting",
    "ChatRunsApi",
    "CostApproval",
    "CostApprovalPreview",
    "CostBreakdown",
]

log = logging.getLogger(__name__)

BASE = "/v1/chat/runs"
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "partial_failure"})
COST_APPROVAL = "cost_approval_required"
INLINE_MEDIA = ("Durable chat runs do not support inline base64/data URI media. Upload media "
                "first and pass HTTP(S) URLs instead. Offending field(s): ")
_CONTEXT_FIELDS = ("images", "videos", "audio", "uploadedImages", "uploadedVideos",
                   "uploadedAudio")

#: a cost-approval callback answers True (confirm), False (decline) or a mapping of overrides
#: (confirm with those tool arguments changed)
ApprovalCallback = Callable[["CostApproval"], "bool | Mapping[str, Any]"]


def _raw(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else ()


@attrs.frozen
class ChatRunEvent:
    """One run event; ``payload`` keeps the server's keys (``status``, ``delta``, ...)."""

    sequence: int
    type: str
    at: str | None = None
    payload: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def status(self) -> str | None:
        status = self.payload.get("status")
        return status if isinstance(status, str) else None

    @property
    def delta(self) -> str:
        """The piece of the answer a ``message_delta`` event carries ('' otherwise)."""
        delta = self.payload.get("delta") if self.type == "message_delta" else None
        return delta if isinstance(delta, str) else ""

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


def _event_wire(value: Any) -> dict[str, Any]:
    raw = _raw(value)
    return {**raw, "payload": _raw(raw.get("payload")), "type": str(raw.get("type") or "")}


register_wire(ChatRunEvent, _event_wire)


@attrs.frozen
class CostBreakdown:
    """One paused paid tool call's share of a preview."""

    tool_call_id: str | None = None
    tool_name: str | None = None
    capacity_units: float | None = None


@attrs.frozen
class CostApprovalPreview:
    """The server's cost preview. ``raw`` is the exact object to send back to confirm."""

    total_estimated_capacity_units: float | None = None
    token_type: str | None = None
    validity_until: str | None = None
    per_tool_breakdown: tuple[CostBreakdown, ...] = ()
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


register_wire(CostApprovalPreview, lambda value: {
    **_raw(value), "perToolBreakdown": _tuple(_raw(value).get("perToolBreakdown")),
    "raw": _raw(value)})


@attrs.frozen
class ChatRunWaiting:
    """Why a run waits (``reason``, e.g. ``cost_approval_required``) and what it needs."""

    reason: str | None = None
    message: str | None = None
    tool_call_id: str | None = None
    pending_tool_call_ids: tuple[str, ...] = ()
    cost_approval_preview: CostApprovalPreview | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


def _waiting_wire(value: Any) -> dict[str, Any]:
    raw = _raw(value)
    details = _raw(raw.get("details"))
    return {"reason": raw.get("reason"), "message": raw.get("message"), "details": details,
            "toolCallId": details.get("toolCallId"),
            "pendingToolCallIds": _tuple(details.get("pendingToolCallIds")),
            "costApprovalPreview": details.get("costApprovalPreview")}


register_wire(ChatRunWaiting, _waiting_wire)


@attrs.frozen
class CostApproval:
    """A pause for cost approval: show ``preview`` to the user, then confirm or decline."""

    run_id: str
    tool_call_id: str
    preview: CostApprovalPreview | None
    message: str | None = None
    pending_tool_call_ids: tuple[str, ...] = ()

    @property
    def confirmable(self) -> bool:
        """False when the pause has no preview (e.g. credits ran out): only cancel works."""
        return self.preview is not None


@attrs.frozen
class ChatRun:
    """A durable run record; ``raw`` keeps every key the server sent."""

    run_id: str
    status: str
    messages: tuple[Any, ...] = ()
    tool_calls: tuple[Any, ...] = ()
    tool_results: tuple[Any, ...] = ()
    artifacts: tuple[Any, ...] = ()
    events: tuple[ChatRunEvent, ...] = ()
    final_response: Mapping[str, Any] | None = None
    waiting: ChatRunWaiting | None = None
    failure_reason: str | None = None
    cancellation_reason: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    completed_at: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def done(self) -> bool:
        """True once the status is completed, partial_failure, failed or cancelled."""
        return self.status in TERMINAL_STATUSES

    @property
    def content(self) -> str:
        """The final answer's text ('' until the run completed)."""
        content = (self.final_response or {}).get("content")
        return content if isinstance(content, str) else ""

    @property
    def last_sequence(self) -> int | None:
        return self.events[-1].sequence if self.events else None

    @property
    def cost_approval(self) -> CostApproval | None:
        """The pending cost approval while the run waits for one, else None."""
        waiting = self.waiting
        if self.status != "waiting_for_user" or waiting is None:
            return None
        if waiting.reason != COST_APPROVAL or not waiting.tool_call_id:
            return None
        return CostApproval(self.run_id, waiting.tool_call_id, waiting.cost_approval_preview,
                            waiting.message, waiting.pending_tool_call_ids)


def _run_wire(value: Any) -> dict[str, Any]:
    raw = _raw(value)
    times = _raw(raw.get("timestamps"))
    lists = {key: _tuple(raw.get(key))
             for key in ("messages", "toolCalls", "toolResults", "artifacts", "events")}
    return {**raw, **lists, "runId": raw.get("runId") or "", "status": raw.get("status") or "",
            "createdAt": times.get("createdAt"), "updatedAt": times.get("updatedAt"),
            "completedAt": times.get("completedAt"), "raw": raw}


register_wire(ChatRun, _run_wire)


# -- validation (before any network I/O) ---------------------------------------------------


def _inline(path: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return None if value.strip().lower().startswith(("http://", "https://")) else path


def _inline_media(messages: Sequence[Any], references: Sequence[Any] | None,
                  context: Mapping[str, Any] | None) -> list[str]:
    found: list[str | None] = []
    for i, message in enumerate(messages):
        parts = message.get("content") if isinstance(message, Mapping) else None
        for j, part in enumerate(parts if isinstance(parts, list) else ()):
            if isinstance(part, Mapping) and part.get("type") == "image_url":
                url = _raw(part.get("image_url")).get("url")
                found.append(_inline(f"messages[{i}].content[{j}].image_url.url", url))
    for i, ref in enumerate(references or ()):
        record = _raw(ref)
        found.append(_inline(f"mediaReferences[{i}].url", record.get("url")))
        found += [f"mediaReferences[{i}].{key}" for key in ("dataUri", "data_uri")
                  if isinstance(record.get(key), str) and record[key].strip()]
    for field in _CONTEXT_FIELDS:
        values = (context or {}).get(field)
        found += [_inline(f"mediaContext.{field}[{i}]", v)
                  for i, v in enumerate(values if isinstance(values, list) else ())]
    return [path for path in found if path]


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def _run_path(run_id: str, suffix: str = "") -> str:
    if not isinstance(run_id, str) or not run_id:
        raise ValidationError("run_id must be a non-empty string")
    return f"{BASE}/{quote_segment(run_id, 'run_id')}{suffix}"


def _run(data: Any) -> ChatRun:
    if not isinstance(data, Mapping) or not isinstance(data.get("run"), Mapping):
        raise UnexpectedResponseError(BASE, "the chat run response did not include data.run",
                                      payload=data)
    return structure(data["run"], ChatRun, BASE)


def _least(seconds: float | None, deadline: Deadline) -> float | None:
    """The smaller of ``seconds`` and what is left of ``deadline`` (None: no bound)."""
    left = deadline.remaining()
    if left is None or seconds is None:
        return seconds if left is None else left
    return min(seconds, left)


def _key_header(key: str | None) -> dict[str, str] | None:
    if key is None:
        return None
    if not isinstance(key, str) or not key:
        raise ValidationError("idempotency_key must be a non-empty string")
    return {"Idempotency-Key": key}


class ChatRunsApi:
    """Create, read, cancel, approve and follow durable chat runs (REST + SSE)."""

    def __init__(self, transport: RestAccess) -> None:
        self._transport = transport

    @property
    def _rest(self) -> RestClient:
        return self._transport.rest

    def create(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: Any = None,
        sampling: Mapping[str, Any] | None = None,
        media_references: Sequence[Mapping[str, Any]] | None = None,
        media_context: Mapping[str, Any] | None = None,
        max_estimated_capacity_units: float | None = None,
        confirm_cost: bool | None = None,
        require_cost_approval: bool | None = None,
        runtime_config: Mapping[str, Any] | None = None,
        session_id: str | None = None,
        client_message_id: str | None = None,
        token_type: Literal["sogni", "spark"] | None = None,
        billing_mode: Literal["auto", "subscription", "tokens"] | None = None,
        app_source: str | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> ChatRun:
        """Submit a run; the server answers at once with the persisted (queued) record.

        ``require_cost_approval`` sets ``runtime_config.requireJobConfirmation``: the server
        then pauses before each paid media tool. Media must be HTTP(S) URLs (upload first);
        inline ``data:`` URIs are refused here, before anything is sent.
        """
        if not isinstance(messages, (list, tuple)) or not messages or not all(
                isinstance(m, Mapping) for m in messages):
            raise ValidationError("messages must be a non-empty list of message mappings")
        offending = _inline_media(messages, media_references, media_context)
        if offending:
            raise ValidationError(INLINE_MEDIA + ", ".join(offending))
        _check_choice("token_type", token_type, ("sogni", "spark"))
        _check_choice("billing_mode", billing_mode, ("auto", "subscription", "tokens"))
        ceiling = max_estimated_capacity_units
        if ceiling is not None and (isinstance(ceiling, bool) or not isinstance(
                ceiling, (int, float)) or ceiling < 0):
            raise ValidationError("max_estimated_capacity_units must be a number >= 0")
        runtime = dict(runtime_config or {})
        if require_cost_approval is not None:
            runtime["requireJobConfirmation"] = bool(require_cost_approval)
        body: dict[str, Any] = {
            "messages": [dict(m) for m in messages],
            "tools": [dict(t) for t in tools] if tools else None,
            "tool_choice": tool_choice, "model": model,
            "sampling": dict(sampling) if sampling else None,
            "media_references": [dict(r) for r in media_references] if media_references
            else None,
            "media_context": dict(media_context) if media_context else None,
            "max_estimated_capacity_units": ceiling, "confirm_cost": confirm_cost,
            "session_id": session_id, "client_message_id": client_message_id,
            "token_type": token_type, "billing_mode": billing_mode,
            "app_source": app_source or self._transport.options.app_source,
            "runtime_config": runtime or None,
        }
        data = self._rest.request(
            "POST", BASE, json={k: v for k, v in body.items() if v is not None},
            headers=_key_header(idempotency_key), timeout=timeout,
            idempotent=idempotency_key is not None)
        return _run(data)

    def get(self, run_id: str, *, timeout: float | None = None) -> ChatRun:
        return _run(self._rest.request("GET", _run_path(run_id), timeout=timeout))

    def cancel(self, run_id: str, reason: str | None = None, *,
               timeout: float | None = None) -> ChatRun:
        """Cancel a run in flight (or paused); a finished run is returned unchanged."""
        body = {"reason": reason} if reason else {}
        return _run(self._rest.request("POST", _run_path(run_id, "/cancel"), json=body,
                                       timeout=timeout, idempotent=True))

    def confirm_cost(
        self,
        run_id: str,
        *,
        tool_call_id: str,
        decision: Literal["confirm", "cancel"],
        accepted_cost_preview: CostApprovalPreview | Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> ChatRun:
        """Answer a cost-approval pause. To confirm, pass the preview the user saw, unchanged
        (the server refuses a confirm without it, or with a stale one: 409)."""
        path = _run_path(run_id, "/confirm-cost")
        if not isinstance(tool_call_id, str) or not tool_call_id:
            raise ValidationError("tool_call_id must be a non-empty string")
        _check_choice("decision", decision, ("confirm", "cancel"))
        if decision is None:
            raise ValidationError("decision must be 'confirm' or 'cancel'")
        preview = (accepted_cost_preview.raw if isinstance(accepted_cost_preview,
                                                           CostApprovalPreview)
                   else accepted_cost_preview)
        if decision == "confirm" and not isinstance(preview, Mapping):
            raise ValidationError("confirming needs accepted_cost_preview: the preview the user "
                                  "approved, sent back unchanged")
        body: dict[str, Any] = {"tool_call_id": tool_call_id, "decision": decision}
        if preview is not None:
            body["acceptedCostPreview"] = dict(preview)
        if overrides:
            body["overrides"] = dict(overrides)
        if reason:
            body["reason"] = reason
        return _run(self._rest.request(
            "POST", path, json=body, headers=_key_header(idempotency_key), timeout=timeout,
            idempotent=idempotency_key is not None))

    def approve(self, approval: CostApproval, *, overrides: Mapping[str, Any] | None = None,
                idempotency_key: str | None = None) -> ChatRun:
        """Confirm a pause with the preview it carried."""
        if approval.preview is None:
            raise ValidationError("this pause has no cost preview and cannot be confirmed; "
                                  "decline or cancel the run")
        return self.confirm_cost(
            approval.run_id, tool_call_id=approval.tool_call_id, decision="confirm",
            accepted_cost_preview=approval.preview, overrides=overrides,
            idempotency_key=idempotency_key or f"confirm-{approval.tool_call_id}")

    def decline(self, approval: CostApproval, *, reason: str | None = None) -> ChatRun:
        """Refuse a pause: the server cancels the paused work."""
        return self.confirm_cost(approval.run_id, tool_call_id=approval.tool_call_id,
                                 decision="cancel", reason=reason,
                                 idempotency_key=f"cancel-{approval.tool_call_id}")

    def stream_events(
        self,
        run_id: str,
        *,
        last_event_id: int | None = None,
        resume: bool = True,
        max_resumes: int = 5,
        timeout: float | None = None,
    ) -> Iterator[ChatRunEvent]:
        """Follow a run's events live until a terminal one (``status`` completed,
        partial_failure, failed or cancelled).

        Starts after ``last_event_id`` when given. When the connection drops, the server
        closes early or answers 429/5xx and ``resume`` is set, it reconnects with
        ``Last-Event-ID`` = the last sequence yielded, up to ``max_resumes`` times in a row
        without a new event. ``timeout`` is the idle read timeout per connection (None: a
        paused run may be quiet for long). Closing the iterator closes the response.
        """
        return self._events(run_id, last_event_id, resume, max_resumes, timeout, Deadline(None))

    def _events(self, run_id: str, last_event_id: int | None, resume: bool, max_resumes: int,
                idle_timeout: float | None, deadline: Deadline) -> Iterator[ChatRunEvent]:
        path = _run_path(run_id, "/events/stream")
        if last_event_id is not None and (isinstance(last_event_id, bool) or not isinstance(
                last_event_id, int) or last_event_id < 0):
            raise ValidationError("last_event_id must be an event sequence number (int >= 0)")
        return self._follow(run_id, path, last_event_id, resume, max_resumes, idle_timeout,
                            deadline)

    def _follow(self, run_id: str, path: str, cursor: int | None, resume: bool,
                max_resumes: int, idle_timeout: float | None,
                deadline: Deadline) -> Iterator[ChatRunEvent]:
        idle = 0
        while True:
            if deadline.expired:
                raise TimeoutError(f"chat run {run_id} did not finish in time")
            headers = {"Accept": "text/event-stream"}
            if cursor is not None:
                headers["Last-Event-ID"] = str(cursor)
            fresh = False
            failure: Exception | None = None
            reader = _Reader(self._rest, path, headers, _least(idle_timeout, deadline))
            try:
                for event in reader:
                    if cursor is not None and event.sequence <= cursor:
                        continue  # replayed: already yielded
                    fresh, cursor = True, event.sequence
                    yield event
                    if event.terminal:
                        return
            except (ConnectionLostError, TimeoutError, ServerError, RateLimitError) as exc:
                failure = exc
            finally:
                reader.close()
            idle = 0 if fresh else idle + 1
            if not resume or idle > max_resumes:
                raise failure or ConnectionLostError(
                    f"the event stream of chat run {run_id} ended before the run finished")
            log.info("chat run event stream dropped; resuming after event %s", cursor)
            if self._transport.closing.wait(_least(min(0.1 * idle, 2.0), deadline) or 0.0):
                raise ClientClosedError("the client was closed")

    def wait(
        self,
        run_id: str,
        *,
        on_cost_approval: ApprovalCallback | None = None,
        on_event: Callable[[ChatRunEvent], None] | None = None,
        last_event_id: int | None = None,
        timeout: float | None = None,
    ) -> ChatRun:
        """Block until the run finishes, or until it needs a cost approval.

        Without ``on_cost_approval`` a pause returns the paused run: read
        ``run.cost_approval``, call :meth:`approve` or :meth:`decline`, then ``wait`` again
        with ``last_event_id=run.last_sequence``. With it, the callback is asked (True confirms,
        False declines, a mapping confirms with those argument overrides) and the wait goes on.
        ``on_event`` sees every event (``message_delta`` pieces included). ``timeout`` bounds
        the whole wait (None: no limit); past it :class:`~sogni_sync.TimeoutError` is raised and
        the run goes on on the server.
        """
        deadline = Deadline(timeout)
        if last_event_id is not None:  # a pause seen before this wait is still a pause
            run = self.get(run_id)
            if run.cost_approval is not None:
                if on_cost_approval is None:
                    return run
                self._answer(run.cost_approval, on_cost_approval)
        for event in self._events(run_id, last_event_id, True, 5, None, deadline):
            if on_event is not None:
                on_event(event)
            if event.type != "run_waiting_for_user" or event.payload.get("reason") != COST_APPROVAL:
                continue
            run = self.get(run_id)
            if run.cost_approval is None:
                continue  # answered meanwhile
            if on_cost_approval is None:
                return run
            self._answer(run.cost_approval, on_cost_approval)
        return self.get(run_id)

    def _answer(self, approval: CostApproval, on_cost_approval: ApprovalCallback) -> None:
        answer = on_cost_approval(approval)
        if answer is True or isinstance(answer, Mapping):
            self.approve(approval, overrides=answer if isinstance(answer, Mapping) else None)
        else:  # False, or anything that is not a yes
            self.decline(approval)


class _Reader:
    """One SSE connection of a run stream: its events, ``run_status`` frames skipped."""

    def __init__(self, rest: RestClient, path: str, headers: dict[str, str],
                 timeout: float | None) -> None:
        self._rest, self._path, self._headers, self._timeout = rest, path, headers, timeout
        self._lines: Iterator[str] | None = None

    def __iter__(self) -> Iterator[ChatRunEvent]:
        self._lines = self._rest.stream_lines("GET", self._path, headers=self._headers,
                                              timeout=self._timeout)
        parser = SseParser()
        for line in self._lines:
            yield from self._events(parser.feed_line(line))
        yield from self._events(parser.flush())

    def _events(self, frames: list[SseFrame]) -> Iterator[ChatRunEvent]:
        for frame in frames:
            if frame.event != "run_status" and isinstance(frame.data, Mapping):
                yield structure(frame.data, ChatRunEvent, self._path)

    def close(self) -> None:
        close = getattr(self._lines, "close", None)
        if callable(close):
            close()
