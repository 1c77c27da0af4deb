"""Per-thread keep-alive connections for hot, simple API GETs (result URL minting).

A finished job needs one ``GET .../downloadUrl`` before ``wait()`` can return, so that call is
on the latency path of every project. ``http.client`` on a connection owned by the calling io
thread costs about half of what requests' pooled stack does; everything else (retries, errors,
auth refresh) stays in :class:`~sogni_sync._transport.rest.RestClient`.
"""

from __future__ import annotations

import http.client
import ssl
import threading
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH

from sogni_sync._transport.calls import attach, cancelled

__all__ = ["KeepAlive"]


class KeepAlive:
    """GETs over one connection per (thread, host); a stale reused connection is retried once."""

    def __init__(self, verify: bool | str) -> None:
        self._verify = verify
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()
        self._ssl: ssl.SSLContext | None = None

    def get(self, url: str, headers: dict[str, str], timeout: float) -> requests.Response:
        """One GET; raises ``OSError``/``http.client.HTTPException`` when the transport fails."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conns: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("c", {})
        key = f"{parts.scheme}://{parts.netloc}"
        while True:
            conn = conns.get(key)
            reused = conn is not None
            if conn is None:
                conn = conns[key] = self._connect(parts.scheme, parts.netloc, timeout)
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            attach(conn)  # the call's deadline and close() can cut this connection
            try:
                conn.request("GET", target, headers=headers)
                attach(conn)
                raw = conn.getresponse()
                body = raw.read()
            except (OSError, http.client.HTTPException):
                self._discard(conns, key)
                if reused and not cancelled():  # the server closed an idle keep-alive
                    continue  # connection: safe to redo a GET
                raise
            if raw.will_close:
                self._discard(conns, key)
            response = requests.Response()
            response.status_code = raw.status
            response.headers = CaseInsensitiveDict(raw.getheaders())
            response._content = body
            response.encoding = "utf-8"
            response.url = url
            return response

    def close(self) -> None:
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            conn.close()

    def _connect(self, scheme: str, netloc: str, timeout: float) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(netloc, timeout=timeout, context=self._context())
        else:
            conn = http.client.HTTPConnection(netloc, timeout=timeout)
        with self._lock:
            self._open.add(conn)
        return conn

    def _discard(self, conns: dict[str, http.client.HTTPConnection], key: str) -> None:
        conn = conns.pop(key, None)
        if conn is not None:
            conn.close()
            with self._lock:
                self._open.discard(conn)

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            if self._verify is False:
                context = ssl._create_unverified_context()
            else:
                cafile = self._verify if isinstance(self._verify, str) else DEFAULT_CA_BUNDLE_PATH
                context = ssl.create_default_context(cafile=cafile)
            self._ssl = context
        return self._ssl
