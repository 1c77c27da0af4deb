"""The delivery model in isolation: what the Reconciler decides for requests in doubt, and how
the socket's write path tells "nothing left" from "may have left" (issue 11 D1/D4)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import websocket

from sogni_sync._transport.envelope import encode_frame
from sogni_sync._transport.outbox import MAX_SENDS, Entry, EntryState, Outbox
from sogni_sync._transport.reconcile import Reconciler
from sogni_sync._transport.socket import NotWrittenError, SocketRunner
from sogni_sync._transport.sockio import Conn
from sogni_sync.errors import ApiError, RequestLostError

PID = "00000000-0000-4000-8000-0000000000AA"
LISTS = ("activeProjects", "unclaimedCompletedProjects")
SERVER: dict[str, Any] = {"activeProjects": [], "unclaimedCompletedProjects": []}  # recovery


class Harness:
    """A Reconciler over a real Outbox; io work runs inline, events are recorded."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.outbox = Outbox()
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.flushes = 0
        self.closing = threading.Event()
        self.rec = Reconciler(self.lock, self.outbox, submit=lambda fn, *a: fn(*a),
                              emit=lambda kind, info: self.events.append((kind, info)),
                              flush=self._flush, closing=self.closing)
        self.rec.lookup_backoff = 0.001

    def _flush(self) -> None:
        self.flushes += 1

    def uncertain(self, msg_type: str = "jobRequest", rid: str = PID, *, gen: int = 1,
                  sends: int = 1) -> Entry:
        entry = Entry(msg_type, encode_frame(msg_type, {"jobID": rid}), rid,
                      state=EntryState.UNCERTAIN, gen=gen, attached=False)
        entry.sends = sends
        with self.lock:
            self.outbox.add(entry)
        return entry

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


def lookup_of(*answers: bool | BaseException) -> tuple[Callable[[str], bool], list[str]]:
    """A fake ``GET /v2/projects/{id}``: answers in turn (an exception is raised)."""
    asked: list[str] = []
    queue = list(answers)

    def lookup(rid: str) -> bool:
        asked.append(rid)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return lookup, asked


def test_listed_id_is_confirmed_without_asking() -> None:
    h = Harness()
    lookup, asked = lookup_of(False)
    h.rec.track("jobRequest", listed_in=LISTS, lookup=lookup)
    h.uncertain()
    h.rec.settle(2, {"activeProjects": [{"id": PID.lower()}], "unclaimedCompletedProjects": []})
    assert h.events == [("request_confirmed",
                         {"request_id": PID, "type": "jobRequest", "listed": True})]
    assert asked == [] and len(h.outbox) == 0


def test_unlisted_id_the_server_has_is_confirmed() -> None:
    """D4: finished while the server still wrote to the dead connection — in neither list."""
    h = Harness()
    lookup, asked = lookup_of(True)
    h.rec.track("jobRequest", listed_in=LISTS, lookup=lookup)
    entry = h.uncertain()
    h.rec.settle(2, SERVER)
    assert asked == [PID]
    assert h.events == [("request_confirmed",
                         {"request_id": PID, "type": "jobRequest", "listed": False})]
    assert h.outbox.get(PID) is None and entry.sends == 1 and h.flushes == 0


def test_id_the_server_does_not_know_is_queued_again() -> None:
    h = Harness()
    lookup, _ = lookup_of(False)
    h.rec.track("jobRequest", listed_in=LISTS, lookup=lookup)
    entry = h.uncertain()
    h.rec.settle(2, SERVER)
    assert entry.state is EntryState.QUEUED and not entry.attached and not entry.checking
    assert h.flushes == 1 and h.events == []  # nothing to report: it is simply sent again


def test_at_most_max_sends_writes() -> None:
    h = Harness()
    lookup, _ = lookup_of(False)
    h.rec.track("jobRequest", listed_in=LISTS, lookup=lookup)
    h.uncertain(sends=MAX_SENDS)
    h.rec.settle(2, SERVER)
    assert h.kinds() == ["request_lost"] and h.flushes == 0
    error = h.events[0][1]["error"]
    assert isinstance(error, RequestLostError)
    assert f"written {MAX_SENDS} times" in str(error) and "never received" in str(error)


