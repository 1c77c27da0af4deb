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

import functools
import heapq
import itertools
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family

__all__ = ["Call", "CallGuard", "GuardedAdapter", "attach", "cancelled", "open_socket"]

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
    sock = conn if isinstance(conn, socket.socket) else getattr(conn, "sock", None)
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


def open_socket(address: tuple[str, int], timeout: float | None = None,
                source_address: tuple[str, int] | None = None, *,
                family: int = socket.AF_UNSPEC, options: Any = ()) -> socket.socket:
    """``socket.create_connection``, except that each socket is attached to the call running
    on this thread before it connects: ``shutdown()`` also aborts a connect still waiting."""
    call: Call | None = getattr(_current, "call", None)
    host, port = address
    error: OSError = OSError("getaddrinfo returns an empty list")
    for af, kind, proto, _, where in socket.getaddrinfo(host, port, family, socket.SOCK_STREAM):
        sock = socket.socket(af, kind, proto)
        if call is not None:
            call.attach(sock)
        try:
            for option in options:
                sock.setsockopt(*option)
            if isinstance(timeout, (int, float)):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(where)
            return sock
        except OSError as exc:
            sock.close()
            if isinstance(exc, TimeoutError):
                raise
            error = exc
            if call is not None and call.cut:
                break
    raise error


def _new_socket(conn: HTTPConnection) -> socket.socket:
    """urllib3's ``_new_conn`` (same errors) on :func:`open_socket`."""
    try:  # urllib3 resolved the connection's default timeout when it built ``conn``
        sock = open_socket((conn._dns_host.strip("[]"), conn.port), conn.timeout,
                           conn.source_address, family=allowed_gai_family(),
                           options=conn.socket_options or ())
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    except TimeoutError as exc:
        raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out. (connect "
                                        f"timeout={conn.timeout})") from exc
    except OSError as exc:
        raise NewConnectionError(conn, f"Failed to establish a new connection: {exc}") from exc
    sys.audit("http.client.connect", conn, conn.host, conn.port)
    return sock


class _Attached:
    """A connection that attaches to the call running on its thread (mixed in first)."""

    def connect(self) -> None:
        attach(self)
        super().connect()  # type: ignore[misc]
        attach(self)  # a call cut while connecting cuts the new socket too

    def request(self, *args: Any, **kw: Any) -> None:
        attach(self)
        super().request(*args, **kw)  # type: ignore[misc]


class _GuardedHTTPConnection(_Attached, HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _new_socket(self)


class _GuardedHTTPSConnection(_Attached, HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _new_socket(self)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_POOLS = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


@functools.cache
def _socks_pools() -> dict[str, Any]:
    """Pools dialling through PySocks whose connections attach to their call too (once the
    SOCKS handshake is done; the connect itself is bounded by its timeout)."""
    from urllib3.contrib import socks as contrib

    class Conn(_Attached, contrib.SOCKSConnection):
        pass

    class TLSConn(_Attached, contrib.SOCKSHTTPSConnection):
        pass

    class Pool(contrib.SOCKSHTTPConnectionPool):
        ConnectionCls = Conn

    class TLSPool(contrib.SOCKSHTTPSConnectionPool):
        ConnectionCls = TLSConn

    return {"http": Pool, "https": TLSPool}


class GuardedAdapter(HTTPAdapter):
    """An :class:`HTTPAdapter` whose connections attach to the call running on their thread.

    Plain-http requests through an HTTP proxy are forwarded on kept-alive connections to the
    proxy; some proxies bind such a connection to its first destination, so those get one
    pool per destination host instead of one shared by all hosts.
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        self._destination = threading.local()
        self._forwarders: dict[tuple[str, str], Any] = {}
        self._forwarders_lock = threading.Lock()
        super().__init__(*args, **kw)

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def get_connection_with_tls_context(self, request: Any, verify: Any,
                                        proxies: Any = None, cert: Any = None) -> Any:
        parts = urlsplit(request.url or "")
        self._destination.netloc = parts.netloc if parts.scheme == "http" else None
        try:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        finally:
            self._destination.netloc = None

    def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
        destination: str | None = getattr(self._destination, "netloc", None)
        key = (proxy, destination) if destination and proxy.lower().startswith("http:") else None
        with self._forwarders_lock:
            if key is not None and key in self._forwarders:
                return self._forwarders[key]
            manager = super().proxy_manager_for(proxy, **kw)
            socks = proxy.lower().startswith("socks")
            manager.pool_classes_by_scheme = _socks_pools() if socks else _POOLS
            if key is not None:
                self.proxy_manager.pop(proxy, None)
                self._forwarders[key] = manager
            return manager

    def close(self) -> None:
        super().close()
        with self._forwarders_lock:
            managers, self._forwarders = list(self._forwarders.values()), {}
        for manager in managers:
            manager.clear()
