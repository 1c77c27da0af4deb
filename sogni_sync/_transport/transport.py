"""The transport every concern programs against: send, subscribe, lifecycle, io, REST.

It carries frames, connections, REST calls and the recovery of requests after a reconnect,
and names no message of any concern: concerns register what they need — the events they
handle (:meth:`Transport.subscribe`), the events whose last payload is kept
(:meth:`Transport.keep_last`), and how the server accounts for their requests
(:meth:`Transport.track`).

The parts: connection state in ``link.py`` (under ``self.lock``, an RLock shared with the
concerns' Conditions), event routing in ``routing.py``, the outbox, writers and reconciliation
in ``delivery.py``, the socket thread in ``socket.py``; this class ties them to the socket
thread's callbacks and to the lifecycle (connect, restart, disconnect, close, fork).
"""

from __future__ import annotations

import builtins
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sogni_sync._config import ClientOptions
from sogni_sync._sync import Deadline, Dispatcher, IoPool, wait_for
from sogni_sync._transport import forking
from sogni_sync._transport.credentials import Anonymous, CredentialsProvider
from sogni_sync._transport.delivery import Delivery
from sogni_sync._transport.envelope import FrameError, decode_frame
from sogni_sync._transport.failures import close_error
from sogni_sync._transport.link import Link
from sogni_sync._transport.outbox import Outbox
from sogni_sync._transport.paths import socket_url
from sogni_sync._transport.reconcile import Lookup
from sogni_sync._transport.rest import RestClient
from sogni_sync._transport.routing import ConnectionHandler, Handler, Router
from sogni_sync._transport.socket import CloseInfo, SocketRunner
from sogni_sync.errors import (
    AuthenticationError,
    ConnectionTakenOverError,
    TimeoutError,
)

__all__ = ["Transport"]

log = logging.getLogger(__name__)

# Frames handled per hold of the lock: bounds how long a caller waits for it behind a burst.
_BATCH = 64


