"""The official clients' chat recovery across a socket drop, driven against the emulator.

``driver.mjs`` (JS 5.54.0) and ``driver_py.py`` (Python 5.70.0) stream one chat through the
client's own ``chat.completions.create``; after the first chunk they say so on stdout, and
:func:`drive` calls ``drop()`` (the test breaks the link there), then returns the driver's report.
The clients are found as the capture harness does (:mod:`tests.conformance.capture`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conformance.capture import CaptureError, find_js_client, find_py_client

__all__ = ["drive"]

HERE = Path(__file__).resolve().parent


def drive(client: str, net: Any, *, app_id: str, model: str, prompt: str,
          drop: Callable[[], None], timeout: float = 60.0) -> dict[str, Any]:
    """Stream ``prompt`` through the official ``client`` (``js`` or ``py``), calling ``drop()``
    after its first chunk; the driver's report. :class:`CaptureError` when not installed."""
    if client == "js":
        if shutil.which("node") is None:
            raise CaptureError("node not found on PATH")
        command = ["node", str(HERE / "driver.mjs")]
        extra = {"SOGNI_CAPTURE_JS_DIR": str(find_js_client(False))}
    else:
        command, extra = [str(find_py_client(False)), str(HERE / "driver_py.py")], {}
    env = dict(os.environ, **extra, SOGNI_REST_ENDPOINT=net.rest_url,
               SOGNI_SOCKET_ENDPOINT=net.socket_url, SOGNI_API_KEY=net.api_key,
               SOGNI_RECOVER_APP_ID=app_id, SOGNI_RECOVER_MODEL=model,
               SOGNI_RECOVER_PROMPT=prompt)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None and proc.stderr is not None
        lines: list[dict[str, Any]] = []
        for line in proc.stdout:
            if not line.strip().startswith("{"):
                continue
            lines.append(json.loads(line))
            if "first" in lines[-1]:
                drop()
        code = proc.wait()
        if code != 0 or not lines or "first" in lines[-1]:
            raise AssertionError(f"{client} driver exited {code}: {proc.stderr.read()[-2000:]}")
        return lines[-1]
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