def test_lookup_errors_are_retried_before_anything_is_decided() -> None:
    h = Harness()
    lookup, asked = lookup_of(ApiError("503", status=503), OSError("reset"), True)
    h.rec.track("jobRequest", listed_in=LISTS, lookup=lookup)
    h.uncertain()
    h.rec.settle(2, SERVER)
    assert len(asked) == 3 and h.kinds() == ["request_confirmed"]


def test_lookup_that_keeps_failing_ends_lost_with_the_cause() -> None:
    h = Harness()
    lookup, asked = lookup_of(ApiError("Service unavailable", status=503))
    h.rec.track("jobRequest", listed_in=LISTS, lookup=lookup)
    h.uncertain()
    h.rec.settle(2, SERVER)
    assert len(asked) == h.rec.lookup_attempts
    assert h.kinds() == ["request_lost"] and h.flushes == 0
    assert "Service unavailable" in str(h.events[0][1]["error"])


class CountingEvent(threading.Event):
    """A ``closing`` event whose waits return at once and are counted."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.pauses.append(timeout)
        return self.is_set()


def test_an_outage_is_waited_out_once_per_round_not_once_per_request() -> None:
    h = Harness()
    tasks: list[Any] = []
    closing = CountingEvent()
    h.rec = Reconciler(h.lock, h.outbox, submit=lambda fn, *a: tasks.append((fn, a)),
                       emit=lambda kind, info: h.events.append((kind, info)),
                       flush=lambda: None, closing=closing)
    h.rec.lookup_backoff = 0.001
    lookup, asked = lookup_of(ApiError("Bad gateway", status=502))
    h.rec.track("jobRequest", listed_in=LISTS, lookup=lookup)
    for i in range(10):
        h.uncertain(rid=f"{PID[:-2]}{i:02d}")
    h.rec.settle(2, SERVER)
    assert len(tasks) == h.rec.parallel_lookups  # spread over a few io tasks, not ten
    for fn, args in tasks:
        fn(*args)
    assert len(asked) == 10 * h.rec.lookup_attempts
    assert h.kinds() == ["request_lost"] * 10 and len(h.outbox) == 0
    assert len(closing.pauses) == h.rec.parallel_lookups * (h.rec.lookup_attempts - 1)


def test_without_a_lookup_an_unlisted_request_is_lost_never_resent() -> None:
    """Chat requests: only ``activeLLMJobIDs`` can confirm; the rest may have arrived."""
    h = Harness()
    h.rec.track("llmJobRequest", listed_in=("activeLLMJobIDs",))
    h.uncertain("llmJobRequest", "chat-1")
    h.uncertain("llmJobRequest", "chat-2")
    h.rec.settle(2, {"activeLLMJobIDs": ["CHAT-2"]})
    assert sorted(h.kinds()) == ["request_confirmed", "request_lost"]
    lost = next(info for kind, info in h.events if kind == "request_lost")
    assert lost["request_id"] == "chat-1" and "not re-sent" in str(lost["error"])
    assert len(h.outbox) == 0 and h.flushes == 0


def test_a_server_that_lists_nothing_is_not_asked() -> None:
    """A server without recovery lists nothing and may not know the lookup either: a 404
    there would not mean "never received", so nothing is re-sent."""
    h = Harness()
    lookup, asked = lookup_of(False)
    h.rec.track("jobRequest", listed_in=LISTS, lookup=lookup)
    h.uncertain()
    h.rec.settle(2, {"id": "conn-1"})
    assert asked == [] and h.kinds() == ["request_lost"]


def test_only_entries_of_earlier_connections_are_settled() -> None:
    h = Harness()
    lookup, asked = lookup_of(False)
    h.rec.track("jobRequest", listed_in=LISTS, lookup=lookup)
    entry = h.uncertain(gen=3)
    h.rec.settle(3, SERVER)
    assert asked == [] and entry.state is EntryState.UNCERTAIN and h.events == []


def test_ack_during_the_lookup_wins() -> None:
    h = Harness()

    def lookup(rid: str) -> bool:
        with h.lock:
            h.outbox.ack(rid)  # the id's first event arrives on the new connection meanwhile
        return False

    h.rec.track("jobRequest", listed_in=LISTS, lookup=lookup)
    h.uncertain()
    h.rec.settle(2, SERVER)
    assert h.events == [] and h.flushes == 0 and len(h.outbox) == 0


def test_a_second_session_does_not_ask_twice() -> None:
    h = Harness()
    pending: list[Any] = []
    h.rec = Reconciler(h.lock, h.outbox, submit=lambda fn, *a: pending.append((fn, a)),
                       emit=lambda kind, info: h.events.append((kind, info)),
                       flush=lambda: None, closing=h.closing)
    h.rec.track("jobRequest", listed_in=LISTS, lookup=lambda rid: True)
    h.uncertain()
    h.rec.settle(2, SERVER)
    h.rec.settle(3, SERVER)  # another reconnect while the first lookup waits for a thread
    assert len(pending) == 1
    fn, args = pending[0]
    fn(*args)
    assert h.kinds() == ["request_confirmed"]


def test_give_up_reports_a_request_that_never_left() -> None:
    h = Harness()
    entry = h.uncertain()
    entry.state = EntryState.QUEUED
    h.rec.give_up(entry, "jobRequest X could not be written in 20 attempts")
    assert h.kinds() == ["request_lost"] and len(h.outbox) == 0


# -- the write path -----------------------------------------------------------------------------


class FakeRaw:
    """A socket whose ``send`` accepts ``accept`` bytes per call, then raises ``error``."""

    def __init__(self, accept: list[int], error: BaseException) -> None:
        self.accept = list(accept)
        self.error = error
        self.data = b""
        self.shut = False

    def send(self, data: Any) -> int:
        if not self.accept:
            raise self.error
        n = min(self.accept.pop(0), len(data))
        self.data += bytes(data[:n])
        return n

    def shutdown(self, how: int) -> None:
        self.shut = True


def _runner_with(raw: FakeRaw) -> SocketRunner:
    runner = SocketRunner(listener=None, closing=threading.Event())  # type: ignore[arg-type]
    conn = Conn(1)
    ws = websocket.WebSocket()
    ws.connected = True
    conn.sock, conn.raw = ws, raw  # type: ignore[assignment]
    runner._app, runner._app_gen = conn, 1
    return runner


@pytest.mark.parametrize("error", [ConnectionResetError(104, "reset"),
                                   BrokenPipeError(32, "pipe"), TimeoutError("timed out")])
def test_a_send_that_fails_before_any_byte_is_not_written(error: BaseException) -> None:
    raw = FakeRaw([], error)
    with pytest.raises(NotWrittenError, match="no byte written"):
        _runner_with(raw).write('{"type":"jobRequest"}', 1)
    assert raw.data == b"" and raw.shut  # and the broken connection is aborted


def test_a_send_that_fails_after_some_bytes_may_have_been_written() -> None:
    raw = FakeRaw([3], ConnectionResetError(104, "reset"))
    with pytest.raises(ConnectionResetError):
        _runner_with(raw).write('{"type":"jobRequest"}', 1)
    assert len(raw.data) == 3 and raw.shut


def test_partial_sends_are_continued_until_the_frame_is_out() -> None:
    frame = '{"type":"jobRequest","data":"' + "x" * 300 + '"}'
    raw = FakeRaw([1, 7, 100, 10_000], OSError("unused"))
    _runner_with(raw).write(frame, 1)
    parsed = websocket.ABNF.create_frame(frame, websocket.ABNF.OPCODE_TEXT)
    head = 4 + 4  # 2 bytes + 16-bit length, then the mask key
    assert len(raw.data) == head + len(frame) == len(parsed.format())
    mask, body = raw.data[4:8], raw.data[8:]
    assert websocket.ABNF.mask(mask, body) == frame.encode()


def test_no_open_connection_is_not_written() -> None:
    runner = _runner_with(FakeRaw([100], OSError("unused")))
    with pytest.raises(NotWrittenError, match="not open"):
        runner.write("{}", 2)  # another generation


@pytest.mark.parametrize(("named_by", "outcome"), [("thingID", "request_confirmed"),
                                                    (None, "request_lost")])
def test_listing_objects_name_requests_by_id_or_by_the_registered_key(
    named_by: str | None, outcome: str
) -> None:
    h = Harness()
    h.rec.track("thing", listed_in=("held",), named_by=named_by)
    h.uncertain("thing")
    h.rec.settle(2, {"held": [{"thingID": PID.lower()}]})
    assert h.kinds() == [outcome]
