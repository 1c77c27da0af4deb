"""What went wrong with an HTTP call or a socket connection, as one of our errors.

Every exception a REST call can meet on the way — ``requests``' and urllib3's exceptions, a reset
in the middle of a body (``ChunkedEncodingError``), ``OSError``, ``http.client`` errors, TLS
failures — leaves the REST client as a :class:`~sogni_sync.errors.SogniError` subclass, with
the original kept as ``__cause__`` (its text redacted when the URL carries a signed query).
:func:`close_error` says which ends of a socket connection are final (rejected credentials, a
takeover by another connection, a refusal by the server) and which a reconnect may mend.
"""

from __future__ import annotations

import builtins
import email.utils
import http.client
import math
import ssl
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import requests
import urllib3.exceptions

from sogni_sync.errors import (
    ApiError,
    AuthenticationError,
    ConnectionLostError,
    ConnectionTakenOverError,
    InsufficientFundsApiError,
    NotFoundError,
    RateLimitError,
    ServerError,
    SogniError,
    TimeoutError,
    TLSError,
    ValidationError,
)

if TYPE_CHECKING:
    from sogni_sync._transport.socket import CloseInfo

__all__ = ["TAKEOVER_HELP", "TransportFailure", "close_error", "error_for_status", "failure_for",
           "parse_retry_after"]

TAKEOVER_HELP = (
    "another connection with the same app id {app_id!r} took over this client's socket "
    "(close 4015): app ids must be unique per process. Leave app_id (and SOGNI_APP_ID) unset "
    "to get a fresh one per process, or make each process's own (e.g. add os.getpid()). "
    "This client does not reconnect by itself: call connect() to take the connection back; "
    "until then every call that needs the socket raises this error."
)

#: what a transport failure can be raised as (anything else is a bug and propagates)
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError,
)


#: raised before any byte leaves: the URL or a header is unusable (never worth a retry)
_REFUSED_LOCALLY = (
    requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader,
    urllib3.exceptions.LocationParseError,
)


class TransportFailure(Exception):
    """Stands in as ``__cause__`` for a failure whose text quoted a signed URL."""


