"""LoRAs and project records: pick a LoRA from the catalogue, render with it, then read the
project back by id and from the recent history.

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

import os

from sogni_sync import SogniClient

MODEL = "flux1-schnell-fp8"


def main() -> None:
    with SogniClient() as client:
        if not client.projects.supports_loras(MODEL):
            print(f"{MODEL} takes no LoRAs")
            return
        catalog = client.projects.available_loras(MODEL)
        lora = catalog.loras[0]
        print(f"{len(catalog.loras)} LoRA(s) for {MODEL}; using {lora.lora_id} "
              f"(strength {lora.ui.min}..{lora.ui.max}, default {lora.ui.default})")
        quote = client.projects.estimate_image_cost(model_id=MODEL, positive_prompt="a fox",
                                                    steps=4)
        print(f"estimated render: {quote.estimated_render_seconds} s")
        project = client.projects.create_image(
            model_id=MODEL, positive_prompt="A red fox in fresh snow", steps=4,
            loras=[lora.lora_id], lora_strengths=[lora.ui.default])
        project.wait(timeout=300)
        result = client.projects.get_result(project.id)
        urls = [job.url for job in result.jobs if job.url]
        print(f"project {result.id}: {result.status}, {len(urls)} result URL(s)")
        recent = client.projects.list_recent(limit=10)
        print(f"{len(recent)} recent project(s), newest {recent[0].id if recent else '-'}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
