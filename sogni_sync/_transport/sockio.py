"""The pieces of one socket connection attempt, below the supervisor loop of ``socket.py``.

:class:`Conn` holds an attempt's websocket-client object, raw socket and wake-up pair;
:func:`dial` opens TCP (through a proxy when one applies) and TLS so that ``stop()`` can
interrupt every blocking step; :class:`Poller` waits on the socket without a descriptor limit;
:func:`send_control` writes a ping, pong or close frame without ever waiting behind a caller's
write.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import websocket

from sogni_sync._transport.proxy import proxy_address, tunnel

__all__ = ["Conn", "Poller", "Stopped", "dial", "frame_bytes", "send_control"]

log = logging.getLogger(__name__)

_POLLIN = getattr(select, "POLLIN", 1) | getattr(select, "POLLPRI", 2)
_POLLOUT = getattr(select, "POLLOUT", 4)


class Stopped(Exception):
    """``stop()`` interrupted a connection attempt."""



class Conn:
    """One connection attempt: the websocket-client object, its raw socket, the wake-up pair."""

    __slots__ = ("close_reason", "gen", "opened", "raw", "sock", "wake_r", "wake_w")

    def __init__(self, gen: int) -> None:
        self.gen = gen
        self.sock: websocket.WebSocket | None = None
        self.raw: socket.socket | None = None
        self.opened = False
        self.close_reason: str | None = None
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)

    def wake(self) -> None:
        try:
            self.wake_w.send(b"\0")
        except OSError:
            pass  # full (already woken) or closed (already ended)

    def abort(self) -> None:
        """Wake any blocking step on the socket (connect, TLS, handshake, recv, send)."""
        raw = self.raw
        if raw is not None:
            try:
                raw.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.wake()

    def release(self) -> None:
        sock = self.sock
        if sock is not None:
            sock.connected = False
            try:
                sock.shutdown()
            except Exception as exc:  # pragma: no cover - best effort
                log.debug("socket shutdown failed: %s", type(exc).__name__)
        elif self.raw is not None:
            self.raw.close()
        self.wake_r.close()
        self.wake_w.close()



def send_control(ws: websocket.WebSocket, raw: socket.socket, opcode: int,
                  payload: bytes) -> bool:
    """Write a control frame unless a caller holds the write lock or the socket is full (this
    thread never waits behind a caller's send). True once written; False to retry later;
    an error while writing counts as written (the connection is ending anyway)."""
    if not ws.lock.acquire(blocking=False):
        return False
    try:
        if not _writable(raw):
            return False
        raw.sendall(frame_bytes(ws, payload, opcode))
    except (OSError, ValueError) as exc:
        log.debug("control frame %d not written: %s", opcode, type(exc).__name__)
    finally:
        ws.lock.release()
    return True


def frame_bytes(ws: websocket.WebSocket, payload: bytes, opcode: int) -> bytes:
    """One masked client frame, exactly as websocket-client would frame it."""
    frame = websocket.ABNF.create_frame(payload, opcode)
    if ws.get_mask_key is not None:
        frame.get_mask_key = ws.get_mask_key
    return frame.format()


def _writable(raw: socket.socket) -> bool:
    try:
        if hasattr(select, "poll"):
            poll = select.poll()
            poll.register(raw, _POLLOUT)
            return bool(poll.poll(0))
        return bool(select.select([], [raw], [], 0)[1])
    except (OSError, ValueError):
        return True  # a closed socket: let the write report it


class Poller:
    """Waits for the socket (``events``: read or write) or the wake-up pair, with ``poll``
    where the platform has it (no FD_SETSIZE limit)."""

    def __init__(self, sock: socket.socket, wake: socket.socket, *, write: bool = False) -> None:
        self._fd, self._wake = sock.fileno(), wake
        self._wake_fd = wake.fileno()
        self._write = write
        self._poll = select.poll() if hasattr(select, "poll") else None
        if self._poll is not None:
            self._poll.register(self._fd, _POLLOUT if write else _POLLIN)
            self._poll.register(self._wake_fd, _POLLIN)

    def wait(self, timeout: float) -> tuple[bool, bool]:
        """``(socket ready, woken)``; a hung-up socket counts as ready (recv says how)."""
        if self._poll is not None:
            ready = woken = False
            for fd, _mask in self._poll.poll(timeout * 1000.0):
                if fd == self._wake_fd:
                    woken = True
                else:
                    ready = True
        else:  # pragma: no cover - platforms without poll
            fds = [self._fd]
            got = select.select([self._wake_fd] + ([] if self._write else fds),
                                fds if self._write else [], fds, timeout)
            woken = self._wake_fd in got[0]
            ready = self._fd in got[0] or self._fd in got[1] or self._fd in got[2]
        if woken:
            try:
                while self._wake.recv(64):
                    pass
            except OSError:
                pass
        return ready, woken


# -- connecting ------------------------------------------------------------------------------

_ssl_context: ssl.SSLContext | None = None


def dial(conn: Conn, url: str, deadline: float, proxy: str | None = None) -> socket.socket:
    """Open the TCP (and TLS) connection so that ``stop()`` can interrupt every step; through
    ``proxy`` (HTTP CONNECT or SOCKS5, the tunnel asked for before TLS) when one is given."""
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    dial_host, dial_port = proxy_address(proxy) if proxy else (host, port)
    infos = socket.getaddrinfo(dial_host, dial_port, 0, socket.SOCK_STREAM)
    error: BaseException | None = None
    for family, kind, proto, _, addr in infos:
        sock = socket.socket(family, kind, proto)
        conn.raw = sock
        try:
            for opt in websocket.DEFAULT_SOCKET_OPTION:
                sock.setsockopt(*opt)
            _connect_tcp(conn, sock, addr, deadline)
            if proxy:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                tunnel(sock, proxy, host, port)
            if secure:
                sock = _wrap_tls(conn, sock, host, deadline)
            return sock
        except (TimeoutError, Stopped):
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"no address for {dial_host}")


def _connect_tcp(conn: Conn, sock: socket.socket, addr: Any, deadline: float) -> None:
    sock.setblocking(False)
    rc = sock.connect_ex(addr)
    if rc not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY, 10035):
        raise OSError(rc, os.strerror(rc))
    if rc != 0:
        done, woken = Poller(sock, conn.wake_r, write=True).wait(
            max(0.0, deadline - time.monotonic()))
        if woken:
            raise Stopped
        if not done:
            raise TimeoutError("TCP connect timed out")
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, os.strerror(err))
    sock.setblocking(True)


def _wrap_tls(conn: Conn, sock: socket.socket, host: str, deadline: float) -> ssl.SSLSocket:
    """TLS like websocket-client's defaults (system store, or WEBSOCKET_CLIENT_CA_BUNDLE)."""
    global _ssl_context
    if _ssl_context is None:
        bundle = os.environ.get("WEBSOCKET_CLIENT_CA_BUNDLE")
        _ssl_context = ssl.create_default_context(
            cafile=bundle if bundle and os.path.isfile(bundle) else None,
            capath=bundle if bundle and os.path.isdir(bundle) else None,
        )
    tls = _ssl_context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    conn.raw = tls
    tls.settimeout(max(0.001, deadline - time.monotonic()))
    tls.do_handshake()
    return tls

