"""The socket host's WebSocket endpoint and the per-connection :class:`Connection`.

Handshake: the upgrade must carry ``api-key`` or ``Authorization`` (access JWT) -- otherwise
the socket is accepted and closed with 4021. ``authenticated`` is always the first frame
(with ``activeProjects`` / ``unclaimedCompletedProjects`` for this appId), followed by
``balanceUpdate``, ``swarmModels``, ``swarmLLMModels`` and, when the URL carried
``socketEventSubscriptions``, ``socketEventSubscriptionsUpdated``. A second connection with
the same ``appId`` closes the older one with 4015.

``Connection.send(type, payload)`` is the only way to talk to a client: it is synchronous and
cheap (encode + append to an outbox drained by one writer task per connection, which writes
every pending frame before yielding), honours the connection's event subscriptions, records
the frame and applies armed frame faults.

Client messages are dispatched through ``state.socket_handlers[type]`` -- an
``async fn(state, conn, data)`` awaited in the connection's read loop (spawn a task for
anything long-running). Built in: ``jobRequest``, ``jobError`` (cancel), ``changeNetwork``,
``setSocketEventSubscriptions``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from collections import deque
from itertools import count
from typing import Any

from aiohttp import WSMsgType, web

from sogni_sync.testing._jobs import scheduler_of
from sogni_sync.testing._state import Account, State
from sogni_sync.testing._wire import FrameError, decode_frame, dumps, encode_frame

__all__ = ["Connection", "add_routes"]

log = logging.getLogger(__name__)

GROUPS = {"modelAvailability": frozenset({"swarmModels", "swarmLLMModels"})}
OPT_IN = frozenset({"projectQueue", "appAlert"})
_ids = count(1)
_CLOSE = object()


class Connection:
    """One live artist socket."""

    def __init__(self, state: State, ws: web.WebSocketResponse, request: web.Request,
                 account: Account, app_id: str, network: str,
                 subscriptions: dict[str, bool]) -> None:
        self.state = state
        self.ws = ws
        self.request = request
        self.account = account
        self.app_id = app_id
        self.app_source = request.query.get("appSource", "")
        self.network = network
        self.subscriptions = subscriptions
        self.id = next(_ids)
        self.closed = False
        self.frames_sent = 0
        self._outbox: deque[Any] = deque()
        self._wake = asyncio.Event()
        self._held: bytes | None = None
        self._writer = asyncio.get_running_loop().create_task(self._drain())

    # -- subscriptions -----------------------------------------------------------------------

    def wants(self, msg_type: str) -> bool:
        subs = self.subscriptions
        if not subs:
            return msg_type not in OPT_IN
        for group, members in GROUPS.items():
            if msg_type in members and subs.get(group) is False:
                return False
        flag = subs.get(msg_type)
        return flag if flag is not None else msg_type not in OPT_IN

    def update_subscriptions(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        keys = {"subscriptions", "subscribe", "unsubscribe", "reset", "event", "enabled"}
        if not keys & data.keys():
            data = {"subscriptions": data}
        if data.get("reset") is True:
            self.subscriptions = {}
        for name, flag in (data.get("subscriptions") or {}).items():
            if isinstance(flag, bool):
                self.subscriptions[name] = flag
        for key, flag in (("subscribe", True), ("unsubscribe", False)):
            names = data.get(key)
            for name in [names] if isinstance(names, str) else (names or []):
                if isinstance(name, str):
                    self.subscriptions[name] = flag
        if isinstance(data.get("event"), str) and isinstance(data.get("enabled"), bool):
            self.subscriptions[data["event"]] = data["enabled"]

    # -- sending -----------------------------------------------------------------------------

    def send(self, msg_type: str, payload: Any) -> None:
        """Queue one frame (no-op when closed or unsubscribed)."""
        if self.closed or not self.wants(msg_type):
            return
        self.state.recorder.frame("out", msg_type, payload, self.app_id, self.id)
        frame = encode_frame(msg_type, payload)
        faults = self.state.faults
        if faults.frames_armed:
            self._send_faulty(msg_type, frame)
            return
        self._push(frame)

    def _push(self, frame: Any) -> None:
        self._outbox.append(frame)
        if self._held is not None and frame is not _CLOSE:
            self._outbox.append(self._held)
            self._held = None
        self._wake.set()

    def _send_faulty(self, msg_type: str, frame: bytes) -> None:
        act = self.state.faults.on_frame(msg_type, self.app_id)
        if act.malformed:
            bad = {"garbage": b"{not json", "no_data": dumps({"type": msg_type}).encode(),
                   "bad_base64": dumps({"type": msg_type, "data": "%%%"}).encode(),
                   "not_object": b"[1,2,3]"}[act.malformed]
            self._push(bad)
        if act.close is not None:
            self.close(act.close, act.close_reason)
            return
        copies = [frame, frame] if act.duplicate else [frame]
        if act.delay > 0:
            loop = asyncio.get_running_loop()
            for c in copies:
                loop.call_later(act.delay, self._push, c)
            return
        if act.hold and self._held is None:
            self._held = frame
            if act.duplicate:
                self._push(frame)
            return
        for c in copies:
            self._push(c)

    async def _drain(self) -> None:
        """Write every queued frame with one ``transport.write`` per batch.

        Server frames are unmasked and uncompressed (compression is disabled on this socket), so
        the WebSocket framing is a 2-10 byte header; building it here avoids one coroutine and
        one syscall per frame, which is what lets a single client run thousands of concurrent
        projects. Back-pressure: wait while the transport buffers more than 4 MiB.
        """
        transport = self.request.transport
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                batch: list[bytes] = []
                while self._outbox:
                    frame = self._outbox.popleft()
                    if isinstance(frame, tuple) and frame and frame[0] is _CLOSE:
                        if batch and transport is not None and not transport.is_closing():
                            transport.write(b"".join(batch))
                        await self._do_close(frame[1], frame[2])
                        return
                    batch.append(_ws_frame(frame))
                    self.frames_sent += 1
                if not batch or transport is None or transport.is_closing():
                    continue
                transport.write(b"".join(batch))
                while (transport.get_write_buffer_size() > 4 * 1024 * 1024
                       and not transport.is_closing()):
                    await asyncio.sleep(0.005)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            return
        except Exception:
            log.debug("socket writer stopped", exc_info=True)

    async def _do_close(self, code: int, reason: str) -> None:
        if code == 0:
            transport = self.request.transport
            if transport is not None:
                transport.abort()
            return
        await self.ws.close(code=code, message=reason.encode())

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close after the frames already queued; ``code=0`` aborts TCP without a close frame."""
        if self.closed:
            return
        self.closed = True
        if self.state.connections.get(self.app_id) is self:
            del self.state.connections[self.app_id]
        self._outbox.append((_CLOSE, code, reason))
        self._wake.set()


