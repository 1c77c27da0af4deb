"""Image editing with context images (Qwen Image Edit): "put image 1 into image 2".

Media inputs may be bytes, a file path (streamed, never read whole) or a binary file object.
"""

from __future__ import annotations

import sys

from _demo import demo_client, sample_image, save_results


def main() -> None:
    # Pass your own files: python image_edit.py cat.png sofa.jpg
    images: list[str] | list[bytes] = sys.argv[1:3] or [sample_image(), sample_image()]
    with demo_client() as client:
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
        save_results(project, "edited image")


if __name__ == "__main__":
    main()
