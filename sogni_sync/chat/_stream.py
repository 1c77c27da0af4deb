"""``ChatStream``: a blocking iterator over one LLM job's token chunks.

The socket thread queues chunks on the job; the iterator takes everything queued at once under
the job's Condition (waking once per run of frames, never polling) and hands the chunks out one by
one without the lock. Like ``openai.Stream`` it is also a context manager; leaving early only
stops local delivery (the protocol has no chat cancel).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Iterator
from types import TracebackType

from sogni_sync._sync import Deadline
from sogni_sync.chat._job import ChatJob, Pending, as_chunk
from sogni_sync.chat._types import ChatChunk, ChatCompletion, LLMJobCost, ToolCall
from sogni_sync.errors import TimeoutError

__all__ = ["ChatStream"]

log = logging.getLogger(__name__)


class ChatStream:
    """Iterate to receive :class:`ChatChunk` objects as the model writes them.

    ``content`` and ``tool_calls`` are the running totals; ``final`` is the
    :class:`ChatCompletion` once the job completed without error (``None`` before, or after
    leaving early). Iteration raises :class:`~sogni_sync.errors.ChatError` if the job fails, and
    :class:`~sogni_sync.errors.TimeoutError` if ``timeout`` (seconds, overall; ``None`` = no limit,
    as in the reference) passes first.
    """

    def __init__(
        self,
        job: ChatJob,
        *,
        timeout: float | None,
        on_close: Callable[[ChatJob], None],
    ) -> None:
        self._job = job
        self._ahead: collections.deque[Pending] = collections.deque()
        self._deadline = Deadline(timeout)
        self._timeout = timeout
        self._on_close = on_close
        self._closed = False

    @property
    def job_id(self) -> str:
        return self._job.job_id

    @property
    def content(self) -> str:
        with self._job.cond:
            return self._job.content

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        with self._job.cond:
            return self._job.tool_calls

    @property
    def worker_name(self) -> str | None:
        return self._job.worker_name

    @property
    def cost(self) -> LLMJobCost | None:
        return self._job.cost

    @property
    def final(self) -> ChatCompletion | None:
        return self._job.final

    @property
    def done(self) -> bool:
        return self._job.done

    def __iter__(self) -> Iterator[ChatChunk]:
        return self

    def __next__(self) -> ChatChunk:
        if self._closed:
            raise StopIteration
        job = self._job
        ahead = self._ahead
        if ahead and job.error is None:  # taken under the lock by an earlier call
            return as_chunk(ahead.popleft())
        with job.cond:
            ready = job.wait_chunks(self._deadline)
            if job.error is not None:
                raise job.error
            if job.chunks:
                # Everything that arrived so far in one go: the socket thread delivers runs
                # of frames, so the next calls need neither the lock nor a wake-up.
                ahead.extend(job.chunks)
                job.chunks = []
        if ahead:
            return as_chunk(ahead.popleft())
        if ready:
            raise StopIteration
        self.close()
        raise TimeoutError(
            f"Chat stream timed out after {self._timeout:g}s (jobID: {job.job_id})"
        )

    def until_done(self) -> ChatCompletion:
        """Drain the stream and return the final completion."""
        for _ in self:
            pass
        final = self._job.final
        if final is None:
            raise TimeoutError(f"Chat stream ended without a result (jobID: {self.job_id})")
        return final

    def close(self) -> None:
        """Stop receiving; later events for this job are ignored. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._on_close(self._job)

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "done" if self._job.done else "open"
        return f"<ChatStream {self.job_id} {state} {len(self._job.content)} chars>"
