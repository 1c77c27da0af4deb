"""Who a ChatJob wakes: a stream's reader on every run of chunks (its Condition), a
``complete()`` caller (parked on its thread's wake-up) once, at the result — not once per token
run, which would make it wake and fight the socket thread for the lock while tokens are still
arriving. The wake-up is the caller thread's own lock: after any wait it is locked and
unregistered again, so the thread's next wait cannot be woken by an old job."""

from __future__ import annotations

import threading
import time

import pytest

from sogni_sync._sync import Deadline, thread_wakeup
from sogni_sync.chat._job import ChatJob, chunk_from_wire


class CountingCondition(threading.Condition):
    def __init__(self, lock: threading.RLock) -> None:
        super().__init__(lock)
        self.notified = 0

    def notify_all(self) -> None:
        self.notified += 1
        super().notify_all()


def _job(keep_chunks: bool) -> ChatJob:
    job = ChatJob("JOB-1", "m", threading.RLock(), keep_chunks=keep_chunks)
    job.cond = CountingCondition(job.cond._lock)  # type: ignore[attr-defined]
    return job


@pytest.mark.parametrize(("keep_chunks", "per_token", "at_result"), [(False, 0, 0), (True, 1, 1)])
def test_tokens_wake_only_stream_readers(keep_chunks: bool, per_token: int,
                                         at_result: int) -> None:
    job = _job(keep_chunks)
    cond = job.cond
    assert isinstance(cond, CountingCondition)
    with cond:
        for piece in ("Hel", "lo", "!"):
            assert job.fold(chunk_from_wire({"jobID": "JOB-1", "content": piece}))
        assert cond.notified == 3 * per_token
        final = job.complete({"jobID": "JOB-1", "usage": {"completion_tokens": 3}})
        assert cond.notified == 3 * per_token + at_result
    assert final is not None and final.content == "Hello!" and job.done
    assert len(job.chunks) == (3 if keep_chunks else 0)


class Parked(threading.Thread):
    """A caller blocked in ``wait_done``; ``parked`` is set once its wake-up is registered."""

    def __init__(self, job: ChatJob, timeout: float) -> None:
        super().__init__(daemon=True)
        self.job, self.timeout = job, timeout
        self.result: bool | None = None
        self.content = ""
        self.locked_after: bool | None = None
        self.next_wait: bool | None = None

    def run(self) -> None:
        self.result = self.job.wait_done(Deadline(self.timeout))
        self.content = self.job.final.content if self.job.final else ""
        self.locked_after = thread_wakeup().locked()
        # the same thread's next wait is not woken by anything the first job did
        self.next_wait = ChatJob("JOB-2", "m", threading.RLock(),
                                 keep_chunks=False).wait_done(Deadline(0.05))


def _until_parked(job: ChatJob) -> None:
    deadline = time.monotonic() + 10
    while job._waiter is None:
        assert time.monotonic() < deadline, "the caller never parked"
        time.sleep(0.001)


def test_complete_caller_wakes_once_at_the_result_after_tokens() -> None:
    job = _job(keep_chunks=False)
    caller = Parked(job, 10)
    caller.start()
    _until_parked(job)
    for piece in ("a", "b"):
        with job.cond:
            job.fold_wire({"jobID": "JOB-1", "content": piece})
            assert job._waiter is not None  # tokens leave the caller parked
    with job.cond:
        job.complete({"jobID": "JOB-1"})
        assert job._waiter is None
    caller.join(10)
    assert (caller.result, caller.content) == (True, "ab")
    assert caller.locked_after and caller.next_wait is False


def test_a_wait_that_times_out_takes_its_wake_up_back() -> None:
    job = _job(keep_chunks=False)
    caller = Parked(job, 0.05)
    caller.start()
    caller.join(10)
    assert caller.result is False and job._waiter is None
    assert caller.locked_after and caller.next_wait is False
    with job.cond:  # a result after the timeout releases nothing
        job.complete({"jobID": "JOB-1"})


def test_a_result_between_timeout_and_lock_is_consumed() -> None:
    """The deadline passes while the socket thread holds the lock and finishes the job: the
    caller sees the job done and its wake-up stays locked for the next wait."""
    job = _job(keep_chunks=False)
    caller = Parked(job, 0.2)
    caller.start()
    _until_parked(job)
    with job.cond:
        time.sleep(0.3)  # the caller's acquire times out; it now waits for the lock
        job.complete({"jobID": "JOB-1"})
    caller.join(10)
    assert caller.result is True and caller.content == ""
    assert caller.locked_after and caller.next_wait is False


def test_failing_the_job_wakes_the_caller() -> None:
    job = _job(keep_chunks=False)
    caller = Parked(job, 10)
    caller.start()
    _until_parked(job)
    with job.cond:
        job.fail(RuntimeError("boom"))
    caller.join(10)
    assert caller.result is True and isinstance(job.error, RuntimeError)
