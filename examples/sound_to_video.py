"""Sound to video (WAN 2.2 s2v): a reference image lip-synced to an audio clip."""

from __future__ import annotations

import sys

from _demo import demo_client, sample_image, sample_wav, save_results


def main() -> None:
    image = sys.argv[1] if len(sys.argv) > 1 else sample_image()
    audio = sys.argv[2] if len(sys.argv) > 2 else sample_wav(3)
    with demo_client() as client:
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
        save_results(project, "video")


if __name__ == "__main__":
    main()
