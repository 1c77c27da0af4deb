"""``LocalSupernet``: the emulator process model and its extension hooks.

One daemon thread (``sogni-emulator``) owns an asyncio loop running two aiohttp sites on
127.0.0.1 (ephemeral ports by default): the **REST host** (enveloped JSON, storage URLs) and
the **socket host** (WebSocket at ``/`` plus bare-JSON ``/api/...``). All state lives on that
loop; the public methods below are safe to call from any thread.

Extension hook (for the modules named in ``EXTENSIONS``: LLM, hosted tools, workflows, chat
runs, LoRAs, saved uploads, records by id and history): when the app is built, each of these
modules that exists is imported and its

    def register(rest: aiohttp.web.Application, socket: aiohttp.web.Application,
                 state: sogni_sync.testing._state.State) -> None

is called before the apps are frozen. It may add routes to either app (``rest`` is enveloped:
use ``_state.ok``/``_state.error``; ``socket`` serves bare JSON) and socket handlers:

    state.socket_handlers["llmJobRequest"] = handler  # async def handler(state, conn, data)

``conn`` is a :class:`~._socket.Connection` (``conn.send(type, payload)``, ``conn.account``,
``conn.app_id``, ``conn.network``). Handlers run on the loop; spawn tasks for long work
(``asyncio.get_running_loop().create_task``). Routes are authenticated by a middleware
(``state.require(request)`` returns the Account) unless the path is in
``state.public_paths``; REST faults and call recording apply to them automatically.
Per-test reset: register a callable in ``state.extras.setdefault("reset_hooks", [])``; it is
called (on the loop) by ``net.reset()``.
Built-in routes win: do not re-register ``/api/v1/job-llm/estimate/...`` (served here).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ipaddress
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from sogni_sync.testing import _api, _auth, _rest, _socket
from sogni_sync.testing._catalog import Catalog, load_catalog
from sogni_sync.testing._faults import Faults
from sogni_sync.testing._jobs import Scheduler, scheduler_of
from sogni_sync.testing._recorder import Recorder, RestCall, redact_headers
from sogni_sync.testing._state import Account, Options, State, error

__all__ = ["LocalSupernet", "scheduler_of"]

log = logging.getLogger(__name__)
T = TypeVar("T")
EXTENSIONS = ("_llm", "_hosted", "_workflows", "_runs", "_loras", "_assets", "_history")
DEFAULT_USERNAME = "emulator-artist"
DEFAULT_PASSWORD = "emulator-password"
_REST_PUBLIC = {"/v1/account/nonce", "/v1/account/login", "/v1/account/create",
                "/v1/account/refresh-token", "/v1/account/username/validate",
                "/v1/account/logout"}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _middleware(state: State, host: str) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        body = b""
        if request.can_read_body and not path.startswith("/storage/"):
            body = await request.read()
        fault = state.faults.take_rest(request.method, path)
        resp: web.StreamResponse
        if fault is not None:
            headers, extra = {}, ""
            if fault.retry_after is not None:
                headers["Retry-After"] = str(int(fault.retry_after) if float(
                    fault.retry_after).is_integer() else fault.retry_after)
                extra = " (retry later)"
            resp = error(fault.status, f"Injected fault {fault.status}{extra}", fault.status,
                         headers=headers)
        else:
            public = (path in state.public_paths or path.startswith("/storage/")
                      or (host == "rest" and path in _REST_PUBLIC)
                      or (host == "socket" and path == "/"))
            account = None if public else state.authenticate(request)
            if not public and account is None:
                resp = error(401, "Authentication required", 401)
            else:
                try:
                    resp = await handler(request)
                except web.HTTPException as exc:
                    resp = error(exc.status, exc.reason or "Error", exc.status)
                except Exception:
                    log.exception("emulator route %s %s failed", request.method, path)
                    resp = error(500, "Internal emulator error", 500)
        parsed: Any = None
        if body and request.content_type == "application/json":
            try:
                import json

                parsed = json.loads(body)
            except ValueError:
                parsed = None
        state.recorder.call(RestCall(
            request.method, path, dict(request.query), redact_headers(request.headers), parsed,
            resp.status, host, body, peer=_peer(request)))
        return resp

    return middleware


def _peer(request: web.Request) -> str:
    """The client's ``host:port`` (tells one pooled connection from another)."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else ""


