"""Text to music (ACE-Step 1.5): two takes of a song with lyrics."""

from __future__ import annotations

import os

from sogni_sync import SogniClient


def main() -> None:
    with SogniClient() as client:
        options = client.catalog.model_options("ace_step_1.5_turbo")
        print("allowed samplers:", options.sampler.allowed)
        project = client.projects.create(
            type="audio",
            model_id="ace_step_1.5_turbo",
            positive_prompt="Upbeat synth-pop with a driving bassline and airy vocals",
            number_of_media=2,
            duration=30,
            bpm=118,
            keyscale="A minor",
            timesignature="4",
            language="en",
            lyrics="[verse]\nNeon rivers in the night\n[chorus]\nHold on",
            steps=8,
            output_format="mp3",
            token_type="spark",
        )
        project.wait(timeout=600)
        for job in project.jobs:
            if job.has_result_media:
                print(f"track: {job.download('out')}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
