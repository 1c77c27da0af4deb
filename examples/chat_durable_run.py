"""Durable chat run with cost approval: Sogni's servers drive the model and its tools.

The run outlives this process; its events are followed live and the stream resumes by itself
(``Last-Event-ID``) if the connection drops. Before a paid tool the run pauses for cost
approval: the first run is approved by a callback, the second one pauses, returns to us and is
declined. Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local
emulator.
"""

from __future__ import annotations

import os
import sys

from sogni_sync import SogniClient
from sogni_sync.chat import ChatRunEvent, CostApproval

ASK = [{"role": "user", "content": "Please generate an image of a lighthouse at dusk"}]
TOOLS = [{"type": "function", "function": {
    "name": "generate_image", "description": "Generate an image from a prompt",
    "parameters": {"type": "object", "properties": {"prompt": {"type": "string"}},
                   "required": ["prompt"]}}}]
BUDGET = 10.0  # capacity units we approve without asking


def approve_within_budget(approval: CostApproval) -> bool:
    preview = approval.preview
    units = preview.total_estimated_capacity_units if preview else None
    print(f"cost approval for {approval.tool_call_id}: {units} capacity units")
    return units is not None and units <= BUDGET


def show(event: ChatRunEvent) -> None:
    if event.type == "message_delta":
        sys.stdout.write(event.delta)
        sys.stdout.flush()
    elif event.terminal:
        print(f"\n  #{event.sequence} {event.type}")
    else:
        print(f"  #{event.sequence} {event.type}")


def main() -> None:
    with SogniClient() as client:
        runs = client.chat.runs
        # 1. the callback decides, the wait goes on to the end
        run = runs.create(ASK, tools=TOOLS, require_cost_approval=True, token_type="spark")
        print(f"run {run.run_id} is {run.status}")
        done = runs.wait(run.run_id, on_cost_approval=approve_within_budget, on_event=show)
        print(f"final status: {done.status}, {len(done.artifacts)} artifact(s)")
        # 2. no callback: wait() returns at the pause and we decide
        run = runs.create(ASK, tools=TOOLS, require_cost_approval=True, token_type="spark")
        paused = runs.wait(run.run_id)
        approval = paused.cost_approval
        if approval is not None:
            print(f"run {run.run_id} waits: {paused.waiting.message if paused.waiting else ''}")
            runs.decline(approval, reason="not this time")
            paused = runs.wait(run.run_id, last_event_id=paused.last_sequence)
        print(f"declined run: {paused.status} ({paused.cancellation_reason})")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet() as net, net.patched_env():
            main()
