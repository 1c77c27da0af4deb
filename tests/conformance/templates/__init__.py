"""The official clients' workflow-template calls against the emulator.

``run(client)`` starts a fresh emulator, runs ``driver.mjs`` (JS 5.54.0) or ``driver_py.py``
(Python 5.70.0) through one fixed scenario (:data:`SCENARIO`: template CRUD and fork, a
template-id run with an idempotency key, a reseed repeated with its key, a resume; then a
hosted tool, replay records and announcements) and returns
the driver's steps by name plus the REST calls the emulator recorded. The clients come from the
same scratch installs as the capture harness (never this project's venv).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.conformance.capture import CaptureError, find_js_client, find_py_client

HERE = Path(__file__).resolve().parent

SCENARIO: dict[str, Any] = {
    "template": {
        "name": "Poster then song", "category": "custom", "tags": ["poster"],
        "inputs": [{"name": "subject", "type": "text", "required": True},
                   {"name": "seconds", "type": "number", "default": 12}],
        "stages": [{"id": "poster", "toolName": "sogni_generate_image",
                    "arguments": {"prompt": "a poster of $inputs.subject"}},
                   {"id": "song", "toolName": "sogni_generate_music",
                    "arguments": {"prompt": "$inputs.subject", "duration": "$inputs.seconds"}}],
    },
    "inputs": {"subject": "a lighthouse"},
    "missingInputs": {"seconds": 3},
    "seedOverrides": {"poster": 7},
    "fork": "sys_portrait_to_clip",
    "pausedInputs": {"brief": "a cat"},
    "composeArguments": {"brief": "a teaser", "scene_count": 2},
    "replayRecord": {"run_id": "run-official", "schema_version": 4, "model_id": "qwen",
                     "user_request": "a poster", "rounds": [{"tool": "generate_image"}]},
    "announcementId": "ann-official",
}
ANNOUNCEMENT = {"id": "ann-official", "kind": "banner", "title": "Maintenance", "pinned": True,
                "bodyMarkdown": "Tonight"}
PAUSE_AT = "clip"  # a step of the forked system template: that run waits for the user there


def _command(client: str) -> tuple[list[str], dict[str, str]]:
    if client == "js":
        return ["node", str(HERE / "driver.mjs")], {
            "SOGNI_CAPTURE_JS_DIR": str(find_js_client(install=False))}
    if client == "py":
        return [str(find_py_client(install=False)), str(HERE / "driver_py.py")], {}
    raise CaptureError(f"unknown client {client!r} (js or py)")


def run(client: str, timeout: float = 120.0) -> tuple[dict[str, dict[str, Any]], list[Any]]:
    """``({step: {"result"|"error": ...}}, recorded REST calls)`` of one driver run."""
    from sogni_sync.testing import LocalSupernet

    command, extra = _command(client)
    with LocalSupernet(step_delay=0.01) as net, \
            tempfile.TemporaryDirectory(prefix="sogni-templates-") as tmp:
        net.call(lambda state: state.extras["workflows"].pause_before.add(PAUSE_AT))
        net.call(lambda state: state.extras["announcements"].publish(dict(ANNOUNCEMENT)))
        scenario = Path(tmp) / "scenario.json"
        scenario.write_text(json.dumps(SCENARIO), "utf-8")
        env = dict(os.environ, **extra, SOGNI_SCENARIO=str(scenario),
                   SOGNI_REST_ENDPOINT=net.rest_url, SOGNI_SOCKET_ENDPOINT=net.socket_url,
                   SOGNI_API_KEY=net.api_key)
        proc = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if proc.returncode != 0:
            raise CaptureError(f"driver exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        calls = [c for c in net.rest_calls if "/creative-agent/workflows" in c.path]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return {row["step"]: row for row in rows}, calls
