"""``client.creative_workflows``: durable server-side creative workflows.

A workflow (e.g. image → video) runs on Sogni's servers and outlives the client; its events can
be read as a list or followed live over SSE. The live stream resumes after a dropped connection
from the last event id it saw (``after`` + ``Last-Event-ID``), so no event is lost or repeated.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from sogni_sync._convert import register_wire, structure, to_camel
from sogni_sync._transport import RestAccess, RestClient, quote_segment
from sogni_sync.creative_workflows._sse import SseFrame, SseParser, is_terminal
from sogni_sync.errors import (
    ClientClosedError,
    ConnectionLostError,
    TimeoutError,
    UnexpectedResponseError,
    ValidationError,
)

__all__ = ["CreativeWorkflow", "CreativeWorkflowEvent", "CreativeWorkflowsApi"]

log = logging.getLogger(__name__)

BASE = "/v1/creative-agent/workflows"
TERMINAL = frozenset({"completed", "failed", "cancelled"})


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else ()


@attrs.frozen
class CreativeWorkflowEvent:
    """One recorded workflow event; ``raw`` keeps every key the server sent."""

    id: str | int | None = None
    type: str | None = None
    status: str | None = None
    message: str | None = None
    timestamp: float | None = None
    data: Any = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


def _event_wire(value: Any) -> dict[str, Any]:
    """Some servers name the event kind ``event`` rather than ``type``."""
    raw = dict(value) if isinstance(value, Mapping) else {}
    return {**raw, "type": raw.get("type") or raw.get("event"), "raw": raw}


register_wire(CreativeWorkflowEvent, _event_wire)


@attrs.frozen
class CreativeWorkflow:
    """A workflow record; ``raw`` keeps every key (plans, billing previews...)."""

    workflow_id: str
    kind: str | None = None
    title: str | None = None
    status: str | None = None
    input: Mapping[str, Any] | None = None
    steps: tuple[Mapping[str, Any], ...] = ()
    events: tuple[CreativeWorkflowEvent, ...] = ()
    artifacts: tuple[Mapping[str, Any], ...] = ()
    create_time: float | None = None
    update_time: float | None = None
    error: Any = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def done(self) -> bool:
        """True once the status is ``completed``, ``failed`` or ``cancelled``."""
        return self.status in TERMINAL

    @property
    def artifact_urls(self) -> tuple[str, ...]:
        return tuple(a["url"] for a in self.artifacts if isinstance(a, Mapping) and a.get("url"))



def _workflow_wire(value: Any) -> dict[str, Any]:
    raw = dict(value) if isinstance(value, Mapping) else {}
    lists = {key: _tuple(raw.get(key)) for key in ("steps", "events", "artifacts")}
    return {**raw, **lists, "workflowId": raw.get("workflowId") or "", "raw": raw}


register_wire(CreativeWorkflow, _workflow_wire)


def _field(data: Any, key: str) -> Any:
    if not isinstance(data, Mapping):
        raise UnexpectedResponseError(BASE, "the creative workflow response did not include data",
                                      payload=data)
    if key not in data:
        raise UnexpectedResponseError(
            BASE, f"the creative workflow response did not include data.{key}", payload=data)
    return data[key]


def _workflow(data: Any) -> CreativeWorkflow:
    return structure(_field(data, "workflow"), CreativeWorkflow, BASE)


def _id_path(workflow_id: str, suffix: str = "") -> str:
    if not isinstance(workflow_id, str) or not workflow_id:
        raise ValidationError("workflow_id must be a non-empty string")
    return f"{BASE}/{quote_segment(workflow_id, 'workflow_id')}{suffix}"


class CreativeWorkflowsApi:
    """Start, inspect, cancel and follow creative workflows (API-key auth)."""

    def __init__(self, transport: RestAccess) -> None:
        self._transport = transport

    @property
    def _rest(self) -> RestClient:
        return self._transport.rest

    def start(
        self,
        kind: str,
        input: Mapping[str, Any],
        *,
        token_type: str | None = None,
        timeout: float | None = None,
    ) -> CreativeWorkflow:
        """Start a workflow of ``kind`` (``image_to_video``, ``hosted_tool_sequence``, ...)."""
        if not isinstance(kind, str) or not kind.strip():
            raise ValidationError("kind must be a non-empty string")
        if not isinstance(input, Mapping):
            raise ValidationError("input must be a mapping")
        if token_type is not None and token_type not in ("sogni", "spark"):
            raise ValidationError(f"token_type must be 'sogni' or 'spark', got {token_type!r}")
        body: dict[str, Any] = {"kind": kind, "input": dict(input)}
        if token_type:
            body["token_type"] = token_type
        data = self._rest.request("POST", BASE, json=body, timeout=timeout, idempotent=False)
        return _workflow(data)

    def start_image_to_video(
        self, prompt: str, *, token_type: str | None = None, **input: Any
    ) -> CreativeWorkflow:
        """Image then video from one prompt. ``input`` takes the wire's camelCase keys or
        snake_case (``video_prompt``, ``negative_prompt``, ``image_model``, ``video_model``,
        ``number_of_media``...), converted to camelCase."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValidationError("prompt must be a non-empty string")
        payload = {"prompt": prompt, **{to_camel(k): v for k, v in input.items() if v is not None}}
        return self.start("image_to_video", payload, token_type=token_type)

    def start_hosted_tool_sequence(
        self,
        steps: list[Mapping[str, Any]],
        *,
        title: str | None = None,
        token_type: str | None = None,
        **input: Any,
    ) -> CreativeWorkflow:
        """A sequence of hosted tool steps ``{id?, toolName, arguments, dependsOn?}``."""
        if not isinstance(steps, (list, tuple)) or not steps:
            raise ValidationError("steps must be a non-empty list")
        for step in steps:
            if not isinstance(step, Mapping) or not isinstance(step.get("toolName"), str):
                raise ValidationError("each step needs a 'toolName' and 'arguments'")
        payload: dict[str, Any] = {}
        if title is not None:
            payload["title"] = title
        payload["steps"] = [dict(s) for s in steps]
        payload.update(input)
        return self.start("hosted_tool_sequence", payload, token_type=token_type)

    def list(
        self, *, limit: int | None = None, offset: int | None = None
    ) -> builtins.list[CreativeWorkflow]:
        """Your workflows, newest first."""
        params: dict[str, Any] = {}
        if limit is not None:
            params["limit"] = limit
        if offset is not None:
            params["offset"] = offset
        data = self._rest.request("GET", BASE, params=params or None)
        return [structure(w, CreativeWorkflow, BASE) for w in _field(data, "workflows") or ()]

    def get(self, workflow_id: str) -> CreativeWorkflow:
        return _workflow(self._rest.request("GET", _id_path(workflow_id)))

    def events(self, workflow_id: str) -> builtins.list[CreativeWorkflowEvent]:
        data = self._rest.request("GET", _id_path(workflow_id, "/events"))
        return [structure(e, CreativeWorkflowEvent, BASE) for e in _field(data, "events") or ()]

    def cancel(self, workflow_id: str) -> CreativeWorkflow:
        """Cancel a running workflow; a finished one is returned unchanged."""
        return _workflow(
            self._rest.request("POST", _id_path(workflow_id, "/cancel"), idempotent=False))

    def stream_events(
        self,
        workflow_id: str,
        *,
        after: str | int | None = None,
        last_event_id: str | int | None = None,
        resume: bool = True,
        max_resumes: int = 5,
        timeout: float | None = None,
    ) -> Iterator[SseFrame]:
        """Follow a workflow's events live (SSE) until a terminal status frame.

        Yields :class:`SseFrame` (``event``, ``data``, ``id``, ``raw``). When the connection
        drops (or the server closes) before the terminal frame and ``resume`` is set, it
        reconnects with ``after=<last id>`` and ``Last-Event-ID`` — up to ``max_resumes``
        consecutive times without progress. ``timeout`` is the idle read timeout per connection.
        Closing the generator closes the HTTP response.
        """
        path = _id_path(workflow_id, "/events/stream")
        cursor = after if after is not None else last_event_id
        header_id = last_event_id
        failures = 0
        while True:
            params = {"after": cursor} if cursor is not None else None
            headers = {"Accept": "text/event-stream"}
            if header_id is not None:
                headers["Last-Event-ID"] = str(header_id)
            parser = SseParser()
            progressed = False
            lines: Any = None
            try:
                lines = self._rest.stream_lines(
                    "GET", path, params=params, headers=headers, timeout=timeout
                )
                for frame in _frames(lines, parser):
                    progressed = True
                    if frame.id is not None:
                        cursor = header_id = frame.id
                    yield frame
                    if is_terminal(frame):
                        return
                error: Exception | None = None
            except ClientClosedError:
                raise
            except (ConnectionLostError, TimeoutError) as exc:
                error = exc
            finally:
                _close(lines)
            if not resume:
                if error is not None:
                    raise error
                return
            failures = 0 if progressed else failures + 1
            if failures > max_resumes:
                if error is not None:
                    raise error
                raise ConnectionLostError(
                    f"workflow event stream for {workflow_id} kept closing without events"
                )
            log.info("workflow event stream dropped; resuming after event %s", cursor)
            if self._transport.closing.wait(min(0.25 * failures, 2.0)):
                raise ClientClosedError("the client was closed")


def _frames(lines: Iterator[str], parser: SseParser) -> Iterator[SseFrame]:
    for line in lines:
        yield from parser.feed_line(line)
    yield from parser.flush()


def _close(lines: Any) -> None:
    close = getattr(lines, "close", None)
    if callable(close):
        close()
