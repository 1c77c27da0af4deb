"""Sound to video (WAN 2.2 s2v): a reference image lip-synced to an audio clip."""

from __future__ import annotations

import os
import pathlib
import sys

from sogni_sync import SogniClient

MEDIA = pathlib.Path(__file__).parent / "media"  # sample inputs


def main() -> None:
    image = sys.argv[1] if len(sys.argv) > 1 else str(MEDIA / "sample.png")
    audio = sys.argv[2] if len(sys.argv) > 2 else str(MEDIA / "sample.wav")
    with SogniClient() as client:
        project = client.projects.create(
            type="video",
            model_id="wan_v2.2-14b-fp8_s2v_lightx2v",
            positive_prompt="A person singing on stage",
            reference_image=image,
            reference_audio=audio,
            audio_start=0,
            audio_duration=3,
            duration=3,
            steps=4,
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