def _ws_frame(payload: bytes) -> bytes:
    """One final, unmasked binary WebSocket frame (RFC 6455 §5.2)."""
    n = len(payload)
    if n < 126:
        return bytes((0x82, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x82, 126, n) + payload
    return struct.pack("!BBQ", 0x82, 127, n) + payload


def _parse_subscriptions(raw: str | None) -> dict[str, bool]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, bool)} if isinstance(data, dict) else {}


async def _change_network(state: State, conn: Connection, data: Any) -> None:
    if data in ("fast", "relaxed"):
        conn.network = data
    conn.send("changeNetwork", {"network": conn.network})
    conn.send("swarmModels", state.catalog.swarm_models(conn.network, state.faults.hidden_models))


async def _set_subscriptions(state: State, conn: Connection, data: Any) -> None:
    conn.update_subscriptions(data)
    conn.send("socketEventSubscriptionsUpdated",
              {"socketEventSubscriptions": dict(conn.subscriptions)})


def authenticated_payload(state: State, conn: Connection) -> dict[str, Any]:
    active, unclaimed = scheduler_of(state).recovery(conn.app_id, conn.account)
    llm_active = getattr(state.extras.get("llm"), "active", {})  # running chat: jobID -> appId
    llm_jobs = [job for job, app in llm_active.items() if app == conn.app_id]
    acc = conn.account
    return {
        "id": f"conn-{conn.id}", "clientType": "artist", "username": acc.username,
        "address": acc.address, "SID": acc.sid, "clientSID": acc.sid, "addressSID": acc.sid,
        "balanceVersion": 2, "tokens": acc.balance_payload(), "activeProjects": active,
        "unclaimedCompletedProjects": unclaimed, "activeLLMJobIDs": llm_jobs, "isMainnet": True,
        "accountWasMigrated": False, "hasUnclaimedAirdrop": False,
        "firstLoginAfterMigration": False,
    }


def add_routes(app: web.Application, state: State) -> None:
    state.socket_handlers.setdefault("changeNetwork", _change_network)
    state.socket_handlers.setdefault("setSocketEventSubscriptions", _set_subscriptions)

    async def websocket(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=64 * 1024 * 1024)
        if not ws.can_prepare(request).ok:
            return web.json_response({"status": "error", "message": "WebSocket upgrade required",
                                      "errorCode": 0}, status=400)
        account = state.authenticate(request)
        await ws.prepare(request)
        refuse = state.faults.take_refuse()
        if account is None or refuse is not None:
            await ws.close(code=refuse or 4021, message=b"Authentication failed")
            return ws
        app_id = request.query.get("appId", "")
        network = "fast" if request.query.get("forceWorkerId", "fast") == "fast" else "relaxed"
        subs_raw = request.query.get("socketEventSubscriptions")
        conn = Connection(state, ws, request, account, app_id, network,
                          _parse_subscriptions(subs_raw))
        old = state.connections.get(app_id)
        if old is not None:
            old.close(4015, "Switch connection")
        state.connections[app_id] = conn
        conn.send("authenticated", authenticated_payload(state, conn))
        conn.send("balanceUpdate", account.balance_payload())
        conn.send("swarmModels", state.catalog.swarm_models(network, state.faults.hidden_models))
        conn.send("swarmLLMModels", state.catalog.llm_models)
        for hook in state.extras.get("connect_hooks", ()):  # e.g. live banners re-sent
            hook(conn)
        if subs_raw is not None:
            conn.send("socketEventSubscriptionsUpdated",
                      {"socketEventSubscriptions": dict(conn.subscriptions)})
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                await _dispatch(state, conn, msg.data)
        finally:
            if not conn.closed:
                conn.closed = True
                if state.connections.get(app_id) is conn:
                    del state.connections[app_id]
                conn._writer.cancel()
        return ws

    app.router.add_get("/", websocket)


async def _dispatch(state: State, conn: Connection, raw: str | bytes) -> None:
    try:
        msg_type, payload = decode_frame(raw)
    except FrameError as exc:
        log.debug("malformed client frame ignored: %s", exc)
        return
    if conn.closed:
        return  # replaced (4015) or closing: the server no longer reads this connection
    # recorded once accepted: "received" means the server acted on it (a forget fault drops
    # what it received, like a server that lost the message after reading it)
    state.recorder.frame("in", msg_type, payload, conn.app_id, conn.id)
    if state.faults.take_forget(msg_type):
        return
    handler = state.socket_handlers.get(msg_type)
    if handler is None:
        log.debug("no handler for client message %s", msg_type)
        return
    try:
        await handler(state, conn, payload)
    except Exception:
        log.exception("socket handler for %s failed", msg_type)
