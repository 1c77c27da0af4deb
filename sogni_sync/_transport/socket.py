"""The one socket thread: connects with websocket-client, then reads with its own poll loop.

The supervisor loop connects, serves the connection until it ends, asks its listener whether to
reconnect, and sleeps the backoff on the ``closing`` Event (so ``close()`` cuts it short).

websocket-client does the handshake. Writes are framed as it frames them but sent by our own
loop (callers' threads, serialised by its lock), so a write that failed before any byte left
(:class:`NotWrittenError`) is told apart from one that may have reached the peer. Reading is
ours: one ``poll`` waits on the socket and on a wake-up pair, one large ``recv`` takes
whatever the kernel holds, and :class:`~.wsframes.FrameReader` hands every complete message
in it to the listener as one batch. That loop also keeps the liveness rules:

* a ping every ``ping_interval`` (websocket-client's ping thread is gone; the loop sends it
  when the write lock is free, so this thread never waits behind a caller's large send);
* no pong within ``pong_timeout`` of a ping — a half-open link, or a peer stalled in the middle
  of a frame — ends the connection (detected within ``ping_interval + pong_timeout``);
* a caller's write into a peer that stopped reading times out after ``ping_interval`` and the
  connection is aborted (a half-written frame corrupts the stream);
* ``stop()`` wakes the loop through the pair; a deliberate close waits at most
  :data:`CLOSE_WAIT` for the server's close reply, and every blocking step before the socket is
  open (TCP connect, TLS, the HTTP upgrade) is woken by a ``shutdown`` or the pair, so
  ``close()`` returns within a second and leaves no thread whatever the peer does.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import select
import socket
import ssl
import threading
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

import websocket

from sogni_sync._transport.proxy import env_proxy, proxy_address, tunnel
from sogni_sync._transport.wsframes import FrameReader, ProtocolError, parse_close

__all__ = [
    "CLOSE_WAIT",
    "CloseInfo",
    "NotWrittenError",
    "PeerUnresponsive",
    "SocketListener",
    "SocketRunner",
    "backoff_delay",
]

log = logging.getLogger(__name__)

# websocket-client logs every ordinary disconnect at ERROR on its own logger; without a handler
# those lines would reach stderr through logging.lastResort. Ours say the same, at the right level.
logging.getLogger("websocket").addHandler(logging.NullHandler())

READ_SIZE = 256 * 1024  # one recv: a loopback burst of ~1,700 token frames
CLOSE_WAIT = 0.5  # a deliberate close waits this long for the server's close reply
_RETRY = 0.02  # poll timeout while a control frame waits for the write lock
_POLLIN = getattr(select, "POLLIN", 1) | getattr(select, "POLLPRI", 2)
_POLLOUT = getattr(select, "POLLOUT", 4)


#: longest a burst of reads may defer the wake-ups that can wait (seconds)
_BURST = 0.002


class NotWrittenError(Exception):
    """The frame provably did not leave the process (no open socket of that generation)."""


class PeerUnresponsive(Exception):
    """No pong arrived in time: the link is half-open or the peer stalled mid-frame."""


class _Stopped(Exception):
    """``stop()`` interrupted a connection attempt."""


class CloseInfo:
    """How a connection ended: close code/reason from the peer, or the error that ended it."""

    __slots__ = ("code", "deliberate", "error", "handshake_status", "opened", "reason")

    def __init__(self) -> None:
        self.deliberate = False
        self.code: int | None = None
        self.reason: str = ""
        self.error: BaseException | None = None
        self.handshake_status: int | None = None
        self.opened = False

    def __repr__(self) -> str:
        return (
            f"CloseInfo(code={self.code}, reason={self.reason!r}, opened={self.opened}, "
            f"handshake_status={self.handshake_status}, error={type(self.error).__name__})"
        )


class SocketListener(Protocol):
    def socket_url(self) -> str: ...

    def socket_headers(self) -> list[str]: ...

    def prepare_connect(self) -> None: ...

    def on_open(self, gen: int) -> None: ...

    def on_frames(self, gen: int, frames: list[bytes]) -> None:
        """Every complete message one read produced, in order (never empty)."""
        ...

    def on_burst_end(self, gen: int) -> None:
        """No more bytes are waiting after the last read (or the burst ran long enough)."""
        ...

    def on_closed(self, gen: int, info: CloseInfo) -> bool:
        """Return True to reconnect after the backoff, False to end the thread."""
        ...


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Capped exponential backoff with ±20 % jitter: base, 2·base, 4·base … ≤ cap."""
    delay = min(cap, base * (2 ** min(failures, 30)))
    return float(delay * (0.8 + 0.4 * random.random()))


class _Conn:
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


