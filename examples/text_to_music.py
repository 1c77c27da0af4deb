"""Text to music (ACE-Step 1.5): two takes of a song with lyrics."""

from __future__ import annotations

from _demo import demo_client, save_results


def main() -> None:
    with demo_client() as client:
        options = client.catalog.model_options("ace_step_1.5_turbo")
        print("allowed samplers:", options.sampler.allowed)
        project = client.projects.create(
            type="audio",
            model_id="ace_step_1.5_turbo",
            positive_prompt="Upbeat synth-pop with a driving bassline and airy vocals",
            number_of_media=2,
            duration=30,
            bpm=118,
            keyscale="A minor",
            timesignature="4",
            language="en",
            lyrics="[verse]\nNeon rivers in the night\n[chorus]\nHold on",
            steps=8,
            output_format="mp3",
            token_type="spark",
        )
        project.wait(timeout=600)
        save_results(project, "track")


if __name__ == "__main__":
    main()
