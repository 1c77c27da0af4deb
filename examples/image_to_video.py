"""Image to video (WAN 2.2 i2v): animate a still, optionally towards an end frame."""

from __future__ import annotations

import sys

from _demo import demo_client, sample_image, save_results


def main() -> None:
    start = sys.argv[1] if len(sys.argv) > 1 else sample_image()
    with demo_client() as client:
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
        save_results(project, "video")


if __name__ == "__main__":
    main()
