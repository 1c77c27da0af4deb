"""Shared emulator state and the small helpers every route module uses.

All of it lives on the emulator's event loop thread; route handlers and socket handlers mutate
it without locks. Test threads only touch it through :class:`LocalSupernet` methods, which
either marshal onto the loop or read thread-safe snapshots (recorder, faults).

Extension modules (``_llm``, ``_hosted``, ``_workflows``) use:

* ``state.catalog`` (:class:`~._catalog.Catalog`: ``llm_models``, ``llm_quote``...),
* ``state.authenticate(request)`` -> :class:`Account` or ``None``; ``ok(data)`` /
  ``error(status, message, code)`` build enveloped REST responses,
* ``state.storage.put(key, data, content_type)`` and ``state.storage.signed_url(key)``
  (absolute ``http://`` download URL on the REST host, no auth needed),
* ``state.charge(account, token_type, tokens)`` (debits, appends a transaction, pushes a
  ``balanceUpdate`` to the account's sockets) and ``state.options`` (``token_delay``...),
* ``state.faults.prompt_fails(text)`` to honour the ``[[fail]]`` marker.

Every REST/socket-host route requires authentication (the middleware answers 401 JSON
otherwise; handlers get the :class:`Account` with ``state.require(request)``) unless its path
is in ``state.public_paths``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sogni_sync.testing._catalog import Catalog
from sogni_sync.testing._faults import Faults
from sogni_sync.testing._recorder import Recorder
from sogni_sync.testing._wire import now_ms

if TYPE_CHECKING:
    from sogni_sync.testing._socket import Connection

__all__ = ["Account", "Options", "State", "Storage", "error", "ok"]

SocketHandler = Callable[["State", "Connection", Any], Awaitable[None]]


def ok(data: Any = None, status: int = 200) -> web.Response:
    """REST-host success envelope ``{status: "success", data}``."""
    body: dict[str, Any] = {"status": "success"}
    if data is not None:
        body["data"] = data
    return web.json_response(body, status=status)


def error(status: int, message: str, code: int = 0,
          headers: dict[str, str] | None = None) -> web.Response:
    """The server's error shape ``{status: "error", message, errorCode}`` (always JSON)."""
    return web.json_response({"status": "error", "message": message, "errorCode": code},
                             status=status, headers=headers)


def money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.000001")).normalize(), "f") if value else "0"