class SocketRunner:
    """Owns the ``sogni-socket`` thread and the current connection."""

    def __init__(
        self,
        listener: SocketListener,
        closing: threading.Event,
        *,
        ping_interval: float = 15.0,
        pong_timeout: float | None = None,
        base_delay: float = 1.0,
        max_delay: float = 15.0,
        connect_timeout: float = 30.0,
        proxy: str | None = None,
    ) -> None:
        self._listener = listener
        self._proxy = proxy
        self._connect_timeout = connect_timeout
        self._closing = closing
        self._ping_interval = ping_interval
        self._pong_timeout = ping_interval * 2 / 3 if pong_timeout is None else pong_timeout
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._app: _Conn | None = None
        self._app_gen = 0
        self._gen = 0
        self._failures = 0
        #: start() was called while the thread ran: it must not end after a terminal close
        self._wanted = False

    # -- control (any thread) ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def start(self) -> None:
        """Start the supervisor thread unless it is running (idempotent)."""
        with self._lock:
            if self._closing.is_set():
                return
            if self._thread is not None and self._thread.is_alive() and not self._stop.is_set():
                # It may be ending right now (its last close said "stop"): it must go on.
                self._wanted = True
                return
            old = self._thread
            self._stop = threading.Event()
            self._failures = 0
            thread = threading.Thread(
                target=self._run, args=(self._stop, old), name="sogni-socket", daemon=True
            )
            self._thread = thread
            thread.start()

    def reset_backoff(self) -> None:
        with self._lock:
            self._failures = 0

    def write(self, frame: str, gen: int) -> None:
        """Write a text frame on connection ``gen``, in our own send loop.

        Raises :class:`NotWrittenError` when not one byte of the frame left: that connection
        is not open, or the first ``send`` failed (the connection is then aborted). Any other
        exception means part of the frame may have left — the connection is aborted, since a
        half-written frame corrupts the stream — so the server may have it.
        """
        with self._lock:
            conn = self._app if self._app_gen == gen else None
        sock = conn.sock if conn is not None else None
        raw = conn.raw if conn is not None else None
        if conn is None or sock is None or raw is None or not sock.connected:
            raise NotWrittenError("socket is not open")
        data = memoryview(_frame_bytes(sock, frame.encode(), websocket.ABNF.OPCODE_TEXT))
        sent = 0
        with sock.lock:
            if not sock.connected:
                raise NotWrittenError("socket is closing")
            try:
                while sent < len(data):
                    n = raw.send(data[sent:])
                    if n <= 0:
                        raise OSError(errno.EPIPE, "send accepted no bytes")
                    sent += n
            except BaseException as exc:
                conn.abort()
                if sent == 0:
                    raise NotWrittenError(
                        f"no byte written ({type(exc).__name__}: {exc})") from exc
                raise

    def stop(self, timeout: float = 1.0, *, reason: str = "Client disconnected") -> None:
        """Close the current connection with 1000 and end the thread (never joins itself)."""
        with self._lock:
            self._stop.set()
            conn = self._app
            thread = self._thread
        if conn is not None:
            conn.close_reason = reason
            if conn.opened:
                conn.wake()  # the loop sends the close frame and waits for the reply
            else:
                conn.abort()  # nothing to close politely yet: cut the attempt
        if thread is None or thread is threading.current_thread():
            return
        thread.join(max(0.0, timeout - 0.2))
        if thread.is_alive() and conn is not None:
            conn.abort()
            thread.join(0.2)
        if thread.is_alive():
            log.warning("socket thread did not stop within %.1fs", timeout)

    def drop(self) -> None:
        """Abort the current connection abnormally (tests and fault handling); the loop decides
        whether to reconnect."""
        with self._lock:
            conn = self._app
        if conn is not None:
            conn.abort()

    # -- the thread -------------------------------------------------------------------------

    def _run(self, stop: threading.Event, previous: threading.Thread | None) -> None:
        if previous is not None and previous.is_alive():
            previous.join(5.0)
        while not (stop.is_set() or self._closing.is_set()):
            info = CloseInfo()
            with self._lock:
                self._gen += 1
                gen = self._gen
            try:
                self._listener.prepare_connect()
                url = self._listener.socket_url()
                headers = self._listener.socket_headers()
            except Exception as exc:
                info.error = exc
            else:
                self._connect(gen, url, headers, info, stop)
            with self._lock:
                # Only a start() from here on (this connection is over) asks for another one;
                # the ones made while it was healthy (every send() makes one) were no-ops.
                self._wanted = False
            if stop.is_set() or self._closing.is_set():
                info.deliberate = True
            try:
                again = self._listener.on_closed(gen, info)
            except Exception:
                log.exception("socket close handler failed")
                again = False
            if stop.is_set() or self._closing.is_set():
                break
            if not again:
                with self._lock:
                    if not self._wanted:
                        break
                    # start() (e.g. connect() after a terminal close) came while this thread
                    # was ending: connect again now instead of leaving nobody to do it.
                    self._wanted = False
                    self._failures = 0
                continue
            with self._lock:
                failures = self._failures
                self._failures += 1
            delay = backoff_delay(failures, self._base_delay, self._max_delay)
            log.info("socket closed (%r); reconnecting in %.2fs", info, delay)
            # stop() is set by close() and disconnect() alike, so this sleep ends at once.
            if stop.wait(delay) or self._closing.is_set():
                break
        log.debug("socket thread ends")

    def _connect(
        self, gen: int, url: str, headers: list[str], info: CloseInfo, stop: threading.Event
    ) -> None:
        conn = _Conn(gen)
        with self._lock:
            if stop.is_set() or self._closing.is_set():
                conn.release()
                return
            self._app = conn
            self._app_gen = gen
        log.debug("socket connecting (generation %d)", gen)
        try:
            self._open(conn, url, headers, info, stop)
            if conn.opened:
                self._listener.on_open(gen)
                self._serve(conn, info, stop)
        except _Stopped:
            pass
        except Exception as exc:
            info.error = info.error or exc
        finally:
            with self._lock:
                if self._app is conn:
                    self._app = None
            conn.release()

    def _open(
        self, conn: _Conn, url: str, headers: list[str], info: CloseInfo, stop: threading.Event
    ) -> None:
        """TCP (+TLS) connect and the HTTP upgrade, all within ``connect_timeout``."""
        deadline = time.monotonic() + self._connect_timeout
        ws = websocket.WebSocket(skip_utf8_validation=True)
        conn.sock = ws
        try:
            raw = _dial(conn, url, deadline, self._proxy or env_proxy(url))
            if stop.is_set():
                raise _Stopped
            raw.settimeout(max(0.001, deadline - time.monotonic()))
            ws.connect(url, header=headers, socket=raw,
                       timeout=max(0.001, deadline - time.monotonic()))
        except (TimeoutError, websocket.WebSocketTimeoutException):
            if stop.is_set():
                raise _Stopped from None
            info.error = TimeoutError("WebSocket handshake timed out")
            return
        except websocket.WebSocketBadStatusException as exc:
            info.error = exc
            info.handshake_status = exc.status_code
            return
        except (OSError, websocket.WebSocketException) as exc:
            if stop.is_set():
                raise _Stopped from None
            info.error = exc
            return
        conn.raw = ws.sock
        if conn.raw is None:  # pragma: no cover - websocket-client always sets it
            return
        # Bounds a caller's write into a peer that stopped reading; reads never block (poll).
        conn.raw.settimeout(self._ping_interval)
        if stop.is_set():
            raise _Stopped
        conn.opened = True
        info.opened = True

    def _serve(self, conn: _Conn, info: CloseInfo, stop: threading.Event) -> None:
        """Read until the connection ends; control frames and liveness are handled here."""
        ws, raw = conn.sock, conn.raw
        assert ws is not None and raw is not None
        listener, gen = self._listener, conn.gen
        reader = FrameReader()
        poller = _Poller(raw, conn.wake_r)
        burst_started: float | None = None
        pending = _Peek(raw)
        tls = raw if isinstance(raw, ssl.SSLSocket) else None  # may hold decrypted bytes
        interval, pong_timeout = self._ping_interval, self._pong_timeout
        now = time.monotonic()
        next_ping = now + interval
        ping_at: float | None = None  # when the unanswered ping left
        pongs_then = 0
        close_by: float | None = None  # deadline for the server's close reply
        close_sent = False
        while True:
            buffered = tls is not None and tls.pending() > 0
            if not buffered:
                now = time.monotonic()
                wait = next_ping - now
                if ping_at is not None:
                    wait = min(wait, ping_at + pong_timeout - now)
                if close_by is not None:
                    wait = min(wait, close_by - now)
                if reader.pings or (close_by is not None and not close_sent):
                    wait = min(wait, _RETRY)
                readable, woken = poller.wait(max(0.0, wait))
                if woken and (stop.is_set() or self._closing.is_set()) and close_by is None:
                    ws.connected = False  # later writes: provably not written
                    close_by = time.monotonic() + CLOSE_WAIT
            else:
                readable = True
            if readable:
                try:
                    data = raw.recv(READ_SIZE)
                except (ssl.SSLWantReadError, BlockingIOError, InterruptedError):
                    data = None
                except OSError as exc:
                    info.error = info.error or exc
                    return
                if data is not None:
                    if not data:
                        info.error = info.error or websocket.WebSocketConnectionClosedException(
                            "Connection to remote host was lost.")
                        return
                    try:
                        frames = reader.feed(data)
                    except ProtocolError as exc:
                        info.error = exc
                        _send_control(ws, raw, websocket.ABNF.OPCODE_CLOSE,
                                      exc.code.to_bytes(2, "big"))
                        return
                    if frames:
                        try:
                            listener.on_frames(gen, frames)
                        except Exception:
                            log.exception("frame handler failed")
                        # Wake-ups that can wait (a stream's reader) are given at the end of a
                        # burst: while more bytes already wait, read them first (bounded).
                        now = time.monotonic()
                        if burst_started is None:
                            burst_started = now
                        if now - burst_started >= _BURST or not pending():
                            burst_started = None
                            try:
                                listener.on_burst_end(gen)
                            except Exception:
                                log.exception("burst handler failed")
                    if reader.close is not None:
                        info.code, info.reason = parse_close(reader.close)
                        if not close_sent:  # answer it; a failed reply keeps the code
                            ws.connected = False
                            _send_control(ws, raw, websocket.ABNF.OPCODE_CLOSE,
                                          reader.close[:2])
                        return
            now = time.monotonic()
            while reader.pings and _send_control(ws, raw, websocket.ABNF.OPCODE_PONG,
                                                 reader.pings[0]):
                reader.pings.pop(0)
            if close_by is not None:
                if not close_sent:
                    reason = (conn.close_reason or "").encode()[:120]
                    payload = websocket.STATUS_NORMAL.to_bytes(2, "big") + reason
                    close_sent = _send_control(ws, raw, websocket.ABNF.OPCODE_CLOSE, payload)
                if now >= close_by:
                    return
                continue
            if ping_at is not None:
                if reader.pongs != pongs_then:
                    ping_at = None
                elif now >= ping_at + pong_timeout:
                    info.error = PeerUnresponsive(
                        f"no pong within {pong_timeout:g}s of a ping"
                        + (" (stalled mid-frame)" if reader.partial else ""))
                    return
            if now >= next_ping and ping_at is None:
                if _send_control(ws, raw, websocket.ABNF.OPCODE_PING, b""):
                    ping_at, pongs_then = now, reader.pongs
                    next_ping = now + interval
                else:
                    next_ping = now + _RETRY


