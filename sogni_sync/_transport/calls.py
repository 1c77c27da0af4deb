"""Deadlines and ``close()`` for blocking HTTP calls: the sockets of a call can be cut from outside.

A socket read timeout bounds one ``recv``, not a call: a peer that drip-feeds a byte every
second holds a plain ``requests`` call forever, and closing a socket's file descriptor does not
wake a thread blocked in ``recv``. So every REST call runs inside a :class:`Call`; the HTTP
connections it uses attach themselves to it (see :class:`GuardedAdapter`), and

* when the call's deadline passes, the ``sogni-rest-deadline`` thread shuts its sockets down
  (``shutdown()`` does wake a blocked ``recv``) and the call raises ``TimeoutError``;
* :meth:`CallGuard.close` does the same for every call in flight, which then raises
  ``ClientClosedError`` at once.

The deadline thread only ever shuts sockets down; it starts with the first call that has a
deadline and ends in :meth:`CallGuard.close` (or after a while without any).
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

__all__ = ["Call", "CallGuard", "GuardedAdapter", "attach", "cancelled"]

_current = threading.local()
_LINGER = 10.0  # seconds the deadline thread waits for new work before it ends


class Call:
    """One blocking HTTP call (all its attempts): its deadline and the connections it used."""

    __slots__ = ("_conns", "_lock", "closed", "deadline", "done", "expired")

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline  # time.monotonic() value, or None for no overall limit
        self.expired = False  # the deadline passed and the sockets were cut
        self.closed = False  # close() cut the sockets
        self.done = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()

    @property
    def cut(self) -> bool:
        return self.expired or self.closed

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def attach(self, conn: Any) -> None:
        """Remember a connection (anything with a ``sock``); cut at once if already cut."""
        with self._lock:
            if not any(c is conn for c in self._conns):
                self._conns.append(conn)
            cut = self.cut
        if cut:
            _shutdown(conn)

    def abort(self, *, closing: bool) -> None:
        with self._lock:
            if self.done:
                return
            if closing:
                self.closed = True
            else:
                self.expired = True
            conns = list(self._conns)
        for conn in conns:
            _shutdown(conn)


def _shutdown(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket):
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def attach(conn: Any) -> None:
    """Attach ``conn`` to the call running on this thread, if any."""
    call: Call | None = getattr(_current, "call", None)
    if call is not None:
        call.attach(conn)


def cancelled() -> bool:
    """True when the call running on this thread was cut (deadline or close)."""
    call: Call | None = getattr(_current, "call", None)
    return call is not None and call.cut


class CallGuard:
    """The calls in flight of one client, their deadlines and the thread enforcing them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active: set[Call] = set()
        self._heap: list[tuple[float, int, Call]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def open(self, deadline: float | None) -> Call:
        """Register a new call (``closed`` at once when the guard is closed)."""
        call = Call(deadline)
        with self._cond:
            if self._closed:
                call.closed = True
                return call
            self._active.add(call)
            if deadline is not None:
                earliest = self._heap[0][0] if self._heap else None
                heapq.heappush(self._heap, (deadline, next(self._seq), call))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._watch, daemon=True,
                                                    name="sogni-rest-deadline")
                    self._thread.start()
                elif earliest is None or deadline < earliest:
                    self._cond.notify()
        return call

    def finish(self, call: Call) -> None:
        with call._lock:
            call.done = True
        with self._cond:
            self._active.discard(call)
            if len(self._heap) > 64 + 4 * len(self._active):  # drop finished entries
                self._heap = [e for e in self._heap if not e[2].done]
                heapq.heapify(self._heap)

    @contextmanager
    def bind(self, call: Call) -> Iterator[Call]:
        """Connections used on this thread inside the block attach to ``call``."""
        previous = getattr(_current, "call", None)
        _current.call = call
        try:
            yield call
        finally:
            _current.call = previous

    @contextmanager
    def track(self, deadline: float | None) -> Iterator[Call]:
        """:meth:`open` + :meth:`bind` + :meth:`finish` around a block."""
        call = self.open(deadline)
        try:
            with self.bind(call):
                yield call
        finally:
            self.finish(call)

    def close(self) -> None:
        """Cut every call in flight (they raise ClientClosedError) and stop the thread."""
        with self._cond:
            self._closed = True
            calls = list(self._active)
            thread = self._thread
            self._cond.notify_all()
        for call in calls:
            call.abort(closing=True)
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def _watch(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                expired: list[Call] = []
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    _, _, call = heapq.heappop(self._heap)
                    if not call.done:
                        expired.append(call)
                if expired:
                    self._cond.release()
                    try:
                        for call in expired:
                            call.abort(closing=False)
                    finally:
                        self._cond.acquire()
                    continue
                if self._heap:
                    self._cond.wait(self._heap[0][0] - now)
                elif not self._cond.wait(_LINGER) and not self._heap:
                    self._thread = None  # idle: end; the next call with a deadline restarts it
                    return


class _GuardedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        attach(self)
        super().connect()
        attach(self)  # a call cut while connecting cuts the new socket too

    def request(self, *args: Any, **kw: Any) -> None:
        attach(self)
        super().request(*args, **kw)


class _GuardedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        attach(self)
        super().connect()
        attach(self)  # a call cut while connecting cuts the new socket too

    def request(self, *args: Any, **kw: Any) -> None:
        attach(self)
        super().request(*args, **kw)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_POOLS = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class GuardedAdapter(HTTPAdapter):
    """An :class:`HTTPAdapter` whose connections attach to the call running on their thread."""

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kw)
        manager.pool_classes_by_scheme = _POOLS
        return manager
