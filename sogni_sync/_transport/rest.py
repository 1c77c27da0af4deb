"""HTTP to the REST host (enveloped JSON) and the socket host's ``/api/...`` (bare JSON).

One :class:`requests.Session` is shared by every thread: its connection pool is thread-safe,
and nothing mutates the session after construction — auth headers are passed per call and the
cookie jar refuses all cookies, so concurrent calls never write shared state.
"""

from __future__ import annotations

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

from sogni_sync._config import ClientOptions
from sogni_sync._transport.calls import Call, CallGuard, GuardedAdapter
from sogni_sync._transport.credentials import Anonymous, CredentialsProvider
from sogni_sync._transport.envelope import too_deep
from sogni_sync._transport.failures import (
    TRANSPORT_ERRORS,
    TransportFailure,
    error_for_status,
    failure_for,
    never_sent,
    parse_retry_after,
)
from sogni_sync._transport.keepalive import KeepAlive
from sogni_sync._transport.paths import check_path, format_query, http_base, redact_url
from sogni_sync._transport.proxy import require_socks
from sogni_sync._version import __version__
from sogni_sync.errors import (
    ApiError,
    ClientClosedError,
    ConnectionLostError,
    RateLimitError,
    ServerError,
    SogniError,
    TimeoutError,
    TLSError,
    UnexpectedResponseError,
    ValidationError,
)

__all__ = ["RestClient", "format_query", "http_base", "parse_retry_after"]

log = logging.getLogger(__name__)

Host = Literal["rest", "socket"]
Body = bytes | bytearray | memoryview | BinaryIO | IO[bytes] | os.PathLike[str] | str

_RETRY_STATUS = frozenset({502, 503, 504})


_USER_AGENT = f"sogni-sync/{__version__}"


def _proxied(url: str, proxies: Mapping[str, str]) -> bool:
    scheme = urlsplit(url).scheme
    return bool(proxies.get(scheme) or proxies.get("all"))


