"""Durable chat runs (``client.chat.runs``) against the emulator: create/get/cancel, the event
stream and its resume, cost approval by return, by callback and refused."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import requests

from sogni_sync.chat import ChatRun, ChatRunEvent, ChatRunsApi, CostApproval
from sogni_sync.errors import (
    ApiError,
    ConnectionLostError,
    NotFoundError,
    ServerError,
    TimeoutError,
    ValidationError,
)

ASK = [{"role": "user", "content": "Please generate an image of a red fox"}]
IMAGE_TOOL = {"type": "function", "function": {
    "name": "generate_image", "description": "Generate an image",
    "parameters": {"type": "object", "properties": {"prompt": {"type": "string"}},
                   "required": ["prompt"]}}}


def runs(net: Any, fn: Any) -> Any:
    return net.call(lambda state: fn(state.extras["runs"]))


def paid(client: Any, **kw: Any) -> ChatRun:
    run: ChatRun = client.chat.runs.create(ASK, tools=[IMAGE_TOOL], require_cost_approval=True,
                                           **kw)
    return run


def test_plain_run_streams_its_answer(client: Any, net: Any) -> None:
    run = client.chat.runs.create([{"role": "user", "content": "hello durable world"}],
                                  session_id="s1", client_message_id="m1", token_type="spark")
    assert isinstance(run, ChatRun) and run.run_id.startswith("run_") and run.status == "queued"
    post = [c for c in net.rest_calls if c.method == "POST"][-1]
    assert post.path == "/v1/chat/runs" and post.json["session_id"] == "s1"
    assert post.json["client_message_id"] == "m1" and post.json["token_type"] == "spark"
    assert "tools" not in post.json and "confirm_cost" not in post.json  # None is not sent
    events = list(client.chat.runs.stream_events(run.run_id))
    assert all(isinstance(e, ChatRunEvent) for e in events)
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[0].type == "run_queued" and events[-1].type == "run_completed"
    text = "".join(e.delta for e in events)
    done = client.chat.runs.get(run.run_id)
    assert done.done and done.status == "completed" and done.content == text
    assert text == "Echo: hello durable world"
    assert done.created_at and done.completed_at and done.last_sequence == events[-1].sequence


def test_stream_from_a_given_event_and_after_the_end(client: Any) -> None:
    run = client.chat.runs.create([{"role": "user", "content": "one two three"}])
    every = list(client.chat.runs.stream_events(run.run_id))
    tail = list(client.chat.runs.stream_events(run.run_id, last_event_id=every[-3].sequence))
    assert tail == every[-2:]


def test_cost_approval_returns_to_the_caller_then_confirms(client: Any, net: Any) -> None:
    run = paid(client, token_type="sogni")
    paused = client.chat.runs.wait(run.run_id)
    approval = paused.cost_approval
    assert paused.status == "waiting_for_user" and isinstance(approval, CostApproval)
    assert approval.confirmable and approval.preview is not None
    assert approval.preview.total_estimated_capacity_units == 4.0
    assert approval.preview.token_type == "sogni"
    assert approval.preview.per_tool_breakdown[0].tool_name == "generate_image"
    assert approval.pending_tool_call_ids == (approval.tool_call_id,)
    client.chat.runs.approve(approval)
    confirm = [c for c in net.rest_calls if c.path.endswith("/confirm-cost")][-1]
    assert confirm.json["acceptedCostPreview"] == dict(approval.preview.raw)  # unchanged
    assert confirm.headers["Idempotency-Key"] == f"confirm-{approval.tool_call_id}"
    done = client.chat.runs.wait(run.run_id, last_event_id=paused.last_sequence)
    assert done.status == "completed" and done.content.startswith("Tool results:")
    assert len(done.artifacts) == 1 and len(done.tool_results) == 1
    url = done.artifacts[0]["url"]
    assert requests.get(url, timeout=10).content.startswith(b"\x89PNG")
    # the same decision again (same key) is answered as a success, not a conflict
    again = client.chat.runs.approve(approval)
    assert again.run_id == run.run_id


def test_cost_approval_by_callback(client: Any) -> None:
    run = paid(client)
    seen: list[CostApproval] = []
    types: list[str] = []

    def ok(approval: CostApproval) -> bool:
        seen.append(approval)
        return True

    done = client.chat.runs.wait(run.run_id, on_cost_approval=ok,
                                 on_event=lambda e: types.append(e.type))
    assert done.status == "completed" and len(seen) == 1
    assert types.index("run_cost_confirmed") < types.index("tool_call_completed")
    assert types[-1] == "run_completed"


def test_refused_cost_approval_cancels_the_run(client: Any) -> None:
    run = paid(client)
    done = client.chat.runs.wait(run.run_id, on_cost_approval=lambda a: False)
    assert done.status == "cancelled" and done.done
    assert done.artifacts == () and done.tool_results == ()
    types = [e.type for e in done.events]
    assert "run_cost_declined" in types and "tool_call_started" not in types
    assert done.cost_approval is None and done.cancellation_reason


def test_confirm_cost_is_checked_by_the_server(client: Any) -> None:
    run = paid(client)
    paused = client.chat.runs.wait(run.run_id)
    approval = paused.cost_approval
    assert approval is not None and approval.preview is not None
    stale = {**approval.preview.raw, "totalEstimatedCapacityUnits": 1}
    with pytest.raises(ApiError) as info:
        client.chat.runs.confirm_cost(run.run_id, tool_call_id=approval.tool_call_id,
                                      decision="confirm", accepted_cost_preview=stale)
    assert info.value.status == 409
    with pytest.raises(ApiError) as info:
        client.chat.runs.confirm_cost(run.run_id, tool_call_id="call_wrong",
                                      decision="cancel")
    assert info.value.status == 400
    assert client.chat.runs.get(run.run_id).status == "waiting_for_user"
    client.chat.runs.decline(approval, reason="too dear")
    done = client.chat.runs.wait(run.run_id)
    assert done.status == "cancelled" and done.cancellation_reason == "too dear"
    with pytest.raises(ApiError) as info:  # nothing waits any more
        client.chat.runs.decline(CostApproval(run.run_id, "call_x", None))
    assert info.value.status == 409


def test_confirm_cost_skips_the_pause_and_the_ceiling_pauses(client: Any) -> None:
    fast = paid(client, confirm_cost=True)
    assert client.chat.runs.wait(fast.run_id).status == "completed"
    capped = client.chat.runs.create(ASK, tools=[IMAGE_TOOL], max_estimated_capacity_units=1)
    assert client.chat.runs.wait(capped.run_id).status == "waiting_for_user"
    roomy = client.chat.runs.create(ASK, tools=[IMAGE_TOOL], max_estimated_capacity_units=10)
    assert client.chat.runs.wait(roomy.run_id).status == "completed"


def test_cancel_a_paused_run(client: Any) -> None:
    run = paid(client)
    client.chat.runs.wait(run.run_id)
    cancelled = client.chat.runs.cancel(run.run_id, "changed my mind")
    assert cancelled.status == "cancelled" and cancelled.cancellation_reason == "changed my mind"
    assert client.chat.runs.cancel(run.run_id).status == "cancelled"  # unchanged
    assert list(client.chat.runs.stream_events(run.run_id))[-1].type == "run_cancelled"


def test_idempotent_create(client: Any, net: Any) -> None:
    first = client.chat.runs.create(ASK, idempotency_key="same-run")
    second = client.chat.runs.create(ASK, idempotency_key="same-run")
    assert first.run_id == second.run_id
    assert runs(net, lambda e: len(e.records)) == 1


def test_unknown_run_is_not_found(client: Any) -> None:
    with pytest.raises(NotFoundError):
        client.chat.runs.get("run_missing")


@pytest.mark.parametrize("call", [
    lambda r: r.create([]),
    lambda r: r.create([{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]),
    lambda r: r.create(ASK, media_context={"images": ["data:image/png;base64,AAAA"]}),
    lambda r: r.create(ASK, media_references=[{"dataUri": "data:x"}]),
    lambda r: r.create(ASK, token_type="gold"),
    lambda r: r.create(ASK, billing_mode="free"),
    lambda r: r.create(ASK, max_estimated_capacity_units=-1),
    lambda r: r.get(""),
    lambda r: r.stream_events("run_x", last_event_id=-1).__next__(),
    lambda r: r.confirm_cost("run_x", tool_call_id="c", decision="maybe"),
    lambda r: r.confirm_cost("run_x", tool_call_id="c", decision="confirm"),
    lambda r: r.approve(CostApproval("run_x", "c", None)),
])
def test_bad_input_is_refused_before_any_request(client: Any, net: Any, call: Any) -> None:
    before = len(net.rest_calls)
    with pytest.raises(ValidationError):
        call(client.chat.runs)
    assert len(net.rest_calls) == before


def test_inline_media_message_names_the_field(client: Any) -> None:
    with pytest.raises(ValidationError, match=r"mediaContext\.images\[0\]"):
        client.chat.runs.create(ASK, media_context={"images": ["data:image/png;base64,AA"]})


def test_the_emulator_refuses_inline_media_too(net: Any) -> None:
    body = {"messages": ASK, "media_context": {"images": ["data:image/png;base64,AA"]}}
    answer = requests.post(net.rest_url + "/v1/chat/runs", json=body, timeout=10,
                           headers={"api-key": net.api_key})
    assert answer.status_code == 400 and "inline base64/data URI" in answer.json()["message"]


class _Lines:
    """A scripted stream_lines(): each connection yields its lines, then maybe fails."""

    def __init__(self, *connections: tuple[list[str], Exception | None]) -> None:
        self.connections = list(connections)
        self.headers: list[dict[str, str]] = []

    def stream_lines(self, method: str, path: str, **kw: Any) -> Any:
        self.headers.append(dict(kw["headers"]))
        lines, failure = self.connections.pop(0)

        def gen() -> Any:
            yield from lines
            if failure is not None:
                raise failure
        return gen()


def _frame(seq: int, kind: str = "message_delta", **payload: Any) -> list[str]:
    data = json.dumps({"sequence": seq, "type": kind, "at": "t", "payload": payload})
    return [f"id: {seq}", f"event: {kind}", f"data: {data}", ""]


def test_replayed_events_are_not_yielded_twice_and_status_frames_are_skipped() -> None:
    status = ["event: run_status", 'data: {"status": "running"}', ""]
    lines = _Lines(
        ([*status, *_frame(1, delta="a"), *_frame(2, delta="b"), ": comment", ""],
         ConnectionLostError("reset")),
        ([*status, *_frame(1, delta="a"), *_frame(2, delta="b"), *_frame(3, delta="c"),
          "event: message_delta", "data: not json", "",
          *_frame(4, "run_completed", status="completed")], None),
    )
    transport = type("T", (), {"rest": lines, "closing": threading.Event(), "options": None})()
    events = list(ChatRunsApi(transport).stream_events("run_1"))
    assert [e.sequence for e in events] == [1, 2, 3, 4]
    assert "".join(e.delta for e in events) == "abc" and events[-1].terminal
    assert [h.get("Last-Event-ID") for h in lines.headers] == [None, "2"]


def test_a_stream_that_keeps_closing_gives_up() -> None:
    lines = _Lines(*[([], None)] * 3)
    transport = type("T", (), {"rest": lines, "closing": threading.Event(), "options": None})()
    with pytest.raises(ConnectionLostError, match="ended before the run finished"):
        list(ChatRunsApi(transport).stream_events("run_1", max_resumes=2))
    assert len(lines.headers) == 3


def test_wait_timeout_bounds_the_whole_wait(client: Any, net: Any) -> None:
    runs(net, lambda e: setattr(e, "token_delay", 5.0))
    run = client.chat.runs.create([{"role": "user", "content": "slow words here"}])
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client.chat.runs.wait(run.run_id, timeout=0.5)
    assert 0.4 < time.monotonic() - started < 3
    assert not client.chat.runs.get(run.run_id).done  # the run goes on on the server


def test_wait_after_a_seen_pause_still_asks(client: Any, net: Any) -> None:
    run = paid(client)
    paused = client.chat.runs.wait(run.run_id)
    again = client.chat.runs.wait(run.run_id, last_event_id=paused.last_sequence)
    assert again.status == "waiting_for_user"  # no callback: returned at once
    asked: list[CostApproval] = []

    def with_overrides(approval: CostApproval) -> dict[str, Any]:
        asked.append(approval)
        return {"prompt": "a blue kite"}

    done = client.chat.runs.wait(run.run_id, last_event_id=paused.last_sequence,
                                 on_cost_approval=with_overrides)
    assert len(asked) == 1 and done.status == "completed"
    confirm = [c for c in net.rest_calls if c.path.endswith("/confirm-cost")][-1]
    assert confirm.json["overrides"] == {"prompt": "a blue kite"}


def test_a_server_error_on_resume_is_retried(client: Any, net: Any) -> None:
    status = ["event: run_status", 'data: {"status": "running"}', ""]
    lines = _Lines(([*status, *_frame(1, delta="a")], ServerError("busy", status=503)),
                   ([*_frame(2, "run_completed", status="completed")], None))
    transport = type("T", (), {"rest": lines, "closing": threading.Event(), "options": None})()
    assert [e.sequence for e in ChatRunsApi(transport).stream_events("r")] == [1, 2]
