"""HTTP to the REST host (enveloped JSON) and the socket host's ``/api/...`` (bare JSON).

One :class:`requests.Session` is shared by every thread: its connection pool is thread-safe,
and nothing mutates the session after construction — auth headers are passed per call and the
cookie jar refuses all cookies, so concurrent calls never write shared state.
"""

from __future__ import annotations

import builtins
import email.utils
import http.client
import logging
import os
import random
import threading
import time
from collections.abc import Iterator, Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import IO, Any, BinaryIO, Literal
from urllib.parse import urlencode, urlsplit

import requests
import tenacity
from requests.adapters import HTTPAdapter

from sogni_sync._config import ClientOptions
from sogni_sync._convert import js_number
from sogni_sync._transport.credentials import Anonymous, CredentialsProvider
from sogni_sync._transport.keepalive import KeepAlive
from sogni_sync._version import __version__
from sogni_sync.errors import (
    ApiError,
    AuthenticationError,
    ClientClosedError,
    ConnectionLostError,
    InsufficientFundsError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TimeoutError,
)

__all__ = ["RestClient", "format_query", "http_base", "parse_retry_after"]

log = logging.getLogger(__name__)

Host = Literal["rest", "socket"]
Body = bytes | bytearray | memoryview | BinaryIO | IO[bytes] | os.PathLike[str] | str

_RETRY_STATUS = frozenset({502, 503, 504})
_CHAT_PATH = "/v1/chat/completions"


class _RedactQueryFilter(logging.Filter):
    """urllib3 logs request lines (``GET /path?query``) at DEBUG; presigned storage URLs carry
    their signature in the query, so those lines keep only the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(a, str) and "?" in a for a in record.args
        ):
            record.args = tuple(
                a.split("?", 1)[0] + "?…" if isinstance(a, str) and "?" in a else a
                for a in record.args
            )
        return True


_urllib3_log = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _RedactQueryFilter) for f in _urllib3_log.filters):
    _urllib3_log.addFilter(_RedactQueryFilter())


def http_base(endpoint: str) -> str:
    """Origin for HTTP calls: scheme+host+port only, so any path prefix is dropped (§1.2);
    ``ws`` → ``http``, ``wss`` (and anything else) → ``https``."""
    parts = urlsplit(endpoint)
    scheme = "http" if parts.scheme in ("ws", "http") else "https"
    return f"{scheme}://{parts.netloc}"


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None else _query_value(v) for v in value)
    return str(value)


def format_query(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Query pairs in the caller's order with JS-style values; ``None`` values are skipped
    (later reference versions do the same; the seed's literal ``undefined`` is a bug)."""
    if not params:
        return []
    return [(str(k), _query_value(v)) for k, v in params.items() if v is not None]


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