@dataclass
class Account:
    username: str
    password: str
    address: str
    api_key: str
    sid: int
    email: str = ""
    balances: dict[str, Decimal] = field(default_factory=dict)
    reserved: dict[str, Decimal] = field(default_factory=dict)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    claimed_rewards: set[str] = field(default_factory=set)
    initial: dict[str, Decimal] = field(default_factory=dict)

    def restore(self) -> None:
        """Back to the starting balances, no reservations, transactions or claims."""
        self.balances = dict(self.initial)
        self.reserved.clear()
        self.transactions.clear()
        self.claimed_rewards.clear()

    def balance_payload(self, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for token in ("sogni", "spark"):
            settled = self.balances.get(token, Decimal(0))
            debit = self.reserved.get(token, Decimal(0))
            entry = {"settled": money(settled), "credit": "0", "debit": money(debit),
                     "net": money(settled - debit)}
            if full:
                entry.update(relaxedUnclaimed="0", fastUnclaimed="0")
            if token == "spark":
                entry["premiumCredit"] = "0"
            out[token] = entry
        return out

    def available(self, token: str) -> Decimal:
        return self.balances.get(token, Decimal(0)) - self.reserved.get(token, Decimal(0))


@dataclass
class Options:
    step_delay: float = 0.0
    token_delay: float = 0.0
    url_ttl: float = 1800.0
    media_max_side: int = 64
    video_max_side: int = 256
    max_frames: int = 160
    max_seconds: float = 30.0
    workers: int | None = None
    max_finished_projects: int = 10_000
    #: The network this emulator is: logins and signups must be signed for its EIP-712 domain.
    testnet: bool = False


class Storage:
    """Emulated object storage: bytes (or lazy recipes) behind HMAC-signed, expiring URLs."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.base_url = ""
        self._secret = secrets.token_bytes(16)
        self._objects: dict[str, tuple[bytes | Callable[[], bytes], str]] = {}
        self._by_project: dict[str, set[str]] = {}

    def put(self, key: str, data: bytes | Callable[[], bytes], content_type: str) -> None:
        """Store bytes, or a zero-argument callable rendering them on first download."""
        self._objects[key] = (data, content_type)
        parts = key.split("/", 2)
        if len(parts) == 3 and parts[0] in ("results", "uploads"):
            self._by_project.setdefault(parts[1], set()).add(key)

    def get(self, key: str) -> tuple[bytes, str] | None:
        item = self._objects.get(key)
        if item is None:
            return None
        data, ctype = item
        if callable(data):
            data = data()
            self._objects[key] = (data, ctype)
        return data, ctype

    def has(self, key: str) -> bool:
        return key in self._objects

    def content_type(self, key: str) -> str | None:
        item = self._objects.get(key)
        return item[1] if item else None

    def clear(self) -> None:
        self._objects.clear()
        self._by_project.clear()

    def forget_project(self, project_id: str) -> None:
        """Delete a project's uploads, previews and results."""
        for key in self._by_project.pop(project_id, ()):
            self._objects.pop(key, None)

    def sign(self, verb: str, key: str, expires: int, extra: str = "") -> str:
        msg = f"{verb}\n{key}\n{expires}\n{extra}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def signed_url(self, key: str, ttl: float | None = None) -> str:
        """Absolute GET URL for ``key``, valid ``ttl`` seconds (default ``options.url_ttl``)."""
        expires = int(time.time() + (self.options.url_ttl if ttl is None else ttl))
        sig = self.sign("GET", key, expires)
        return f"{self.base_url}/storage/{key}?X-Expires={expires}&X-Signature={sig}"

    def upload_url(self, key: str, content_type: str | None) -> str:
        expires = int(time.time() + self.options.url_ttl)
        ctype = content_type or ""
        sig = self.sign("PUT", key, expires, ctype)
        from urllib.parse import quote

        return (f"{self.base_url}/storage/{key}?X-Expires={expires}"
                f"&X-Content-Type={quote(ctype, safe='')}&X-Signature={sig}")


class State:
    """Everything the emulator knows; owned by the emulator loop."""

    def __init__(self, catalog: Catalog, options: Options, faults: Faults,
                 recorder: Recorder) -> None:
        self.catalog = catalog
        self.options = options
        self.faults = faults
        self.recorder = recorder
        self.storage = Storage(options)
        self.accounts: dict[str, Account] = {}
        self.by_api_key: dict[str, Account] = {}
        self.by_address: dict[str, Account] = {}
        self.access_tokens: dict[str, tuple[Account, float]] = {}
        self.refresh_tokens: dict[str, tuple[Account, float]] = {}
        self.nonces: dict[str, str] = {}
        self.token_ttl = 3600.0
        self.connections: dict[str, Connection] = {}
        self.socket_handlers: dict[str, SocketHandler] = {}
        self.public_paths: set[str] = set()
        self.extras: dict[str, Any] = {}
        self.rest_url = ""
        self.socket_url = ""
        self._next_sid = 1000
        self.started_ms = now_ms()

    def next_sid(self) -> int:
        self._next_sid += 1
        return self._next_sid

    def add_account(self, account: Account) -> Account:
        self.accounts[account.username.lower()] = account
        self.by_api_key[account.api_key] = account
        self.by_address[account.address.lower()] = account
        return account

    def authenticate(self, request: web.BaseRequest) -> Account | None:
        """The account behind an ``api-key`` header or a live ``Authorization`` access JWT."""
        key = request.headers.get("api-key")
        if key:
            return self.by_api_key.get(key)
        token = request.headers.get("Authorization", "")
        if token.lower().startswith("bearer "):
            token = token[7:]
        if token:
            entry = self.access_tokens.get(token)
            if entry and entry[1] > time.time():
                return entry[0]
        return None

    def require(self, request: web.BaseRequest) -> Account:
        """The authenticated account of a request (the middleware already rejected others)."""
        account = self.authenticate(request)
        if account is None:
            raise web.HTTPUnauthorized()
        return account

    def connections_of(self, account: Account) -> list[Connection]:
        return [c for c in self.connections.values() if c.account is account]

    def push_balance(self, account: Account) -> None:
        payload = account.balance_payload()
        for conn in self.connections_of(account):
            conn.send("balanceUpdate", payload)

    def charge(self, account: Account, token_type: str, tokens: Decimal,
               description: str = "LLM job", source: str = "llm") -> None:
        """Debit ``tokens`` and record a transaction; pushes ``balanceUpdate``."""
        token_type = token_type if token_type in ("sogni", "spark") else "spark"
        account.balances[token_type] = account.balances.get(token_type, Decimal(0)) - tokens
        self.record_transaction(account, token_type, tokens, description, source)
        self.push_balance(account)

    def record_transaction(self, account: Account, token_type: str, amount: Decimal,
                           description: str, source: str) -> None:
        ts = now_ms()
        tx_id = secrets.token_hex(12)
        account.transactions.append({
            "_id": tx_id, "id": tx_id, "SID": len(account.transactions) + 1,
            "address": account.address, "createTime": ts, "updateTime": ts, "endTime": ts,
            "status": "completed", "role": "artist", "clientSID": account.sid,
            "addressSID": account.sid, "amount": float(amount), "description": description,
            "source": source, "sourceSID": tx_id, "type": "debit", "tokenType": token_type,
        })
