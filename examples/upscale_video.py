"""Video upscaling (FlashVSR): a clip brought to 1080p, its timing kept."""

from __future__ import annotations

import os
import pathlib
import sys

from sogni_sync import SogniClient

MEDIA = pathlib.Path(__file__).parent / "media"  # sample inputs


def main() -> None:
    # Pass your own clip: python upscale_video.py holiday.mp4
    source = sys.argv[1] if len(sys.argv) > 1 else str(MEDIA / "sample.mp4")
    with SogniClient() as client:
        project = client.projects.create_video(
            "flashvsr_v1.1_tiny_long_bf16",
            "",  # promptless: one source video and no generation controls
            reference_video=source,
            upscale_resolution=1080,  # or 1440
            detail_preference="sharper",
            token_type="spark",
        )
        for event in project.events(timeout=900):  # ends at the project's terminal event
            print(f"{event.name:<14} {project.progress:3d}%")
        for job in project.jobs:
            if job.has_result_media:
                print(f"upscaled: {job.download('out')}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
