"""Image to video (WAN 2.2 i2v): animate a still, optionally towards an end frame."""

from __future__ import annotations

import os
import pathlib
import sys

from sogni_sync import SogniClient

MEDIA = pathlib.Path(__file__).parent / "media"  # sample inputs


def main() -> None:
    start = sys.argv[1] if len(sys.argv) > 1 else str(MEDIA / "sample.png")
    with SogniClient() as client:
        config = client.catalog.video_asset_config("wan_v2.2-14b-fp8_i2v_lightx2v")
        print("i2v assets:", dict(config.assets))
        project = client.projects.create(
            type="video",
            model_id="wan_v2.2-14b-fp8_i2v_lightx2v",
            positive_prompt="The camera slowly pushes in",
            reference_image=start,
            duration=3,
            fps=16,
            steps=4,
            width=480,
            height=480,
            token_type="spark",
        )
        for event in project.events(timeout=900):  # ends at the project's terminal event
            print(f"{event.name:<14} {project.progress:3d}%")
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
