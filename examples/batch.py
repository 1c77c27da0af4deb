"""A batch job: prompts from a JSONL file, 8 at a time, files and a manifest in ./out/batch.

Run it, press Ctrl-C half-way (the projects in flight are canceled), run it again: it
resumes — completed items are skipped, and after a crash (even ``kill -9``) the projects that
were in flight are recovered by their ids instead of being paid for twice.
"""

from __future__ import annotations

import json
import os
import pathlib

from sogni_sync import SogniClient

PROMPTS = [
    "A red bicycle leaning on a yellow wall",
    "A bowl of ramen, studio lighting",
    "A snowy mountain village at night",
    "A robot reading a newspaper in a cafe",
]


def main() -> None:
    out = pathlib.Path("out") / "batch"
    out.mkdir(parents=True, exist_ok=True)
    items = out / "prompts.jsonl"
    with open(items, "w", encoding="utf-8") as fh:
        for prompt in PROMPTS:
            fh.write(json.dumps({"type": "image", "model_id": "flux1-schnell-fp8",
                                 "positive_prompt": prompt, "steps": 4}) + "\n")
    with SogniClient() as client:
        summary = client.batch.run(
            items, output_dir=out, concurrency=8, retries=2,
            resume=(out / "manifest.jsonl").exists(),
            on_result=lambda r: print(f"item {r.index}: {r.status} {[str(f) for f in r.files]}"))
    print(f"{summary.completed} completed, {summary.skipped} already done, "
          f"{summary.failed} failed in {summary.elapsed:.1f}s; manifest: {summary.manifest}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
