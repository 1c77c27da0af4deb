"""Text to image: the `make demo` script.

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
Writes the image(s) to ./out/ and prints where they are.
"""

from __future__ import annotations

from _demo import OUT, demo_client


def main() -> None:
    with demo_client() as client:
        project = client.projects.create_image(
            model_id="flux1-schnell-fp8",
            positive_prompt="A lighthouse on a cliff at dusk, volumetric light",
            number_of_media=1,
            steps=4,
            guidance=1,
            token_type="spark",
        )
        print(f"project {project.id} submitted; waiting...")
        project.wait(timeout=300)
        for job in project.jobs:
            if job.has_result_media:
                path = job.download(OUT)
                print(f"image written to {path.resolve()}")


if __name__ == "__main__":
    main()
