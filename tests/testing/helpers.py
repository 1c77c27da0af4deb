"""Helpers for the emulator tests: a blocking envelope socket client and REST shortcuts."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests
import websocket

from sogni_sync.testing import LocalSupernet


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Ws:
    """A tiny blocking socket client speaking the envelope."""

    def __init__(self, url: str, headers: list[str]) -> None:
        self.ws = websocket.create_connection(url, header=headers, timeout=5)
        self.ws.settimeout(5)

    def send(self, msg_type: str, data: Any) -> None:
        raw = base64.b64encode(json.dumps(data).encode()).decode()
        self.ws.send(json.dumps({"type": msg_type, "data": raw}))

    def recv(self) -> tuple[str, Any]:
        try:
            opcode, raw = self.ws.recv_data()
        except websocket.WebSocketConnectionClosedException:
            raise Closed(1006) from None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise Closed(int.from_bytes(raw[:2], "big") if len(raw) >= 2 else 1005)
        assert opcode == websocket.ABNF.OPCODE_BINARY, opcode
        outer = json.loads(raw)
        return outer["type"], json.loads(base64.b64decode(outer["data"]))

    def until(self, pred: Callable[[str, Any], bool], limit: int = 5000) -> list[tuple[str, Any]]:
        seen = []
        for _ in range(limit):
            item = self.recv()
            seen.append(item)
            if pred(*item):
                return seen
        raise AssertionError(f"condition not met in {limit} frames")

    def handshake(self) -> list[tuple[str, Any]]:
        return self.until(lambda t, d: t == "swarmLLMModels")

    def close(self) -> None:
        self.ws.close()


def job_request(project_id: str | None = None, *, model: str = "flux1-schnell-fp8",
                count: int = 1, steps: int = 4, prompt: str = "a cat", previews: int = 0,
                **kf: Any) -> dict[str, Any]:
    return {"jobID": project_id or str(uuid.uuid4()).upper(), "numberOfImages": count,
            "previews": previews, "tokenType": "spark",
            "keyFrames": [{"modelID": model, "steps": steps, "positivePrompt": prompt, **kf}]}


def run_project(ws: Ws, req: dict[str, Any]) -> list[tuple[str, Any]]:
    ws.send("jobRequest", req)
    return ws.until(lambda t, d: d.get("jobID") == req["jobID"] and (
        (t == "jobState" and d.get("type") == "jobCompleted")
        or (t == "jobError" and "imgID" not in d)))


def wait_for(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def api(net: LocalSupernet, path: str, method: str = "GET", auth: bool = True,
        **kw: Any) -> requests.Response:
    base = net.socket_url.replace("ws://", "http://") if path.startswith("/api/") else net.rest_url
    headers = {"api-key": net.api_key} if auth else {}
    return requests.request(method, base + path, headers=headers, timeout=5, **kw)
