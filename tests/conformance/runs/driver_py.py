"""Durable chat-run driver for the official async Python client (sogni-client 5.70.0).

Run with the interpreter of a scratch venv that has the client (never this project's venv).
Same contract as ``driver.mjs``: env SOGNI_REST_ENDPOINT, SOGNI_SOCKET_ENDPOINT,
SOGNI_API_KEY, SOGNI_RUNS_SCENARIO; one JSON report on stdout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

logging.basicConfig(stream=sys.stderr, level=logging.ERROR)


def paused(event: dict[str, Any]) -> bool:
    return event.get("type") == "run_waiting_for_user"


async def collect(client: Any, run_id: str, last: int | None = None,
                  stop: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    stream = client.chat.runs.stream_events(run_id, last_event_id=last)
    async for event in stream:
        seen.append(event)
        if stop is not None and stop(event):
            break
    await stream.aclose()
    return seen


async def scenario(client: Any, spec: dict[str, Any]) -> dict[str, Any]:
    runs = client.chat.runs
    params = {"messages": spec["messages"], "tools": spec["tools"], "token_type": "spark",
              "runtime_config": {"requireJobConfirmation": True}}
    report: dict[str, Any] = {}
    run = await runs.create(params, idempotency_key="py-run-1")
    report["created"] = run["status"]
    first = await collect(client, run["runId"], stop=paused)
    waiting = (await runs.get(run["runId"]))["waiting"]
    call_id = waiting["details"]["toolCallId"]
    try:
        await runs.confirm_cost(run["runId"], tool_call_id=call_id, decision="confirm")
        report["confirmWithoutPreview"] = "accepted"
    except Exception as exc:  # the server's refusal, by status
        report["confirmWithoutPreview"] = getattr(exc, "status", str(exc))
    confirmed = await runs.confirm_cost(
        run["runId"], tool_call_id=call_id, decision="confirm",
        accepted_cost_preview=waiting["details"]["costApprovalPreview"],
        idempotency_key=f"confirm-{call_id}")
    report["afterConfirm"] = confirmed["status"]
    rest = await collect(client, run["runId"], first[-1]["sequence"])
    done = await runs.get(run["runId"])
    events = first + rest
    report["sequences"] = [e["sequence"] for e in events]
    report["types"] = [e["type"] for e in events]
    report["deltas"] = "".join((e.get("payload") or {}).get("delta") or "" for e in events)
    report["final"] = {"status": done["status"],
                       "content": (done.get("finalResponse") or {}).get("content"),
                       "artifacts": len(done["artifacts"]), "eventCount": len(done["events"])}
    refused = await runs.create(params)
    await collect(client, refused["runId"], stop=paused)
    pending = (await runs.get(refused["runId"]))["waiting"]
    await runs.confirm_cost(refused["runId"], tool_call_id=pending["details"]["toolCallId"],
                            decision="cancel", reason="too dear")
    tail = await collect(client, refused["runId"])
    gone = await runs.get(refused["runId"])
    report["refused"] = {"status": gone["status"], "reason": gone.get("cancellationReason"),
                         "last": tail[-1]["type"]}
    third = await runs.create(params)
    await collect(client, third["runId"], stop=paused)
    report["cancelled"] = (await runs.cancel(third["runId"], "stop"))["status"]
    return report


async def main() -> None:
    from sogni_client import SogniClient

    client = await SogniClient.create(
        app_id="sogni-sync-runs", network="fast", api_key=os.environ["SOGNI_API_KEY"],
        rest_endpoint=os.environ["SOGNI_REST_ENDPOINT"],
        socket_endpoint=os.environ["SOGNI_SOCKET_ENDPOINT"])
    try:
        report = await asyncio.wait_for(
            scenario(client, json.loads(os.environ["SOGNI_RUNS_SCENARIO"])), 60)
        sys.stdout.write(json.dumps(report) + "\n")
    finally:
        close = getattr(client, "disconnect", None) or getattr(client, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result


if __name__ == "__main__":
    asyncio.run(main())
