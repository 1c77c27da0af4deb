"""``client.account``: login, session, balances, history, rewards, token moves; and ``stats``.

The current-account snapshot is replaced (never mutated) under the transport lock by socket
handlers, so readers always see a consistent frozen object without locking.
"""

from __future__ import annotations

import decimal
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from sogni_sync._auth import AuthManager, Wallet, eip712_domain
from sogni_sync._auth._wallet import AUTHENTICATION_TYPES, SIGNUP_TYPES
from sogni_sync._config import check_cleartext
from sogni_sync._convert import structure
from sogni_sync._sync import Deadline, wait_for
from sogni_sync._transport import AccountTransport, RestAccess
from sogni_sync.account._models import (
    Balances,
    CurrentAccount,
    LeaderboardEntry,
    LoginResult,
    Me,
    Reward,
    TransactionPage,
    TxHistoryEntry,
    UsernameCheck,
    WalletBalance,
    balances_from_wire,
    describe,
    reward_from_wire,
)
from sogni_sync.errors import (
    ApiError,
    ClientClosedError,
    TimeoutError,
    UnexpectedResponseError,
    ValidationError,
)

__all__ = ["AccountApi", "StatsApi"]

log = logging.getLogger(__name__)

PROVIDERS = ("base", "etherlink")
ERROR_USERNAME_TAKEN = 108
ERROR_INSUFFICIENT_ALLOWANCE = 149
MAX_DEPOSIT_ATTEMPTS = 4


def _require_str(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} must be a non-empty string")
    return value


def _provider(value: str | None) -> str:
    provider = value or "base"
    if provider not in PROVIDERS:
        raise ValidationError(f"provider must be one of {PROVIDERS}, not {provider!r}")
    return provider


