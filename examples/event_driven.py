"""Event-driven use: callbacks instead of blocking.

Callbacks run on the client's callback thread (never on the socket thread), in order. Events
that happened before a callback was registered are replayed to it, so nothing is missed.
"""

from __future__ import annotations

import os
import threading

from sogni_sync import SogniClient
from sogni_sync.projects import JobProgressEvent, Project, ProjectEvent


def main() -> None:
    finished = threading.Event()
    with SogniClient() as client:
        project = client.projects.create(
            type="image",
            model_id="flux1-schnell-fp8",
            positive_prompt="A cozy cabin in a snowy forest",
            number_of_media=2,
            number_of_previews=2,
            steps=4,
            token_type="spark",
        )

        def show(event: ProjectEvent) -> None:
            # (URLs are signed: print where they point, not their query strings)
            print(f"[{event.name}] job {getattr(event, 'job_id', '-')}")

        def progress(event: ProjectEvent) -> None:
            if isinstance(event, JobProgressEvent):
                print(f"  progress {event.project_progress}%")

        project.on("progress", progress)
        project.on("preview", show)
        project.on("job_completed", show)
        project.on("failed", show)

        def done(p: Project) -> None:
            print("done:", p.status, len(p.result_urls), "results")
            finished.set()

        project.add_done_callback(done)
        finished.wait(timeout=300)


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
