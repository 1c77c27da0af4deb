"""Durable creative workflows: start image → video, follow its events live, list artifacts.

The event stream resumes by itself from the last event id if the connection drops.
Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

from _demo import demo_client


def main() -> None:
    with demo_client() as client:
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
    main()
