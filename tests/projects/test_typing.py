"""A user's script under ``mypy --strict``: the typed project API catches mistakes statically.

Fails if typing regresses (e.g. ``create_image`` back to ``**params: Any``): then the expected
errors disappear.
"""

from __future__ import annotations

import pathlib
import re

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = pathlib.Path(__file__).resolve().parents[2]

SCRIPT = '''\
from sogni_sync import SogniClient
from sogni_sync.projects import ImageParams


def main(client: SogniClient) -> None:
    client.projects.create_image("flux1-schnell-fp8", "a lighthouse", steps="four")
    client.projects.create_image("flux1-schnell-fp8", "a lighthouse", negativ_prompt="blurry")
    client.projects.create_image("flux1-schnell-fp8", "a lighthouse", output_format="gif")
    client.projects.estimate_audio_cost("ace_step_1.5_turbo", "synth pop", timesignature=4)
    client.projects.create_video("ltx23-22b-fp8_i2v_distilled", "a fox", reference_image=3.5)
    ImageParams("flux1-schnell-fp8", "a lighthouse", control_net={"name": "cany"})
    # correct calls: no errors
    project = client.projects.create_image("flux1-schnell-fp8", "a lighthouse", steps=4,
                                           guidance=1.5, output_format="jpg", seed=7,
                                           control_net={"name": "canny", "strength": 0.5})
    project.wait(timeout=60)
    client.projects.create_video("wan_v2.2-14b-fp8_t2v_lightx2v", "a fox", duration=5, fps=16)
    client.projects.create_audio("ace_step_1.5_turbo", "synth pop", bpm=120,
                                 timesignature="4", output_format="flac")
    quote = client.projects.estimate_image_cost("flux1-schnell-fp8", "a lighthouse", steps=4)
    print(quote.usd)
'''

EXPECTED = [
    (6, 'Argument "steps" to "create_image" of "ProjectsApi" has incompatible type "str"; '
        'expected "int | None"  [arg-type]'),
    (7, 'Unexpected keyword argument "negativ_prompt" for "create_image" of "ProjectsApi"; '
        'did you mean "negative_prompt"?  [call-arg]'),
    (8, 'Argument "output_format" to "create_image" of "ProjectsApi" has incompatible type '
        '"Literal[\'gif\']"; expected "Literal[\'png\', \'jpg\', \'webp\'] | None"  [arg-type]'),
    (9, 'Argument "timesignature" to "estimate_audio_cost" of "ProjectsApi" has incompatible '
        'type "Literal[4]"; expected "Literal[\'2\', \'3\', \'4\', \'6\'] | None"  [arg-type]'),
    (10, 'Argument "reference_image" to "create_video" of "ProjectsApi" has incompatible type '
         '"float"; expected'),
    (11, 'Argument "control_net" to "ImageParams" has incompatible type "dict[str, str]"; '
         'expected "ControlNet | None"  [arg-type]'),
]


def test_mypy_strict_catches_user_mistakes(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "user_script.py"
    script.write_text(SCRIPT)
    stdout, stderr, _status = mypy_api.run([
        str(script), "--strict", "--follow-imports=silent", "--no-error-summary",
        "--config-file", str(ROOT / "pyproject.toml"),
        "--cache-dir", str(ROOT / ".mypy_cache"),
    ])
    errors = []
    for line in stdout.splitlines():
        match = re.match(r".*user_script\.py:(\d+): error: (.*)", line)
        if match:
            errors.append((int(match.group(1)), match.group(2)))
    assert [line for line, _ in errors] == [line for line, _ in EXPECTED], stdout + stderr
    for (_, got), (_, want) in zip(errors, EXPECTED, strict=True):
        assert got.startswith(want), (got, want)


def test_help_shows_the_parameters() -> None:
    import inspect

    from sogni_sync.projects import ProjectsApi

    unbound = list(inspect.signature(ProjectsApi.create_video).parameters)
    assert unbound[:3] == ["self", "model_id", "positive_prompt"]
    assert {"duration", "fps", "reference_image", "number_of_media"} <= set(unbound)
    bound = ProjectsApi.__new__(ProjectsApi)  # no client needed to read a signature
    assert list(inspect.signature(bound.estimate_audio_cost).parameters)[:2] == [
        "model_id", "positive_prompt"]
