"""Template driver for the official async Python client (sogni-client 5.70.0).

Run with the interpreter of a scratch venv that has the client (never this project's venv).
Same contract as ``driver.mjs``: env SOGNI_SCENARIO, SOGNI_REST_ENDPOINT,
SOGNI_SOCKET_ENDPOINT, SOGNI_API_KEY; one JSON line per step on stdout, ``{"step", "result"}``
or ``{"step", "error"}``. The calls are the client's own: ``client.workflows.templates.*`` and
``client.workflows.start/resume/reseed``, then ``chat.hosted.execute_tool``, ``replay.*`` and
``announcements.*``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

logging.basicConfig(stream=sys.stderr, level=logging.ERROR)


def emit(row: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(row, default=str) + "\n")
    sys.stdout.flush()


async def step(name: str, fn: Callable[[], Awaitable[Any]]) -> Any:
    try:
        result = await asyncio.wait_for(fn(), 30)
    except asyncio.TimeoutError as exc:
        raise RuntimeError(f"driver: {name} timed out") from exc
    except Exception as exc:  # every refusal is reported by its text
        emit({"step": name, "error": str(getattr(exc, "message", "") or exc)})
        return None
    emit({"step": name, "result": result})
    return result


async def until(workflows: Any, workflow_id: str, status: str) -> Any:
    for _ in range(200):
        record = await workflows.get(workflow_id)
        if record.get("status") == status:
            return record
        await asyncio.sleep(0.05)
    raise RuntimeError(f"driver: {workflow_id} never reached {status}")


async def main() -> None:
    from sogni_client import SogniClient

    scenario = json.loads(Path(os.environ["SOGNI_SCENARIO"]).read_text("utf-8"))
    client = await SogniClient.create(
        app_id="sogni-sync-templates", network="fast", api_key=os.environ["SOGNI_API_KEY"],
        rest_endpoint=os.environ["SOGNI_REST_ENDPOINT"],
        socket_endpoint=os.environ["SOGNI_SOCKET_ENDPOINT"])
    wf = client.workflows
    t = wf.templates
    try:
        await step("list_public", lambda: t.list(visibility="public", limit=1))
        mine = await step("create", lambda: t.create(scenario["template"]))
        await step("get", lambda: t.get(mine["id"]))
        await step("update", lambda: t.update(mine["id"], {"description": "changed"}))
        forked = await step("fork", lambda: t.fork(scenario["fork"], new_name="Forked"))
        await step("list_own", lambda: t.list(visibility="own"))
        run = await step("start", lambda: wf.start(
            workflow_id=mine["id"], inputs=scenario["inputs"], idempotency_key="take-1",
            billing_mode="tokens"))
        await step("start_again", lambda: wf.start(
            workflow_id=mine["id"], inputs=scenario["inputs"], idempotency_key="take-1"))
        await step("start_missing_input", lambda: wf.start(
            workflow_id=mine["id"], inputs=scenario["missingInputs"]))
        await step("completed", lambda: until(wf, run["workflowId"], "completed"))
        await step("reseed", lambda: wf.reseed(
            run["workflowId"], seed_overrides=scenario["seedOverrides"],
            idempotency_key="reseed-1"))
        await step("reseed_again", lambda: wf.reseed(
            run["workflowId"], seed_overrides=scenario["seedOverrides"],
            idempotency_key="reseed-1"))
        paused = await step("start_paused", lambda: wf.start(
            workflow_id=scenario["fork"], inputs=scenario["pausedInputs"]))
        await step("waiting", lambda: until(wf, paused["workflowId"], "waiting_for_user"))
        await step("resume", lambda: wf.resume(paused["workflowId"], billing_mode="auto"))
        await step("delete", lambda: t.delete(forked["id"]))
        await step("get_deleted", lambda: t.get(forked["id"]))
        await step("execute_tool", lambda: client.chat.hosted.execute_tool(
            tool="compose_workflow", arguments=scenario["composeArguments"]))
        await step("replay_write", lambda: client.replay.write(scenario["replayRecord"]))
        await step("replay_list", lambda: client.replay.list(limit=5))
        await step("replay_get", lambda: client.replay.get(scenario["replayRecord"]["run_id"]))
        await step("announcements", lambda: client.announcements.active())
        await step("dismiss", lambda: client.announcements.dismiss(scenario["announcementId"]))
        await step("announcements_after", lambda: client.announcements.active())
    finally:
        await asyncio.wait_for(client.aclose(), 10)


if __name__ == "__main__":
    asyncio.run(main())
    os._exit(0)  # the client's background tasks must not keep the process alive