def _error_for(status: int, body: Any, headers: Mapping[str, str], text: str) -> ApiError:
    message = ""
    error_code: int | None = None
    retry_hint: Any = headers.get("Retry-After")
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
        if retry_hint is None:
            retry_hint = body.get("retryAfter")
    if not message:
        message = text.strip()[:200] if body is None and text.strip() else f"HTTP {status}"
    kw: dict[str, Any] = {"status": status, "error_code": error_code, "payload": body}
    if status == 401:
        return AuthenticationError(message, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    if status == 429:
        return RateLimitError(message, retry_after=parse_retry_after(retry_hint), **kw)
    if status >= 500:
        return ServerError(message, retry_after=parse_retry_after(retry_hint), **kw)
    if error_code == 123:
        return InsufficientFundsError(message, **kw)
    return ApiError(message, **kw)


_USER_AGENT = f"sogni-sync/{__version__}"


def _proxied(url: str, proxies: Mapping[str, str]) -> bool:
    scheme = urlsplit(url).scheme
    return bool(proxies.get(scheme) or proxies.get("all"))


class _Transient(Exception):
    """Wraps a connection failure so tenacity can tell it apart from API errors."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class RestClient:
    """Synchronous REST calls with the reference's conventions plus bounded retries."""

    def __init__(
        self,
        options: ClientOptions,
        *,
        closing: threading.Event | None = None,
        credentials: CredentialsProvider | None = None,
    ) -> None:
        self.options = options
        self.closing = closing or threading.Event()
        self.credentials: CredentialsProvider = credentials or Anonymous()
        self.rest_base = http_base(options.rest_endpoint)
        self.socket_base = http_base(options.socket_endpoint)
        session = requests.Session()
        # requests re-reads proxy and CA settings from the environment on every call (a scan of
        # all variables, twice): the hottest cost when minting thousands of result URLs. Read
        # them once instead: the CA bundle here, proxies per host in _proxies().
        session.trust_env = False
        self._verify: bool | str = (os.environ.get("REQUESTS_CA_BUNDLE")
                                    or os.environ.get("CURL_CA_BUNDLE") or True)
        session.verify = self._verify
        self._proxy_cache: dict[str, dict[str, str]] = {}
        self._keepalive = KeepAlive(self._verify)
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session

    def _proxies(self, url: str) -> dict[str, str]:
        """The environment's proxy settings for ``url``'s host (``no_proxy`` honoured), cached."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        proxies = self._proxy_cache.get(key)
        if proxies is None:
            proxies = requests.utils.get_environ_proxies(key)
            self._proxy_cache[key] = proxies
        return proxies

    # -- public API -------------------------------------------------------------------------

    def url(self, path: str, host: Host = "rest") -> str:
        if path.startswith(("http://", "https://")):
            return path
        base = self.socket_base if host == "socket" else self.rest_base
        return base + (path if path.startswith("/") else "/" + path)

    def request(
        self,
        method: str,
        path: str,
        *,
        host: Host = "rest",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        timeout: float | None = None,
        idempotent: bool | None = None,
        auth: bool = True,
        envelope: bool | None = None,
        headers: Mapping[str, str] | None = None,
        hot: bool = False,
    ) -> Any:
        """One API call; returns ``data`` of the REST envelope or the bare socket-host JSON.

        ``hot`` marks a latency-critical GET (result URL minting): it runs on a keep-alive
        connection owned by the calling thread (:mod:`.keepalive`) unless a proxy applies.
        """
        method = method.upper()
        if envelope is None:
            envelope = host == "rest" and path != _CHAT_PATH
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "OPTIONS")
        if timeout is None:
            timeout = (
                self.options.chat_timeout if path == _CHAT_PATH else self.options.request_timeout
            )
        if method in ("POST", "PUT", "PATCH") and json is None:
            json = {}
        url = self.url(path, host)
        query = format_query(params)

        def attempt() -> Any:
            response = self._send(method, url, query, json, timeout, auth, headers, direct=True,
                                  hot=hot and method == "GET")
            try:
                return self._result(response, envelope)
            finally:
                response.close()

        return self._with_retries(attempt, idempotent, method, path)

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json=json, **kw)

    def put_presigned(
        self, url: str, body: Body, content_type: str | None = None, timeout: float | None = None
    ) -> None:
        """PUT raw bytes to a presigned storage URL: no Sogni auth header, files streamed."""
        self._check_open()
        headers = {"Content-Type": content_type} if content_type else {}
        where = _redact_url(url)
        try:
            if isinstance(body, (str, os.PathLike)):
                with open(body, "rb") as fh:
                    response = self._session.put(
                        url, data=fh, headers=headers, timeout=self._long_timeout(timeout),
                        proxies=self._proxies(url),
                    )
            else:
                data = bytes(body) if isinstance(body, (bytearray, memoryview)) else body
                response = self._session.put(
                    url, data=data, headers=headers, timeout=self._long_timeout(timeout),
                    proxies=self._proxies(url),
                )
        except requests.Timeout:
            raise TimeoutError(f"upload to {where} timed out") from None
        except requests.RequestException as exc:
            raise ConnectionLostError(f"upload to {where} failed: {type(exc).__name__}") from None
        with response:
            log.debug("PUT %s -> %s", where, response.status_code)
            if not 200 <= response.status_code < 300:
                raise ApiError(
                    f"Failed to upload to {where}",
                    status=response.status_code,
                    error_code=0,
                    payload={"status": "error", "errorCode": 0},
                )

    def get_bytes(self, url: str, timeout: float | None = None) -> bytes:
        """GET a (presigned) URL without auth headers and return the body."""

        def attempt() -> bytes:
            response = self._send("GET", url, [], None, self._long_timeout(timeout), False, None)
            with response:
                self._raise_for_status(response)
                return response.content

        result: bytes = self._with_retries(attempt, True, "GET", _redact_url(url))
        return result

    def stream_to(self, url: str, fileobj: IO[bytes], timeout: float | None = None) -> int:
        """Stream a (presigned) URL into ``fileobj``; returns the number of bytes written."""
        response = self._send_once(
            "GET", url, [], None, self._long_timeout(timeout), False, None, stream=True
        )
        written = 0
        with response:
            self._raise_for_status(response)
            for chunk in response.iter_content(chunk_size=64 * 1024):
                if self.closing.is_set():
                    raise ClientClosedError("the client was closed during a download")
                fileobj.write(chunk)
                written += len(chunk)
        return written

    def stream_lines(
        self,
        method: str,
        path: str,
        *,
        host: Host = "rest",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        timeout: float | None = None,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[str]:
        """Yield decoded lines of a streaming response (SSE) as soon as each line arrives."""
        method = method.upper()
        read_timeout = timeout  # None: an idle SSE stream may be quiet for a long time
        response = self._send_once(
            method,
            self.url(path, host),
            format_query(params),
            json if json is not None or method == "GET" else {},
            (self.options.request_timeout, read_timeout),
            auth,
            headers,
            stream=True,
        )
        if not 200 <= response.status_code < 300:
            with response:
                self._result(response, False)
        return self._iter_lines(response)

    def close(self) -> None:
        self._session.close()
        self._keepalive.close()

    # -- internals --------------------------------------------------------------------------

    def _iter_lines(self, response: requests.Response) -> Iterator[str]:
        raw = response.raw
        pending = b""
        try:
            while not self.closing.is_set():
                try:
                    chunk = raw.read1(64 * 1024, decode_content=True)
                except AttributeError:
                    chunk = raw.read(1, decode_content=True)
                except Exception as exc:
                    raise ConnectionLostError(f"stream broke: {type(exc).__name__}") from None
                if not chunk:
                    break
                pending += chunk
                while True:
                    cut = _line_end(pending)
                    if cut is None:
                        break
                    line, pending = pending[: cut[0]], pending[cut[1] :]
                    yield line.decode("utf-8", errors="replace")
            if pending and not self.closing.is_set():
                yield pending.decode("utf-8", errors="replace")
        finally:
            response.close()

    def _check_open(self) -> None:
        if self.closing.is_set():
            raise ClientClosedError("the client is closed")

    def _long_timeout(self, timeout: float | None) -> float | tuple[float, float]:
        return timeout if timeout is not None else (self.options.request_timeout, 300.0)

    def _send_direct(self, method: str, url: str, query: list[tuple[str, str]], json: Any,
                     headers: dict[str, str], timeout: Any) -> requests.Response:
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method, url=url, params=query or None, json=json,
                         headers={"User-Agent": _USER_AGENT, **headers})
        adapter = self._session.get_adapter(url)
        return adapter.send(prepared, timeout=timeout, verify=self._verify,
                            proxies=self._proxies(url))

    def _send_hot(self, url: str, query: list[tuple[str, str]], headers: dict[str, str],
                  timeout: Any) -> requests.Response:
        if query:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
        read = timeout[-1] if isinstance(timeout, tuple) else timeout
        return self._keepalive.get(url, {"User-Agent": _USER_AGENT, **headers}, float(read))

    def _send_once(self, *args: Any, **kw: Any) -> requests.Response:
        """``_send`` outside the retry loop: failures surface as our own errors, unwrapped."""
        try:
            return self._send(*args, **kw)
        except _Transient as exc:
            raise exc.error from None

    def _send(
        self,
        method: str,
        url: str,
        query: list[tuple[str, str]],
        json: Any,
        timeout: Any,
        auth: bool,
        headers: Mapping[str, str] | None,
        *,
        stream: bool = False,
        direct: bool = False,
        hot: bool = False,
    ) -> requests.Response:
        """Send once, and once more with fresh credentials after a 401 if auth can refresh.

        ``direct`` (API calls): straight to the connection pool, skipping requests' session
        layer (redirects, cookies, environment merging) that an API call never needs; it is
        half the client-side cost of a call such as minting a result URL.
        """
        self._check_open()
        where = _redact_url(url)
        for retry_auth in (True, False):
            call_headers = dict(headers or {})
            if auth:
                call_headers.update(self.credentials.rest_headers())
            started = time.monotonic()
            try:
                if hot and not _proxied(url, self._proxies(url)):
                    response = self._send_hot(url, query, call_headers, timeout)
                elif direct:
                    response = self._send_direct(method, url, query, json, call_headers, timeout)
                else:
                    response = self._session.request(
                        method,
                        url,
                        params=query or None,
                        json=json,
                        headers=call_headers,
                        timeout=timeout,
                        stream=stream,
                        proxies=self._proxies(url),
                    )
            except (requests.Timeout, builtins.TimeoutError) as exc:
                raise _Transient(TimeoutError(f"{method} {where} timed out")) from exc
            except (requests.RequestException, OSError, http.client.HTTPException) as exc:
                raise _Transient(
                    ConnectionLostError(f"{method} {where} failed: {type(exc).__name__}")
                ) from exc
            log.debug(
                "%s %s -> %s (%.0f ms)",
                method,
                where,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            unauthorized = response.status_code == 401 and auth and retry_auth
            if unauthorized and self.credentials.handle_unauthorized():
                response.close()
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _result(self, response: requests.Response, envelope: bool) -> Any:
        text = response.text
        body: Any = None
        parsed = False
        if text.strip():
            try:
                body = response.json()
                parsed = True
            except ValueError:
                parsed = False
        ok = 200 <= response.status_code < 300
        if not ok:
            raise _error_for(response.status_code, body if parsed else None, response.headers, text)
        if not parsed:
            if not text.strip():
                return None
            raise ApiError("Failed to parse response", status=response.status_code)
        if envelope and isinstance(body, dict):
            return body.get("data")
        return body

    def _raise_for_status(self, response: requests.Response) -> None:
        if not 200 <= response.status_code < 300:
            raise _error_for(response.status_code, None, response.headers, "")

    def _with_retries(self, fn: Any, idempotent: bool, method: str, path: str) -> Any:
        attempts = max(1, self.options.retry_attempts) if idempotent else 1

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info(
                "%s %s: %s; retry %d/%d in %.1fs",
                method,
                path.split("?", 1)[0],
                type(_unwrap(exc)).__name__ if exc else "error",
                state.attempt_number,
                attempts - 1,
                state.upcoming_sleep,
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception(_retryable),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(fn)
        except _Transient as exc:
            raise exc.error from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = _unwrap(state.outcome.exception() if state.outcome else None)
        hint = getattr(exc, "retry_after", None)
        cap = self.options.retry_max_wait
        if isinstance(hint, (int, float)):
            return min(float(hint), cap)
        backoff = 0.5 * 2 ** (state.attempt_number - 1)
        return min(backoff * (0.8 + 0.4 * random.random()), cap)

    def _sleep(self, seconds: float) -> None:
        if self.closing.wait(seconds):
            raise ClientClosedError("the client was closed while waiting to retry")


def _unwrap(exc: BaseException | None) -> BaseException | None:
    return exc.error if isinstance(exc, _Transient) else exc


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, _Transient):
        return True
    if isinstance(exc, RateLimitError):
        return True
    return isinstance(exc, ServerError) and exc.status in _RETRY_STATUS


def _line_end(buf: bytes) -> tuple[int, int] | None:
    """Position of the first line break (``\\n``, ``\\r\\n`` or a lone ``\\r``)."""
    lf = buf.find(b"\n")
    cr = buf.find(b"\r", 0, lf if lf >= 0 else len(buf))
    if cr >= 0:
        if cr + 1 == len(buf):
            return None  # wait: the next chunk may start with \n
        return (cr, cr + 2) if buf[cr + 1 : cr + 2] == b"\n" else (cr, cr + 1)
    return (lf, lf + 1) if lf >= 0 else None


def _redact_url(url: str) -> str:
    """Scheme, host and path only: presigned query strings are credentials."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path