class LocalSupernet:
    """A local, loopback-only Sogni Supernet for tests, demos and benchmarks.

    Options: ``step_delay`` (s per diffusion step; 0 = only yield), ``token_delay`` (s per
    LLM chunk), ``catalog`` (path, dict or None = packaged ``catalog.json``), ``balances``
    (``{"spark": 1000, "sogni": 1000}`` for the ready account), ``accounts`` (iterable of
    ``(username, password)`` or dicts with ``username``, ``password``, opt. ``api_key``,
    ``balances``; the first is the ready account), ``faults`` (see :mod:`._faults`;
    callable or ``{method: kwargs}``), ``workers`` (simulated worker slots; None = unlimited),
    ``url_ttl`` (signed URL lifetime, s), ``media_max_side`` (longest side of rendered images,
    px; 0 = the requested size), ``video_max_side`` (the same for videos), ``max_frames`` (video
    frames; 0 = as requested), ``max_seconds`` (audio duration; 0 = as requested),
    ``host``/``rest_port``/``socket_port`` (loopback only unless ``allow_remote``),
    ``record_limit`` (most recent frames/REST calls kept for ``received()``/``rest_calls``),
    ``max_finished_projects`` (older finished projects and their media are forgotten),
    ``testnet`` (the network emulated: logins and signups signed for the other network's EIP-712
    domain are refused, as the server of one network refuses the other's).
    """

    def __init__(self, *, step_delay: float = 0.0, catalog: str | Path | dict[str, Any] | None
                 = None, token_delay: float = 0.0, balances: Mapping[str, Any] | None = None,
                 accounts: Iterable[Any] | None = None, faults: Any = None,
                 workers: int | None = None, url_ttl: float = 1800.0, media_max_side: int = 64,
                 video_max_side: int = 256, max_frames: int = 160, max_seconds: float = 30.0,
                 api_key: str | None = None, host: str = "127.0.0.1", rest_port: int = 0,
                 socket_port: int = 0, allow_remote: bool = False,
                 record_limit: int = 1_000_000, max_finished_projects: int = 10_000,
                 testnet: bool = False) -> None:
        if not allow_remote and not _is_loopback(host):
            raise ValueError(f"refusing to listen on non-loopback host {host!r} "
                             "(pass allow_remote=True to override)")
        self.host, self._ports = host, (rest_port, socket_port)
        self.faults = Faults()
        self._recorder = Recorder(record_limit)
        self.options = Options(step_delay=float(step_delay), token_delay=float(token_delay),
                               url_ttl=float(url_ttl), media_max_side=int(media_max_side),
                               video_max_side=int(video_max_side), max_frames=int(max_frames),
                               max_seconds=float(max_seconds),
                               workers=workers, max_finished_projects=max_finished_projects,
                               testnet=bool(testnet))
        self._state = State(Catalog(load_catalog(catalog)), self.options, self.faults,
                            self._recorder)
        specs = list(accounts or [(DEFAULT_USERNAME, DEFAULT_PASSWORD)])
        for i, spec in enumerate(specs):
            if isinstance(spec, Mapping):
                spec = dict(spec)
            else:
                spec = {"username": spec[0], "password": spec[1]}
            if i == 0:
                spec.setdefault("api_key", api_key)
                if balances is not None:
                    spec.setdefault("balances", dict(balances))
            acc = _auth.make_account(self._state, spec["username"], spec["password"],
                                     api_key=spec.get("api_key"), balances=spec.get("balances"))
            if i == 0:
                self._ready = acc
        self.faults.apply(faults)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self.rest_url = ""
        self.socket_url = ""

    # -- credentials -------------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        return self._ready.api_key

    @property
    def username(self) -> str:
        return self._ready.username

    @property
    def password(self) -> str:
        return self._ready.password

    @property
    def address(self) -> str:
        return self._ready.address

    @property
    def env(self) -> dict[str, str]:
        """``SOGNI_*`` variables pointing at this emulator (what the CLI prints)."""
        return {"SOGNI_REST_ENDPOINT": self.rest_url, "SOGNI_SOCKET_ENDPOINT": self.socket_url,
                "SOGNI_API_KEY": self.api_key, "SOGNI_USERNAME": self.username,
                "SOGNI_PASSWORD": self.password}

    @contextlib.contextmanager
    def patched_env(self) -> Iterator[LocalSupernet]:
        """Point code that builds its own client (from ``SOGNI_*``) at this emulator."""
        saved = {key: os.environ.get(key) for key in self.env}
        os.environ.update(self.env)
        try:
            yield self
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LocalSupernet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 15.0) -> LocalSupernet:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._startup())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="sogni-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("emulator did not start in time")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def _build(self) -> tuple[web.Application, web.Application]:
        state = self._state
        rest = web.Application(middlewares=[_middleware(state, "rest")],
                               client_max_size=256 * 1024 * 1024)
        sock = web.Application(middlewares=[_middleware(state, "socket")])
        sched = Scheduler(state)
        state.extras["scheduler"] = sched
        state.socket_handlers["jobRequest"] = sched.on_job_request
        state.socket_handlers["jobError"] = sched.on_cancel
        _auth.add_routes(rest, state)
        _rest.add_routes(rest, state)
        _rest.add_storage_routes(rest, state)
        _api.add_routes(sock, state)
        _socket.add_routes(sock, state)
        for name in EXTENSIONS:
            try:
                module = importlib.import_module(f"sogni_sync.testing.{name}")
            except ModuleNotFoundError as exc:
                if exc.name == f"sogni_sync.testing.{name}":
                    continue
                raise
            module.register(rest, sock, state)
        return rest, sock

    async def _startup(self) -> None:
        rest, sock = self._build()
        urls = []
        for app, port in zip((rest, sock), self._ports, strict=True):
            runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                   shutdown_timeout=1.0)
            await runner.setup()
            site = web.TCPSite(runner, self.host, port, reuse_address=True)
            await site.start()
            self._runners.append(runner)
            bound = runner.addresses[0]
            host = self.host if ":" not in self.host else f"[{self.host}]"
            urls.append((host, bound[1]))
        self.rest_url = f"http://{urls[0][0]}:{urls[0][1]}"
        self.socket_url = f"ws://{urls[1][0]}:{urls[1][1]}"
        self._state.rest_url, self._state.socket_url = self.rest_url, self.socket_url
        self._state.storage.base_url = self.rest_url

    async def _shutdown(self) -> None:
        scheduler_of(self._state).reset()
        for conn in list(self._state.connections.values()):
            conn.close(1001, "Server shutting down")
        await asyncio.sleep(0)
        for runner in self._runners:
            await runner.cleanup()

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        except Exception:
            log.debug("emulator shutdown incomplete", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = self._loop = None

    def call(self, fn: Callable[[State], T], timeout: float = 10.0) -> T:
        """Run ``fn(state)`` on the emulator loop and return its result."""
        loop = self._loop
        if loop is None:
            return fn(self._state)

        async def runner() -> T:
            return fn(self._state)

        return asyncio.run_coroutine_threadsafe(runner(), loop).result(timeout)

    # -- records and control -----------------------------------------------------------------

    def received(self, type: str | None = None) -> list[Any]:
        """Decoded payloads of the socket messages clients sent (optionally one type)."""
        return self._recorder.received(type)

    def sent(self, type: str | None = None) -> list[Any]:
        """Decoded payloads of the socket messages the emulator sent."""
        return self._recorder.sent(type)

    @property
    def frames(self) -> list[Any]:
        return self._recorder.frames()

    @property
    def rest_calls(self) -> list[RestCall]:
        return self._recorder.calls()

    def reset(self) -> None:
        """Clear records, faults, projects and storage; restore every account's balances."""

        def do(state: State) -> None:
            scheduler_of(state).reset()
            state.storage.clear()
            for acc in state.accounts.values():
                acc.restore()
            for hook in state.extras.get("reset_hooks", []):
                hook()

        self.call(do)
        self.faults.clear()
        self._recorder.clear()

    def account(self, username: str | None = None) -> Account:
        return self._state.accounts[(username or self.username).lower()]

    def add_account(self, username: str, password: str,
                    balances: Mapping[str, Any] | None = None) -> Account:
        return self.call(lambda s: _auth.make_account(s, username, password,
                                                      balances=dict(balances or {})))

    def set_balance(self, token_type: str, amount: Any, username: str | None = None) -> None:
        def do(state: State) -> None:
            acc = self.account(username)
            acc.balances[token_type] = Decimal(str(amount))
            state.push_balance(acc)

        self.call(do)

    def disconnect(self, code: int = 0, app_id: str | None = None, reason: str = "") -> int:
        """Close live sockets (all, or one appId); ``code=0`` drops TCP without a close frame."""

        def do(state: State) -> int:
            conns = [c for c in list(state.connections.values())
                     if app_id is None or c.app_id == app_id]
            for conn in conns:
                conn.close(code, reason)
            return len(conns)

        return self.call(do)

    def send(self, msg_type: str, payload: Any, app_id: str | None = None) -> None:
        """Push an arbitrary frame (e.g. ``toastMessage``) to live sockets."""

        def do(state: State) -> None:
            for conn in list(state.connections.values()):
                if app_id is None or conn.app_id == app_id:
                    conn.send(msg_type, payload)

        self.call(do)

    def push_swarm_models(self) -> None:
        """Send a fresh ``swarmModels`` to every socket (e.g. after ``faults.no_workers``)."""

        def do(state: State) -> None:
            for conn in list(state.connections.values()):
                conn.send("swarmModels", state.catalog.swarm_models(conn.network,
                                                                    state.faults.hidden_models))

        self.call(do)

    def toast(self, message: str, type: str = "info", autoclose: int = 5000) -> None:
        self.send("toastMessage", {"type": type, "message": message, "autoClose": autoclose,
                                   "stickyID": ""})

    def offer_saved_uploads(self, on: bool = True) -> None:
        """Offer saved uploads (``/v1/assets/capabilities`` → enabled) until ``reset()``; by
        default the emulator answers 404 there, as a server without them does."""
        self.call(lambda s: s.extras["assets"].enable(on))

    def expire_tokens(self) -> None:
        """Make every issued access token expired (token-refresh tests)."""
        self.call(lambda s: s.access_tokens.update(
            {k: (v[0], 0.0) for k, v in s.access_tokens.items()}))

    def active_projects(self) -> int:
        return self.call(lambda s: sum(1 for p in scheduler_of(s).projects.values()
                                       if not p.finished))

    @property
    def app_ids(self) -> list[str]:
        return self.call(lambda s: list(s.connections))
