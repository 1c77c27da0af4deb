"""Text to video (WAN 2.2 t2v) with a price check first."""

from __future__ import annotations

import os
from typing import Any

from sogni_sync import SogniClient


def main() -> None:
    with SogniClient() as client:
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
        for job in project.jobs:
            if job.has_result_media:
                print(f"video: {job.download('out')}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