class _Transient(Exception):
    """Wraps a transport failure a retry may cure; ``sent``: bytes of the request may have
    left (a non-idempotent call is then never sent again)."""

    def __init__(self, error: SogniError, *, sent: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.sent = sent


class RestClient:
    """Synchronous REST calls with the reference's conventions plus bounded retries.

    Every call has one overall deadline (``timeout``, else ``request_timeout``; downloads:
    their ``timeout``) covering connect, every attempt, retry waits and the whole body, and
    :meth:`interrupt` (``close()``) cuts calls in flight, which raise ``ClientClosedError``.
    """

    def __init__(
        self,
        options: ClientOptions,
        *,
        closing: threading.Event | None = None,
        credentials: CredentialsProvider | None = None,
    ) -> None:
        self.credentials: CredentialsProvider = credentials or Anonymous()
        self.rest_base = http_base(options.rest_endpoint)
        self.socket_base = http_base(options.socket_endpoint)
        require_socks(options.proxy)
        self.reset(options, closing or threading.Event())

    def reset(self, options: ClientOptions, closing: threading.Event) -> None:
        """New connection pools, keep-alive connections and deadline thread (a forked child
        must never read or write the parent's sockets); the old ones are only dropped."""
        self.options = options
        self.closing = closing
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
        self._guard = CallGuard()
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = GuardedAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session

    def _proxies(self, url: str) -> dict[str, str]:
        """The environment's proxy settings for ``url``'s host (``no_proxy`` honoured), cached."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        proxies = self._proxy_cache.get(key)
        if proxies is None:
            if self.options.proxy:
                proxies = {"http": self.options.proxy, "https": self.options.proxy}
            else:
                proxies = requests.utils.get_environ_proxies(key)
                require_socks(proxies.get(parts.scheme) or proxies.get("all"))
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
        """One API call; returns ``data`` of the REST envelope or the bare socket-host JSON
        (``envelope=False``: the bare JSON of a REST endpoint that answers without one).

        ``timeout`` (default ``request_timeout``) bounds the whole call, retries included.
        Idempotent calls are retried on transport failures, 429 and 502-504 while time is
        left; others only when nothing was sent. ``hot`` marks a latency-critical GET (result
        URL minting): it runs on a keep-alive connection owned by the calling thread
        (:mod:`.keepalive`) unless a proxy applies.
        """
        method = method.upper()
        if not path.startswith(("http://", "https://")):
            check_path(path)
        if envelope is None:
            envelope = host == "rest"
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "OPTIONS")
        if timeout is None:
            timeout = self.options.request_timeout
        if method in ("POST", "PUT", "PATCH") and json is None:
            json = {}
        url = self.url(path, host)
        query = format_query(params)
        hot = hot and method == "GET"
        with self._guard.track(_deadline(timeout)) as call:

            def attempt() -> Any:
                response = self._send(method, url, query, json, call, auth, headers,
                                      direct=True, hot=hot)
                try:
                    return self._result(response, envelope, call, method, url)
                finally:
                    response.close()

            return self._with_retries(attempt, idempotent, method, path, call)

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json=json, **kw)

    def put_presigned(self, url: str, body: Body, content_type: str | None = None,
                      timeout: float | None = None, *,
                      headers: Mapping[str, str] | None = None) -> None:
        """PUT raw bytes to a presigned storage URL: no Sogni auth header, files streamed;
        ``headers`` are those the URL was signed with. ``timeout`` bounds the whole upload
        (default: none; a stall of 300 s fails it)."""
        sent = {**({"Content-Type": content_type} if content_type else {}), **(headers or {})}
        where = redact_url(url)
        with self._guard.track(_deadline(timeout)) as call:
            if isinstance(body, (str, os.PathLike)):
                with open(body, "rb") as fh:
                    response = self._send_once("PUT", url, [], None, call, False, sent,
                                               data=fh, idle=_IDLE)
            else:
                data = bytes(body) if isinstance(body, (bytearray, memoryview)) else body
                response = self._send_once("PUT", url, [], None, call, False, sent,
                                           data=data, idle=_IDLE)
        with response:
            if not 200 <= response.status_code < 300:
                raise ApiError(f"Failed to upload to {where}", status=response.status_code,
                               error_code=0, payload={"status": "error", "errorCode": 0})

    def get_bytes(self, url: str, timeout: float | None = None) -> bytes:
        """GET a (presigned) URL without auth headers and return the body; ``timeout`` bounds
        the whole download, retries included (default: none; a 300 s stall fails it)."""
        with self._guard.track(_deadline(timeout)) as call:

            def attempt() -> bytes:
                response = self._send("GET", url, [], None, call, False, None, stream=True,
                                      idle=_IDLE)
                with response:
                    self._raise_for_status(response)
                    return self._read_body(response, call, f"GET {redact_url(url)}", url)

            result: bytes = self._with_retries(attempt, True, "GET", redact_url(url), call)
            return result

    def stream_to(self, url: str, fileobj: IO[bytes], timeout: float | None = None) -> int:
        """Stream a (presigned) URL into ``fileobj``; returns the number of bytes written.

        ``timeout`` bounds the whole download (default: none; a 300 s stall fails it). A
        broken transfer is retried from the start when ``fileobj`` can seek back."""
        start = fileobj.tell() if fileobj.seekable() else None
        what = f"GET {redact_url(url)}"
        with self._guard.track(_deadline(timeout)) as call:

            def attempt() -> int:
                if start is not None:
                    fileobj.seek(start)
                    fileobj.truncate()
                response = self._send("GET", url, [], None, call, False, None, stream=True,
                                      idle=_IDLE)
                written = 0
                with response:
                    self._raise_for_status(response)
                    try:
                        for chunk in response.iter_content(chunk_size=64 * 1024):
                            if self.closing.is_set():
                                raise ClientClosedError("the client was closed during a download")
                            fileobj.write(chunk)
                            written += len(chunk)
                    except TRANSPORT_ERRORS as exc:
                        raise self._failure(exc, call, what, url, sent=True, body=True) from None
                    if call.cut:
                        raise self._failure(_Cut(), call, what, url, sent=True, body=True)
                return written

            result: int = self._with_retries(attempt, start is not None, "GET", what, call)
            return result

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
        """Yield decoded lines of a streaming response (SSE) as soon as each line arrives.
        ``timeout`` bounds the silence between reads (None: an idle stream may be quiet)."""
        method = method.upper()
        check_path(path)
        call = self._guard.open(None)
        try:
            with self._guard.bind(call):
                response = self._send_once(
                    method,
                    self.url(path, host),
                    format_query(params),
                    json if json is not None or method == "GET" else {},
                    call,
                    auth,
                    headers,
                    stream=True,
                    idle=timeout,
                )
            if not 200 <= response.status_code < 300:
                with response:
                    self._result(response, False, call, method, path)
        except BaseException:
            self._guard.finish(call)
            raise
        return self._iter_lines(response, call)

    def interrupt(self) -> None:
        """Cut every call in flight now: each raises ``ClientClosedError`` (``close()``)."""
        self._guard.close()

    def close(self) -> None:
        self._guard.close()
        self._session.close()
        self._keepalive.close()

    # -- internals --------------------------------------------------------------------------

    def _iter_lines(self, response: requests.Response, call: Call) -> Iterator[str]:
        raw = response.raw
        pending = b""
        try:
            while not self.closing.is_set():
                try:
                    chunk = raw.read1(64 * 1024, decode_content=True)
                except AttributeError:
                    chunk = raw.read(1, decode_content=True)
                except Exception as exc:
                    if self.closing.is_set():
                        return
                    raise ConnectionLostError(f"stream broke: {type(exc).__name__}") from exc
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
            self._guard.finish(call)

    def _check_open(self) -> None:
        if self.closing.is_set():
            raise ClientClosedError("the client is closed")

    def _timeouts(self, call: Call, idle: float | None, what: str
                  ) -> tuple[float, float | None]:
        """(connect, read) socket timeouts: never beyond the call's deadline."""
        connect = self.options.request_timeout
        left = call.remaining()
        if left is not None:
            if left <= 0:
                raise TimeoutError(f"{what} did not finish in time")
            connect = min(connect, left)
            idle = left if idle is None else min(idle, left)
        return connect, idle

    def _failure(self, exc: BaseException, call: Call, what: str, url: str, *,
                 sent: bool, body: bool = False) -> Exception:
        """What to raise for a transport failure: ClientClosedError after close(), a
        terminal error (deadline passed, TLS), or a :class:`_Transient` to retry."""
        redact = "?" in url and url.startswith(("http://", "https://"))
        if call.closed or self.closing.is_set():
            closed = ClientClosedError(f"{what} was interrupted: the client was closed")
            closed.__cause__ = TransportFailure(type(exc).__name__) if redact else exc
            return closed
        left = call.remaining()
        timed_out = call.expired or (left is not None and left <= 0)
        error = failure_for(exc, what, timed_out=timed_out, redact=redact, tls=not body)
        if timed_out or isinstance(error, (TLSError, ValidationError)):
            return error
        return _Transient(error, sent=sent)

    def _send_direct(self, method: str, url: str, query: list[tuple[str, str]], json: Any,
                     headers: dict[str, str], timeout: Any) -> requests.Response:
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method, url=url, params=query or None, json=json,
                         headers={"User-Agent": _USER_AGENT, **headers})
        adapter = self._session.get_adapter(url)
        return adapter.send(prepared, timeout=timeout, verify=self._verify,
                            proxies=self._proxies(url))

    def _send_hot(self, url: str, query: list[tuple[str, str]], headers: dict[str, str],
                  timeout: tuple[float, float | None]) -> requests.Response:
        if query:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
        read = timeout[1] if timeout[1] is not None else self.options.request_timeout
        return self._keepalive.get(url, {"User-Agent": _USER_AGENT, **headers}, read)

    def _send_once(self, *args: Any, **kw: Any) -> requests.Response:
        """``_send`` outside the retry loop: failures surface as our own errors, unwrapped."""
        try:
            return self._send(*args, **kw)
        except _Transient as exc:
            raise exc.error from exc.error.__cause__

    def _send(
        self,
        method: str,
        url: str,
        query: list[tuple[str, str]],
        json: Any,
        call: Call,
        auth: bool,
        headers: Mapping[str, str] | None,
        *,
        stream: bool = False,
        direct: bool = False,
        hot: bool = False,
        idle: float | None = None,
        data: Any = None,
    ) -> requests.Response:
        """Send once, and once more with fresh credentials after a 401 if auth can refresh.

        ``direct`` (API calls): straight to the connection pool, skipping requests' session
        layer (redirects, cookies, environment merging) that an API call never needs; it is
        half the client-side cost of a call such as minting a result URL. ``idle`` bounds
        one socket read when the call has no deadline.
        """
        self._check_open()
        where = redact_url(url)
        what = f"{method} {where}"
        for retry_auth in (True, False):
            call_headers = dict(headers or {})
            if auth:
                call_headers.update(self.credentials.rest_headers())
            timeout = self._timeouts(call, idle, what)
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
                        data=data,
                        headers=call_headers,
                        timeout=timeout,
                        stream=stream,
                        proxies=self._proxies(url),
                    )
            except TRANSPORT_ERRORS as exc:
                raise self._failure(exc, call, what, url, sent=not never_sent(exc)) from None
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

    def _result(self, response: requests.Response, envelope: bool, call: Call, method: str,
                url: str) -> Any:
        self._read_body(response, call, f"{method} {redact_url(url)}", url)
        text = response.text
        body: Any = None
        parsed = False
        if too_deep(text):  # the decoder's recursion could overflow the C stack
            raise UnexpectedResponseError(redact_url(url), "the body is nested too deeply",
                                          status=response.status_code)
        if text.strip():
            try:
                body = response.json()
                parsed = True
            except ValueError:
                parsed = False
        ok = 200 <= response.status_code < 300
        if not ok:
            raise error_for_status(response.status_code, body if parsed else None,
                                   response.headers, text)
        if not parsed:
            if not text.strip():
                return None
            raise UnexpectedResponseError(redact_url(url), "Failed to parse response: the "
                                          "body is not JSON", status=response.status_code)
        if envelope and isinstance(body, dict):
            return body.get("data")
        return body

    def _read_body(self, response: requests.Response, call: Call, what: str, url: str) -> bytes:
        """The whole body; a reset mid-body, or a call cut by its deadline or ``close()``
        (whose read may end early without an error), raises."""
        try:
            content = response.content
        except TRANSPORT_ERRORS as exc:
            raise self._failure(exc, call, what, url, sent=True, body=True) from None
        if call.cut:
            raise self._failure(_Cut(), call, what, url, sent=True, body=True)
        return content

    def _raise_for_status(self, response: requests.Response) -> None:
        if not 200 <= response.status_code < 300:
            raise error_for_status(response.status_code, None, response.headers, "")

    def _with_retries(self, fn: Any, idempotent: bool, method: str, path: str,
                      call: Call) -> Any:
        attempts = max(1, self.options.retry_attempts)

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

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= attempts:
                return True
            left = call.remaining()  # a wait that ends past the deadline is not worth it
            return left is not None and state.upcoming_sleep >= left

        retrying = tenacity.Retrying(
            stop=stop,
            wait=self._wait,
            retry=tenacity.retry_if_exception(lambda exc: _retryable(exc, idempotent)),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(fn)
        except _Transient as exc:
            raise exc.error from exc.error.__cause__

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = _unwrap(state.outcome.exception() if state.outcome else None)
        hint = getattr(exc, "retry_after", None)
        cap = self.options.retry_max_wait
        if isinstance(hint, (int, float)):
            return min(float(hint), cap)
        backoff = 0.5 * 2.0 ** (state.attempt_number - 1)
        return min(backoff * (0.8 + 0.4 * random.random()), cap)

    def _sleep(self, seconds: float) -> None:
        if self.closing.wait(seconds):
            raise ClientClosedError("the client was closed while waiting to retry")


class _Cut(OSError):
    """Stands for "the call's sockets were shut down" when the read itself did not fail."""


_IDLE = 300.0  # seconds a download may stall (no byte at all) when it has no timeout


def _deadline(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValidationError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return time.monotonic() + float(timeout)


def _unwrap(exc: BaseException | None) -> BaseException | None:
    return exc.error if isinstance(exc, _Transient) else exc


def _retryable(exc: BaseException, idempotent: bool) -> bool:
    if isinstance(exc, _Transient):
        return idempotent or not exc.sent
    if not idempotent:
        return False
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
