"""Speech (Qwen3 TTS): a built-in voice reading a line, then the same line in a cloned voice."""

from __future__ import annotations

import os
import pathlib
import sys

from sogni_sync import SogniClient

MEDIA = pathlib.Path(__file__).parent / "media"  # sample inputs
LINE = "Welcome aboard. The tide is turning, so let us set sail before the light goes."


def main() -> None:
    # Pass a clip of the voice to clone (mp3, m4a or wav): python speech.py me.wav
    voice = sys.argv[1] if len(sys.argv) > 1 else str(MEDIA / "sample.wav")
    with SogniClient() as client:
        spoken = client.projects.create_audio(
            "qwen3_tts_1.7b_custom_voice_bf16",
            LINE,
            speaker="Ryan",  # one of the model's voices
            language="en",
            instruct="warm and unhurried, like a ship's captain",
            token_type="spark",
        )
        cloned = client.projects.create_audio(
            "qwen3_tts_1.7b_voice_clone_bf16",
            LINE,
            reference_audio=voice,
            reference_text="This is how I usually sound when I talk.",  # what the clip says
            token_type="spark",
        )
        for label, project in (("speech", spoken), ("cloned voice", cloned)):
            project.wait(timeout=300)
            for job in project.jobs:
                if job.has_result_media:
                    print(f"{label}: {job.download('out')}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