class Transport:
    """One socket connection (lazily started) plus the REST client, shared by all concerns."""

    def __init__(
        self, options: ClientOptions, *, credentials: CredentialsProvider | None = None
    ) -> None:
        self.lock = threading.RLock()
        self.credentials: CredentialsProvider = credentials or Anonymous()
        self.on_auth_rejected: Callable[[], None] | None = None
        self._kept: list[tuple[str | None, Any]] = []  # handlers that survive a fork
        self._fork_hooks: list[Callable[[], None]] = []
        self._keep: set[str] = set()  # event types whose last payload is kept (keep_last)
        self._build(options)
        forking.register(self)

    def _build(self, options: ClientOptions, rest: RestClient | None = None) -> None:
        """Everything that belongs to one process: threads, pools, socket, per-connection
        and per-request state (the lock and credentials are kept)."""
        self.options = options
        self.closing = threading.Event()
        if rest is None:
            self.rest = RestClient(options, closing=self.closing, credentials=self.credentials)
        else:
            rest.reset(options, self.closing)
        self.io = IoPool(options.io_workers)
        self.dispatcher = Dispatcher(maxsize=options.dispatcher_queue_size)
        self._link = link = Link(self.lock, self.closing)
        self._router = Router(self.lock, self._keep)
        self._network = options.network
        self._subscriptions: dict[str, bool] = dict(options.socket_event_subscriptions)
        self._takeover_reported = False
        self._restarting = False
        self._closed = False
        self._socket = SocketRunner(
            self,
            self.closing,
            ping_interval=options.ping_interval,
            pong_timeout=options.pong_timeout,
            base_delay=options.reconnect_base_delay,
            max_delay=options.reconnect_max_delay,
            connect_timeout=options.connect_timeout,
            proxy=options.proxy,
        )
        self._delivery = Delivery(
            link, Outbox(options.outbox_limit, options.outbox_max_bytes),
            write=self._socket.write, start=self._socket.start, submit=self.io.submit,
            emit=self._router.emit,
        )
        # the connection's own parameters (the socket URL carries both)
        self._router.subscribe("changeNetwork", self._on_change_network)
        self._router.subscribe("socketEventSubscriptionsUpdated", self._on_subscriptions)
        for event_type, handler in self._kept:
            if event_type is None:
                self._router.on_connection(handler)
            else:
                self._router.subscribe(event_type, handler)

    def rebuild_after_fork(self) -> None:
        """In a forked child (single-threaded, from the at-fork hook): start over with new
        threads, a new connection pool and socket and a new app id, dropping the parent's
        objects without closing anything of theirs (a close frame or ``shutdown()`` would
        end the parent's connections; only this process's copies of their fds go away).
        Requests, projects and chats of the parent are not this process's: none is kept."""
        self.lock = forking.reinit_lock(self.lock)
        if self._closed:
            return
        self._build(self.options.for_child(os.getpid()), self.rest)
        for hook in list(self._fork_hooks):
            hook()

    def on_fork(self, hook: Callable[[], None]) -> None:
        """Run ``hook()`` in a forked child once this transport is rebuilt (single-threaded)."""
        self._fork_hooks.append(hook)

    def keep_after_fork(self, event_type: str | None, handler: Any) -> None:
        """Register ``handler`` again in a forked child (``event_type`` None: a connection
        handler); for the application's own callbacks, not a concern's."""
        with self.lock:
            self._kept.append((event_type, handler))

    def forget_after_fork(self, handler: Any) -> None:
        with self.lock:
            self._kept = [k for k in self._kept if k[1] is not handler]

    # -- properties ---------------------------------------------------------------------------

    @property
    def network(self) -> str:
        with self.lock:
            return self._network

    @property
    def authenticated_payload(self) -> dict[str, Any] | None:
        with self.lock:
            return self._link.auth_payload

    @property
    def is_ready(self) -> bool:
        """The socket is open and ``authenticated`` arrived on this very connection."""
        with self.lock:
            return self._link.is_ready()

    @property
    def connection_state(self) -> str:
        """``"connected"`` (socket authenticated), ``"connecting"``, ``"offline"`` (the last
        connection attempt failed, and no socket is up), ``"idle"`` (no socket wanted yet,
        disconnected on purpose, or stopped by an error such as rejected credentials),
        ``"taken_over"`` (another connection with the same app id took the socket: only
        ``connect()`` takes it back) or ``"closed"``."""
        running = self._socket.running
        with self.lock:
            if self.closing.is_set():
                return "closed"
            if isinstance(self._link.terminal, ConnectionTakenOverError):
                return "taken_over"
            if self._link.is_ready():
                return "connected"
            if self._link.offline and not self._link.open:
                return "offline"
            return "connecting" if running and self._link.terminal is None else "idle"

    @property
    def taken_over(self) -> bool:
        """Another connection with this app id took the socket over (close 4015)."""
        with self.lock:
            return isinstance(self._link.terminal, ConnectionTakenOverError)

    @property
    def socket_event_subscriptions(self) -> dict[str, bool]:
        with self.lock:
            return dict(self._subscriptions)

    @property
    def socket_thread(self) -> threading.Thread | None:
        return self._socket.thread

    def set_credentials(self, credentials: CredentialsProvider) -> None:
        self.credentials = credentials
        self.rest.credentials = credentials

    # -- registration -------------------------------------------------------------------------

    def subscribe(self, event_type: str, handler: Handler, *, replay_last: bool = False) -> None:
        """Route every ``event_type`` payload to ``handler`` on the socket thread (lock held).

        With ``replay_last`` (for the types registered with :meth:`keep_last`), the last payload
        already received is handed over at once, under the lock, so no newer frame can
        overtake it.
        """
        self._router.subscribe(event_type, handler, replay_last=replay_last)

    def unsubscribe(self, event_type: str, handler: Handler) -> None:
        self._router.unsubscribe(event_type, handler)

    def keep_last(self, event_types: Iterable[str]) -> None:
        """Keep the last payload of each of ``event_types`` (events the server sends once per
        connection that describe current state), for :meth:`last_payload` and
        ``subscribe(..., replay_last=True)``. Survives a fork; kept payloads do not."""
        self._router.keep_last(event_types)

    def last_payload(self, event_type: str) -> Any:
        """The last payload of a kept event type (``None`` before the first one)."""
        return self._router.last_payload(event_type)

    def track(self, msg_type: str, *, named_by: str | None = None,
              listed_in: tuple[str, ...] = (), lookup: Lookup | None = None) -> None:
        """Say how the server accounts for ``msg_type`` requests sent with a ``request_id``:
        ``named_by``, the payload key under which its events name the request (the first such
        event acknowledges it); after a reconnect, the ``authenticated`` keys listing the ids
        it holds, and a ``lookup(request_id) -> bool`` (run on the io pool) for ids it does not
        list. Untracked requests in doubt are reported lost, never re-sent."""
        self._delivery.track(msg_type, named_by=named_by, listed_in=listed_in, lookup=lookup)

    def awaiting(self, request_id: str) -> bool:
        """The request is still in the outbox: not yet written, or not yet named or
        confirmed by the server."""
        return self._delivery.awaiting(request_id)

    def in_doubt(self, request_id: str) -> bool:
        """The request was written on a connection that dropped before the server named it."""
        return self._delivery.in_doubt(request_id)

    def on_connection(self, handler: ConnectionHandler) -> None:
        self._router.on_connection(handler)

    def remove_connection_handler(self, handler: ConnectionHandler) -> None:
        self._router.remove_connection_handler(handler)

    def dispatch(self, fn: Callable[..., Any], *args: Any, droppable: bool = False) -> None:
        """Run ``fn(*args)`` on the ``sogni-callbacks`` thread, in order. ``droppable`` marks
        progress-like notifications that may be shed when the queue is full."""
        self.dispatcher.submit(fn, *args, droppable=droppable)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background (idempotent); nothing waits."""
        with self.lock:
            if self._closed or self._link.terminal is not None:
                return
        self._socket.start()

    def connect(self, timeout: float | None = None) -> None:
        """Connect if needed and wait until ``authenticated`` arrived on the current socket."""
        with self.lock:
            self._link.check_usable(reset_terminal=True)
        self._socket.start()
        deadline = Deadline(self.options.send_timeout if timeout is None else timeout)
        with self.lock:
            link = self._link
            ok = wait_for(link.changed, lambda: link.halted() or link.is_ready(), deadline)
            link.check_usable()
            if not ok:
                raise TimeoutError(
                    f"timed out waiting for the socket to authenticate{link.failure_hint()}"
                )

    def restart(self) -> None:
        """New credentials: forget a terminal state, reconnect with the new handshake headers."""
        with self.lock:
            self._restarting = True
        try:
            self._socket.stop(reason="Reauthenticating")
        finally:
            with self.lock:
                self._restarting = False
        with self.lock:
            if self._closed:
                return
            if isinstance(self._link.terminal, ConnectionTakenOverError):
                return  # only an explicit connect() takes the connection back
            self._link.terminal = None
        if not self.options.disable_socket:
            self._socket.start()

    def disconnect(self) -> None:
        """Close the socket deliberately (logout); a later send() connects again."""
        self._socket.stop()

    def close(self) -> None:
        """Stop everything this transport started; idempotent and thread-safe."""
        with self.lock:
            if self._closed:
                return
            self._closed = True
            forking.forget(self)
            self.closing.set()
            self._delivery.drain()
            self._link.changed.notify_all()
        self._emit_connection("closing", None)
        self.rest.interrupt()  # REST calls in flight raise ClientClosedError now
        self._socket.stop()
        self.dispatcher.stop()
        self.io.shutdown()
        self.rest.close()

    def send(self, msg_type: str, data: Any, *, request_id: str | None = None,
             timeout: float | None = None) -> None:
        """Write one message once the socket is authenticated (connecting if needed).

        ``ValidationError`` for a payload that is not JSON; ``OutboxFullError`` when too many
        requests wait; ``TimeoutError`` when no authenticated socket came within ``timeout``
        (default ``send_timeout``); the terminal error when the connection stopped for good.
        """
        deadline = Deadline(self.options.send_timeout if timeout is None else timeout)
        self._delivery.send(msg_type, data, request_id, deadline)

    # -- socket listener (runs on the socket thread) ------------------------------------------

    def socket_url(self) -> str:
        with self.lock:
            subscriptions, network = dict(self._subscriptions), self._network
        return socket_url(self.options, subscriptions, network)

    def socket_headers(self) -> list[str]:
        return self.credentials.socket_headers()

    def prepare_connect(self) -> None:
        self.credentials.prepare_connect(self.options.send_timeout)

    def on_open(self, gen: int) -> None:
        with self.lock:
            self._link.gen = gen
            self._link.open = True
            self._link.ready_gen = 0
            self._link.last_failure = ""
            self._link.offline = False
            network = self._network
        log.debug("socket open (connection %d)", gen)
        self._emit_connection("connected", {"network": network})

    def on_frame(self, gen: int, raw: str | bytes) -> None:
        self.on_frames(gen, [raw])
        self.on_burst_end(gen)

    def on_frames(self, gen: int, frames: list[bytes] | list[str | bytes]) -> bool:
        """Handle one read's frames in order. Runs of frames share one hold of the lock (at
        most ``_BATCH``), so a waiter wakes once per run instead of once per frame;
        ``authenticated`` is handled on its own, as before (it reconciles and notifies
        connection handlers outside the lock). True when wake-ups wait for
        :meth:`on_burst_end`."""
        decoded: list[tuple[str, Any]] = []
        keep = decoded.append
        for raw in frames:
            try:
                keep(decode_frame(raw))
            except FrameError as exc:
                log.warning("dropped a socket frame: %s", exc)
        note, handlers_for = self._delivery.note, self._router.handlers
        i, n = 0, len(decoded)
        while i < n:
            if decoded[i][0] == "authenticated":
                self._on_authenticated(gen, decoded[i][1])
                i += 1
                continue
            end = min(n, i + _BATCH)
            with self.lock:
                if gen != self._link.gen:
                    return self._router.holds_wakes()
                while i < end:
                    msg_type, payload = decoded[i]
                    if msg_type == "authenticated":
                        break
                    i += 1
                    note(payload)
                    for handler in handlers_for(msg_type, payload):
                        try:
                            handler(payload)
                        except Exception:
                            log.exception("handler for %s failed", msg_type)
        return self._router.holds_wakes()

    def defer_wake(self, wake: Callable[[], None]) -> None:
        """Socket thread, lock held: run ``wake`` (under the lock) once the current burst of
        reads ends, instead of now — for waiters that gain nothing from waking per read (a
        stream's reader). At most a couple of milliseconds later; each callable runs once."""
        self._router.defer(wake)

    def on_burst_end(self, gen: int) -> None:
        self._router.run_deferred()

    def _on_authenticated(self, gen: int, payload: Any) -> None:
        with self.lock:
            if gen != self._link.gen:
                return
            self._delivery.note(payload)
            handlers = self._router.handlers("authenticated", payload)
            self._link.ready_gen = gen
            self._link.auth_payload = payload if isinstance(payload, dict) else {}
            self._link.changed.notify_all()
        self._socket.reset_backoff()
        log.debug("socket authenticated (connection %d)", gen)
        self._delivery.authenticated(gen, payload if isinstance(payload, dict) else {})
        for handler in handlers:
            try:
                handler(payload)
            except Exception:
                log.exception("handler for authenticated failed")
        self._emit_connection("authenticated", payload)

    def on_closed(self, gen: int, info: CloseInfo) -> bool:
        self.on_burst_end(gen)  # what the last reads delivered is not held back
        error = close_error(info, self.options.app_id)
        with self.lock:
            was_open = self._link.open and self._link.gen == gen
            if self._link.gen == gen:
                self._link.open = False
                self._link.ready_gen = 0
            if info.code is not None:
                self._link.last_failure = f"closed with code {info.code}"
            elif isinstance(info.error, builtins.TimeoutError):
                self._link.last_failure = "handshake timed out"
            elif info.error is not None:
                # the type only: handshake errors may quote response headers (cookies)
                self._link.last_failure = type(info.error).__name__
            deliberate = self.closing.is_set() or info.deliberate
            self._link.offline = self._link.offline or not (
                info.opened or deliberate or isinstance(error, AuthenticationError))
            follows = deliberate and self._restarting and not self.closing.is_set()
            # A deliberate stop is never an error, except that losing the credentials while
            # (re)connecting must still reach the waiters as AuthenticationError.
            auth_lost = isinstance(error, AuthenticationError) and not self.closing.is_set()
            terminal = error is not None and (not deliberate or auth_lost)
            if terminal:
                self._link.terminal = error
                self._router.forget_last()  # no connection, so no kept payload is current
                self._delivery.drain()
            else:
                # in doubt until the next authenticated connection asks the server
                self._delivery.dropped(gen)
            self._link.changed.notify_all()
        takeover = terminal and isinstance(error, ConnectionTakenOverError)
        if takeover and not self._takeover_reported:
            self._takeover_reported = True
            log.warning("%s", error)
        elif info.opened or terminal:
            log.log(
                logging.WARNING if terminal else logging.INFO,
                "socket closed: code=%s reason=%r%s",
                info.code,
                info.reason,
                " (not recoverable)" if terminal else "",
            )
        if terminal and isinstance(error, AuthenticationError) and self.on_auth_rejected:
            try:
                self.on_auth_rejected()
            except Exception:
                log.exception("auth rejection handler failed")
        stops = terminal or deliberate
        if was_open or terminal:
            self._emit_connection(
                "disconnected",
                {"code": info.code, "reason": info.reason, "terminal": stops and not follows},
            )
        return not stops

    # -- internals ----------------------------------------------------------------------------

    def _emit_connection(self, kind: str, payload: Any) -> None:
        self._router.emit(kind, payload)

    def _on_change_network(self, payload: Any) -> None:
        network = payload.get("network") if isinstance(payload, dict) else payload
        if network in ("fast", "relaxed"):
            with self.lock:
                self._network = network

    def _on_subscriptions(self, payload: Any) -> None:
        subs = payload.get("socketEventSubscriptions") if isinstance(payload, dict) else None
        if isinstance(subs, dict):
            with self.lock:
                self._subscriptions = {k: v for k, v in subs.items() if isinstance(v, bool)}

