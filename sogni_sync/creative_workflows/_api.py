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
from sogni_sync.creative_workflows._options import (
    BillingMode,
    billing_body,
    check_media_references,
    idempotency_headers,
)
from sogni_sync.creative_workflows._sse import SseFrame, SseParser, is_terminal
from sogni_sync.creative_workflows._templates import WorkflowTemplatesApi
from sogni_sync.errors import (
    ClientClosedError,
    ConnectionLostError,
    TimeoutError,
    UnexpectedResponseError,
    ValidationError,
)

__all__ = [
    "CreativeWorkflow",
    "CreativeWorkflowEvent",
    "CreativeWorkflowsApi",
    "ReseededWorkflow",
    "ResumedWorkflow",
]

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
    #: Why a ``waiting_for_user`` run is paused (``workflow_user_input_required``...).
    waiting_reason: str | None = None
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


@attrs.frozen
class ResumedWorkflow:
    """The answer to :meth:`CreativeWorkflowsApi.resume`: the record at resume time and
    whether the server set it moving again (False: it was not waiting)."""

    workflow: CreativeWorkflow
    resumed: bool


@attrs.frozen
class ReseededWorkflow:
    """The answer to :meth:`CreativeWorkflowsApi.reseed`: the new run, the run it was cloned
    from, its steps with the seeds applied, and ``idempotent`` (True when this is the take an
    earlier request with the same idempotency key started)."""

    workflow: CreativeWorkflow
    cloned_from_run_id: str
    steps: tuple[Mapping[str, Any], ...] = ()
    idempotent: bool = False


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
        #: Saved, parameterised workflow templates (CRUD and fork).
        self.templates = WorkflowTemplatesApi(transport)

    @property
    def _rest(self) -> RestClient:
        return self._transport.rest

    def start(
        self,
        kind: str,
        input: Mapping[str, Any],
        *,
        token_type: str | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> CreativeWorkflow:
        """Start a workflow of ``kind`` (``image_to_video``, ``hosted_tool_sequence``, ...).
        With ``idempotency_key`` a repeated start returns the first run (and this call then
        retries transport failures itself)."""
        if not isinstance(kind, str) or not kind.strip():
            raise ValidationError("kind must be a non-empty string")
        if not isinstance(input, Mapping):
            raise ValidationError("input must be a mapping")
        if token_type is not None and token_type not in ("sogni", "spark"):
            raise ValidationError(f"token_type must be 'sogni' or 'spark', got {token_type!r}")
        body: dict[str, Any] = {"kind": kind, "input": dict(input)}
        if token_type:
            body["token_type"] = token_type
        headers = idempotency_headers(idempotency_key)
        data = self._rest.request("POST", BASE, json=body, timeout=timeout, headers=headers,
                                  idempotent=headers is not None)
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
        idempotency_key: str | None = None,
        **input: Any,
    ) -> CreativeWorkflow:
        """A sequence of hosted tool steps ``{id?, toolName, arguments, dependsOn?}`` (the
        ``steps`` of ``chat.hosted.execute_tool("compose_workflow", ...)`` fit as they are)."""
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
        return self.start("hosted_tool_sequence", payload, token_type=token_type,
                          idempotency_key=idempotency_key)

    def run_template(
        self,
        template_id: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        token_type: str | None = None,
        billing_mode: BillingMode | None = None,
        idempotency_key: str | None = None,
        media_references: builtins.list[Mapping[str, Any]] | None = None,
        max_estimated_capacity_units: int | None = None,
        confirm_cost: bool | None = None,
        safe_content_filter: bool | None = None,
        timeout: float | None = None,
    ) -> CreativeWorkflow:
        """Start a run of the saved template ``template_id`` with ``inputs`` (resolved by the
        server against the template's declared inputs).

        With ``idempotency_key`` the start is safe to retry: a repeat with the same key returns
        the run the first request started (and this call retries transport failures itself).
        ``media_references`` must be uploaded http(s) URLs, never inline data URIs.
        """
        if not isinstance(template_id, str) or not template_id.strip():
            raise ValidationError("template_id must be a non-empty string")
        if inputs is not None and not isinstance(inputs, Mapping):
            raise ValidationError("inputs must be a mapping")
        body: dict[str, Any] = {"workflow_id": template_id}
        if inputs is not None:
            body["inputs"] = dict(inputs)
        body.update(billing_body(token_type, billing_mode, self._transport.options.app_source))
        if max_estimated_capacity_units is not None:
            if not isinstance(max_estimated_capacity_units, int) \
                    or isinstance(max_estimated_capacity_units, bool) \
                    or max_estimated_capacity_units < 1:
                raise ValidationError("max_estimated_capacity_units must be a positive integer")
            body["max_estimated_capacity_units"] = max_estimated_capacity_units
        for key, flag in (("confirm_cost", confirm_cost),
                          ("safe_content_filter", safe_content_filter)):
            if flag is not None:
                if not isinstance(flag, bool):
                    raise ValidationError(f"{key} must be a bool")
                body[key] = flag
        if media_references is not None:
            body["media_references"] = check_media_references(media_references)
        headers = idempotency_headers(idempotency_key)
        data = self._rest.request("POST", BASE, json=body, timeout=timeout, headers=headers,
                                  idempotent=headers is not None)
        return _workflow(data)

    def resume(
        self,
        workflow_id: str,
        *,
        token_type: str | None = None,
        billing_mode: BillingMode | None = None,
        timeout: float | None = None,
    ) -> ResumedWorkflow:
        """Set a run paused in ``waiting_for_user`` moving again (billing may be overridden)."""
        path = _id_path(workflow_id, "/resume")
        body = billing_body(token_type, billing_mode, self._transport.options.app_source)
        data = self._rest.request("POST", path, json=body, timeout=timeout, idempotent=False)
        resumed = data.get("resumed") is True if isinstance(data, Mapping) else False
        return ResumedWorkflow(workflow=_workflow(data), resumed=resumed)

    def reseed(
        self,
        workflow_id: str,
        *,
        seed_overrides: Mapping[str, int] | None = None,
        token_type: str | None = None,
        billing_mode: BillingMode | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> ReseededWorkflow:
        """Start a new take of a finished run with fresh seeds; ``seed_overrides`` pins the
        seed of the named steps. A reseed mints new seeds, so only a call with an
        ``idempotency_key`` is safe to retry (and is retried on transport failures): the
        repeat returns the take the first one started, with ``idempotent`` set."""
        path = _id_path(workflow_id, "/reseed")
        body = billing_body(token_type, billing_mode, self._transport.options.app_source)
        if seed_overrides is not None:
            if not isinstance(seed_overrides, Mapping) or not all(
                    isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                    for k, v in seed_overrides.items()):
                raise ValidationError("seed_overrides must map step ids to integer seeds")
            body["seed_overrides"] = dict(seed_overrides)
        headers = idempotency_headers(idempotency_key)
        data = self._rest.request("POST", path, json=body, timeout=timeout, headers=headers,
                                  idempotent=headers is not None)
        workflow = _workflow(data)
        reseed = data.get("reseed") if isinstance(data, Mapping) else None
        reseed = reseed if isinstance(reseed, Mapping) else {}
        origin = reseed.get("cloned_from_run_id")
        return ReseededWorkflow(
            workflow=workflow, cloned_from_run_id=origin if isinstance(origin, str) else "",
            steps=tuple(s for s in _tuple(reseed.get("steps")) if isinstance(s, Mapping)),
            idempotent=data.get("idempotent") is True)

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
