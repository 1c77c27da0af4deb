"""Image to 3D (Pixal3D): a textured GLB model from one front view, optionally more views."""

from __future__ import annotations

import os
import pathlib
import sys

from sogni_sync import SogniClient

MEDIA = pathlib.Path(__file__).parent / "media"  # sample inputs


def main() -> None:
    # Pass your own front view: python image_to_3d.py chair.png
    front = sys.argv[1] if len(sys.argv) > 1 else str(MEDIA / "sample.png")
    with SogniClient() as client:
        # pixal3d_multiview_int8_i23d also takes left_view_image, back_view_image and
        # right_view_image next to the front view
        project = client.projects.create_image(
            "pixal3d_int8_i23d",
            "",  # promptless: the image is the whole request
            starting_image=front,
            texture_size=2048,
            mesh_target_faces=100000,
            token_type="spark",
        )
        project.wait(timeout=900)
        for job in project.jobs:
            if job.has_result_media:
                print(f"model: {job.download('out')}")  # a binary glTF (.glb)


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
