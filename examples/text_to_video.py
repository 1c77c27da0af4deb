"""Text to video (WAN 2.2 t2v) with a price check first."""

from __future__ import annotations

from typing import Any

from _demo import demo_client, save_results


def main() -> None:
    with demo_client() as client:
        params: dict[str, Any] = dict(
            model_id="wan_v2.2-14b-fp8_t2v_lightx2v",
            positive_prompt="A red fox trotting through fresh snow, tracking shot",
            duration=5,
            steps=4,
            width=640,
            height=640,
            token_type="spark",
        )
        # the quote takes the very parameters the project is created with
        cost = client.projects.estimate_video_cost(**params)
        print(f"estimated cost: {cost.spark} spark (${cost.usd})")
        project = client.projects.create_video(**params)
        project.wait(timeout=900)
        save_results(project, "video")


if __name__ == "__main__":
    main()
