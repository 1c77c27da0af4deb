"""The emulator's durable chat runs on the wire (plain requests, no SDK): envelope and 202,
the SSE framing (an unnumbered ``run_status`` frame, then ``id``/``event``/``data`` per event),
``Last-Event-ID`` replay, the confirm-cost checks, idempotency keys, ownership and reset."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from sogni_sync.testing import LocalSupernet

ASK = [{"role": "user", "content": "Please generate an image of a kite"}]
TOOL = {"type": "function", "function": {"name": "generate_image", "parameters": {
    "type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]}}}
PAID = {"messages": ASK, "tools": [TOOL], "runtime_config": {"requireJobConfirmation": True}}


def call(net: LocalSupernet, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> requests.Response:
    return requests.request(method, net.rest_url + path, json=body, timeout=10,
                            headers={"api-key": net.api_key, **(headers or {})})


def frames(net: LocalSupernet, run_id: str, last: int | None = None) -> list[dict[str, Any]]:
    """The SSE frames of one stream connection until the server closes it."""
    headers = {"Last-Event-ID": str(last)} if last is not None else {}
    with requests.get(f"{net.rest_url}/v1/chat/runs/{run_id}/events/stream", stream=True,
                      timeout=10, headers={"api-key": net.api_key, **headers}) as answer:
        assert answer.headers["Content-Type"].startswith("text/event-stream")
        text = answer.content.decode()
    out = []
    for block in filter(None, text.split("\n\n")):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append({**fields, "data": json.loads(fields["data"])})
    return out


def until(net: LocalSupernet, run_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        run: dict[str, Any] = call(net, "GET", f"/v1/chat/runs/{run_id}").json()["data"]["run"]
        if run["status"] == status:
            return run
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} never reached {status}")


def test_create_answers_202_with_the_record_and_streams_numbered_events(
        net: LocalSupernet) -> None:
    answer = call(net, "POST", "/v1/chat/runs", {"messages": [{"role": "user", "content": "hi"}],
                                                 "tools": None, "token_type": "spark"})
    assert answer.status_code == 202 and answer.json()["status"] == "success"
    run = answer.json()["data"]["run"]
    assert run["runId"].startswith("run_") and run["status"] == "queued"
    assert run["scope"]["tokenType"] == "spark" and run["timestamps"]["createdAt"].endswith("Z")
    got = frames(net, run["runId"])
    assert got[0]["event"] == "run_status" and "id" not in got[0]
    events = got[1:]
    assert [int(f["id"]) for f in events] == list(range(1, len(events) + 1))
    assert all(f["event"] == f["data"]["type"] and int(f["id"]) == f["data"]["sequence"]
               for f in events)
    assert events[-1]["data"]["payload"]["status"] == "completed"
    replay = frames(net, run["runId"], last=len(events) - 2)
    assert [f["data"] for f in replay[1:]] == [f["data"] for f in events[-2:]]


def test_pause_preview_and_the_confirm_cost_checks(net: LocalSupernet) -> None:
    rid = call(net, "POST", "/v1/chat/runs", {**PAID, "token_type": "sogni"}).json()[
        "data"]["run"]["runId"]
    run = until(net, rid, "waiting_for_user")
    waiting = run["waiting"]
    assert waiting["reason"] == "cost_approval_required"
    details = waiting["details"]
    preview = details["costApprovalPreview"]
    assert preview["tokenType"] == "sogni" and preview["totalEstimatedCapacityUnits"] == 4.0
    assert details["pendingToolCallIds"] == [details["toolCallId"]]
    path = f"/v1/chat/runs/{rid}/confirm-cost"
    base = {"tool_call_id": details["toolCallId"], "decision": "confirm"}
    assert call(net, "POST", path, base).status_code == 400  # no preview
    assert call(net, "POST", path, {**base, "acceptedCostPreview": {
        **preview, "validityUntil": "2000-01-01T00:00:00Z"}}).status_code == 409
    assert call(net, "POST", path, {**base, "tool_call_id": "x",
                                    "acceptedCostPreview": preview}).status_code == 400
    assert call(net, "POST", path, {**base, "decision": "later"}).status_code == 400
    key = {"Idempotency-Key": "k1"}
    first = call(net, "POST", path, {**base, "acceptedCostPreview": preview}, key)
    assert first.status_code == 200
    again = call(net, "POST", path, {**base, "acceptedCostPreview": preview}, key)
    assert again.status_code == 200  # the same decision, not a conflict
    other = call(net, "POST", path, {**base, "acceptedCostPreview": preview})
    assert other.status_code == 409  # nothing waits any more
    done = until(net, rid, "completed")
    assert "waiting" not in done and len(done["toolResults"]) == 1
    types = [e["type"] for e in done["events"]]
    assert types.count("run_cost_confirmed") == 1


def test_decline_cancel_ownership_and_reset(net: LocalSupernet) -> None:
    rid = call(net, "POST", "/v1/chat/runs", PAID).json()["data"]["run"]["runId"]
    waiting = until(net, rid, "waiting_for_user")["waiting"]["details"]
    assert call(net, "POST", f"/v1/chat/runs/{rid}/confirm-cost",
                {"tool_call_id": waiting["toolCallId"], "decision": "cancel"}).status_code == 200
    run = until(net, rid, "cancelled")
    assert run["cancellationReason"] == "Cost approval declined"
    assert run["timestamps"]["completedAt"]
    second = call(net, "POST", "/v1/chat/runs", PAID).json()["data"]["run"]["runId"]
    cancelled = call(net, "POST", f"/v1/chat/runs/{second}/cancel", {"reason": "bye"})
    assert cancelled.json()["data"]["run"]["cancellationReason"] == "bye"
    anonymous = requests.get(f"{net.rest_url}/v1/chat/runs/{rid}", timeout=10)
    assert anonymous.status_code == 401
    assert call(net, "GET", "/v1/chat/runs/run_nope").status_code == 404
    net.reset()
    assert call(net, "GET", f"/v1/chat/runs/{rid}").status_code == 404


def test_create_refusals(net: LocalSupernet) -> None:
    for body, text in [
        ({"messages": []}, "messages must be a non-empty array"),
        ({"messages": ASK, "model": "no-such-llm"}, "Model no-such-llm is not available"),
        ({"messages": ASK, "billing_mode": "free"}, "billing_mode"),
        ({"messages": ASK, "media_references": [{"url": "ftp://x/y.png"}]}, "mediaReferences[0]"),
    ]:
        answer = call(net, "POST", "/v1/chat/runs", body)
        assert answer.status_code == 400 and text in answer.json()["message"], body
