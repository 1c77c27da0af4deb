"""``SogniClient``: the composition root. It builds one transport and hands it to each concern.

Concern APIs (projects, chat, creative workflows) are imported lazily on first attribute access,
so ``import sogni_sync`` stays cheap and a client works for account calls alone.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from sogni_sync._auth import AuthManager
from sogni_sync._config import ClientOptions, Limits, Retries, Timeouts, resolve_options
from sogni_sync._transport import Transport
from sogni_sync.account import AccountApi, AnnouncementsApi, LoginResult, StatsApi
from sogni_sync.errors import ValidationError

if TYPE_CHECKING:
    from sogni_sync.batch import BatchApi
    from sogni_sync.catalog import Catalog
    from sogni_sync.chat import ChatApi
    from sogni_sync.creative_workflows import CreativeWorkflowsApi, ReplayApi
    from sogni_sync.projects import ProjectsApi

__all__ = ["SogniClient", "normalize_subscription_update"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: events the server sends once per connection (or rarely) that describe current state; their
#: last payload is kept so that a concern built after one arrived still starts from it: the
#: media models (catalog), the LLM models (chat) and the balance (account)
KEPT_EVENTS = ("swarmModels", "swarmLLMModels", "balanceUpdate")

LIFECYCLE_EVENTS = frozenset(
    {"connected", "authenticated", "disconnected", "closing", "request_lost", "request_confirmed"}
)
_UPDATE_KEYS = ("subscriptions", "subscribe", "unsubscribe", "reset", "event", "enabled")


def normalize_subscription_update(update: Any) -> dict[str, Any]:
    """Shape a subscription change the way the reference does: a non-mapping is ``{}``; a
    mapping with any of the update keys (``subscriptions``, ``subscribe``, ``unsubscribe``,
    ``reset``, ``event``, ``enabled``) is sent as is, otherwise it is the ``subscriptions``
    map; that map keeps only real booleans and is left out when nothing remains."""
    if not isinstance(update, Mapping):
        update = {}
    if any(key in update for key in _UPDATE_KEYS):
        out = dict(update)
    else:
        out = {"subscriptions": dict(update)}
    subs = out.get("subscriptions")
    if isinstance(subs, Mapping):
        kept = {str(k): v for k, v in subs.items() if isinstance(v, bool)}
        if kept:
            out["subscriptions"] = kept
        else:
            out.pop("subscriptions")
    elif "subscriptions" in out:
        out.pop("subscriptions")
    return out


class SogniClient:
    """A synchronous client of the Sogni Supernet; safe to share between threads.

    ``api_key``/``app_id`` (and ``rest_endpoint``/``socket_endpoint``) default to the
    ``SOGNI_API_KEY``/``SOGNI_APP_ID`` (``SOGNI_REST_ENDPOINT``/``SOGNI_SOCKET_ENDPOINT``)
    environment variables. With an API key the socket connects in the background right away
    (unless ``disable_socket``); any call that needs it waits for it.

    ``timeouts`` (:class:`Timeouts`, seconds): ``request`` (30) bounds each REST call as a
    whole, retries included; ``send`` (30) is how long ``create()``/chat/``connect()`` wait for
    the socket; ``connect`` (30) bounds one connection attempt; ``ping_interval`` (15) and
    ``pong`` (two thirds of it) detect dead links. To fail fast while the network is down,
    lower ``send`` or check :attr:`offline` first. ``retries`` (:class:`Retries`) and
    ``limits`` (:class:`Limits`) tune REST retries, reconnection backoff, queues and threads.
    Every option is checked here: a bad value raises ``ValidationError`` naming it.

    ``proxy`` (``http://``, ``https://`` for REST only, ``socks5://``, ``socks5h://``, with
    optional ``user:pass@``) routes REST, uploads, downloads and the socket through a proxy;
    without it ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` apply. Credentials
    are refused over plain http/ws to a host that is not loopback unless ``allow_insecure``.

    One client per process is the intended use (share it between threads). Created before a
    fork (gunicorn ``--preload``, multiprocessing "fork" pools), it rebuilds itself in the
    child with its own threads, pools, socket and app id; app ids must be unique per process.
    """

    def __init__(
        self,
        *,
        app_id: str | None = None,
        api_key: str | None = None,
        network: str | None = None,
        rest_endpoint: str | None = None,
        socket_endpoint: str | None = None,
        app_source: str | None = None,
        socket_event_subscriptions: Mapping[str, bool] | None = None,
        disable_socket: bool = False,
        testnet: bool = False,
        proxy: str | None = None,
        allow_insecure: bool = False,
        timeouts: Timeouts | None = None,
        retries: Retries | None = None,
        limits: Limits | None = None,
    ) -> None:
        if api_key is not None and not isinstance(api_key, str):
            raise ValidationError(f"api_key must be a string, not {type(api_key).__name__}")
        options = resolve_options(
            app_id=app_id,
            network=network,
            rest_endpoint=rest_endpoint,
            socket_endpoint=socket_endpoint,
            app_source=app_source,
            socket_event_subscriptions=socket_event_subscriptions,
            disable_socket=disable_socket,
            testnet=testnet,
            proxy=proxy,
            allow_insecure=allow_insecure,
            timeouts=timeouts,
            retries=retries,
            limits=limits,
        )
        if options.proxy and options.proxy.startswith("https:") and not disable_socket:
            raise ValidationError(
                "the socket cannot tunnel through an https:// proxy (TLS to the proxy itself); "
                "use an http:// (CONNECT) or socks5:// proxy URL, or disable_socket=True"
            )
        self._transport = Transport(options)
        self._transport.keep_last(KEPT_EVENTS)
        self._transport.on_fork(self._after_fork)
        self._auth = AuthManager(self._transport.rest)
        self._transport.set_credentials(self._auth)
        self._transport.on_auth_rejected = self._auth.forget
        self.account = AccountApi(self._transport, self._auth)
        self.stats = StatsApi(self._transport)
        self._lazy_lock = threading.RLock()
        self._lazy: dict[type, object] = {}  # concern class -> the one instance
        self._close_lock = threading.Lock()
        self._closed = False
        self._auth.add_listener(self._on_auth_changed)
        key = api_key if api_key is not None else os.environ.get("SOGNI_API_KEY", "").strip()
        if key:
            self._auth.set_api_key(key)

    @property
    def options(self) -> ClientOptions:
        """The resolved options (in a forked child: with that process's own app id)."""
        return self._transport.options

    def _after_fork(self) -> None:
        """In a forked child, after the transport is rebuilt: fresh locks, and concerns built
        anew on first use (the parent's projects and chats are not this process's)."""
        self._lazy_lock = threading.RLock()
        self._close_lock = threading.Lock()
        self._lazy = {}
        self._auth.after_fork()

    def __repr__(self) -> str:
        return (
            f"SogniClient(app_id={self.options.app_id!r}, network={self.network!r}, "
            f"rest_endpoint={self.options.rest_endpoint!r}, auth={self._auth.mode!r})"
        )

    # -- concerns (lazy) ----------------------------------------------------------------------

    def _concern(self, kind: type[T], build: Callable[[], T]) -> T:
        with self._lazy_lock:
            found = self._lazy.get(kind)
            if not isinstance(found, kind):
                found = self._lazy[kind] = build()
            return found

    @property
    def catalog(self) -> Catalog:
        """``sogni_sync.catalog.Catalog`` — models, options, size presets, availability and
        prices. Built once; projects and chat use this same catalogue."""
        from sogni_sync.catalog import Catalog

        return self._concern(Catalog, lambda: Catalog(self._transport))

    @property
    def projects(self) -> ProjectsApi:
        """``sogni_sync.projects.ProjectsApi`` — images, video and audio projects."""
        from sogni_sync.projects import ProjectsApi

        return self._concern(ProjectsApi, lambda: ProjectsApi(self._transport, self.catalog))

    @property
    def chat(self) -> ChatApi:
        """``sogni_sync.chat.ChatApi`` — LLM chat over the socket and hosted chat."""
        from sogni_sync.chat import ChatApi

        return self._concern(ChatApi, lambda: ChatApi(self._transport, self.projects, self.catalog))

    @property
    def creative_workflows(self) -> CreativeWorkflowsApi:
        """``sogni_sync.creative_workflows.CreativeWorkflowsApi`` — hosted creative-agent
        workflows."""
        from sogni_sync.creative_workflows import CreativeWorkflowsApi

        return self._concern(CreativeWorkflowsApi, lambda: CreativeWorkflowsApi(self._transport))

    @property
    def replay(self) -> ReplayApi:
        """``sogni_sync.creative_workflows.ReplayApi`` — replay records of creative-agent runs."""
        from sogni_sync.creative_workflows import ReplayApi

        return self._concern(ReplayApi, lambda: ReplayApi(self._transport))

    @property
    def announcements(self) -> AnnouncementsApi:
        """``sogni_sync.account.AnnouncementsApi`` — in-app announcements and the ``appAlert``
        event (opt in with ``socket_event_subscriptions={"appAlert": True}``)."""
        return self._concern(AnnouncementsApi, lambda: AnnouncementsApi(self._transport))

    @property
    def batch(self) -> BatchApi:
        """``sogni_sync.batch.BatchApi`` — many projects or chats with a cap, files, a
        manifest and crash-safe resume; also on a Dask cluster."""
        from sogni_sync.batch import BatchApi

        return self._concern(BatchApi, lambda: BatchApi(self, self._worker_factory))

    def _worker_factory(self) -> Callable[..., SogniClient]:
        """A picklable recipe for an equivalent client elsewhere (``factory(app_id=...)``):
        same endpoints, network and API key — never this client itself."""
        if self._auth.mode != "api_key":
            raise ValidationError("running a batch on other processes needs API-key "
                                  "authentication (set api_key=...)")
        return functools.partial(
            SogniClient, api_key=self._auth.api_key, network=self.options.network,
            rest_endpoint=self.options.rest_endpoint,
            socket_endpoint=self.options.socket_endpoint)

    # -- connection and auth ------------------------------------------------------------------

    @property
    def network(self) -> str:
        return self._transport.network

    @property
    def app_id(self) -> str:
        return self.options.app_id

    @property
    def connection_state(self) -> str:
        """The socket: ``"connected"``, ``"connecting"``, ``"offline"`` (the last attempt
        failed and none is up), ``"idle"`` (not needed yet), ``"taken_over"`` (see
        :attr:`taken_over`) or ``"closed"``."""
        return self._transport.connection_state

    @property
    def taken_over(self) -> bool:
        """Another connection with this client's app id took its socket (close 4015): app ids
        must be unique per process. Only :meth:`connect` takes the connection back; until
        then calls that need the socket raise ``ConnectionTakenOverError``."""
        return self._transport.taken_over

    @property
    def offline(self) -> bool:
        """True while the last connection attempts failed and no socket is up: a call that
        needs the socket would wait (up to ``Timeouts.send``) for the network to return.
        Check it, or lower ``Timeouts.send``/``Timeouts.connect``, to fail fast."""
        return self._transport.connection_state == "offline"

    @property
    def is_authenticated(self) -> bool:
        return self._auth.is_authenticated

    @property
    def tokens(self) -> tuple[str | None, str | None]:
        """``(token, refresh_token)`` of a password session, to persist and resume later."""
        return self._auth.tokens

    def connect(self, timeout: float | None = None) -> None:
        """Connect now and wait until the socket is authenticated (otherwise lazy). After a
        takeover (:attr:`taken_over`) this is the one call that takes the connection back."""
        self._transport.connect(timeout)

    def set_tokens(self, *, token: str | None = None, refresh_token: str) -> LoginResult:
        """Resume a saved session: an expired access token is refreshed right away."""
        if not refresh_token:
            raise ValidationError("refresh_token is required")
        self._auth.set_tokens(token, refresh_token)
        self._auth.ensure_fresh()
        current, refresh = self._auth.tokens
        return LoginResult(username=None, token=current, refresh_token=refresh)

    def set_api_key(self, api_key: str) -> None:
        if not api_key:
            raise ValidationError("api_key must be a non-empty string")
        self._auth.set_api_key(api_key)

    def set_socket_event_subscriptions(
        self, update: Mapping[str, Any], *, timeout: float | None = None
    ) -> None:
        """Change which socket events (or groups, such as ``modelAvailability``) this
        connection receives.

        The stored map (used in the next connection URL) follows the server's
        ``socketEventSubscriptionsUpdated`` answer.
        """
        self._transport.send(
            "setSocketEventSubscriptions", normalize_subscription_update(update), timeout=timeout
        )

    def on(self, event: str, callback: Callable[[Any], Any]) -> Callable[[], None]:
        """Call ``callback(payload)`` on the ``sogni-callbacks`` thread for a lifecycle event
        (``connected``, ``authenticated``, ``disconnected``, ``request_lost``,
        ``request_confirmed``, ``closing``) or any socket event name; returns a function that
        removes the callback."""
        transport = self._transport
        if event in LIFECYCLE_EVENTS:

            def on_connection(kind: str, payload: Any) -> None:
                if kind == event:
                    transport.dispatch(callback, payload)

            transport.on_connection(on_connection)
            transport.keep_after_fork(None, on_connection)

            def remove_connection() -> None:
                transport.forget_after_fork(on_connection)
                transport.remove_connection_handler(on_connection)

            return remove_connection

        def on_event(payload: Any) -> None:
            transport.dispatch(callback, payload)

        transport.subscribe(event, on_event)
        transport.keep_after_fork(event, on_event)

        def remove_event() -> None:
            transport.forget_after_fork(on_event)
            transport.unsubscribe(event, on_event)

        return remove_event

    def _on_auth_changed(self, authenticated: bool) -> None:
        if self._transport.closing.is_set():
            return
        if authenticated:
            self._transport.restart()
        else:
            self._transport.disconnect()

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the socket, callback and io threads and fail every waiter with
        ``ClientClosedError``; idempotent and safe from any thread (also from callbacks)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        for concern in list(self._lazy.values()):
            closer = getattr(concern, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception:
                    log.exception("closing %s failed", type(concern).__name__)
        self._transport.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> SogniClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
