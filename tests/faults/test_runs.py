"""A durable chat run's event stream broken from the outside (the link between client and REST
host is reset or goes silent mid-answer): the stream resumes with ``Last-Event-ID`` and the
answer arrives whole, no piece lost or repeated."""

from __future__ import annotations

from typing import Any

import pytest

from sogni_sync.chat import ChatRunEvent
from sogni_sync.errors import ConnectionLostError

WORDS = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"


def _follow(client: Any, run_id: str, on_event: Any, **kw: Any) -> list[ChatRunEvent]:
    events: list[ChatRunEvent] = []
    for event in client.chat.runs.stream_events(run_id, **kw):
        events.append(event)
        on_event(event, events)
    return events


def _check(client: Any, net: Any, run_id: str, events: list[ChatRunEvent]) -> list[Any]:
    done = client.chat.runs.get(run_id)
    assert done.status == "completed"
    assert [e.sequence for e in events] == [e.sequence for e in done.events]  # none lost/twice
    pieces = [e.delta for e in events if e.type == "message_delta"]
    assert "".join(pieces) == done.content == f"Echo: {WORDS}"
    return list(net.call(lambda s: list(s.extras["runs"].stream_requests)))


def test_cut_mid_stream_resumes_without_losing_or_repeating_a_token(
        proxied: Any, net: Any) -> None:
    client, _sock, rest = proxied(disable_socket=True)
    net.call(lambda s: setattr(s.extras["runs"], "token_delay", 0.03))
    run = client.chat.runs.create([{"role": "user", "content": WORDS}])
    cuts: list[int] = []

    def cut_twice(event: ChatRunEvent, seen: list[ChatRunEvent]) -> None:
        deltas = sum(1 for e in seen if e.type == "message_delta")
        if event.type == "message_delta" and deltas in (3, 9):
            cuts.append(rest.cut("http"))

    events = _follow(client, run.run_id, cut_twice)
    requests = _check(client, net, run.run_id, events)
    assert len(cuts) == 2 and all(cuts)
    assert len(requests) >= 3 and requests[0] is None
    assert all(r is not None and int(r) > 0 for r in requests[1:])  # resumed from a sequence


def test_silent_link_times_out_and_resumes(proxied: Any, net: Any) -> None:
    client, _sock, rest = proxied(disable_socket=True)
    net.call(lambda s: setattr(s.extras["runs"], "token_delay", 0.05))
    run = client.chat.runs.create([{"role": "user", "content": WORDS}])
    stalled: list[int] = []

    def stall_once(event: ChatRunEvent, seen: list[ChatRunEvent]) -> None:
        if event.type == "message_delta" and not stalled:
            stalled.append(rest.stall("s2c", kind="http"))

    events = _follow(client, run.run_id, stall_once, timeout=0.5)
    requests = _check(client, net, run.run_id, events)
    assert stalled == [1] and len(requests) == 2
    rest.restore()


def test_a_lost_create_answer_is_retried_under_its_idempotency_key(
        proxied: Any, net: Any) -> None:
    client, _sock, rest = proxied(disable_socket=True)
    rest.reset_mid_body(times=1)  # the 202 is cut after its first byte: the run exists
    run = client.chat.runs.create([{"role": "user", "content": "once only"}],
                                  idempotency_key="create-once")
    records = net.call(lambda s: dict(s.extras["runs"].records))
    assert list(records) == [run.run_id]  # the retry found the run, made no second one
    posts = [c for c in net.rest_calls if c.method == "POST" and c.path == "/v1/chat/runs"]
    assert len(posts) == 2


def test_a_lost_create_answer_without_a_key_is_not_sent_twice(proxied: Any, net: Any) -> None:
    client, _sock, rest = proxied(disable_socket=True)
    rest.reset_mid_body(times=1)
    with pytest.raises(ConnectionLostError):  # in doubt: the caller decides, nothing resent
        client.chat.runs.create([{"role": "user", "content": "maybe twice"}])
    posts = [c for c in net.rest_calls if c.method == "POST" and c.path == "/v1/chat/runs"]
    assert len(posts) == 1 and len(net.call(lambda s: dict(s.extras["runs"].records))) == 1
