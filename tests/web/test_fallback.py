"""Without ``SOGNI_API_KEY`` a web example runs on an in-process emulator (a laptop's
``flask run``/``runserver``), answering as it would under a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.web.load import sse_events
from tests.web.servers import HERE, ROOT


@pytest.mark.parametrize("framework", ["flask", "django"])
def test_example_without_api_key_uses_an_inprocess_emulator(framework: str) -> None:
    pytest.importorskip(framework, reason=f"{framework} is in the 'web' extra")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOGNI_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, str(HERE / "fallback_probe.py"), framework],
                          env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "using an in-process emulated Supernet" in done.stderr
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    assert answers["chat"]["content"] == "Echo: fallback probe"
    assert len(answers["image"]["urls"]) == 1
    assert answers["image"]["urls"][0].startswith("http://127.0.0.1:")
    assert answers["stream_type"].startswith("text/event-stream")
    events = list(sse_events(str(answers["stream"]).split("\n")))
    assert "".join(d["content"] for e, d in events if e == "message") == "Echo: fallback probe"
    assert events[-1] == ("done", {"finish_reason": "stop"})
    assert answers["bad"] == 400
