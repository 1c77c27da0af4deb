"""URLs: the socket's connection URL; REST paths with ids quoted into one segment and checked
before I/O; queries; redaction.

An id such as ``"../account/me"`` or ``"x?admin=1"`` must never reach another endpoint or add a
query: :func:`quote_segment` percent-encodes a value into exactly one path segment (like
``encodeURIComponent``) and refuses the dot segments that HTTP stacks resolve away;
:func:`check_path` is the REST client's last line of defence for every relative path it sends.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from sogni_sync._config import PROTOCOL_VERSION, ClientOptions
from sogni_sync._js import js_number
from sogni_sync._transport.envelope import compact_json
from sogni_sync._version import __version__
from sogni_sync.errors import ValidationError

__all__ = ["CLIENT_NAME", "check_path", "format_query", "http_base", "quote_segment",
           "redact_url", "socket_url"]

CLIENT_NAME = f"Sogni/{PROTOCOL_VERSION} (sogni-sync) {__version__}"

#: what ``encodeURIComponent`` leaves unescaped besides letters and digits
_COMPONENT_SAFE = "-_.!~*'()"
_DOT_SEGMENTS = frozenset({".", ".."})
_FORBIDDEN = re.compile(r"[?#\\\s\x00-\x1f\x7f]")


def quote_segment(value: Any, name: str = "id") -> str:
    """``value`` as one percent-encoded path segment; ValidationError for a non-string or a
    dot segment (``.``/``..``), which HTTP stacks resolve away. (``%2e%2e`` is quoted into the
    literal ``%252e%252e``: harmless.)"""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string, not {type(value).__name__}")
    if value in _DOT_SEGMENTS:
        raise ValidationError(f"{name} must not be {value!r}: a dot segment changes the path")
    return quote(value, safe=_COMPONENT_SAFE)


def check_path(path: str) -> str:
    """Refuse a relative request path that could reach somewhere its caller did not name:
    dot segments (also percent-encoded), a query or fragment (queries go in ``params``),
    backslashes, whitespace or control characters. Returns ``path`` unchanged."""
    if not isinstance(path, str):
        raise ValidationError(f"request path must be a string, not {type(path).__name__}")
    bad = _FORBIDDEN.search(path)
    if bad is not None:
        raise ValidationError(
            f"request path {path!r} contains {bad.group()!r}; quote ids with quote_segment()")
    for segment in path.split("/"):
        if unquote(segment) in _DOT_SEGMENTS:
            raise ValidationError(f"request path {path!r} contains a dot segment")
    return path


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
    """Origin for HTTP calls: scheme+host+port only, so any path prefix is dropped (the API's
    paths are absolute on its host); ``ws`` → ``http``, ``wss`` (and anything else) →
    ``https``."""
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


def redact_url(url: str) -> str:
    """Scheme, host and path only: presigned query strings are credentials."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path



def socket_url(options: ClientOptions, subscriptions: Mapping[str, Any], network: str) -> str:
    """The socket endpoint with the connection's parameters: app id and source, the event
    subscriptions, client name and type, and the worker pool of ``network``."""
    parts = urlsplit(options.socket_endpoint)
    scheme = "ws" if parts.scheme in ("ws", "http") else "wss"
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    params["appId"] = options.app_id
    if options.app_source:
        params["appSource"] = options.app_source
    subs = {k: v for k, v in subscriptions.items() if isinstance(v, bool)}
    if subs:
        params["socketEventSubscriptions"] = compact_json(subs)
    params["clientName"] = CLIENT_NAME
    params["clientType"] = "artist"
    params["forceWorkerId"] = "fast" if network == "fast" else ""
    return urlunsplit((scheme, parts.netloc, parts.path or "/", urlencode(params), ""))