def _send_control(ws: websocket.WebSocket, raw: socket.socket, opcode: int,
                  payload: bytes) -> bool:
    """Write a control frame unless a caller holds the write lock or the socket is full (this
    thread never waits behind a caller's send). True once written; False to retry later;
    an error while writing counts as written (the connection is ending anyway)."""
    if not ws.lock.acquire(blocking=False):
        return False
    try:
        if not _writable(raw):
            return False
        raw.sendall(_frame_bytes(ws, payload, opcode))
    except (OSError, ValueError) as exc:
        log.debug("control frame %d not written: %s", opcode, type(exc).__name__)
    finally:
        ws.lock.release()
    return True


def _frame_bytes(ws: websocket.WebSocket, payload: bytes, opcode: int) -> bytes:
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


class _Peek:
    """Are bytes already waiting to be read? (never waits)"""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._tls = sock if isinstance(sock, ssl.SSLSocket) else None  # may hold decrypted bytes
        self._poll = select.poll() if hasattr(select, "poll") else None
        if self._poll is not None:
            self._poll.register(sock.fileno(), _POLLIN)

    def __call__(self) -> bool:
        if self._tls is not None and self._tls.pending():
            return True
        try:
            if self._poll is not None:
                return bool(self._poll.poll(0))
            return bool(select.select([self._sock], [], [], 0)[0])  # pragma: no cover
        except (OSError, ValueError):
            return False


class _Poller:
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


def _dial(conn: _Conn, url: str, deadline: float, proxy: str | None = None) -> socket.socket:
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
        except (TimeoutError, _Stopped):
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"no address for {dial_host}")


def _connect_tcp(conn: _Conn, sock: socket.socket, addr: Any, deadline: float) -> None:
    sock.setblocking(False)
    rc = sock.connect_ex(addr)
    if rc not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY, 10035):
        raise OSError(rc, os.strerror(rc))
    if rc != 0:
        done, woken = _Poller(sock, conn.wake_r, write=True).wait(
            max(0.0, deadline - time.monotonic()))
        if woken:
            raise _Stopped
        if not done:
            raise TimeoutError("TCP connect timed out")
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, os.strerror(err))
    sock.setblocking(True)


def _wrap_tls(conn: _Conn, sock: socket.socket, host: str, deadline: float) -> ssl.SSLSocket:
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

