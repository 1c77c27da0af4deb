"""Client options: endpoints, identity, timeouts and bounds, resolved once from arguments and env.

Credentials are deliberately *not* part of :class:`ClientOptions` (they live in
:mod:`sogni_sync._auth`), so printing or logging the options can never leak a secret.
"""

from __future__ import annotations

import ipaddress
import os
import uuid
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs

from sogni_sync.errors import ValidationError

__all__ = [
    "DEFAULT_REST_ENDPOINT",
    "DEFAULT_SOCKET_ENDPOINT",
    "PROTOCOL_VERSION",
    "PROXY_SCHEMES",
    "ClientOptions",
    "Limits",
    "Retries",
    "Timeouts",
    "check_cleartext",
    "is_loopback",
    "redact_proxy",
    "resolve_options",
]

DEFAULT_REST_ENDPOINT = "https://api.sogni.ai"
DEFAULT_SOCKET_ENDPOINT = "wss://socket.sogni.ai"
PROTOCOL_VERSION = "3.0.0"
NETWORKS = ("fast", "relaxed")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")

Network = Literal["fast", "relaxed"]


def _check_network(_inst: Any, _attr: Any, value: str) -> None:
    if value not in NETWORKS:
        raise ValidationError(f"network must be 'fast' or 'relaxed', not {value!r}")


def _check_positive(_inst: Any, attr: Any, value: float) -> None:
    if not value > 0:
        raise ValidationError(f"{attr.name} must be positive, not {value!r}")


def _check_optional_positive(inst: Any, attr: Any, value: float | None) -> None:
    if value is not None:
        _check_number(inst, attr, value)
        _check_positive(inst, attr, value)


