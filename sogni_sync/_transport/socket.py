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

Dialing (TCP, proxy tunnel, TLS), polling and control-frame writes live in :mod:`.sockio`.
"""

from __future__ import annotations

import errno
import logging
import random
import socket
import ssl
import threading
import time
from contextlib import suppress
from typing import Protocol

import websocket

from sogni_sync._transport.proxy import env_proxy
from sogni_sync._transport.sockio import (
    Conn,
    Poller,
    Stopped,
    dial,
    frame_bytes,
    send_control,
)
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

# One recv: a loopback burst of ~1,700 token frames. Reads go into one buffer per connection:
# ``recv(READ_SIZE)`` would allocate (and page in) 256 KiB per call, which cost more than the
# syscall itself when a stream arrives a frame or two per read.
READ_SIZE = 256 * 1024
CLOSE_WAIT = 0.5  # a deliberate close waits this long for the server's close reply
_RETRY = 0.02  # poll timeout while a control frame waits for the write lock


#: Wake-ups that can wait (a stream's reader) are held while frames keep coming, and given when
#: the socket has been quiet for ``_QUIET`` or ``_BURST`` after the first was held (seconds): a
#: reader that keeps up then wakes once per couple of milliseconds, not once per read.
#: While wake-ups are held, the loop sleeps ``_QUIET`` before each poll so that a stream's frames
#: arrive several per read rather than one (a read costs more than a frame), and acknowledges at
#: once what it read (TCP_QUICKACK, where the platform has it): a sender limited by its congestion
#: window is not kept waiting by a delayed ACK while the loop gathers.
_BURST = 0.002
_QUIET = 0.0001
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _ack_now(sock: socket.socket) -> None:
    if _QUICKACK is not None:
        with suppress(OSError):  # not TCP (a test's socket pair), or the option is refused
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)


class NotWrittenError(Exception):
    """The frame provably did not leave the process (no open socket of that generation)."""


class PeerUnresponsive(Exception):
    """No pong arrived in time: the link is half-open or the peer stalled mid-frame."""


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

    def on_frames(self, gen: int, frames: list[bytes]) -> bool:
        """Every complete message one read produced, in order (never empty). True when
        wake-ups wait for :meth:`on_burst_end`."""
        ...

    def on_burst_end(self, gen: int) -> None:
        """The socket went quiet after the last reads (or they ran long enough): give the
        wake-ups held since."""
        ...

    def on_closed(self, gen: int, info: CloseInfo) -> bool:
        """Return True to reconnect after the backoff, False to end the thread."""
        ...


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Capped exponential backoff with ±20 % jitter: base, 2·base, 4·base … ≤ cap."""
    delay = min(cap, base * (2 ** min(failures, 30)))
    return float(delay * (0.8 + 0.4 * random.random()))


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
        self._app: Conn | None = None
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
        data = memoryview(frame_bytes(sock, frame.encode(), websocket.ABNF.OPCODE_TEXT))
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
        conn = Conn(gen)
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
        except Stopped:
            pass
        except Exception as exc:
            info.error = info.error or exc
        finally:
            with self._lock:
                if self._app is conn:
                    self._app = None
            conn.release()

    def _open(
        self, conn: Conn, url: str, headers: list[str], info: CloseInfo, stop: threading.Event
    ) -> None:
        """TCP (+TLS) connect and the HTTP upgrade, all within ``connect_timeout``."""
        deadline = time.monotonic() + self._connect_timeout
        ws = websocket.WebSocket(skip_utf8_validation=True)
        conn.sock = ws
        try:
            raw = dial(conn, url, deadline, self._proxy or env_proxy(url))
            if stop.is_set():
                raise Stopped
            raw.settimeout(max(0.001, deadline - time.monotonic()))
            ws.connect(url, header=headers, socket=raw,
                       timeout=max(0.001, deadline - time.monotonic()))
        except (TimeoutError, websocket.WebSocketTimeoutException):
            if stop.is_set():
                raise Stopped from None
            info.error = TimeoutError("WebSocket handshake timed out")
            return
        except websocket.WebSocketBadStatusException as exc:
            info.error = exc
            info.handshake_status = exc.status_code
            return
        except (OSError, websocket.WebSocketException) as exc:
            if stop.is_set():
                raise Stopped from None
            info.error = exc
            return
        conn.raw = ws.sock
        if conn.raw is None:  # pragma: no cover - websocket-client always sets it
            return
        # Bounds a caller's write into a peer that stopped reading; reads never block (poll).
        conn.raw.settimeout(self._ping_interval)
        if stop.is_set():
            raise Stopped
        conn.opened = True
        info.opened = True

    def _serve(self, conn: Conn, info: CloseInfo, stop: threading.Event) -> None:
        """Read until the connection ends; control frames and liveness are handled here."""
        ws, raw = conn.sock, conn.raw
        assert ws is not None and raw is not None
        listener, gen = self._listener, conn.gen
        reader = FrameReader()
        poller = Poller(raw, conn.wake_r)
        held: float | None = None  # since when wake-ups that can wait are held
        buffer = memoryview(bytearray(READ_SIZE))
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
                if held is not None:  # gather a stream's frames (see _QUIET)
                    time.sleep(max(0.0, min(wait, _QUIET, held + _BURST - now)))
                    wait = 0.0
                readable, woken = poller.wait(max(0.0, wait))
                if woken and (stop.is_set() or self._closing.is_set()) and close_by is None:
                    ws.connected = False  # later writes: provably not written
                    close_by = time.monotonic() + CLOSE_WAIT
            else:
                readable = True
            if held is not None and (not readable or time.monotonic() - held >= _BURST):
                held = None
                try:
                    listener.on_burst_end(gen)
                except Exception:
                    log.exception("burst handler failed")
            if readable:
                try:
                    data = buffer[:raw.recv_into(buffer)].tobytes()
                    if held is not None:
                        _ack_now(raw)
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
                        send_control(ws, raw, websocket.ABNF.OPCODE_CLOSE,
                                      exc.code.to_bytes(2, "big"))
                        return
                    if frames:
                        try:
                            holds = listener.on_frames(gen, frames)
                        except Exception:
                            log.exception("frame handler failed")
                            holds = True
                        if holds and held is None:
                            held = time.monotonic()
                    if reader.close is not None:
                        info.code, info.reason = parse_close(reader.close)
                        if not close_sent:  # answer it; a failed reply keeps the code
                            ws.connected = False
                            send_control(ws, raw, websocket.ABNF.OPCODE_CLOSE,
                                          reader.close[:2])
                        return
            now = time.monotonic()
            while reader.pings and send_control(ws, raw, websocket.ABNF.OPCODE_PONG,
                                                 reader.pings[0]):
                reader.pings.pop(0)
            if close_by is not None:
                if not close_sent:
                    reason = (conn.close_reason or "").encode()[:120]
                    payload = websocket.STATUS_NORMAL.to_bytes(2, "big") + reason
                    close_sent = send_control(ws, raw, websocket.ABNF.OPCODE_CLOSE, payload)
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
                if send_control(ws, raw, websocket.ABNF.OPCODE_PING, b""):
                    ping_at, pongs_then = now, reader.pongs
                    next_ping = now + interval
                else:
                    next_ping = now + _RETRY