def parse_retry_after(value: Any, cap: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date."""
    if value is None or value == "":
        return None
    seconds: float | None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        try:
            when = email.utils.parsedate_to_datetime(str(value))
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    seconds = max(0.0, seconds)
    return min(seconds, cap) if cap is not None else seconds


def _body_retry_after(value: Any) -> float | None:
    """The body's ``retryAfter``: a finite number of seconds ≥ 0, else nothing."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def error_for_status(status: int, body: Any, headers: Mapping[str, str], text: str) -> ApiError:
    """The error for a non-2xx answer: message, ``errorCode``, ``retryAfter`` (the body's, else
    the ``Retry-After`` header) and ``details`` (an object) from the body when present; a
    plain-text body is the message."""
    message = ""
    error_code: int | None = None
    retry_after: float | None = None
    details: dict[str, Any] | None = None
    if (isinstance(body, dict) and "message" not in body and body.get("status") != "error"
            and isinstance(body.get("data"), dict)):
        body = body["data"]  # some hosts (creative workflows) nest the error in data
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):
            message = body["message"]
        code: Any = body.get("errorCode")
        numeric = isinstance(code, (int, float)) and not isinstance(code, bool)
        if numeric or (isinstance(code, str) and code.isdigit()):
            error_code = int(code)
        retry_after = _body_retry_after(body.get("retryAfter"))
        if isinstance(body.get("details"), dict):
            details = dict(body["details"])
    if retry_after is None:
        retry_after = parse_retry_after(headers.get("Retry-After"))
    if not message:
        message = text.strip()[:200] if body is None and text.strip() else f"HTTP {status}"
    kw: dict[str, Any] = {"status": status, "error_code": error_code, "payload": body,
                          "retry_after": retry_after, "details": details}
    if status == 401:
        return AuthenticationError(message, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    if status == 429:
        return RateLimitError(message, **kw)
    if status >= 500:
        return ServerError(message, **kw)
    if error_code == 123:
        return InsufficientFundsApiError(message, **kw)
    return ApiError(message, **kw)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc``, its causes/contexts and the reasons urllib3 and requests wrap inside args."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 16:
        item = todo.pop()
        if any(item is s for s in seen):
            continue
        seen.append(item)
        todo.extend(e for e in (item.__cause__, item.__context__, getattr(item, "reason", None))
                    if isinstance(e, BaseException))
        todo.extend(a for a in item.args if isinstance(a, BaseException))
    return seen


def never_sent(exc: BaseException) -> bool:
    """True when the failure happened before a connection existed, so no byte left."""
    return any(isinstance(e, (urllib3.exceptions.NewConnectionError,
                              urllib3.exceptions.ConnectTimeoutError, requests.ConnectTimeout))
               for e in _chain(exc))


def tls_failure(exc: BaseException) -> TLSError | None:
    """A :class:`TLSError` when ``exc`` is a failed TLS handshake (terminal), else None."""
    chain = _chain(exc)
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        detail = next(str(e.verify_message) for e in chain
                      if isinstance(e, ssl.SSLCertVerificationError))
        return TLSError(f"the server's TLS certificate failed verification ({detail}); check "
                        "the endpoint, or the CA bundle (REQUESTS_CA_BUNDLE for REST, "
                        "WEBSOCKET_CLIENT_CA_BUNDLE for the socket)")
    if any(isinstance(e, requests.exceptions.SSLError) for e in chain):
        inner = next((e for e in chain if isinstance(e, ssl.SSLError)), exc)
        return TLSError(f"TLS could not be negotiated with the server ({type(inner).__name__})")
    return None


def failure_for(exc: BaseException, what: str, *, timed_out: bool, redact: bool,
                tls: bool = True) -> SogniError:
    """Our error for a transport failure of ``what`` (``"GET https://h/path"``).

    ``timed_out``: the call's own deadline cut it; ``tls``: a TLS error here is a failed
    handshake (False while reading a body: TLS errors there are broken transfers). The
    original is kept as ``__cause__`` (a :class:`TransportFailure` with its type only when
    ``redact``: signed URLs in the text).
    """
    error: SogniError
    if isinstance(exc, _REFUSED_LOCALLY):
        error = ValidationError(f"{what} cannot be sent: {type(exc).__name__}")
    elif timed_out:
        error = TimeoutError(f"{what} did not finish in time")
    elif tls and (failed := tls_failure(exc)) is not None:
        error = failed
    elif isinstance(exc, (requests.Timeout, builtins.TimeoutError,
                          urllib3.exceptions.TimeoutError)):
        error = TimeoutError(f"{what} timed out ({type(exc).__name__})")
    else:
        error = ConnectionLostError(f"{what} failed: {type(exc).__name__}")
    error.__cause__ = TransportFailure(type(exc).__name__) if redact else exc
    return error


def close_error(info: CloseInfo, app_id: str) -> SogniError | None:
    """The terminal error for how a socket connection ended, or None when a reconnect may help."""
    code = info.code
    if isinstance(info.error, AuthenticationError):
        return info.error  # e.g. the session could not be refreshed before connecting
    if info.error is not None and (tls := tls_failure(info.error)) is not None:
        return tls  # a certificate that failed verification will not pass on a retry
    if info.handshake_status in (401, 403) or code == 4021:
        return AuthenticationError(
            "the Supernet rejected the credentials (socket "
            f"{'close 4021' if code == 4021 else f'handshake {info.handshake_status}'})",
            status=401,
            error_code=code,
        )
    if code == 4015:
        return ConnectionTakenOverError(
            TAKEOVER_HELP.format(app_id=app_id), code=code, reason=info.reason
        )
    if code is not None and 4000 <= code <= 4999:
        return ConnectionLostError(
            f"the Supernet closed the socket (code {code}: {info.reason or 'no reason'})",
            code=code,
            reason=info.reason,
        )
    return None
