"""Image editing with context images (Qwen Image Edit): "put image 1 into image 2".

Media inputs may be bytes, a file path (streamed, never read whole) or a binary file object.
"""

from __future__ import annotations

import os
import pathlib
import sys

from sogni_sync import SogniClient

MEDIA = pathlib.Path(__file__).parent / "media"  # sample inputs


def main() -> None:
    # Pass your own files: python image_edit.py cat.png sofa.jpg
    images: list[str] | list[bytes] = sys.argv[1:3] or [str(MEDIA / "sample.png")] * 2
    with SogniClient() as client:
        project = client.projects.create(
            type="image",
            model_id="qwen_image_edit_2511_fp8_lightning",
            positive_prompt="Put the subject of image 1 onto the sofa of image 2",
            context_images=images,
            steps=4,
            guidance=1,
            token_type="spark",
        )
        project.wait(timeout=300)
        for job in project.jobs:
            if job.has_result_media:
                print(f"edited image: {job.download('out')}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
