"""Chat jobs across a dropped connection (issue 19): the transitions, against a scripted transport.

A drop puts each job in flight in waiting for the server's word: listed in the next
``authenticated`` it goes on, not listed it fails at once, unconfirmed it fails when the grace
period lapses (any frame of the job ends the wait). After a drop without a close frame the reply
is returned only if the frames that arrived account for every completion token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from sogni_sync.chat import ChatApi
from sogni_sync.errors import ConnectionLostError
from tests.doubles import FakeTransport

from .conftest import LLM

ABRUPT: dict[str, Any] = {"code": None, "reason": "", "terminal": False}  # no close frame
RESTART: dict[str, Any] = {"code": 1012, "reason": "restart", "terminal": False}


class Caller(threading.Thread):
    """``complete()`` on a thread of its own; ``outcome`` is its result or its error."""

    def __init__(self, api: ChatApi, timeout: float = 10.0) -> None:
        super().__init__(daemon=True)
        self.api, self.timeout = api, timeout
        self.outcome: Any = None
        self.took = 0.0

    def run(self) -> None:
        start = time.monotonic()
        try:
            self.outcome = self.api.complete(LLM, [{"role": "user", "content": "x"}],
                                             timeout=self.timeout)
        except Exception as exc:
            self.outcome = exc
        self.took = time.monotonic() - start

    def finish(self) -> Any:
        self.join(10)
        assert not self.is_alive(), "the caller hung"
        return self.outcome


def _until(cond: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def _started(api: ChatApi, transport: FakeTransport, parked: bool = True) -> tuple[str, Caller]:
    caller = Caller(api)
    caller.start()
    _until(lambda: bool(api._written))
    (job_id,) = api._written
    if parked:
        _until(lambda: api._jobs[job_id]._waiter is not None)
    return job_id, caller


def _connection(transport: FakeTransport, kind: str, info: Any) -> None:
    with transport.lock:
        for handler in transport.conn:
            handler(kind, info)


def _tokens(transport: FakeTransport, job_id: str, *pieces: str) -> None:
    for piece in pieces:
        transport.emit("jobTokens", {"jobID": job_id, "content": piece})


def _result(transport: FakeTransport, job_id: str, tokens: int) -> None:
    transport.emit("llmJobResult", {"jobID": job_id, "timeTaken": 0.1,
                                    "usage": {"prompt_tokens": 1, "completion_tokens": tokens}})


@pytest.mark.parametrize("drop", [ABRUPT, RESTART])
def test_a_listed_job_goes_on_with_nothing_lost_or_repeated(drop: dict[str, Any]) -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    job_id, caller = _started(api, transport)
    _tokens(transport, job_id, "Hel", "lo")
    _connection(transport, "disconnected", drop)
    _connection(transport, "authenticated", {"activeLLMJobIDs": [job_id.lower()]})
    _tokens(transport, job_id, ", world")
    _result(transport, job_id, 3)
    result = caller.finish()
    assert not isinstance(result, Exception), result
    assert result.content == "Hello, world"
    assert api._jobs == {}


def test_a_listed_stream_delivers_the_rest_after_the_reconnect() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    stream = api.stream(LLM, [{"role": "user", "content": "x"}], timeout=10)
    _tokens(transport, stream.job_id, "a")
    _connection(transport, "disconnected", ABRUPT)
    _connection(transport, "authenticated", {"activeLLMJobIDs": [stream.job_id]})
    _tokens(transport, stream.job_id, "b")
    _result(transport, stream.job_id, 2)
    assert [c.content for c in stream] == ["a", "b"]
    assert stream.final is not None and stream.final.content == "ab"


def test_a_job_the_new_session_does_not_list_fails_at_once() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    job_id, caller = _started(api, transport)
    _tokens(transport, job_id, "partial ")
    _connection(transport, "disconnected", ABRUPT)
    _connection(transport, "authenticated", {"activeLLMJobIDs": []})
    error = caller.finish()
    assert isinstance(error, ConnectionLostError), error
    assert error.reason == "transport_lost" and "send it again" in str(error)
    assert caller.took < 5  # not at its timeout
    assert api._jobs == {}


def test_an_unconfirmed_job_fails_when_the_grace_period_lapses() -> None:
    """A server without ``activeLLMJobIDs`` says nothing: the parked caller wakes at the drop
    and fails the job when the grace passes in silence (no timer on the socket thread)."""
    transport = FakeTransport()
    api = ChatApi(transport)
    api.transport_grace = 0.2
    heard: list[Exception] = []
    api.on("error", heard.append)
    _job_id, caller = _started(api, transport)
    _connection(transport, "disconnected", ABRUPT)
    _connection(transport, "authenticated", {"clientType": "artist"})
    error = caller.finish()
    assert isinstance(error, ConnectionLostError) and error.reason == "transport_lost", error
    assert 0.2 <= caller.took < 5
    assert heard == [error] and api._jobs == {}


def test_an_unconfirmed_stream_fails_when_the_grace_period_lapses() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    api.transport_grace = 0.2
    stream = api.stream(LLM, [{"role": "user", "content": "x"}], timeout=10)
    _tokens(transport, stream.job_id, "a")
    _connection(transport, "disconnected", RESTART)
    chunks = iter(stream)
    assert next(chunks).content == "a"
    with pytest.raises(ConnectionLostError, match="did not confirm"):
        next(chunks)


def test_a_frame_inside_the_grace_period_proves_the_job_survived() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    api.transport_grace = 0.2
    job_id, caller = _started(api, transport)
    _connection(transport, "disconnected", ABRUPT)
    _tokens(transport, job_id, "still here")
    time.sleep(0.4)
    assert caller.is_alive()
    _result(transport, job_id, 1)
    result = caller.finish()
    assert not isinstance(result, Exception), result
    assert result.content == "still here"


def test_a_gap_after_a_drop_without_close_frame_fails_instead_of_coming_back_short() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    job_id, caller = _started(api, transport)
    _tokens(transport, job_id, "Hel")
    _connection(transport, "disconnected", ABRUPT)  # "lo" was in flight
    _connection(transport, "authenticated", {"activeLLMJobIDs": [job_id]})
    _tokens(transport, job_id, ", world")
    _result(transport, job_id, 3)
    error = caller.finish()
    assert isinstance(error, ConnectionLostError), error
    assert "2 of its 3 tokens arrived" in str(error) and "may be incomplete" in str(error)


def test_after_a_close_frame_nothing_is_counted() -> None:
    """The server wrote the close frame after its last token: a reply whose frames carry several
    tokens each is not suspect."""
    transport = FakeTransport()
    api = ChatApi(transport)
    job_id, caller = _started(api, transport)
    _tokens(transport, job_id, "Hello")
    _connection(transport, "disconnected", RESTART)
    _connection(transport, "authenticated", {"activeLLMJobIDs": [job_id]})
    _result(transport, job_id, 2)
    result = caller.finish()
    assert not isinstance(result, Exception), result
    assert result.content == "Hello"


def test_a_request_not_yet_written_is_not_waited_for() -> None:
    """Only jobs the server may have are interrupted; one still queued is sent later."""
    transport = FakeTransport()
    api = ChatApi(transport)
    api.transport_grace = 0.05
    job_id, caller = _started(api, transport)
    api._written.discard(job_id)  # as if its send() had not returned yet
    _connection(transport, "disconnected", ABRUPT)
    time.sleep(0.15)
    assert caller.is_alive() and not api._jobs[job_id].done
    _tokens(transport, job_id, "ok")
    _result(transport, job_id, 1)
    assert caller.finish().content == "ok"
