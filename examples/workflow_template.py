"""Workflow templates: save a parameterised template, run it by id with inputs, then reseed.

The run start carries an idempotency key, so a retried start returns the same run instead of
starting a second one; the reseed's key does the same for the new take.
Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

import os
import uuid

from sogni_sync import SogniClient

TEMPLATE = {
    "name": "Poster of a subject",
    "description": "One poster image of whatever subject the run names",
    "inputs": [{"name": "subject", "type": "text", "required": True}],
    "stages": [{"id": "poster", "toolName": "sogni_generate_image",
                "arguments": {"prompt": "a vintage travel poster of $inputs.subject"}}],
}


def main() -> None:
    with SogniClient() as client:
        workflows = client.creative_workflows
        template = workflows.templates.create(TEMPLATE)
        print(f"saved template {template.id}: inputs {', '.join(template.input_names)}")
        try:
            run = workflows.run_template(template.id, {"subject": "a lighthouse"},
                                         idempotency_key=str(uuid.uuid4()))
            print(f"run {run.workflow_id} is {run.status}")
            for frame in workflows.stream_events(run.workflow_id):
                print(f"  #{frame.id} {frame.event}")
            take = workflows.reseed(run.workflow_id, idempotency_key=str(uuid.uuid4()))
            print(f"reseeded as {take.workflow.workflow_id} (from {take.cloned_from_run_id})")
            list(workflows.stream_events(take.workflow.workflow_id))
            for url in workflows.get(take.workflow.workflow_id).artifact_urls:
                print(f"  artifact: {url.split('?')[0]}")
        finally:
            workflows.templates.delete(template.id)


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
