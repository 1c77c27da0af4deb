"""Durable creative workflows: start image → video, follow its events live, list artifacts.

The event stream resumes by itself from the last event id if the connection drops.
Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

import os

from sogni_sync import SogniClient


def main() -> None:
    with SogniClient() as client:
        workflows = client.creative_workflows
        started = workflows.start_image_to_video(
            "A paper boat drifting on a calm lake at sunrise",
            video_prompt="The boat slowly drifts forward",
            image_model="flux2",
            video_model="ltx23",
            token_type="spark",
        )
        print(f"workflow {started.workflow_id} ({started.title}) is {started.status}")
        for frame in workflows.stream_events(started.workflow_id):
            data = frame.data if isinstance(frame.data, dict) else {}
            print(f"  #{frame.id} {frame.event}: {data.get('message', '')}")
        record = workflows.get(started.workflow_id)
        print(f"final status: {record.status}")
        for url in record.artifact_urls:
            print(f"  artifact: {url.split('?')[0]}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