def _wei(amount: float | int | str | decimal.Decimal) -> str:
    """Token amount → wei as a decimal string (like ethers' parseEther)."""
    try:
        value = decimal.Decimal(str(amount))
    except decimal.InvalidOperation:
        raise ValidationError(f"amount must be a number, not {amount!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValidationError("amount must be a positive number")
    wei = value * (10**18)
    if wei != wei.to_integral_value():
        raise ValidationError("amount has more than 18 decimals")
    return str(int(wei))


class AccountApi:
    """Account operations on the REST host plus the live current-account snapshot."""

    def __init__(self, transport: AccountTransport, auth: AuthManager) -> None:
        self._transport = transport
        self._auth = auth
        self._rest = transport.rest
        self._current = CurrentAccount(network=None)
        self._changed = threading.Condition(transport.lock)
        self._network_seq = 0
        self._listeners: list[Callable[[CurrentAccount], None]] = []
        for event, handler in (("authenticated", self._on_authenticated),
                               ("balanceUpdate", self._on_balance),
                               ("changeNetwork", self._on_change_network)):
            transport.subscribe(event, handler)
            transport.keep_after_fork(event, handler)  # same account in a forked child
        transport.on_connection(self._on_connection)
        transport.keep_after_fork(None, self._on_connection)
        auth.add_listener(self._on_auth_changed)

    # -- current account ----------------------------------------------------------------------

    @property
    def current_account(self) -> CurrentAccount:
        """The latest snapshot (frozen); changes replace it."""
        return self._current

    def on_update(self, fn: Callable[[CurrentAccount], None]) -> None:
        """``fn(snapshot)`` on the callback thread whenever the current account changes."""
        with self._transport.lock:
            self._listeners.append(fn)

    def _update(self, **changes: Any) -> None:
        with self._transport.lock:
            self._current = attrs.evolve(self._current, **changes)
            snapshot = self._current
            listeners = list(self._listeners)
            self._changed.notify_all()
        for fn in listeners:
            self._transport.dispatch(fn, snapshot)

    def _on_authenticated(self, payload: Any) -> None:
        # The reference copies these only in API-key mode and relies on a background ``me``
        # call otherwise; we skip that call (deterministic traffic) and use the socket's data.
        if isinstance(payload, dict):
            self._update(username=payload.get("username"), wallet_address=payload.get("address"))

    def _on_balance(self, payload: Any) -> None:
        try:
            balance = balances_from_wire(payload, "socket event balanceUpdate")
        except UnexpectedResponseError as exc:
            log.warning("ignored a malformed balanceUpdate: %s", exc.detail)
            return
        self._update(balance=balance)

    def _on_change_network(self, payload: Any) -> None:
        network = payload.get("network") if isinstance(payload, dict) else payload
        with self._transport.lock:
            self._network_seq += 1
        self._update(network=network, network_status="connected")

    def _on_connection(self, kind: str, payload: Any) -> None:
        if kind == "connected":
            self._update(network_status="connected", network=payload.get("network"))
        elif kind in ("disconnected", "closing"):
            self._update(network_status="disconnected", network=None)
            if kind == "closing":
                with self._transport.lock:
                    self._changed.notify_all()

    def _on_auth_changed(self, authenticated: bool) -> None:
        if not authenticated:
            with self._transport.lock:
                self._current = CurrentAccount()
                self._changed.notify_all()

    # -- authentication -----------------------------------------------------------------------

    def wallet(self, username: str, password: str) -> Wallet:
        """The wallet derived from Sogni credentials (needs the ``wallet`` extra)."""
        return Wallet.from_credentials(
            _require_str("username", username), _require_str("password", password)
        )

    def _nonce(self, address: str) -> str:
        data = self._rest.post("/v1/account/nonce", json={"walletAddress": address})
        nonce = data.get("nonce") if isinstance(data, dict) else None
        if not isinstance(nonce, str):
            raise UnexpectedResponseError("/v1/account/nonce", "the server returned no nonce "
                                          f"(got {describe(data)})", payload=data)
        return nonce

    def login(
        self,
        username: str,
        password: str,
        *,
        remember_me: bool = False,
        app_source: str | None = None,
    ) -> LoginResult:
        """Sign in with username and password (EIP-712 signature; the password never leaves
        this process), switch the client to token auth and (re)connect the socket."""
        check_cleartext(self._transport.options, "a password login")
        wallet = self.wallet(username, password)
        nonce = self._nonce(wallet.address)
        signature = wallet.sign_typed_data(
            eip712_domain(self._transport.options.testnet),
            AUTHENTICATION_TYPES,
            {"walletAddress": wallet.address, "nonce": nonce},
        )
        body: dict[str, Any] = {"walletAddress": wallet.address, "signature": signature}
        source = (app_source or "").strip() or self._transport.options.app_source
        if source:
            body["appSource"] = source
        body["rememberMe"] = bool(remember_me)
        data = self._rest.post("/v1/account/login", json=body)
        return self._adopt_tokens(data, username)

    def create(
        self,
        username: str,
        email: str,
        password: str,
        *,
        subscribe: bool = False,
        turnstile_token: str | None = None,
        referral_code: str | None = None,
        app_source: str | None = None,
        remember_me: bool = False,
    ) -> LoginResult:
        """Create an account (EIP-712 ``Signup``) and sign in with it."""
        check_cleartext(self._transport.options, "a password login")
        _require_str("email", email)
        wallet = self.wallet(username, password)
        nonce = self._nonce(wallet.address)
        signed = {
            "appid": self._transport.options.app_id,
            "username": username,
            "email": email,
            "subscribe": 1 if subscribe else 0,
            "walletAddress": wallet.address,
            "nonce": nonce,
        }
        signature = wallet.sign_typed_data(
            eip712_domain(self._transport.options.testnet), SIGNUP_TYPES, signed
        )
        body: dict[str, Any] = {k: v for k, v in signed.items() if k != "nonce"}
        body["turnstileToken"] = turnstile_token
        source = (app_source or "").strip() or self._transport.options.app_source
        if source:
            body["appSource"] = source
        body["referralCode"] = referral_code
        body["signature"] = signature
        body["rememberMe"] = bool(remember_me)
        data = self._rest.post(
            "/v1/account/create", json={k: v for k, v in body.items() if v is not None}
        )
        return self._adopt_tokens(data, username)

    def _adopt_tokens(self, data: Any, username: str) -> LoginResult:
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            raise UnexpectedResponseError("/v1/account/login", "the server returned no token "
                                          f"(got {describe(data)})")
        self._auth.set_tokens(data["token"], data.get("refreshToken"))
        return LoginResult(
            username=data.get("username") or username,
            token=data["token"],
            refresh_token=data.get("refreshToken"),
        )

    def logout(self) -> None:
        """End the session on the server (401 tolerated) and forget local credentials."""
        try:
            self._rest.post("/v1/account/logout", json={})
        except ApiError as exc:
            if exc.status != 401:
                raise
            log.info("logout: the session had already ended")
        self._auth.forget()

    # -- account data -------------------------------------------------------------------------

    def me(self) -> Me:
        data = self._rest.get("/v1/account/me")
        me = structure(data, Me, "/v1/account/me")
        self._update(username=me.username, email=me.current_email, wallet_address=me.wallet_address)
        return me

    def account_balance(self) -> Balances:
        return balances_from_wire(self._rest.get("/v4/account/balance"))

    def refresh_balance(self) -> Balances:
        balance = self.account_balance()
        self._update(balance=balance)
        return balance

    def wallet_balance(
        self, wallet_address: str | None = None, provider: str = "base"
    ) -> WalletBalance:
        address = wallet_address or self._current.wallet_address
        address = _require_str("wallet_address", address)
        data = self._rest.get(
            "/v2/wallet/balance", params={"walletAddress": address, "provider": _provider(provider)}
        )
        if not isinstance(data, dict) or not {"sogni", "spark", "ether"} & data.keys():
            raise UnexpectedResponseError("/v2/wallet/balance", "expected {sogni, spark, ether}, "
                                          f"got {describe(data)}", payload=data)
        return structure(data, WalletBalance, "/v2/wallet/balance")

    def validate_username(self, username: str) -> UsernameCheck:
        _require_str("username", username)
        try:
            self._rest.post("/v1/account/username/validate", json={"username": username})
        except ApiError as exc:
            if exc.error_code == ERROR_USERNAME_TAKEN:
                return UsernameCheck(False, exc.message, exc.error_code)
            raise
        return UsernameCheck(True)

    def switch_network(self, network: str, *, timeout: float | None = 30.0) -> str:
        """Change the connection's default network and wait for the server's confirmation."""
        if network not in ("fast", "relaxed"):
            raise ValidationError(f"network must be 'fast' or 'relaxed', not {network!r}")
        with self._transport.lock:
            seq = self._network_seq
        self._update(network_status="switching", network=None)
        deadline = Deadline(timeout)
        self._transport.send("changeNetwork", network, timeout=deadline.remaining())
        transport = self._transport
        with transport.lock:
            ok = wait_for(
                self._changed,
                lambda: self._network_seq != seq or transport.closing.is_set(),
                deadline,
            )
            if transport.closing.is_set():
                raise ClientClosedError("the client was closed while switching networks")
            if not ok:
                raise TimeoutError("the server did not confirm the network change")
        return transport.network

    def transaction_history(
        self,
        *,
        address: str | None = None,
        limit: int = 100,
        offset: int = 0,
        status: str = "completed",
        provider: str | None = None,
    ) -> TransactionPage:
        address = _require_str("address", address or self._current.wallet_address)
        if not isinstance(limit, int) or limit <= 0:
            raise ValidationError("limit must be a positive integer")
        query: dict[str, Any] = {"status": status, "address": address, "limit": limit}
        if offset:
            query["offset"] = offset
        if provider:
            query["provider"] = _provider(provider)
        data = self._rest.get("/v1/transactions/list", params=query)
        rows = data.get("transactions") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise UnexpectedResponseError("/v1/transactions/list", "expected {transactions: "
                                          f"[...], next}}, got {describe(data)}", payload=data)
        entries = tuple(structure(tx, TxHistoryEntry, "/v1/transactions/list") for tx in rows)
        nxt = data.get("next")
        more = isinstance(nxt, (int, float)) and not isinstance(nxt, bool) and nxt > 0
        return TransactionPage(entries, int(nxt) if more and nxt else None)

    def rewards(self, provider: str | None = None) -> list[Reward]:
        query = {"provider": _provider(provider)} if provider else None
        data = self._rest.get("/v4/account/rewards", params=query)
        raw = data.get("rewards") if isinstance(data, dict) else None
        if not isinstance(raw, list):
            raise UnexpectedResponseError("/v4/account/rewards", "expected {rewards: [...]}, "
                                          f"got {describe(data)}", payload=data)
        return [reward_from_wire(r, provider or "base") for r in raw]

    def claim_rewards(
        self,
        reward_ids: Sequence[str],
        *,
        provider: str | None = None,
        turnstile_token: str | None = None,
    ) -> None:
        if isinstance(reward_ids, str) or not reward_ids:
            raise ValidationError("reward_ids must be a non-empty list of reward ids")
        body: dict[str, Any] = {"claims": list(reward_ids), "provider": _provider(provider)}
        if turnstile_token:
            body["turnstileToken"] = turnstile_token
        self._rest.post("/v3/account/reward/claim", json=body)

    # -- token moves (need the password to re-derive the wallet) --------------------------------

    def _own_wallet(self, password: str) -> Wallet:
        current = self._current
        if not current.username or not current.wallet_address:
            raise ValidationError("sign in (and let the account load) before moving tokens")
        wallet = self.wallet(current.username, password)
        if wallet.address.lower() != current.wallet_address.lower():
            raise ValidationError("Incorrect password: it does not derive this account's wallet")
        return wallet

    def _sign_permit(self, wallet: Wallet, path: str, body: dict[str, Any]) -> tuple[str, Any]:
        permit = self._rest.post(path, json=body)
        if not isinstance(permit, dict) or not {"domain", "types", "message"} <= permit.keys():
            raise UnexpectedResponseError(path, "the server returned no permit to sign "
                                          f"(got {describe(permit)})")
        signature = wallet.sign_typed_data(permit["domain"], permit["types"], permit["message"])
        return signature, permit["message"]

    def withdraw(self, password: str, amount: float | int | str, provider: str = "base") -> None:
        wallet = self._own_wallet(password)
        body = {
            "walletAddress": wallet.address,
            "amount": _wei(amount),
            "provider": _provider(provider),
        }
        signature, _ = self._sign_permit(wallet, "/v1/account/token/withdraw/permit", body)
        self._rest.post("/v2/account/token/withdraw", json={**body, "signature": signature})

    def approve_token_usage(
        self, password: str, spender: str = "account", provider: str = "base"
    ) -> None:
        if spender not in ("account", "staker"):
            raise ValidationError("spender must be 'account' or 'staker'")
        wallet = self._own_wallet(password)
        body = {
            "walletAddress": wallet.address,
            "spender": spender,
            "provider": _provider(provider),
        }
        signature, message = self._sign_permit(wallet, "/v1/contract/token/approve/permit", body)
        deadline = message.get("deadline") if isinstance(message, dict) else None
        self._rest.post(
            "/v1/contract/token/approve",
            json={**body, "deadline": deadline, "approveSignature": signature},
        )

    def deposit(self, password: str, amount: float | int | str, provider: str = "base") -> None:
        """Deposit tokens; on "insufficient allowance" approve once, wait 10 s and retry."""
        wallet = self._own_wallet(password)
        body = {
            "walletAddress": wallet.address,
            "amount": _wei(amount),
            "provider": _provider(provider),
        }
        for attempt in range(1, MAX_DEPOSIT_ATTEMPTS + 1):
            try:
                self._rest.post("/v3/account/token/deposit", json=body)
                return
            except ApiError as exc:
                if (
                    exc.error_code != ERROR_INSUFFICIENT_ALLOWANCE
                    or attempt == MAX_DEPOSIT_ATTEMPTS
                ):
                    raise
                if attempt == 1:
                    self.approve_token_usage(password, "account", provider)
                if self._transport.closing.wait(10.0):
                    raise ClientClosedError("the client was closed during a deposit") from None


class StatsApi:
    """``client.stats``: the public leaderboard."""

    TYPES = frozenset(
        {
            "renderUSDCompleteWorker", "renderUSDCompleteArtist", "renderSecCompleteWorker",
            "renderSecCompleteArtist", "renderTokenCompleteWorker", "renderTokenCompleteWorker2",
            "renderTokenCompleteArtist", "renderTokenCompleteArtist2", "jobCompleteWorker",
            "jobCompleteArtist", "projectCompleteArtist", "uloginWorker", "uloginArtist",
            "tokenVolume", "referral",
        }
    )  # fmt: skip

    def __init__(self, transport: RestAccess) -> None:
        self._rest = transport.rest

    def leaderboard(
        self,
        type: str,
        period: str = "day",
        *,
        username: str | None = None,
        network: str | None = None,
        page: int | None = None,
        limit: int | None = None,
        date: int | None = None,
        address: str | None = None,
    ) -> list[LeaderboardEntry]:
        if type not in self.TYPES:
            raise ValidationError(f"unknown leaderboard type {type!r}")
        if period not in ("day", "lifetime"):
            raise ValidationError("period must be 'day' or 'lifetime'")
        if network not in (None, "fast", "relaxed", "all"):
            raise ValidationError("network must be 'fast', 'relaxed' or 'all'")
        params = {
            "type": type, "period": period, "username": username, "network": network,
            "page": page, "limit": limit, "date": date, "address": address,
        }  # fmt: skip
        data = self._rest.get("/v1/leaderboard/", params=params)
        if not isinstance(data, list):
            raise UnexpectedResponseError("/v1/leaderboard/", "expected a list of rows, got "
                                          f"{describe(data)}", payload=data)
        return [structure(row, LeaderboardEntry, "/v1/leaderboard/") for row in data]
