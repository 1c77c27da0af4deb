"""Proxies: which one applies to a URL, and the socket's tunnel through it (HTTP CONNECT, SOCKS5).

REST goes through ``requests`` (its SOCKS support needs the ``socks`` extra, PySocks). The socket
dials TCP itself (so ``close()`` can cut every step), so the two small handshakes live here and
run on the already connected, blocking socket within the connection deadline.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import struct
from urllib.parse import SplitResult, unquote, urlsplit

import requests

from sogni_sync._config import ClientOptions
from sogni_sync.errors import MissingDependencyError

__all__ = ["ProxyError", "env_proxy", "proxy_address", "require_socks", "socket_proxy", "tunnel"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080}
_SOCKS_REPLIES = {
    1: "general failure", 2: "connection not allowed by ruleset", 3: "network unreachable",
    4: "host unreachable", 5: "connection refused", 6: "TTL expired",
    7: "command not supported", 8: "address type not supported",
}
_MAX_HEADER = 64 * 1024


class ProxyError(OSError):
    """The proxy refused or broke the tunnel (never quotes the proxy's credentials)."""


def require_socks(proxy: str | None) -> None:
    """REST through a SOCKS proxy needs PySocks: say so before any I/O."""
    if proxy and urlsplit(proxy).scheme.startswith("socks"):
        try:
            import socks  # noqa: F401
        except ImportError:
            raise MissingDependencyError("socks", "PySocks", "a SOCKS5 proxy") from None


def env_proxy(url: str) -> str | None:
    """The ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` proxy for ``url`` (``NO_PROXY`` applies)."""
    parts = urlsplit(url)
    scheme = "https" if parts.scheme in ("https", "wss") else "http"
    proxies = requests.utils.get_environ_proxies(f"{scheme}://{parts.netloc}")
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def socket_proxy(options: ClientOptions, url: str) -> str | None:
    """The proxy the socket connects through: the ``proxy`` option, else the environment."""
    return options.proxy or env_proxy(url)


def proxy_address(proxy: str) -> tuple[str, int]:
    parts = urlsplit(proxy)
    return parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme, 1080)


def tunnel(sock: socket.socket, proxy: str, host: str, port: int) -> None:
    """Ask the proxy ``sock`` is connected to for a tunnel to ``host:port``."""
    parts = urlsplit(proxy)
    if parts.scheme == "http":
        _http_connect(sock, parts, host, port)
    elif parts.scheme in ("socks5", "socks5h"):
        _socks5(sock, parts, host, port)
    else:
        raise ProxyError(
            f"the socket cannot tunnel through a {parts.scheme}:// proxy (TLS to the proxy "
            "itself); use an http:// (CONNECT) or socks5:// proxy URL"
        )


def _credentials(parts: SplitResult) -> tuple[str, str] | None:
    if parts.username is None:
        return None
    return unquote(parts.username), unquote(parts.password or "")


def _http_connect(sock: socket.socket, parts: SplitResult, host: str, port: int) -> None:
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    creds = _credentials(parts)
    if creds is not None:
        token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        lines.append(f"Proxy-Authorization: Basic {token}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ProxyError("the HTTP proxy closed the connection during CONNECT")
        head += chunk
        if len(head) > _MAX_HEADER:
            raise ProxyError("the HTTP proxy sent an oversized CONNECT answer")
    status_line, _, rest = head.partition(b"\r\n")
    fields = status_line.split(None, 2)
    status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
    if not 200 <= status < 300:
        reason = fields[2].decode("latin-1", "replace") if len(fields) > 2 else ""
        hint = " (proxy authentication required)" if status == 407 else ""
        raise ProxyError(f"the HTTP proxy refused CONNECT to {target}: {status} {reason}{hint}")
    if rest.split(b"\r\n\r\n", 1)[1]:
        raise ProxyError("the HTTP proxy sent data before the tunnel was used")


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ProxyError("the SOCKS5 proxy closed the connection during the handshake")
        data += chunk
    return data


def _socks5(sock: socket.socket, parts: SplitResult, host: str, port: int) -> None:
    creds = _credentials(parts)
    methods = b"\x00\x02" if creds is not None else b"\x00"
    sock.sendall(b"\x05" + bytes([len(methods)]) + methods)
    version, method = _recv_exact(sock, 2)
    if version != 5:
        raise ProxyError("the proxy does not speak SOCKS5")
    if method == 2 and creds is not None:
        user, password = (c.encode() for c in creds)
        if len(user) > 255 or len(password) > 255:
            raise ProxyError("SOCKS5 user name and password are limited to 255 bytes")
        sock.sendall(b"\x01" + bytes([len(user)]) + user + bytes([len(password)]) + password)
        if _recv_exact(sock, 2)[1] != 0:
            raise ProxyError("the SOCKS5 proxy rejected the user name or password")
    elif method != 0:
        raise ProxyError("the SOCKS5 proxy accepts none of our authentication methods"
                         + ("" if creds else " (does it need a user name and password?)"))
    sock.sendall(b"\x05\x01\x00" + _socks_address(host, port, remote_dns=parts.scheme == "socks5h"))
    _, reply, _, kind = _recv_exact(sock, 4)
    if reply != 0:
        raise ProxyError(f"the SOCKS5 proxy could not connect to {host}:{port}: "
                         f"{_SOCKS_REPLIES.get(reply, f'error {reply}')}")
    size = {1: 4, 4: 16}.get(kind)
    _recv_exact(sock, (size if size is not None else _recv_exact(sock, 1)[0]) + 2)


def _socks_address(host: str, port: int, *, remote_dns: bool) -> bytes:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if remote_dns:
            name = host.encode("idna")
            return b"\x03" + bytes([len(name)]) + name + struct.pack(">H", port)
        ip = ipaddress.ip_address(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][4][0])
    kind = b"\x01" if ip.version == 4 else b"\x04"
    return kind + ip.packed + struct.pack(">H", port)
