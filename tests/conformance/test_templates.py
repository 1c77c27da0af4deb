"""The official JS 5.54 and Python 5.70 clients drive workflow templates, template-id runs,
reseed and resume, hosted tool execution, replay records and announcements against the emulator
through their own APIs (drivers in ``templates/``)."""

from __future__ import annotations

import functools
import shutil
import time
from typing import Any

import pytest

from tests.conformance.capture import CaptureError
from tests.conformance.templates import PAUSE_AT, SCENARIO, run


@functools.cache
def _drive(client: str) -> tuple[dict[str, dict[str, Any]], list[Any]]:
    """One driver run per client, shared by the tests below."""
    if client == "js" and shutil.which("node") is None:
        pytest.skip("node not found")
    try:
        return run(client)
    except CaptureError as exc:
        if "not found" in str(exc):
            pytest.skip(f"official {client} client not installed: {exc}")
        raise


def ok(steps: dict[str, dict[str, Any]], name: str) -> Any:
    assert "error" not in steps[name], steps[name]
    return steps[name]["result"]


@pytest.mark.parametrize("client", ["js", "py"])
def test_official_client_template_calls(client: str) -> None:
    began = time.monotonic()
    steps, calls = _drive(client)
    page = ok(steps, "list_public")
    assert len(page["templates"]) == 1
    assert page.get("nextCursor", page.get("next_cursor")) == 1
    mine = ok(steps, "create")
    assert mine["id"].startswith("tpl_") and mine["name"] == SCENARIO["template"]["name"]
    assert ok(steps, "get")["id"] == mine["id"]
    assert ok(steps, "update")["description"] == "changed"
    forked = ok(steps, "fork")
    assert forked["name"] == "Forked" and forked["forkedFrom"] == SCENARIO["fork"]
    assert {t["id"] for t in ok(steps, "list_own")["templates"]} == {mine["id"], forked["id"]}

    run_ = ok(steps, "start")
    assert run_["templateId"] == mine["id"] and run_["billingMode"] == "tokens"
    assert [s["arguments"]["prompt"] for s in run_["steps"]] == ["a poster of a lighthouse",
                                                                 "a lighthouse"]
    assert ok(steps, "start_again")["workflowId"] == run_["workflowId"]
    assert 'Missing required input "subject"' in steps["start_missing_input"]["error"]
    assert ok(steps, "completed")["status"] == "completed"

    take = ok(steps, "reseed")
    reseed = take["reseed"]
    assert reseed.get("clonedFromRunId", reseed.get("cloned_from_run_id")) == run_["workflowId"]
    assert reseed["steps"][0]["arguments"]["seed"] == 7 and "idempotent" not in take
    again = ok(steps, "reseed_again")
    assert again["idempotent"] is True
    assert again["workflow"]["workflowId"] == take["workflow"]["workflowId"]

    waiting = ok(steps, "waiting")
    assert waiting["waitingReason"] == "workflow_user_input_required"
    assert any(e["data"].get("stepId") == PAUSE_AT for e in waiting["events"]
               if e["type"] == "workflow_waiting_for_user")
    resumed = ok(steps, "resume")
    assert resumed["resumed"] is True and resumed["workflow"]["status"] == "running"
    assert steps["delete"].get("result") is None and "error" not in steps["delete"]
    assert "not found" in steps["get_deleted"]["error"].lower()

    # what reached the server: keys as headers, snake_case billing keys
    starts = [c for c in calls if c.method == "POST" and c.path.endswith("/workflows")]
    assert starts[0].headers.get("Idempotency-Key") == "take-1"
    assert starts[0].json["workflow_id"] == mine["id"] and starts[0].json["billing_mode"] == \
        "tokens"
    reseeds = [c for c in calls if c.path.endswith("/reseed")]
    assert [c.headers.get("Idempotency-Key") for c in reseeds] == ["reseed-1", "reseed-1"]
    assert reseeds[0].json["seed_overrides"] == SCENARIO["seedOverrides"]
    assert [c.method for c in calls if "/templates/" in c.path and c.method != "GET"] == \
        ["PATCH", "POST", "DELETE"]
    assert time.monotonic() - began < 60


def _data(value: Any) -> Any:
    """JS hands back the REST envelope of some calls, Python its ``data``."""
    return value["data"] if isinstance(value, dict) and value.get("status") == "success" \
        else value


@pytest.mark.parametrize("client", ["js", "py"])
def test_official_client_hosted_tool_replay_and_announcement_calls(client: str) -> None:
    steps, _ = _drive(client)
    executed = _data(ok(steps, "execute_tool"))
    assert executed["tool"] == "compose_workflow" and len(executed["result"]["steps"]) == 2
    written = ok(steps, "replay_write")
    assert written.get("runId", written.get("run_id")) == SCENARIO["replayRecord"]["run_id"]
    assert written.get("schemaVersion", written.get("schema_version")) == 4
    (row,) = ok(steps, "replay_list")["records"]
    assert row["runId"] == "run-official" and row["rounds"] == 1 and row["modelId"] == "qwen"
    assert ok(steps, "replay_get")["record"]["user_request"] == "a poster"
    assert [a["id"] for a in ok(steps, "announcements")] == [SCENARIO["announcementId"]]
    assert "error" not in steps["dismiss"]
    assert ok(steps, "announcements_after") == []
