"""The short way of a stream's token frames (``ChatJob.fold_wire``): the socket thread folds a
frame without tool-call deltas straight from its payload and queues the payload; the reader
builds the chunk (a frame's usage is parsed only when read). It must be invisible: the same
job state, the same chunks in the same order, one wake-up of a waiting reader per run of
frames, and listeners still given the very chunk the reader yields."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pytest

from sogni_sync._sync import Deadline
from sogni_sync.chat import ChatApi
from sogni_sync.chat._job import ChatJob, as_chunk, chunk_from_wire
from sogni_sync.errors import ChatError
from tests.doubles import FakeTransport
from tests.recorded import generated_reply

from .conftest import LLM

FRAMES: list[dict[str, Any]] = [
    {"jobID": "J", "role": "assistant", "content": ""},
    {"jobID": "J", "content": "Hel"},
    {"jobID": "J", "content": "lo", "role": None, "finishReason": None},
    {"jobID": "J", "content": 7},  # not text: no content, like chunk_from_wire
    {"jobID": "J", "content": "", "tool_calls": [{"index": 0, "id": "call_1", "function": {
        "name": "sogni_generate_image", "arguments": "{\"a\":"}}]},
    {"jobID": "J", "content": "", "tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]},
    {"jobID": "J", "content": "!", "finishReason": "stop"},
    {"jobID": "J", "content": "", "usage": {"prompt_tokens": 3, "completion_tokens": 4}},
]


def _state(job: ChatJob) -> tuple[Any, ...]:
    return (job.content, job.role, job.finish_reason, job.usage, job.tool_calls, job.done)


@pytest.mark.parametrize("keep_chunks", [True, False])
def test_fold_wire_is_fold_of_the_parsed_chunk(keep_chunks: bool) -> None:
    slow = ChatJob("J", LLM, threading.RLock(), keep_chunks=keep_chunks)
    fast = ChatJob("J", LLM, threading.RLock(), keep_chunks=keep_chunks)
    for frame in FRAMES:
        with slow.cond:
            slow.fold(chunk_from_wire(frame))
        with fast.cond:
            fast.fold_wire(frame)
        assert _state(fast) == _state(slow)
    assert [as_chunk(item) for item in fast.chunks] == slow.chunks
    assert len(fast.chunks) == (len(FRAMES) if keep_chunks else 0)
    with slow.cond, fast.cond:
        assert fast.complete({"jobID": "J"}) == slow.complete({"jobID": "J"})
        fast.fold_wire({"jobID": "J", "content": "late"})  # after the result: ignored
    assert fast.content == "Hello!" and len(fast.chunks) == len(slow.chunks)


USAGE_RUNS: list[list[dict[str, Any]]] = [
    # the latest usage wins, whichever way each frame was folded (unparsed until read)
    [{"jobID": "J", "usage": {"prompt_tokens": 1}},
     {"jobID": "J", "usage": {"completion_tokens": 2}, "tool_calls": [{"index": 0, "id": "c"}]}],
    [{"jobID": "J", "usage": {"completion_tokens": 2}, "tool_calls": [{"index": 0, "id": "c"}]},
     {"jobID": "J", "usage": {"prompt_tokens": 1}}],
    # what is no usage at all leaves the earlier one standing
    [{"jobID": "J", "usage": {"prompt_tokens": 5}}, {"jobID": "J", "usage": "x"},
     {"jobID": "J", "usage": {}}],
]


@pytest.mark.parametrize("frames", USAGE_RUNS)
@pytest.mark.parametrize("result", [{"jobID": "J"}, {"jobID": "J", "usage": {"total_tokens": 9}}])
def test_the_result_has_the_usage_the_parsed_chunks_give(
        frames: list[dict[str, Any]], result: dict[str, Any]) -> None:
    slow = ChatJob("J", LLM, threading.RLock(), keep_chunks=False)
    fast = ChatJob("J", LLM, threading.RLock(), keep_chunks=False)
    with slow.cond, fast.cond:
        for frame in frames:
            slow.fold(chunk_from_wire(frame))
            fast.fold_wire(frame)
        got, want = fast.complete(result), slow.complete(result)
    assert got is not None and got == want
    assert got.usage.total_tokens == (9 if "usage" in result else got.usage.prompt_tokens
                                      + got.usage.completion_tokens)


class CountingCondition(threading.Condition):
    def __init__(self, lock: threading.RLock) -> None:
        super().__init__(lock)
        self.notified = 0
        self.waiting = threading.Event()

    def notify_all(self) -> None:
        self.notified += 1
        super().notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


def _streaming(transport: FakeTransport, api: ChatApi) -> tuple[Any, ChatJob]:
    stream = api.stream(LLM, [{"role": "user", "content": "x"}], timeout=10)
    return stream, api._jobs[stream.job_id]


def test_a_waiting_reader_is_woken_once_per_run_and_gets_every_chunk_in_order() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    stream, job = _streaming(transport, api)
    cond = job.cond = CountingCondition(transport.lock)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(c.content for c in stream))
    reader.start()
    assert cond.waiting.wait(10)  # the reader blocks: nothing queued yet
    pieces = [f"t{i} " for i in range(50)]
    with transport.lock:  # one run, as the transport delivers one read's frames
        for piece in pieces:
            transport.emit("jobTokens", {"jobID": job.job_id, "content": piece})
        assert cond.notified == 1
        transport.emit("llmJobResult", {"jobID": job.job_id})
    reader.join(10)
    assert not reader.is_alive()
    assert got == pieces and stream.final is not None
    assert stream.final.content == "".join(pieces)
    assert cond.notified == 2  # the run, then the result


def test_listeners_get_the_chunk_the_reader_yields() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    heard: list[Any] = []
    api.on("token", heard.append)
    stream, job = _streaming(transport, api)
    for piece in ("a", "b"):
        transport.emit("jobTokens", {"jobID": job.job_id, "content": piece})
    transport.emit("llmJobResult", {"jobID": job.job_id})
    chunks = list(stream)
    assert [c.content for c in chunks] == ["a", "b"]
    assert all(mine is theirs for mine, theirs in zip(chunks, heard, strict=True))


def test_an_error_wins_over_chunks_not_yet_handed_out() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    stream, job = _streaming(transport, api)
    for piece in ("a", "b", "c"):
        transport.emit("jobTokens", {"jobID": job.job_id, "content": piece})
    assert next(stream).content == "a"
    transport.emit("llmJobError", {"jobID": job.job_id, "error": "workerError",
                                   "error_message": "boom"})
    with pytest.raises(ChatError, match="boom"):
        next(stream)


def test_leaving_early_drops_what_is_queued() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    stream, job = _streaming(transport, api)
    for piece in ("a", "b"):
        transport.emit("jobTokens", {"jobID": job.job_id, "content": piece})
    with stream:
        assert next(stream).content == "a"
    assert list(stream) == [] and job.chunks == [] and job.done


def test_a_reader_is_woken_at_the_end_of_the_socket_burst() -> None:
    """With a transport that defers, tokens queued during a burst of reads wake the reader
    once, when the socket has nothing more waiting — not once per read."""
    lock = threading.RLock()
    deferred: list[Any] = []
    job = ChatJob("J", LLM, lock, keep_chunks=True, defer=deferred.append)
    woke = threading.Event()

    def read() -> None:
        with lock:
            job.wait_chunks(Deadline(5))
        woke.set()

    reader = threading.Thread(target=read)
    reader.start()
    while not job._reader_waits:
        threading.Event().wait(0.001)
    for _ in range(3):  # three reads of one burst
        with lock:
            job.fold_wire({"jobID": "J", "content": "x"})
    assert not woke.wait(0.2) and len(deferred) == 1  # one wake-up, held back
    with lock:
        deferred.pop()()  # the transport's on_burst_end
    reader.join(5)
    assert woke.is_set() and len(job.chunks) == 3


def test_the_transport_runs_deferred_wakes_at_burst_end_and_on_close() -> None:
    from sogni_sync._config import resolve_options
    from sogni_sync._transport.socket import CloseInfo
    from sogni_sync._transport.transport import Transport

    transport = Transport(resolve_options(disable_socket=True))
    try:
        ran: list[str] = []
        with transport.lock:
            transport.defer_wake(lambda: ran.append("a"))
            transport.defer_wake(lambda: ran.append("b"))
        transport.on_burst_end(0)
        transport.on_burst_end(0)  # each runs once
        assert ran == ["a", "b"]
        with transport.lock:
            transport.defer_wake(lambda: ran.append("c"))
        transport.on_closed(0, CloseInfo())
        assert ran == ["a", "b", "c"]
    finally:
        transport.close()


def test_on_frames_says_whether_wakes_are_held() -> None:
    """The socket loop gathers reads only while wake-ups wait for the burst to end."""
    from sogni_sync._config import resolve_options
    from sogni_sync._transport.envelope import encode_frame
    from sogni_sync._transport.transport import Transport

    transport = Transport(resolve_options(disable_socket=True))
    try:
        frame = encode_frame("jobTokens", {"jobID": "J", "content": "x"}).encode()
        assert transport.on_frames(0, [frame]) is False  # nobody defers: nothing held
        transport.subscribe("jobTokens", lambda _payload: transport.defer_wake(lambda: None))
        assert transport.on_frames(0, [frame]) is True
        transport.on_burst_end(0)
        assert transport.on_frames(0, []) is False
    finally:
        transport.close()


def test_a_reader_that_keeps_up_is_woken_during_a_continuous_stream(client: Any,
                                                                    net: Any) -> None:
    """Held wake-ups are given at the latest a couple of milliseconds after the first, even
    while frames keep coming: a long stream reaches its reader as it goes, in order and whole,
    not in one piece at the end."""
    client.connect(timeout=10)
    net.options.token_delay = 0.0  # frames back to back: the socket is hardly ever quiet
    arrivals: list[float] = []
    try:
        with client.chat.stream(LLM, [{"role": "user", "content": "y" * 24000}],
                                max_tokens=6000, timeout=30) as stream:
            text = ""
            for chunk in stream:
                text += chunk.content
                arrivals.append(time.monotonic())
            final = stream.final
    finally:
        net.options.token_delay = 0.0
    assert final is not None and text == final.content == generated_reply(net, final.job_id)
    took = arrivals[-1] - arrivals[0]
    gaps = sorted(b - a for a, b in itertools.pairwise(arrivals))
    assert took > 0.05, took  # the stream lasted a while ...
    assert gaps[-1] < took / 4, (gaps[-1], took)  # ... and was read as it came
