"""Every bad input of the table is refused before anything reaches the emulator."""

from __future__ import annotations

import pathlib
import re
import time
from typing import Any

import pytest

from sogni_sync._convert import to_camel
from sogni_sync.errors import ValidationError

from .bad_inputs import BAD_INPUTS, TEXT, Bad


def _paths(tmp: pathlib.Path) -> dict[str, str]:
    (tmp / "notes.png").write_bytes(TEXT)
    (tmp / "empty.png").write_bytes(b"")
    (tmp / "folder.png").mkdir()
    return {"$TEXT": str(tmp / "notes.png"), "$EMPTY": str(tmp / "empty.png"),
            "$DIR": str(tmp / "folder.png"), "$MISSING": str(tmp / "missing.png")}


def _call(client: Any, bad: Bad, paths: dict[str, str]) -> Any:
    params = {k: paths.get(v, v) if isinstance(v, str) else v for k, v in bad.params.items()}
    if bad.call == "chat":
        return client.chat.complete(**params, timeout=5)
    if bad.call == "estimate":
        return client.projects.estimate_cost(**params)
    return client.projects.create(type=bad.call, **params)


def _names(param: str) -> tuple[str, ...]:
    return (param, to_camel(param), param.replace("_", " "))


def test_the_table_is_big_enough() -> None:
    calls = {b.call for b in BAD_INPUTS}
    assert calls == {"image", "video", "audio", "estimate", "chat"}
    assert len(BAD_INPUTS) >= 60


def test_every_bad_input_is_refused_before_io(client: Any, net: Any,
                                              tmp_path: pathlib.Path) -> None:
    paths = _paths(tmp_path)
    for model in {b.params["model_id"] for b in BAD_INPUTS if isinstance(
            b.params.get("model_id"), str) and b.params["model_id"]}:
        client.catalog.model_options(model)  # the catalogue is cached from here on
    client.chat.wait_for_models(10)
    failures = []
    for bad in BAD_INPUTS:
        calls, frames = len(net.rest_calls), len(net.frames)
        try:
            _call(client, bad, paths)
        except ValidationError as exc:
            message = str(exc)
            if not any(n.lower() in message.lower() for n in _names(bad.named or bad.param)):
                failures.append(f"{bad.call} {bad.param}: message does not name it: {message}")
        except Exception as exc:
            failures.append(f"{bad.call} {bad.param}: {type(exc).__name__}: {exc}")
        else:
            failures.append(f"{bad.call} {bad.param}={bad.params[bad.param]!r}: accepted")
        new_calls = net.rest_calls[calls:]
        sent = [f for f in net.frames[frames:] if f.direction == "in"]
        if new_calls or sent:
            failures.append(f"{bad.call} {bad.param}: reached the emulator: "
                            f"{[c.path for c in new_calls]} {[f.type for f in sent]}")
    assert failures == []


@pytest.mark.parametrize("value, message", [
    (b"", "starting_image: the data is empty (0 bytes)"),
    (b"GIF89a" + b"\x00" * 10, "starting_image must be an image (image/jpeg, image/png, "
                                "image/webp), but the data looks like image/gif"),
    (b"hello", "starting_image must be an image (image/jpeg, image/png, image/webp), but the "
               "data is not a recognised media file"),
])
def test_media_messages(client: Any, value: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        client.projects.create_image("flux1-schnell-fp8", "x", starting_image=value)
    assert str(info.value) == message


def test_paths_get_their_own_messages(client: Any, tmp_path: pathlib.Path) -> None:
    paths = _paths(tmp_path)
    expected = {
        "$DIR": "is a directory, not a file",
        "$EMPTY": "is empty (0 bytes)",
        "$MISSING": "file not found",
        "$TEXT": "is not a recognised media file",
    }
    for key, text in expected.items():
        with pytest.raises(ValidationError, match=re.escape(text)):
            client.projects.create_image("flux1-schnell-fp8", "x",
                                         starting_image=pathlib.Path(paths[key]))


def test_misspelled_and_other_kind_names(client: Any, net: Any,
                                         caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ValidationError, match="did you mean 'negative_prompt'"):
        client.projects.create_image("flux1-schnell-fp8", "x", negativ_prompt="blurry")
    with pytest.raises(ValidationError, match=r"Unknown audio project parameter.*number_of_prev"):
        client.projects.create_audio("ace_step_1.5_turbo", "x", number_of_previews=2)
    # the reference-shaped entry ignores another type's parameters, as the reference does,
    # but says so
    project = client.projects.create(type="audio", model_id="ace_step_1.5_turbo",
                                     positive_prompt="x", number_of_previews=2)
    assert "number_of_previews" in caplog.text and "ignored" in caplog.text
    assert "number_of_previews" not in project.params
    project.cancel()


def test_number_of_media_is_kept_not_rewritten(client: Any, net: Any) -> None:
    project = client.projects.create_image("flux1-schnell-fp8", "x", number_of_media=3)
    assert project.number_of_media == 3
    deadline = time.monotonic() + 5
    while not net.received("jobRequest") and time.monotonic() < deadline:
        time.sleep(0.002)  # the emulator records frames asynchronously
    assert net.received("jobRequest")[-1]["numberOfImages"] == 3
    project.cancel()
    with pytest.raises(ValidationError, match="number_of_media must be between 1 and 16"):
        client.projects.create_image("flux1-schnell-fp8", "x", number_of_media=0)
