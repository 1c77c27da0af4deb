"""Threads that are not the socket thread, and the one way callers block.

* :class:`Dispatcher` — the single ``sogni-callbacks`` thread. User callbacks run here so a slow
  or failing callback can never stall frame reading or keep-alive on the socket thread.
* :class:`IoPool` — up to N ``sogni-io-N`` threads, started on demand, for REST follow-ups that
  the socket thread must not do itself (URL minting, reconciliation, resends).
* :func:`wait_for` — block on a :class:`threading.Condition` against a monotonic deadline,
  recomputing the remaining time after every wake-up (never a sleep loop).
* :func:`thread_wakeup` — for a wait with exactly one waker (a chat job's result): the calling
  thread's own lock, handed to the waker, who releases it once. The blocked caller wakes
  without a Condition's bookkeeping and without taking the waker's lock back.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Deadline", "Dispatcher", "IoPool", "lock_timeout", "thread_wakeup", "wait_for"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_STOP = object()


class Deadline:
    """A point on the monotonic clock; ``None`` timeout means "never"."""

    __slots__ = ("at",)

    def __init__(self, timeout: float | None) -> None:
        self.at = None if timeout is None else time.monotonic() + max(0.0, timeout)

    def remaining(self) -> float | None:
        if self.at is None:
            return None
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


def wait_for(
    cond: threading.Condition, predicate: Callable[[], T], deadline: Deadline | float | None
) -> T:
    """Wait (holding ``cond``'s lock) until ``predicate()`` is truthy or the deadline passes.

    Returns the last predicate value, like :meth:`threading.Condition.wait_for`, but a deadline
    shared across several waits keeps one overall budget.
    """
    if not isinstance(deadline, Deadline):
        deadline = Deadline(deadline)
    result = predicate()
    while not result:
        remaining = deadline.remaining()
        if remaining is not None and remaining <= 0:
            break
        cond.wait(remaining)
        result = predicate()
    return result


def lock_timeout(remaining: float | None) -> float:
    """A ``Deadline.remaining()`` as the timeout of ``Lock.acquire`` (-1: no limit)."""
    return -1 if remaining is None else min(remaining, threading.TIMEOUT_MAX)


_wakeups = threading.local()


def thread_wakeup() -> threading.Lock:
    """The calling thread's wake-up: a lock that stays locked while the thread is not waiting.

    A waiter registers it with the one thread that will wake it (under their shared lock), then
    blocks acquiring it; the waker releases it exactly once, or the waiter takes the
    registration back. Either way it ends locked and unregistered again, so the next wait of
    this thread reuses it (one per thread, nothing allocated per wait).
    """
    wakeup: threading.Lock | None = getattr(_wakeups, "lock", None)
    if wakeup is None:
        wakeup = threading.Lock()
        wakeup.acquire()
        _wakeups.lock = wakeup
    return wakeup


class Dispatcher:
    """Runs callables strictly in submission order on one daemon thread, started on first use.

    The queue is soft-bounded: past ``maxsize`` pending items, ``droppable`` submissions
    (progress-like notifications) are dropped and counted; everything else is still queued, so
    terminal events are never lost and order is never broken.
    """

    def __init__(self, name: str = "sogni-callbacks", maxsize: int = 10_000) -> None:
        self._name = name
        self._maxsize = maxsize
        self._items: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]] = (
            collections.deque()
        )
        self._cond = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.dropped = 0

    def submit(self, fn: Callable[..., Any], *args: Any, droppable: bool = False) -> None:
        """Queue ``fn(*args)``; after :meth:`stop` calls are ignored."""
        with self._cond:
            if self._stopped:
                return
            if droppable and len(self._items) >= self._maxsize:
                self.dropped += 1
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._items.append((fn, args))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._stopped:
                    self._cond.wait()
                if not self._items:
                    return  # stopped and drained
                fn, args = self._items.popleft()
            try:
                fn(*args)
            except Exception:
                log.exception("callback %r raised", getattr(fn, "__qualname__", fn))

    def stop(self, timeout: float | None = 2.0) -> None:
        """Let queued callbacks finish, then end the thread (never joins itself)."""
        with self._cond:
            if self._stopped:
                return
            self._stopped = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)


class IoPool:
    """A small lazily-grown worker pool returning :class:`concurrent.futures.Future`.

    Unlike :class:`~concurrent.futures.ThreadPoolExecutor` it can be shut down without waiting
    for the interpreter to exit and names its threads ``sogni-io-N``.
    """

    def __init__(self, max_workers: int = 4, name: str = "sogni-io") -> None:
        self._max = max(1, max_workers)
        self._name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._shutdown = False

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._shutdown:
                future.set_exception(_closed_error())
                return future
            self._queue.put((future, fn, args))
            if self._queue.qsize() > self._idle and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._run, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _run(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            item = self._queue.get()
            with self._lock:
                self._idle -= 1
            if item is _STOP:
                return
            future, fn, args = item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel queued work, stop the workers and join them within ``timeout``."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            threads = list(self._threads)
        pending = []
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for item in pending:
            if item is not _STOP:
                item[0].cancel()
        for _ in threads:
            self._queue.put(_STOP)
        deadline = Deadline(timeout)
        current = threading.current_thread()
        for thread in threads:
            if thread is not current:
                thread.join(deadline.remaining())


def _closed_error() -> BaseException:
    from sogni_sync.errors import ClientClosedError

    return ClientClosedError("the client is closed")
