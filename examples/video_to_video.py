"""Video to video (LTX-2.3 v2v ControlNet): restyle a clip following its edges."""

from __future__ import annotations

import os
import sys

from sogni_sync import SogniClient


def main() -> None:
    # A path is streamed to storage, never read whole. Without one, a stub the emulator
    # accepts (it only sniffs the magic bytes; the real network needs a real clip).
    source: str | bytes = (
        sys.argv[1] if len(sys.argv) > 1 else b"\x00\x00\x00\x18ftypisom" + b"\x00" * 52
    )
    with SogniClient() as client:
        project = client.projects.create(
            type="video",
            model_id="ltx23-22b-fp8_v2v_distilled",
            positive_prompt="A watercolor animation of the same scene",
            reference_video=source,
            control_net={"name": "canny", "strength": 0.8},
            duration=3,
            steps=8,
            token_type="spark",
        )
        project.wait(timeout=900)
        for job in project.jobs:
            if job.has_result_media:
                print(f"video: {job.download('out')}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
