"""Text to video (WAN 2.2 t2v) with a price check first."""

from __future__ import annotations

from _demo import demo_client, save_results


def main() -> None:
    with demo_client() as client:
        cost = client.projects.estimate_video_cost(
            model="wan_v2.2-14b-fp8_t2v_lightx2v", width=640, height=640, duration=5, fps=16,
            steps=4, token_type="spark")
        print(f"estimated cost: {cost.spark} spark (${cost.usd})")
        project = client.projects.create(
            type="video",
            model_id="wan_v2.2-14b-fp8_t2v_lightx2v",
            positive_prompt="A red fox trotting through fresh snow, tracking shot",
            duration=5,
            steps=4,
            width=640,
            height=640,
            token_type="spark",
        )
        project.wait(timeout=900)
        save_results(project, "video")


if __name__ == "__main__":
    main()
