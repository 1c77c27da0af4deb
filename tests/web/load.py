"""A bounded burst of concurrent requests at a web example, every answer checked.

Request ``i`` is an image, a chat or an SSE chat stream (in turn), each with its own text, so an
answer can be told from another request's: the emulator's chat echoes ``"Echo: <text>"``.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import requests

KINDS = ("image", "chat", "stream")
TIMEOUT = 60.0


@attrs.frozen
class LoadReport:
    name: str
    requests: int
    concurrency: int
    wall: float
    latencies: tuple[float, ...]
    failures: tuple[str, ...]

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def summary(self) -> str:
        counts = ", ".join(f"{self.requests // len(KINDS) + (i < self.requests % len(KINDS))} "
                           f"{kind}" for i, kind in enumerate(KINDS))
        return (f"LOAD {self.name}: {self.requests} requests ({counts}), concurrency "
                f"{self.concurrency}, wall {self.wall:.2f} s, "
                f"{self.requests / self.wall:.1f} req/s, latency p50 {self.percentile(0.5):.3f} s "
                f"p99 {self.percentile(0.99):.3f} s max {max(self.latencies):.3f} s "
                f"mean {statistics.fmean(self.latencies):.3f} s, "
                f"{len(self.failures)} failed")


def sse_events(lines: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """``(event, data)`` of each server-sent event (``event`` defaults to ``message``)."""
    event = "message"
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    if data:
        yield event, json.loads("\n".join(data))


def _messages(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def check_image(session: requests.Session, base: str, text: str) -> None:
    r = session.post(base + "/image", json={"prompt": text}, timeout=TIMEOUT)
    assert r.status_code == 200, f"image: {r.status_code} {r.text[:300]}"
    urls = r.json()["urls"]
    assert len(urls) == 1, f"image: {urls!r}"
    media = session.get(urls[0], timeout=TIMEOUT)
    assert media.status_code == 200, f"result URL: {media.status_code}"
    assert media.headers.get("Content-Type", "").startswith("image/"), media.headers
    assert len(media.content) > 100, f"result image of {len(media.content)} bytes"


def check_chat(session: requests.Session, base: str, text: str) -> None:
    r = session.post(base + "/chat", json=_messages(text), timeout=TIMEOUT)
    assert r.status_code == 200, f"chat: {r.status_code} {r.text[:300]}"
    body = r.json()
    assert body["content"] == f"Echo: {text}", body
    assert body["finish_reason"] == "stop", body


def check_stream(session: requests.Session, base: str, text: str) -> None:
    with session.post(base + "/chat/stream", json=_messages(text), stream=True,
                      timeout=TIMEOUT) as r:
        assert r.status_code == 200, f"stream: {r.status_code} {r.text[:300]}"
        assert r.headers["Content-Type"].startswith("text/event-stream"), r.headers
        events = list(sse_events(r.iter_lines(decode_unicode=True)))
    chunks = [data["content"] for event, data in events if event == "message"]
    assert len(chunks) >= 2, f"stream: {len(chunks)} chunk event(s): {events!r}"
    assert "".join(chunks) == f"Echo: {text}", events
    assert events[-1] == ("done", {"finish_reason": "stop"}), events[-1]


CHECKS = {"image": check_image, "chat": check_chat, "stream": check_stream}


def fire(name: str, base: str, requests_total: int = 48, concurrency: int = 32) -> LoadReport:
    """Send ``requests_total`` requests, ``concurrency`` at a time; every answer is checked."""

    def one(i: int) -> tuple[float, str | None]:
        kind = KINDS[i % len(KINDS)]
        text = f"request {i} {uuid.uuid4().hex[:8]} for a {kind}"
        start = time.monotonic()
        try:
            with requests.Session() as session:
                CHECKS[kind](session, base, text)
        except Exception as exc:  # collected: every failure is reported, not just the first
            return time.monotonic() - start, f"#{i} {kind}: {type(exc).__name__}: {exc}"
        return time.monotonic() - start, None

    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(requests_total)))
    wall = time.monotonic() - start
    return LoadReport(name, requests_total, concurrency, wall,
                      tuple(r[0] for r in results), tuple(r[1] for r in results if r[1]))


def check_bad_input(base: str) -> None:
    """Bad bodies are refused with 400 and a JSON error, before anything reaches the network."""
    cases = [("/image", {"prompt": ""}), ("/chat", {"messages": []}),
             ("/chat/stream", {"messages": "hello"}),
             ("/chat", {"messages": [{"role": "x", "content": "hi"}]}),
             ("/chat", {"messages": [{"role": "user"}]})]
    for path, body in cases:
        r = requests.post(base + path, json=body, timeout=TIMEOUT)
        assert r.status_code == 400, f"{path} {body}: {r.status_code} {r.text[:300]}"
        assert r.json()["error"], r.text


def leave_streams_early(base: str, count: int = 4) -> None:
    """Open ``count`` long SSE streams and hang up after the first chunk of each (a browser tab
    closed mid-answer): the server must drop them quietly and go on serving."""
    text = "a long answer " * 60  # ~200 chunks at the emulator's 4 characters per chunk
    for _ in range(count):
        with requests.post(base + "/chat/stream", json=_messages(text), stream=True,
                           timeout=TIMEOUT) as r:
            assert r.status_code == 200, r.text[:300]
            first = next(sse_events(r.iter_lines(decode_unicode=True)))
            assert first[0] == "message" and first[1]["content"], first


def check_failed_chats(base: str) -> None:
    """A chat the network fails: 502 with the error for ``/chat``; for a stream (already
    answering 200) an ``event: error`` that names it, and nothing after it."""
    failing = _messages("please [[fail]]")
    r = requests.post(base + "/chat", json=failing, timeout=TIMEOUT)
    assert r.status_code == 502, f"failed chat: {r.status_code} {r.text[:300]}"
    assert r.json()["type"] == "ChatError", r.text
    with requests.post(base + "/chat/stream", json=failing, stream=True, timeout=TIMEOUT) as r:
        assert r.status_code == 200, r.text[:300]
        events = list(sse_events(r.iter_lines(decode_unicode=True)))
    assert events and events[-1][0] == "error" and events[-1][1]["error"], events
    assert all(event == "message" for event, _ in events[:-1]), events
