"""Text to image: the `make demo` script.

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
Writes the image(s) to ./out/ and prints where they are.
"""

from __future__ import annotations

import os

from sogni_sync import SogniClient


def main() -> None:
    with SogniClient() as client:
        project = client.projects.create_image(
            model_id="flux1-schnell-fp8",
            positive_prompt="A lighthouse on a cliff at dusk, volumetric light",
            number_of_media=1,
            steps=4,
            guidance=1,
            token_type="spark",
        )
        print(f"project {project.id} submitted; waiting...")
        project.wait(timeout=300)
        for job in project.jobs:
            if job.has_result_media:
                path = job.download("out")
                print(f"image written to {path.resolve()}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
