"""A simple batch: several prompts at once through one client, collected as they finish."""

from __future__ import annotations

from _demo import OUT, demo_client

from sogni_sync.projects import as_completed

PROMPTS = [
    "A red bicycle leaning on a yellow wall",
    "A bowl of ramen, studio lighting",
    "A snowy mountain village at night",
    "A robot reading a newspaper in a cafe",
]


def main() -> None:
    with demo_client() as client:
        projects = [
            client.projects.create(type="image", model_id="flux1-schnell-fp8",
                                   positive_prompt=prompt, steps=4, token_type="spark")
            for prompt in PROMPTS
        ]
        for project in as_completed(projects, timeout=600):
            if project.status != "completed":
                print(f"{project.params['positive_prompt']!r}: {project.status} {project.error}")
                continue
            for job in project.jobs:
                print(f"{project.params['positive_prompt']!r} -> {job.download(OUT)}")


if __name__ == "__main__":
    main()
