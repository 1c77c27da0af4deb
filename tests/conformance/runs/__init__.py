"""The official clients' durable-run API driven against the emulator.

``driver.mjs`` (JS 5.54.0) and ``driver_py.py`` (Python 5.70.0) each run the same scenario
through the client's own ``chat.runs`` calls: a run paused for cost approval, a confirm without
the preview (refused), a confirm with it, the event stream resumed from the last sequence seen,
a refused approval and a cancelled run. They print one JSON report; :func:`drive` runs one and
returns it. The clients are found or installed as the capture harness does
(:mod:`tests.conformance.capture`), outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.conformance.capture import CaptureError, find_js_client, find_py_client

__all__ = ["SCENARIO", "drive"]

HERE = Path(__file__).resolve().parent
SCENARIO = {
    "messages": [{"role": "user", "content": "Please generate an image of a lighthouse"}],
    "tools": [{"type": "function", "function": {
        "name": "generate_image", "description": "Generate an image",
        "parameters": {"type": "object", "properties": {"prompt": {"type": "string"}},
                       "required": ["prompt"]}}}],
}


def drive(client: str, rest_url: str, socket_url: str, api_key: str, *,
          install: bool = True, timeout: float = 120.0) -> dict[str, Any]:
    """Run the scenario through the official ``client`` (``js`` or ``py``); its report.
    ``install=False`` raises :class:`CaptureError` when the client is not installed yet."""
    if client == "js":
        if shutil.which("node") is None:
            raise CaptureError("node not found on PATH")
        command = ["node", str(HERE / "driver.mjs")]
        extra = {"SOGNI_CAPTURE_JS_DIR": str(find_js_client(install))}
    else:
        command, extra = [str(find_py_client(install)), str(HERE / "driver_py.py")], {}
    env = dict(os.environ, **extra, SOGNI_REST_ENDPOINT=rest_url, SOGNI_SOCKET_ENDPOINT=socket_url,
               SOGNI_API_KEY=api_key, SOGNI_RUNS_SCENARIO=json.dumps(SCENARIO))
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{client} driver exited {proc.returncode}: "
                             f"{proc.stderr.strip()[-2000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report
