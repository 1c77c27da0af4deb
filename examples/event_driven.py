"""Event-driven use: callbacks instead of blocking.

Callbacks run on the client's callback thread (never on the socket thread), in order. Events
that happened before a callback was registered are replayed to it, so nothing is missed.
"""

from __future__ import annotations

import threading

from _demo import demo_client

from sogni_sync.projects import Project, ProjectEvent


def main() -> None:
    finished = threading.Event()
    with demo_client() as client:
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

        project.on("progress", lambda e: print(f"  progress {e.project_progress}%"))
        project.on("preview", show)
        project.on("job_completed", show)
        project.on("failed", show)
        def done(p: Project) -> None:
            print("done:", p.status, len(p.result_urls), "results")
            finished.set()

        project.add_done_callback(done)
        finished.wait(timeout=300)


if __name__ == "__main__":
    main()
