"""Video to video (LTX-2.3 v2v ControlNet): restyle a clip following its edges."""

from __future__ import annotations

import sys

from _demo import demo_client, save_results


def main() -> None:
    # A path is streamed to storage, never read whole. Without one, a stub the emulator
    # accepts (it only sniffs the magic bytes; the real network needs a real clip).
    source: str | bytes = (
        sys.argv[1] if len(sys.argv) > 1 else b"\x00\x00\x00\x18ftypisom" + b"\x00" * 52
    )
    with demo_client() as client:
        project = client.projects.create(
            type="video",
            model_id="ltx23-22b-fp8_v2v_distilled",
            positive_prompt="A watercolor animation of the same scene",
            reference_video=source,
            control_net={"name": "canny", "strength": 0.8},
            duration=3,
            steps=8,
            token_type="spark",
        )
        project.wait(timeout=900)
        save_results(project, "video")


if __name__ == "__main__":
    main()