def _check_number(_inst: Any, attr: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{attr.name} must be a number of seconds, not {value!r}")


def _check_seconds(inst: Any, attr: Any, value: Any) -> None:
    _check_number(inst, attr, value)
    _check_positive(inst, attr, value)


def _check_whole(minimum: int) -> Any:
    def check(inst: Any, attr: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValidationError(f"{type(inst).__name__}.{attr.name} must be a whole number "
                                  f">= {minimum}, not {value!r}")

    return check


def _check_field_seconds(inst: Any, attr: Any, value: Any) -> None:
    if value is None and attr.default is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValidationError(f"{type(inst).__name__}.{attr.name} must be a positive number of "
                              f"seconds, not {value!r}")


@attrs.frozen(kw_only=True)
class Timeouts:
    """How long the client waits, in seconds (``SogniClient(timeouts=Timeouts(...))``)."""

    #: One REST call as a whole: connect, every retry and its wait, and the complete answer
    #: (a drip-fed answer cannot stretch it).
    request: float = attrs.field(default=30.0, validator=_check_field_seconds)
    #: One hosted chat call (``client.chat.hosted``), like ``request``.
    chat: float = attrs.field(default=300.0, validator=_check_field_seconds)
    #: How long a call that needs the socket (``create_*()``, chat, ``connect()``) waits for it
    #: before ``TimeoutError``; lower it to fail fast while the network is down.
    send: float = attrs.field(default=30.0, validator=_check_field_seconds)
    #: One WebSocket connection attempt (TCP, TLS, upgrade); failed attempts are retried with
    #: backoff within ``send``.
    connect: float = attrs.field(default=30.0, validator=_check_field_seconds)
    #: Seconds between WebSocket pings.
    ping_interval: float = attrs.field(default=15.0, validator=_check_field_seconds)
    #: A link whose ping gets no pong within this is dropped (``None``: two thirds of
    #: ``ping_interval``), so a dead link is noticed within ``ping_interval + pong``.
    pong: float | None = attrs.field(default=None, validator=_check_field_seconds)


@attrs.frozen(kw_only=True)
class Retries:
    """Retries of idempotent REST calls and socket reconnection backoff
    (``SogniClient(retries=Retries(...))``)."""

    #: Attempts of an idempotent REST call, the first included (a POST is never sent twice).
    attempts: int = attrs.field(default=3, validator=_check_whole(1))
    #: The longest wait between two attempts, in seconds (a ``Retry-After`` is capped by it).
    max_wait: float = attrs.field(default=60.0, validator=_check_field_seconds)
    #: The first and the longest wait before reconnecting the socket, in seconds.
    reconnect_base_delay: float = attrs.field(default=1.0, validator=_check_field_seconds)
    reconnect_max_delay: float = attrs.field(default=15.0, validator=_check_field_seconds)

    def __attrs_post_init__(self) -> None:
        if self.reconnect_base_delay > self.reconnect_max_delay:
            raise ValidationError(
                f"Retries.reconnect_base_delay ({self.reconnect_base_delay!r}) must not exceed "
                f"Retries.reconnect_max_delay ({self.reconnect_max_delay!r})")


@attrs.frozen(kw_only=True)
class Limits:
    """Bounds of the client's queues and threads (``SogniClient(limits=Limits(...))``)."""

    #: Socket messages waiting to be sent or confirmed, by count and by size in bytes.
    outbox_requests: int = attrs.field(default=1000, validator=_check_whole(1))
    outbox_bytes: int = attrs.field(default=8 * 1024 * 1024, validator=_check_whole(1))
    #: Threads for blocking I/O (uploads, downloads).
    io_workers: int = attrs.field(default=4, validator=_check_whole(1))
    #: Callbacks waiting for the ``sogni-callbacks`` thread.
    callback_queue: int = attrs.field(default=10_000, validator=_check_whole(1))


def _check_url(schemes: tuple[str, ...]) -> Any:
    def check(_inst: Any, attr: Any, value: str) -> None:
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.netloc:
            raise ValidationError(
                f"{attr.name} must be an absolute {'/'.join(schemes)} URL, not {value!r}"
            )

    return check


def _subscriptions(value: Mapping[str, Any] | None) -> Mapping[str, bool]:
    """Keep only real booleans, as the reference does when it puts the subscriptions in the
    connection URL."""
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("socket_event_subscriptions must be a mapping of name -> bool")
    return {str(k): v for k, v in value.items() if isinstance(v, bool)}


def redact_proxy(value: str | None) -> str:
    """A proxy URL fit for reprs and logs: any ``user:password@`` becomes ``***@``."""
    if not value:
        return repr(value)
    parts = urlsplit(value)
    if "@" not in parts.netloc:
        return repr(value)
    host = parts.netloc.rsplit("@", 1)[1]
    return repr(f"{parts.scheme}://***@{host}")


def _check_proxy(_inst: Any, _attr: Any, value: str | None) -> None:
    if value is None:
        return
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        port = parts.port if parts is not None else None
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise ValidationError(
            f"proxy must be a URL like http://host:port or socks5://user:pass@host:port "
            f"(schemes: {', '.join(PROXY_SCHEMES)}), not {redact_proxy(value)}"
        )
    del port


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 and ``localhost`` (the emulator's addresses)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_cleartext(options: ClientOptions, what: str) -> None:
    """Refuse to send credentials (``what``) over plain http/ws to a host that is not loopback,
    unless ``allow_insecure``: anyone on the path could read and reuse them."""
    if options.allow_insecure:
        return
    for name in ("rest_endpoint", "socket_endpoint"):
        parts = urlsplit(getattr(options, name))
        if parts.scheme in ("http", "ws") and not is_loopback(parts.hostname):
            raise ValidationError(
                f"refusing to send {what} in cleartext: {name} {parts.scheme}://"
                f"{parts.hostname} is not encrypted (use https/wss, or pass "
                "allow_insecure=True if this network is trusted)"
            )


@attrs.frozen(kw_only=True)
class ClientOptions:
    """Everything about a client except its credentials; immutable once built."""

    app_id: str
    network: str = attrs.field(default="fast", validator=_check_network)
    rest_endpoint: str = attrs.field(
        default=DEFAULT_REST_ENDPOINT, validator=_check_url(("http", "https"))
    )
    socket_endpoint: str = attrs.field(
        default=DEFAULT_SOCKET_ENDPOINT, validator=_check_url(("ws", "wss", "http", "https"))
    )
    app_source: str | None = None
    socket_event_subscriptions: Mapping[str, bool] = attrs.field(
        factory=dict, converter=_subscriptions
    )
    disable_socket: bool = False
    testnet: bool = False
    #: HTTP(S) or SOCKS5 proxy for REST, uploads, downloads and the socket
    #: (``http://``, ``https://``, ``socks5://``, ``socks5h://``, optional ``user:pass@``);
    #: ``None``: the ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` variables apply.
    proxy: str | None = attrs.field(default=None, validator=_check_proxy, repr=redact_proxy)
    #: Allow credentials over plain http/ws to a host that is not loopback.
    allow_insecure: bool = False
    #: The app id as configured (``app_id`` itself gets the pid appended in a forked child).
    base_app_id: str | None = attrs.field(default=None, repr=False)
    #: Overall limit of one REST call in seconds: connect, every retry and its wait, and the
    #: whole body (a drip-fed answer cannot stretch it); hosted chat gets ``chat_timeout``.
    request_timeout: float = attrs.field(default=30.0, validator=_check_seconds)
    chat_timeout: float = attrs.field(default=300.0, validator=_check_seconds)
    #: How long a call that needs the socket (``create()``, ``chat``, ``connect()``,
    #: ``switch_network``) waits for it to be authenticated before ``TimeoutError``; lower it
    #: to fail fast while the network is down (``client.offline`` tells that state).
    send_timeout: float = attrs.field(default=30.0, validator=_check_seconds)
    #: Limit of one WebSocket connection attempt: TCP connect, TLS and the HTTP upgrade.
    #: Failed attempts are retried with backoff until ``send_timeout`` runs out.
    connect_timeout: float = attrs.field(default=30.0, validator=_check_seconds)
    #: Seconds between WebSocket pings; a link is declared dead when a ping gets no pong
    #: within ``pong_timeout`` (default two thirds of ``ping_interval``), mid-frame stalls
    #: included, so a dead link is noticed within ``ping_interval + pong_timeout``.
    ping_interval: float = attrs.field(default=15.0, validator=_check_seconds)
    pong_timeout: float | None = attrs.field(default=None, validator=_check_optional_positive)
    reconnect_base_delay: float = attrs.field(default=1.0, validator=_check_positive)
    reconnect_max_delay: float = attrs.field(default=15.0, validator=_check_positive)
    #: Attempts (first try included) for idempotent REST calls; Retry-After is capped.
    retry_attempts: int = 3
    retry_max_wait: float = 60.0
    outbox_limit: int = 1000
    outbox_max_bytes: int = 8 * 1024 * 1024
    io_workers: int = 4
    #: Callbacks waiting for the callback thread past which progress-like notifications
    #: (project and job progress, ETA, updates) are shed; results and state changes never are.
    dispatcher_queue_size: int = 10_000

    def __attrs_post_init__(self) -> None:
        if not self.app_id or not isinstance(self.app_id, str):
            raise ValidationError("app_id must be a non-empty string")

    def for_child(self, pid: int) -> ClientOptions:
        """The options of this client in a forked child: the app id gets the child's pid
        (derived from the configured one), so parent and child never share a connection."""
        base = self.base_app_id or self.app_id
        return attrs.evolve(self, app_id=f"{base}-{pid}", base_app_id=base)


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _check_type(name: str, value: Any, kind: type, what: str, *, optional: bool = True) -> None:
    if not (isinstance(value, kind) or (optional and value is None)):
        raise ValidationError(f"{name} must be {what}, not {value!r}")


def resolve_options(
    *,
    app_id: str | None = None,
    network: str | None = None,
    rest_endpoint: str | None = None,
    socket_endpoint: str | None = None,
    app_source: str | None = None,
    socket_event_subscriptions: Mapping[str, Any] | None = None,
    disable_socket: bool = False,
    testnet: bool = False,
    proxy: str | None = None,
    allow_insecure: bool = False,
    timeouts: Timeouts | None = None,
    retries: Retries | None = None,
    limits: Limits | None = None,
) -> ClientOptions:
    """Merge explicit arguments with ``SOGNI_*`` environment variables (arguments win).

    Every value is checked first, each with a :class:`ValidationError` naming it. A missing app
    id gets a fresh one: the server closes an older socket that shares an app id (close 4015),
    so two clients must never share one by accident. A configured one must be unique per
    process too (a forked child derives its own from it and its pid).
    """
    for name, value in (("app_id", app_id), ("network", network),
                        ("rest_endpoint", rest_endpoint), ("socket_endpoint", socket_endpoint),
                        ("app_source", app_source), ("proxy", proxy)):
        _check_type(name, value, str, "a string")
    for name, flag in (("disable_socket", disable_socket), ("testnet", testnet),
                       ("allow_insecure", allow_insecure)):
        _check_type(name, flag, bool, "True or False", optional=False)
    _check_type("timeouts", timeouts, Timeouts, "a sogni_sync.Timeouts")
    _check_type("retries", retries, Retries, "a sogni_sync.Retries")
    _check_type("limits", limits, Limits, "a sogni_sync.Limits")
    t, r, lim = timeouts or Timeouts(), retries or Retries(), limits or Limits()
    source = (app_source or "").strip() or None
    return ClientOptions(
        app_id=app_id or _env("SOGNI_APP_ID") or f"sogni-sync-{uuid.uuid4()}",
        network=network or _env("SOGNI_NETWORK") or "fast",
        rest_endpoint=(rest_endpoint or _env("SOGNI_REST_ENDPOINT") or DEFAULT_REST_ENDPOINT),
        socket_endpoint=(
            socket_endpoint or _env("SOGNI_SOCKET_ENDPOINT") or DEFAULT_SOCKET_ENDPOINT
        ),
        app_source=source,
        socket_event_subscriptions=socket_event_subscriptions or {},
        disable_socket=disable_socket,
        testnet=testnet,
        proxy=proxy or None,
        allow_insecure=allow_insecure,
        request_timeout=t.request,
        chat_timeout=t.chat,
        send_timeout=t.send,
        connect_timeout=t.connect,
        ping_interval=t.ping_interval,
        pong_timeout=t.pong,
        retry_attempts=r.attempts,
        retry_max_wait=r.max_wait,
        reconnect_base_delay=r.reconnect_base_delay,
        reconnect_max_delay=r.reconnect_max_delay,
        outbox_limit=lim.outbox_requests,
        outbox_max_bytes=lim.outbox_bytes,
        io_workers=lim.io_workers,
        dispatcher_queue_size=lim.callback_queue,
    )
