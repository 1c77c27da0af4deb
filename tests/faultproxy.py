"""A loopback TCP proxy that breaks connections from the *outside* (a test helper, not the SDK).

The emulator's own fault switches act inside the server; this proxy sits on the wire between a
client and any server (the emulator's REST host or socket host) the way a bad network does::

    with FaultProxy(net.socket_url) as sock_proxy, FaultProxy(net.rest_url) as rest_proxy:
        client = SogniClient(..., socket_endpoint=sock_proxy.url, rest_endpoint=rest_proxy.url)
        sock_proxy.cut_every(100)          # RST the link after every 100 server->client WS frames
        sock_proxy.stall("s2c")            # half-open: TCP stays up, server->client goes silent
        sock_proxy.stall_mid_frame()       # forward half of the next server frame, then nothing
        rest_proxy.slice(1, delay=0.05)    # drip-feed responses one byte at a time
        rest_proxy.reset_mid_body(times=2) # RST the next two HTTP responses after 1 body byte
        sock_proxy.refuse("reset")         # new connections are reset ("blackhole": held, mute)
        sock_proxy.restore()               # every fault off; stalled links resume forwarding

It listens on 127.0.0.1 only, on an ephemeral port. Each accepted connection gets its own
upstream connection and two pump threads (client->server ``c2s``, server->client ``s2c``).
A connection is classified by its first request: ``"ws"`` when it asks for a WebSocket upgrade,
``"http"`` otherwise; faults take a ``kind`` filter (``None`` = both). Server->client WebSocket
frames are counted by parsing the frame headers after the ``101`` answer, so cuts and mid-frame
stalls land exactly on (or inside) frame boundaries.

* ``cut_every(k)`` applies to current and future WebSocket connections: each one is cut (RST,
  or FIN with ``rst=False``) right after its k-th server frame was forwarded.
* ``stall(direction)`` applies to the connections open *now* (new ones flow): the pump stops
  reading, so the sender's TCP buffers fill as on a real half-open path; ``restore()`` resumes.
* ``stall_mid_frame()`` arms the current WebSocket connections: the next server frame is
  forwarded up to half its length, then that direction stalls.
* ``slice(size, delay)`` and ``reset_mid_body()`` apply to current and future connections.
* ``cut()`` breaks every open connection now.

Bounded: at most ``max_connections`` live connections (more are reset), daemon threads, and
``stop()`` (or leaving the ``with`` block) closes every socket and joins every thread.
Counters: ``connections`` (accepted), ``cuts``, ``frames`` (server frames forwarded, all links).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import suppress
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

__all__ = ["FaultProxy"]

Direction = Literal["c2s", "s2c", "both"]
Kind = Literal["ws", "http"] | None


class _FrameParser:
    """Incremental WebSocket frame boundary finder over one byte stream."""

    def __init__(self) -> None:
        self.pos = 0  # absolute offset of the next byte fed
        self._head = bytearray()
        self._start = 0
        self._end: int | None = None  # absolute end of the current frame once its header is known

    def feed(self, data: bytes) -> Iterator[tuple[int, int]]:
        """Yield ``(start, end)`` absolute offsets of each frame whose header completes here."""
        i = 0
        while i < len(data):
            if self._end is not None:
                step = min(len(data) - i, self._end - (self.pos + i))
                i += step
                if self.pos + i >= self._end:
                    self._end = None
                continue
            if not self._head:
                self._start = self.pos + i
            self._head.append(data[i])
            i += 1
            size = self._header_size()
            if size is not None and len(self._head) == size:
                self._end = self._start + size + self._payload_len()
                self._head.clear()
                yield self._start, self._end
                if self.pos + i >= self._end:
                    self._end = None
        self.pos += len(data)

    def _header_size(self) -> int | None:
        if len(self._head) < 2:
            return None
        code = self._head[1] & 0x7F
        return 2 + (2 if code == 126 else 8 if code == 127 else 0) + (4 if self._head[1] & 0x80
                                                                     else 0)

    def _payload_len(self) -> int:
        code = self._head[1] & 0x7F
        if code == 126:
            return int(struct.unpack(">H", bytes(self._head[2:4]))[0])
        if code == 127:
            return int(struct.unpack(">Q", bytes(self._head[2:10]))[0])
        return code


class _Link:
    """One proxied connection: client socket, upstream socket, two pumps."""

    def __init__(self, proxy: FaultProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.kind: str | None = None
        self.kind_known = threading.Event()
        self.frames = 0
        self.stalled: set[str] = set()
        self.mid_frame = False
        self.reset_body_after: int | None = None
        self.closed = False
        self.open_frames: deque[tuple[int, int]] = deque()
        self.threads = [
            threading.Thread(target=self._pump, args=("c2s",), daemon=True, name="faultproxy-c2s"),
            threading.Thread(target=self._pump, args=("s2c",), daemon=True, name="faultproxy-s2c"),
        ]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def cut(self, rst: bool = True) -> None:
        with self.proxy.cond:
            if self.closed:
                return
            self.closed = True
            self.proxy.cuts += 1
            self.proxy.cond.notify_all()
        for s in (self.client, self.upstream):
            # SHUT_RD wakes a pump blocked in recv on this socket without sending anything (a
            # blocked recv would otherwise keep the socket alive past close()); then close()
            # sends the RST (linger 0) or the FIN
            with suppress(OSError):
                if rst:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RD if rst else socket.SHUT_RDWR)
            with suppress(OSError):
                s.close()

    def _wait_flowing(self, direction: str) -> bool:
        """Block while this direction is stalled; False once the link is closed."""
        with self.proxy.cond:
            self.proxy.cond.wait_for(lambda: self.closed or direction not in self.stalled)
            return not self.closed

    def _send(self, dst: socket.socket, data: bytes, direction: str) -> bool:
        size, delay = self.proxy._slicing(self.kind, direction)
        view = memoryview(data)
        while view:
            if not self._wait_flowing(direction):
                return False
            piece = view[: size or len(view)]
            try:
                dst.sendall(piece)
            except OSError:
                return False
            view = view[len(piece):]
            if view and delay and self.proxy._stopped.wait(delay):
                return False
        return True

    def _pump(self, direction: str) -> None:
        src, dst = (self.client, self.upstream) if direction == "c2s" else (self.upstream,
                                                                            self.client)
        head = bytearray()  # the HTTP head of this direction, until it is complete
        parser: _FrameParser | None = None
        http_body_left: int | None = None
        try:
            while True:
                if not self._wait_flowing(direction):
                    return
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    break
                if direction == "c2s" and not self.kind_known.is_set():
                    head += data
                    if b"\r\n\r\n" in head or len(head) > 65536:
                        upgrade = b"upgrade: websocket" in bytes(head).lower()
                        self.kind = "ws" if upgrade else "http"
                        self.kind_known.set()
                if direction == "s2c":
                    self.kind_known.wait(5)
                    if self.kind == "ws":
                        if parser is None:
                            head += data
                            cut = bytes(head).find(b"\r\n\r\n")
                            if cut < 0:
                                if not self._send(dst, data, direction):
                                    return
                                continue
                            rest = bytes(head[cut + 4:])
                            data = data[: len(data) - len(rest)]
                            if data and not self._send(dst, data, direction):
                                return
                            parser = _FrameParser()
                            data = rest
                            if not data:
                                continue
                        if not self._ws_s2c(parser, dst, data):
                            return
                        continue
                    if self.kind == "http":
                        http_body_left = self._http_s2c(dst, data, head, http_body_left)
                        if http_body_left == -2:
                            return
                        continue
                if not self._send(dst, data, direction):
                    return
        finally:
            with self.proxy.cond:
                half_open = bool(self.stalled)
            if direction == "s2c":
                self.cut(rst=False)
            elif not half_open:
                # the client hung up: tell the server (graceful); on a stalled (half-open) link
                # the server must not learn it, as on a real dead path
                with suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)

    def _ws_s2c(self, parser: _FrameParser, dst: socket.socket, data: bytes) -> bool:
        """Forward server frames, cutting or stalling at the armed boundaries."""
        base = parser.pos
        limit = base + len(data)
        new = list(parser.feed(data))
        self.open_frames.extend(new)
        actions: list[tuple[int, str]] = []
        if self.mid_frame:
            for start, end in new:
                stop = max(base, start + max(1, (end - start) // 2))
                if stop < min(end, limit + 1):
                    actions.append((min(stop, limit), "stall"))
                    self.mid_frame = False
                    break
        while self.open_frames and self.open_frames[0][1] <= limit:
            actions.append((self.open_frames.popleft()[1], "frame"))
        actions.sort()
        sent = base
        for offset, what in actions:
            if not self._send(dst, data[sent - base: offset - base], "s2c"):
                return False
            sent = offset
            if what == "stall":
                with self.proxy.cond:
                    self.stalled.add("s2c")  # the next _send waits until restore()
                continue
            self.frames += 1
            every = self.proxy._count_frame()
            if every and self.frames % every == 0:
                self.cut(self.proxy._rst)
                return False
        return self._send(dst, data[sent - base:], "s2c")

    def _http_s2c(self, dst: socket.socket, data: bytes, head: bytearray,
                  body_left: int | None) -> int | None:
        """Forward an HTTP response stream; -2 when the link was reset mid-body."""
        while data:
            if body_left is None:  # reading a response head
                head += data
                cut = bytes(head).find(b"\r\n\r\n")
                if cut < 0:
                    return None if self._send(dst, data, "s2c") else -2
                rest = bytes(head[cut + 4:])
                length = _content_length(bytes(head[:cut]))
                head.clear()
                body_left = length if length is not None else 1 << 62
                first = data[: len(data) - len(rest)]
                if not self._send(dst, first, "s2c"):
                    return -2
                if self.proxy._take_reset():
                    self.reset_body_after = 1
                data = rest
                continue
            if self.reset_body_after is not None:
                if not self._send(dst, data[: self.reset_body_after], "s2c"):
                    return -2
                # give the client time to see the partial body before the reset
                time.sleep(0.05)
                self.cut(rst=True)
                return -2
            piece, data = data[:body_left], data[body_left:]
            if not self._send(dst, piece, "s2c"):
                return -2
            body_left -= len(piece)
            if body_left == 0:
                body_left = None
        return body_left


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            with suppress(ValueError):
                return int(value.strip())
    return None


class FaultProxy:
    """See the module docstring. ``target`` is a URL (``ws://h:p``, ``http://h:p``) or
    ``(host, port)``."""

    def __init__(self, target: str | tuple[str, int], *, max_connections: int = 256) -> None:
        if isinstance(target, str):
            parts = urlsplit(target)
            self._scheme = parts.scheme or "http"
            self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        else:
            self._scheme = "http"
            self.target = target
        self.max_connections = max_connections
        self.cond = threading.Condition()
        self.connections = 0
        self.cuts = 0
        self.frames = 0
        self._links: list[_Link] = []
        self._cut_every: int | None = None
        self._rst = True
        self._refuse: str | None = None
        self._slice: tuple[int, float, Kind, Direction] | None = None
        self._resets_left = 0
        self._stopped = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept, daemon=True,
                                               name="faultproxy-accept")
        self._held: list[socket.socket] = []

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The target URL with the proxy's address (same scheme)."""
        return urlunsplit((self._scheme, f"127.0.0.1:{self.port}", "", "", ""))

    def start(self) -> FaultProxy:
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        with suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        with suppress(OSError):
            self._server.close()
        self.cut()
        with self.cond:
            held, self._held = self._held, []
        for s in held:
            with suppress(OSError):
                s.close()
        self._accept_thread.join(2)
        for link in self._all_links():
            for t in link.threads:
                t.join(2)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ----------------------------------------------------------------------------

    def cut_every(self, frames: int | None, *, rst: bool = True) -> None:
        """Cut each WebSocket link after every ``frames`` server->client frames (None: off)."""
        with self.cond:
            self._cut_every = frames
            self._rst = rst

    def cut(self, kind: Kind = None, *, rst: bool = True) -> int:
        """Break every open connection (of ``kind``) now; returns how many."""
        links = [lk for lk in self._all_links() if kind is None or lk.kind == kind]
        for link in links:
            link.cut(rst)
        return len(links)

    def stall(self, direction: Direction = "s2c", *, kind: Kind = "ws") -> int:
        """Stop forwarding ``direction`` on the open links of ``kind``; returns how many."""
        dirs = {"c2s", "s2c"} if direction == "both" else {direction}
        with self.cond:
            links = [lk for lk in self._links if not lk.closed
                     and (kind is None or lk.kind == kind)]
            for link in links:
                link.stalled |= dirs
        return len(links)

    def stall_mid_frame(self) -> int:
        """Forward half of the next server frame on each open WebSocket link, then stall."""
        with self.cond:
            links = [lk for lk in self._links if not lk.closed and lk.kind == "ws"]
            for link in links:
                link.mid_frame = True
        return len(links)

    def slice(self, size: int, delay: float = 0.0, *, kind: Kind = None,
              direction: Direction = "s2c") -> None:
        """Forward in ``size``-byte writes, ``delay`` seconds apart (drip-feed)."""
        with self.cond:
            self._slice = (size, delay, kind, direction)

    def reset_mid_body(self, times: int = 1) -> None:
        """The next ``times`` HTTP responses are reset after their head and one body byte."""
        with self.cond:
            self._resets_left = times

    def refuse(self, mode: Literal["reset", "blackhole"] | None = "reset") -> None:
        """New connections: reset at once, or accepted and never answered ("blackhole")."""
        with self.cond:
            self._refuse = mode

    def restore(self) -> None:
        """Every fault off; stalled links resume; held (blackholed) connections are closed."""
        with self.cond:
            self._cut_every = None
            self._refuse = None
            self._slice = None
            self._resets_left = 0
            for link in self._links:
                link.stalled.clear()
                link.mid_frame = False
            held, self._held = self._held, []
            self.cond.notify_all()
        for s in held:
            with suppress(OSError):
                s.close()

    def links(self, kind: Kind = None) -> int:
        """How many connections (of ``kind``) are open now."""
        return len([lk for lk in self._all_links() if not lk.closed
                    and (kind is None or lk.kind == kind)])

    # -- internals -------------------------------------------------------------------------

    def _all_links(self) -> list[_Link]:
        with self.cond:
            return list(self._links)

    def _count_frame(self) -> int | None:
        with self.cond:
            self.frames += 1
            return self._cut_every

    def _take_reset(self) -> bool:
        with self.cond:
            if self._resets_left > 0:
                self._resets_left -= 1
                return True
            return False

    def _slicing(self, kind: str | None, direction: str) -> tuple[int, float]:
        with self.cond:
            if self._slice is None:
                return 0, 0.0
            size, delay, want_kind, want_dir = self._slice
        if want_kind is not None and kind != want_kind:
            return 0, 0.0
        if want_dir != "both" and want_dir != direction:
            return 0, 0.0
        return size, delay

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self.cond:
                self._links = [lk for lk in self._links if not lk.closed]
                refuse = self._refuse
                full = len(self._links) >= self.max_connections
                self.connections += 1
            if refuse == "blackhole":
                with self.cond:
                    self._held.append(client)
                continue
            if refuse == "reset" or full:
                with suppress(OSError):
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                with suppress(OSError):
                    client.close()
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(self, client, upstream)
            with self.cond:
                self._links.append(link)
            link.start()
