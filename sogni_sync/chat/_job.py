"""Live state of one LLM job, folded from socket events (chat.md §2.3).

Every method that mutates state is called with ``transport.lock`` held (by the socket thread's
handlers or by a caller thread) and wakes whoever waits, so waiters wake the moment
``llmJobResult`` arrives instead of polling like the reference. A stream's reader waits on the
job's Condition (:meth:`ChatJob.wait_chunks`); the one ``complete()`` caller parks on its
thread's wake-up (:meth:`ChatJob.wait_done`), which the end of the job releases: it then returns
without taking the shared lock again.

Token frames without tool-call deltas take the short way (:meth:`ChatJob.fold_wire`): the
socket thread folds their text and queues the payload itself; the reader turns it into a
:class:`ChatChunk` (:func:`as_chunk`), so the event thread builds no chunk per token (unless a
``token`` listener needs it there). A frame's usage is kept as it came and parsed only if read
(the result's own usage normally wins).

Across a dropped connection (issue 19) the job is *awaiting* until the server says it still runs
it: the next ``authenticated`` lists it (:meth:`ChatJob.confirm`), or any frame of it arrives.
The server keeps a job 30 s for a returning app id, so a job nobody confirms within
:data:`TRANSPORT_GRACE` fails (its waiters notice: the socket thread keeps no timers). The wire
has no sequence numbers and the server re-sends nothing, so frames written into a link that broke
without a close frame are gone: such an *interrupted* job is returned only if the frames that did
arrive account for every completion token the result reports, else it fails — never short.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sogni_sync._convert import structure_optional
from sogni_sync._sync import Deadline, lock_timeout, thread_wakeup
from sogni_sync.chat._types import (
    ChatChunk,
    ChatCompletion,
    FunctionCall,
    LLMJobCost,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from sogni_sync.errors import ConnectionLostError

__all__ = ["TRANSPORT_GRACE", "ChatJob", "Pending", "as_chunk", "chunk_from_wire"]

#: seconds a job in flight at a drop may stay unconfirmed (the server keeps it 30 s)
TRANSPORT_GRACE = 35.0

#: What a stream's reader receives: a chunk, or the payload of a frame without tool-call deltas
#: (see as_chunk).
Pending = ChatChunk | Mapping[str, Any]


def _deltas(raw: Any) -> tuple[ToolCallDelta, ...]:
    out = []
    for delta in raw or ():
        if not isinstance(delta, Mapping):
            continue
        fn = delta.get("function")
        fn = fn if isinstance(fn, Mapping) else {}
        out.append(
            ToolCallDelta(
                index=int(delta.get("index") or 0),
                id=delta.get("id") or None,
                name=fn.get("name") or None,
                arguments=fn.get("arguments") or None,
            )
        )
    return tuple(out)


def chunk_from_wire(payload: Mapping[str, Any]) -> ChatChunk:
    content = payload.get("content")
    usage = payload.get("usage")
    calls = payload.get("tool_calls")
    # Most frames carry text only: skip the usage and tool-call parsers when absent (both
    # map an empty value to None / ()).
    return ChatChunk(
        str(payload.get("jobID") or ""),
        content if isinstance(content, str) else "",
        payload.get("role") or None,
        payload.get("finishReason") or None,
        structure_optional(usage, Usage) if usage else None,
        _deltas(calls) if calls else (),
    )


def as_chunk(item: Pending) -> ChatChunk:
    """The chunk a queued item stands for (built on the reader's thread)."""
    return item if isinstance(item, ChatChunk) else chunk_from_wire(item)


class ChatJob:
    """Accumulated text, tool calls, usage and outcome of one ``llmJobRequest``."""

    def __init__(
        self, job_id: str, model: str, lock: threading.RLock, *, keep_chunks: bool,
        defer: Callable[[Callable[[], None]], None] | None = None,
        on_lapse: Callable[[ChatJob], None] | None = None,
    ) -> None:
        self.job_id = job_id
        #: told (lock held) when the job failed for want of confirmation after a drop
        self._on_lapse = on_lapse
        #: hands the reader's wake-up to the end of the socket's burst of reads (None: now)
        self._defer = defer
        self.model = model
        self.cond = threading.Condition(lock)
        self.keep_chunks = keep_chunks
        #: received, not yet taken by the stream's reader (who swaps the list out)
        self.chunks: list[Pending] = []
        #: a reader is blocked until more chunks arrive (set by wait_chunks, cleared by the
        #: first chunk after it: one wake-up per run of frames, not one per frame)
        self._reader_waits = False
        self._parts: list[str] = []
        self.role: str | None = None
        self.finish_reason: str | None = None
        self._usage: Usage | None = None
        self._wire_usage: Mapping[str, Any] | None = None  # newer than _usage, not parsed yet
        self._calls: dict[int, list[str]] = {}
        self.worker_name: str | None = None
        self.cost: LLMJobCost | None = None
        self.done = False
        self.error: BaseException | None = None
        self.final: ChatCompletion | None = None
        #: the complete() caller's thread wake-up while it waits (released once, by _wake)
        self._waiter: threading.Lock | None = None
        #: frames that carried text or tool-call deltas (what a completion token comes in)
        self.frames = 0
        #: monotonic time by which the server must confirm the job (None: not awaiting)
        self.confirm_by: float | None = None
        #: a link broke without a close frame while the job ran: frames may have been lost
        self.interrupted = False

    @property
    def content(self) -> str:
        return "".join(self._parts)

    @property
    def usage(self) -> Usage | None:
        """The latest usage the token frames reported (lock held, or the job is done)."""
        if self._wire_usage is not None:
            self._usage, self._wire_usage = structure_optional(self._wire_usage, Usage), None
        return self._usage

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        if not self._calls:
            return ()
        return tuple(
            ToolCall(id=c[0], function=FunctionCall(c[1], c[2]))
            for _, c in sorted(self._calls.items())
        )

    def fold(self, chunk: ChatChunk) -> bool:
        """Apply one chunk; False when the job already finished (late frames are ignored)."""
        if self.done:
            return False
        self.confirm_by = None  # a frame of the job: the server still runs it
        if chunk.content or chunk.tool_calls:
            self.frames += 1
        if chunk.content:
            self._parts.append(chunk.content)
        if chunk.role:
            self.role = chunk.role
        if chunk.finish_reason:
            self.finish_reason = chunk.finish_reason
        if chunk.usage:
            self._usage, self._wire_usage = chunk.usage, None
        for delta in chunk.tool_calls:
            call = self._calls.setdefault(delta.index, [delta.id or "", delta.name or "", ""])
            if delta.id:
                call[0] = delta.id
            if delta.name:
                call[1] = delta.name
            if delta.arguments:
                call[2] += delta.arguments
        if self.keep_chunks:
            # Only a stream's reader waits for chunks; complete() waits for ``done``, so waking
            # it per token run would only make it contend for the lock the socket thread holds.
            self.chunks.append(chunk)
            self.cond.notify_all()
        return True

    def fold_wire(self, payload: Mapping[str, Any]) -> None:
        """:meth:`fold` of ``chunk_from_wire(payload)`` for a frame no one needs as a chunk on
        the socket thread: one without tool-call deltas is folded straight from the payload,
        which is queued as it is (:func:`as_chunk` builds the same chunk on the reader's side)."""
        if payload.get("tool_calls"):
            self.fold(chunk_from_wire(payload))  # rare: tool-call deltas
            return
        if self.done:
            return
        self.confirm_by = None
        usage = payload.get("usage")
        if usage and isinstance(usage, Mapping):  # what the converter would not read as None
            self._wire_usage = usage
        content = payload.get("content")
        if content and isinstance(content, str):
            self.frames += 1
            self._parts.append(content)
        role = payload.get("role")
        if role:
            self.role = role
        finish = payload.get("finishReason")
        if finish:
            self.finish_reason = finish
        if self.keep_chunks:
            self.chunks.append(payload)
            if self._reader_waits:
                self._reader_waits = False
                if self._defer is None:
                    self.cond.notify_all()
                else:
                    self._defer(self.cond.notify_all)

    def wait_chunks(self, deadline: Deadline) -> bool:
        """Lock held: block until chunks are queued, the job ended or failed, or the deadline
        passed (False)."""
        while not (self.chunks or self.done or self.error):
            if self.unconfirmed_too_long():
                break
            remaining = deadline.remaining()
            if remaining is not None and remaining <= 0:
                return False
            self._reader_waits = True
            self.cond.wait(self._until_confirm(remaining))
        return True

    def wait_done(self, deadline: Deadline) -> bool:
        """Lock NOT held: block until the job ended (True) or the deadline passed (False).
        For the one caller that waits for the result (``complete()``); a drop wakes it early
        (:meth:`interrupt`) so that it also watches the confirmation deadline."""
        wakeup = thread_wakeup()
        while True:
            with self.cond:
                if self.done or self.unconfirmed_too_long():
                    return True
                remaining = deadline.remaining()
                if remaining is not None and remaining <= 0:
                    return False
                limit = self._until_confirm(remaining)
                self._waiter = wakeup
            woken = False
            try:
                woken = wakeup.acquire(True, lock_timeout(limit))
            finally:
                if not woken:  # timed out or interrupted: take the registration back
                    with self.cond:
                        if self._waiter is wakeup:
                            self._waiter = None
                        else:  # released after all: consume it, the wake-up stays locked
                            wakeup.acquire()

    # -- across a dropped connection (lock held) ------------------------------------------------

    def interrupt(self, *, frames_lost: bool, grace: float = TRANSPORT_GRACE) -> None:
        """The connection dropped while the job ran: await the server's word on it (at most
        ``grace`` seconds). ``frames_lost``: the link broke without a close frame."""
        if self.done:
            return
        self.interrupted = self.interrupted or frames_lost
        self.confirm_by = time.monotonic() + grace
        waiter, self._waiter = self._waiter, None
        if waiter is not None:  # re-checks with the confirmation deadline
            waiter.release()
        self.cond.notify_all()

    def confirm(self) -> None:
        """The new session lists the job: the server still runs it; its frames follow."""
        self.confirm_by = None

    def unconfirmed_too_long(self) -> bool:
        """Fail the job if its confirmation deadline passed; True when it did."""
        if self.confirm_by is None or self.done or time.monotonic() < self.confirm_by:
            return False
        self.fail(ConnectionLostError(
            f"chat job {self.job_id} was lost in a disconnect: the Supernet did not confirm it "
            "after the reconnect (it keeps a job 30 s for a returning app); send it again",
            reason="transport_lost"))
        if self._on_lapse is not None:
            self._on_lapse(self)
        return True

    def _until_confirm(self, remaining: float | None) -> float | None:
        if self.confirm_by is None:
            return remaining
        left = max(0.0, self.confirm_by - time.monotonic()) + 0.001
        return left if remaining is None else min(remaining, left)

    def _unaccounted(self, payload: Mapping[str, Any]) -> str | None:
        """After an interruption: why the frames that arrived may not be the whole reply
        (None when they account for every completion token the result reports)."""
        usage = payload.get("usage")
        expected = usage.get("completion_tokens") if isinstance(usage, Mapping) else None
        if not isinstance(expected, int) or isinstance(expected, bool):
            return "the result does not say how many tokens the reply had"
        if self.frames >= expected:
            return None
        return f"{self.frames} of its {expected} tokens arrived"

    def _wake(self) -> None:
        """Lock held: the job ended; wake its waiter and a stream's reader."""
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.release()
        if self.keep_chunks:
            self.cond.notify_all()

    def note_worker(self, name: Any) -> None:
        if name and isinstance(name, str):
            self.worker_name = name

    def complete(self, payload: Mapping[str, Any]) -> ChatCompletion | None:
        """Finish with ``llmJobResult``; the result's usage wins over the chunks'."""
        if self.done:
            return None
        gap = self._unaccounted(payload) if self.interrupted else None
        if gap is not None:
            self.fail(ConnectionLostError(
                f"the connection dropped while chat job {self.job_id} was being answered and "
                f"its reply may be incomplete ({gap}; {len(self.content)} characters had "
                "arrived), so it is not returned", reason="frames_lost"))
            return None
        self.note_worker(payload.get("workerName"))
        if payload.get("cost"):
            self.cost = structure_optional(payload["cost"], LLMJobCost)
        usage = structure_optional(payload.get("usage"), Usage) or self.usage or Usage()
        self.final = ChatCompletion(
            job_id=self.job_id,
            model=self.model,
            content=self.content,
            role=self.role or "assistant",
            finish_reason=self.finish_reason or "stop",
            usage=usage,
            time_taken=payload.get("timeTaken") or 0,
            worker_name=self.worker_name,
            cost=self.cost,
            tool_calls=self.tool_calls,
        )
        self.done = True
        self._wake()
        return self.final

    def fail(self, error: BaseException) -> bool:
        if self.done:
            return False
        self.error = error
        self.done = True
        self._wake()
        return True

    def detach(self) -> None:
        """Stop local delivery (a stream left early); the buffer is dropped."""
        if not self.done:
            self.done = True
            self.error = None
        self.chunks.clear()
        self._wake()
