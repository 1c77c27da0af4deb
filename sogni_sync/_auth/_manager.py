"""Holds the client's credential (API key or JWT pair) and keeps tokens fresh.

Token refresh is single-flight and happens on the thread that needs a header (a REST caller, or
the socket thread between connections), a minute before the access token's ``exp``; a 401 forces
one refresh. The handshake-header path only reads memory. Secrets never reach logs or reprs.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sogni_sync._config import check_cleartext
from sogni_sync._transport.rest import RestClient
from sogni_sync.errors import ApiError, AuthenticationError

__all__ = ["AuthManager", "jwt_expiry"]

log = logging.getLogger(__name__)

REFRESH_MARGIN = 60.0


def _claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def jwt_expiry(token: str) -> float | None:
    """``exp`` (epoch seconds) of a JWT, decoded without verification; None if absent/bad."""
    return _number(_claims(token).get("exp"))


def _refresh_margin(token: str) -> float:
    """Refresh a minute early, or a tenth of the token's lifetime for short-lived tokens."""
    claims = _claims(token)
    exp, iat = _number(claims.get("exp")), _number(claims.get("iat"))
    if exp is not None and iat is not None and exp > iat:
        return min(REFRESH_MARGIN, (exp - iat) / 10)
    return REFRESH_MARGIN


class AuthManager:
    """Credential holder implementing the transport's ``CredentialsProvider``."""

    def __init__(self, rest: RestClient) -> None:
        self._rest = rest
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._api_key: str | None = None
        self._token: str | None = None
        self._refresh_token: str | None = None
        self._token_exp: float | None = None
        self._margin = REFRESH_MARGIN
        self._refresh_exp: float | None = None
        self._listeners: list[Callable[[bool], None]] = []

    def __repr__(self) -> str:
        return f"AuthManager(mode={self.mode!r})"

    # -- state --------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """``"api_key"``, ``"token"`` or ``"none"``."""
        with self._lock:
            if self._api_key:
                return "api_key"
            if self._refresh_token or self._token:
                return "token"
            return "none"

    @property
    def is_authenticated(self) -> bool:
        with self._lock:
            if self._api_key:
                return True
            if self._refresh_token:
                return self._refresh_exp is None or self._refresh_exp > time.time()
            return self._token is not None and not _expired(self._token_exp, 0)

    @property
    def api_key(self) -> str | None:
        with self._lock:
            return self._api_key

    @property
    def tokens(self) -> tuple[str | None, str | None]:
        """Current ``(token, refresh_token)`` so an application can persist the session."""
        with self._lock:
            return self._token, self._refresh_token

    def add_listener(self, fn: Callable[[bool], None]) -> None:
        """``fn(authenticated)`` after credentials are set or forgotten."""
        self._listeners.append(fn)

    def set_api_key(self, api_key: str) -> None:
        check_cleartext(self._rest.options, "an API key")
        with self._lock:
            self._api_key = api_key
            self._token = self._refresh_token = None
            self._token_exp = self._refresh_exp = None
        self._notify(True)

    def set_tokens(self, token: str | None, refresh_token: str | None) -> None:
        check_cleartext(self._rest.options, "session tokens")
        with self._lock:
            self._api_key = None
            self._token = token
            self._refresh_token = refresh_token
            self._token_exp = jwt_expiry(token) if token else None
            self._margin = _refresh_margin(token) if token else REFRESH_MARGIN
            self._refresh_exp = jwt_expiry(refresh_token) if refresh_token else None
        self._notify(True)

    def after_fork(self) -> None:
        """In a forked child: locks a parent thread may have held at the fork start over
        (the credential itself is kept: the child signs in as the parent did)."""
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()

    def forget(self) -> None:
        """Drop every credential (logout, 4021, failed refresh)."""
        with self._lock:
            had = bool(self._api_key or self._token or self._refresh_token)
            self._api_key = self._token = self._refresh_token = None
            self._token_exp = self._refresh_exp = None
        if had:
            self._notify(False)

    # -- CredentialsProvider ------------------------------------------------------------------

    def rest_headers(self) -> dict[str, str]:
        self.ensure_fresh()
        with self._lock:
            if self._api_key:
                return {"api-key": self._api_key}
            if self._token:
                return {"Authorization": self._token}
        return {}

    def socket_headers(self) -> list[str]:
        with self._lock:
            if self._api_key:
                return [f"api-key: {self._api_key}"]
            if self._token:
                return [f"Authorization: {self._token}"]
        return []

    def prepare_connect(self, timeout: float) -> None:
        self.ensure_fresh(timeout=timeout)

    def handle_unauthorized(self) -> bool:
        with self._lock:
            can_refresh = self._refresh_token is not None and self._api_key is None
            stale = self._token
        if not can_refresh:
            return False
        try:
            self.refresh(only_if_token=stale)
        except AuthenticationError:
            return False
        return True

    # -- refresh ------------------------------------------------------------------------------

    def ensure_fresh(self, timeout: float | None = None) -> None:
        with self._lock:
            needed = (
                self._api_key is None
                and self._refresh_token is not None
                and (self._token is None or _expired(self._token_exp, self._margin))
            )
            stale = self._token
        if needed:
            self.refresh(only_if_token=stale, timeout=timeout)

    def refresh(self, *, only_if_token: str | None = None, timeout: float | None = None) -> None:
        """Exchange the refresh token for a new pair (rotation supported).

        Concurrent callers share one request: whoever waited on the lock sees the new token and
        returns. Server rejection forgets the credentials and raises AuthenticationError.
        """
        with self._refresh_lock:
            with self._lock:
                if only_if_token is not None and self._token != only_if_token:
                    return  # somebody else refreshed meanwhile
                refresh_token = self._refresh_token
                refresh_exp = self._refresh_exp
            if refresh_token is None:
                raise AuthenticationError("not logged in", status=401)
            if _expired(refresh_exp, 0):
                self.forget()
                raise AuthenticationError("Refresh token expired", status=401)
            log.debug("refreshing the access token")
            try:
                data: Any = self._rest.post(
                    "/v1/account/refresh-token",
                    json={"refreshToken": refresh_token},
                    auth=False,
                    timeout=timeout,
                )
            except ApiError as exc:
                log.warning("token refresh rejected (HTTP %s); logged out", exc.status)
                self.forget()
                raise AuthenticationError(
                    f"session refresh failed: {exc.message}", status=exc.status or 401
                ) from None
            if not isinstance(data, dict) or not isinstance(data.get("token"), str):
                self.forget()
                raise AuthenticationError("session refresh returned no token", status=401)
            with self._lock:
                self._token = data["token"]
                self._token_exp = jwt_expiry(data["token"])
                self._margin = _refresh_margin(data["token"])
                new_refresh = data.get("refreshToken")
                if isinstance(new_refresh, str) and new_refresh:
                    self._refresh_token = new_refresh
                    self._refresh_exp = jwt_expiry(new_refresh)

    def _notify(self, authenticated: bool) -> None:
        for fn in list(self._listeners):
            try:
                fn(authenticated)
            except Exception:
                log.exception("auth listener failed")


def _expired(exp: float | None, margin: float) -> bool:
    return exp is not None and exp - margin <= time.time()
