"""The one socket thread: a supervisor loop around websocket-client's ``WebSocketApp``.

The loop connects, runs ``run_forever`` until the connection ends, asks its listener whether to
reconnect, and sleeps the backoff on the ``closing`` Event (so ``close()`` cuts it short). All
frame handling is delegated to the listener, which runs on this thread and must be quick. Writes
happen on the caller's thread (websocket-client serialises them).
"""

from __future__ import annotations

import logging
import random
import socket
import threading
from typing import Any, Protocol

import websocket

__all__ = ["CloseInfo", "NotWrittenError", "SocketListener", "SocketRunner", "backoff_delay"]

log = logging.getLogger(__name__)

# websocket-client logs every ordinary disconnect at ERROR on its own logger; without a handler
# those lines would reach stderr through logging.lastResort. Ours say the same, at the right level.
logging.getLogger("websocket").addHandler(logging.NullHandler())


class NotWrittenError(Exception):
    """The frame provably did not leave the process (no open socket of that generation)."""


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

    def on_frame(self, gen: int, raw: str | bytes) -> None: ...

    def on_closed(self, gen: int, info: CloseInfo) -> bool:
        """Return True to reconnect after the backoff, False to end the thread."""
        ...


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Capped exponential backoff with ±20 % jitter: base, 2·base, 4·base … ≤ cap."""
    delay = min(cap, base * (2 ** min(failures, 30)))
    return float(delay * (0.8 + 0.4 * random.random()))


class SocketRunner:
    """Owns the ``sogni-socket`` thread and the current ``WebSocketApp``."""

    def __init__(
        self,
        listener: SocketListener,
        closing: threading.Event,
        *,
        ping_interval: float = 15.0,
        base_delay: float = 1.0,
        max_delay: float = 15.0,
        connect_timeout: float = 30.0,
    ) -> None:
        self._listener = listener
        self._connect_timeout = connect_timeout
        self._closing = closing
        self._ping_interval = ping_interval
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._app: websocket.WebSocketApp | None = None
        self._app_gen = 0
        self._gen = 0
        self._failures = 0

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
        """Write a text frame on connection ``gen``.

        Raises :class:`NotWrittenError` when that connection is not open (nothing was sent);
        any other exception means the write may have partly happened.
        """
        with self._lock:
            app = self._app if self._app_gen == gen else None
        sock = app.sock if app is not None else None
        if sock is None or not sock.connected:
            raise NotWrittenError("socket is not open")
        try:
            sock.send(frame, websocket.ABNF.OPCODE_TEXT)
        except websocket.WebSocketConnectionClosedException as exc:
            if sock.sock is None:
                raise NotWrittenError(str(exc)) from None
            raise

    def stop(self, timeout: float = 2.0, *, reason: str = "Client disconnected") -> None:
        """Close the current connection with 1000 and end the thread (never joins itself)."""
        with self._lock:
            self._stop.set()
            app = self._app
            thread = self._thread
        if app is not None:
            _close_app(app, reason)
        if thread is None or thread is threading.current_thread():
            return
        thread.join(min(0.5, timeout))
        if thread.is_alive() and app is not None:
            _abort_app(app)
            thread.join(max(0.0, timeout - 0.5))
        if thread.is_alive():
            log.warning("socket thread did not stop within %.1fs", timeout)

    def drop(self) -> None:
        """Abort the current connection abnormally (tests and fault handling); the loop decides
        whether to reconnect."""
        with self._lock:
            app = self._app
        if app is not None:
            _abort_app(app)

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
            if stop.is_set() or self._closing.is_set():
                info.deliberate = True
            try:
                again = self._listener.on_closed(gen, info)
            except Exception:
                log.exception("socket close handler failed")
                again = False
            if not again or stop.is_set() or self._closing.is_set():
                break
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
        listener = self._listener

        def on_open(ws: Any) -> None:
            _keep_close_code(ws.sock)
            info.opened = True
            watchdog.cancel()
            listener.on_open(gen)

        def on_message(_ws: Any, message: str | bytes) -> None:
            listener.on_frame(gen, message)

        def on_close(_ws: Any, code: Any, reason: Any) -> None:
            if isinstance(code, int):
                info.code = code
            if isinstance(reason, (str, bytes)):
                info.reason = reason.decode() if isinstance(reason, bytes) else reason

        def on_error(_ws: Any, error: BaseException) -> None:
            if info.error is None:
                info.error = error
            status = getattr(error, "status_code", None)
            if not info.opened and isinstance(status, int):
                info.handshake_status = status

        app = websocket.WebSocketApp(
            url,
            header=headers,
            on_open=on_open,
            on_message=on_message,
            on_close=on_close,
            on_error=on_error,
        )
        # websocket-client has no handshake timeout: a peer that accepts TCP and never answers
        # the upgrade would hold this thread forever, so a short-lived timer cuts it.
        watchdog = threading.Timer(self._connect_timeout, _handshake_expired, (app, info))
        watchdog.name = "sogni-socket-watchdog"
        watchdog.daemon = True
        with self._lock:
            if stop.is_set() or self._closing.is_set():
                return
            self._app = app
            self._app_gen = gen
        log.debug("socket connecting (generation %d)", gen)
        watchdog.start()
        try:
            app.run_forever(
                ping_interval=self._ping_interval,
                # a peer that stops answering pings is dead: reconnect instead of hanging
                ping_timeout=self._ping_interval * 2 / 3,
                reconnect=0,
                skip_utf8_validation=True,
            )
        except Exception as exc:
            info.error = info.error or exc
        finally:
            watchdog.cancel()
            watchdog.join(1.0)
            with self._lock:
                if self._app is app:
                    self._app = None


def _handshake_expired(app: websocket.WebSocketApp, info: CloseInfo) -> None:
    if info.opened:
        return
    info.error = TimeoutError("WebSocket handshake timed out")
    sock = app.sock
    raw = sock.sock if sock is not None else None
    if raw is not None:
        try:
            raw.shutdown(socket.SHUT_RDWR)  # wakes the blocked handshake read
        except OSError:
            pass


def _keep_close_code(sock: Any) -> None:
    """Make this connection's reply to a server close frame best-effort.

    websocket-client answers a close frame before reporting it; if that reply cannot be written
    (the server already hung up, or a concurrent send broke the pipe) the error replaces the
    close, its code (4015, 4021 …) is lost and the drop looks recoverable. Patched on the
    instance only: other users of websocket-client in the process are untouched.
    """
    reply = sock.send_close

    def send_close(status: int = websocket.STATUS_NORMAL, reason: Any = b"") -> None:
        try:
            reply(status, reason)
        except (OSError, websocket.WebSocketConnectionClosedException) as exc:
            log.debug("close reply not written (%s); keeping the server's close code",
                      type(exc).__name__)

    sock.send_close = send_close


def _close_app(app: websocket.WebSocketApp, reason: str) -> None:
    """Send a 1000 close frame and let the peer's answer end ``run_forever``."""
    app.keep_running = False
    sock = app.sock
    if sock is not None and sock.connected:
        try:
            sock.send_close(websocket.STATUS_NORMAL, reason.encode())
        except Exception as exc:
            log.debug("close frame not sent: %s", type(exc).__name__)


def _abort_app(app: websocket.WebSocketApp) -> None:
    sock = app.sock
    if sock is None:
        return
    try:
        if sock.connected:
            sock.abort()
        else:
            sock.shutdown()
    except Exception as exc:
        log.debug("socket abort failed: %s", type(exc).__name__)

