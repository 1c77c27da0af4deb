"""The emulator keeps up with many concurrent projects from one socket (zero-delay mode)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
import websocket

from sogni_sync.testing import LocalSupernet


def _burst(net: LocalSupernet, projects: int) -> float:
    ws = websocket.create_connection(f"{net.socket_url}/?appId=cap-{uuid.uuid4()}",
                                     header=[f"api-key: {net.api_key}"], timeout=30)
    for _ in range(4):
        ws.recv()
    frames = []
    for i in range(projects):
        req = {"jobID": str(uuid.uuid4()).upper(), "numberOfImages": 4, "previews": 0,
               "keyFrames": [{"modelID": "flux1-schnell-fp8", "steps": 4,
                              "positivePrompt": f"p{i}"}]}
        frames.append(json.dumps({"type": "jobRequest", "data": base64.b64encode(
            json.dumps(req).encode()).decode()}))
    start = time.perf_counter()
    for frame in frames:
        ws.send(frame)
    done = 0
    while done < projects:
        raw = ws.recv()
        if b"jobState" in raw:
            done += json.loads(base64.b64decode(json.loads(raw)["data"])).get(
                "type") == "jobCompleted"
    ws.close()
    return time.perf_counter() - start


def test_two_hundred_concurrent_projects(net: LocalSupernet) -> None:
    assert _burst(net, 200) < 10
    assert len(net.sent("jobResult")) == 800


@pytest.mark.slow
def test_thousand_concurrent_projects() -> None:
    with LocalSupernet(step_delay=0, balances={"spark": 10**9}) as net:
        seconds = _burst(net, 1000)
        assert len(net.sent("jobResult")) == 4000
        assert seconds < 30
