"""MiniMax H3 video (FL2VA turbo): a clip that comes with its own soundtrack."""

from __future__ import annotations

import os
import sys

from sogni_sync import SogniClient


def main() -> None:
    prompt = " ".join(sys.argv[1:]) or "A paper boat drifting down a rain gutter, rain pattering"
    with SogniClient() as client:
        # H3 fixes fps (24), guidance (1) and steps (4 on the turbo ids); a duration becomes the
        # nearest frame count of its 124 + 17n grid (6 s -> 141 frames). For a first frame (and
        # a last one) use minimax-h3-fl2va-fp8_i2v_turbo with reference_image=...
        project = client.projects.create_video(
            "minimax-h3-fl2va-fp8_t2v_turbo",
            prompt,
            duration=6,
            width=672,  # multiples of 32; the _2stage ids deliver twice this canvas
            height=384,
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
