"""Who a ChatJob wakes: a stream's reader on every run of chunks, a ``complete()`` caller (which
waits for ``done`` only) once, at the result — not once per token run, which would make it wake
and fight the socket thread for the lock while tokens are still arriving."""

from __future__ import annotations

import threading

import pytest

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


@pytest.mark.parametrize(("keep_chunks", "per_token"), [(False, 0), (True, 1)])
def test_tokens_wake_only_stream_readers(keep_chunks: bool, per_token: int) -> None:
    job = _job(keep_chunks)
    cond = job.cond
    assert isinstance(cond, CountingCondition)
    with cond:
        for piece in ("Hel", "lo", "!"):
            assert job.fold(chunk_from_wire({"jobID": "JOB-1", "content": piece}))
        assert cond.notified == 3 * per_token
        final = job.complete({"jobID": "JOB-1", "usage": {"completion_tokens": 3}})
        assert cond.notified == 3 * per_token + 1
    assert final is not None and final.content == "Hello!" and job.done
    assert len(job.chunks) == (3 if keep_chunks else 0)


def test_complete_caller_still_wakes_at_the_result_after_tokens() -> None:
    job = _job(keep_chunks=False)
    got: list[str] = []

    def wait() -> None:
        with job.cond:
            job.cond.wait_for(lambda: job.done, timeout=10)
            got.append(job.final.content if job.final else "")

    waiter = threading.Thread(target=wait)
    waiter.start()
    for piece in ("a", "b"):
        with job.cond:
            job.fold(chunk_from_wire({"jobID": "JOB-1", "content": piece}))
    with job.cond:
        job.complete({"jobID": "JOB-1"})
    waiter.join(10)
    assert got == ["ab"]
