"""The official JS 5.54 and Python 5.70 clients' durable-run calls work against the emulator:
each client's own ``chat.runs`` API runs the scenario of :mod:`tests.conformance.runs`.

A client already installed (by the capture harness or the conformance runner) is used here;
``SOGNI_RUNS_INSTALL=1`` installs a missing one first (npm / pip, minutes)."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

from tests.conformance.capture import CaptureError
from tests.conformance.runs import drive


def _drive(client: str, net: Any) -> dict[str, Any]:
    if client == "js" and (shutil.which("node") is None or shutil.which("npm") is None):
        pytest.skip("node/npm not available")
    try:
        return drive(client, net.rest_url, net.socket_url, net.api_key,
                     install=os.environ.get("SOGNI_RUNS_INSTALL") == "1")
    except CaptureError as exc:
        pytest.skip(f"official {client} client not available: {exc}")


@pytest.mark.parametrize("client", ["js", "py"])
def test_official_client_drives_a_durable_run(client: str, net: Any) -> None:
    report = _drive(client, net)
    assert report["created"] == "queued"
    assert report["confirmWithoutPreview"] == 400
    assert report["afterConfirm"] in ("running", "completed")
    sequences = report["sequences"]
    assert sequences == list(range(1, len(sequences) + 1))  # resumed: nothing lost or repeated
    assert report["final"]["eventCount"] == len(sequences)
    types = report["types"]
    assert "run_status" not in types  # the unnumbered status frame is skipped by the clients
    assert types.index("run_waiting_for_user") < types.index("run_cost_confirmed") \
        < types.index("tool_call_completed") < types.index("run_completed")
    assert report["final"]["status"] == "completed" and report["final"]["artifacts"] == 1
    assert report["deltas"] == report["final"]["content"] and report["deltas"]
    assert report["refused"] == {"status": "cancelled", "reason": "too dear",
                                 "last": "run_cancelled"}
    assert report["cancelled"] == "cancelled"
    calls = [c for c in net.rest_calls if c.path.endswith("/confirm-cost")]
    assert any(c.headers.get("Idempotency-Key", "").startswith("confirm-") for c in calls)
