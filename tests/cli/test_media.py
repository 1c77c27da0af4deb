"""``image``, ``video`` and ``music`` against the emulator: files in ``--out``, paths on stdout,
the request the options became, failures, timeouts and Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sogni_sync.cli import _media, main
from sogni_sync.testing import LocalSupernet

from .helpers import canceled


def _paths(out: str) -> list[Path]:
    return [Path(line) for line in out.splitlines() if line]


def _request(net: LocalSupernet) -> tuple[dict[str, Any], dict[str, Any]]:
    """The one ``jobRequest`` sent, and its key frame (where the parameters are)."""
    (request,) = net.received("jobRequest")
    return request, request["keyFrames"][0]


def test_image(net: LocalSupernet, remote: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["image", "a lighthouse at dusk", "-n", "2", "--steps", "4", "--guidance", "1",
                 "--seed", "42", "--width", "512", "--height", "768", "--format", "jpg",
                 "--out", "shots", *remote])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    paths = _paths(captured.out)
    assert len(paths) == 2
    for path in paths:
        assert path.parent == Path("shots") and path.suffix == ".jpg"
        assert path.read_bytes()[:3] == b"\xff\xd8\xff"
    assert "image: 100% (done)" in captured.err
    assert "emulated" not in captured.err  # a real endpoint was given
    request, kf = _request(net)
    assert kf["positivePrompt"] == "a lighthouse at dusk"
    assert kf["modelID"] == "flux1-schnell-fp8"
    assert request["numberOfImages"] == 2 and request["outputFormat"] == "jpg"
    assert kf["steps"] == 4 and kf["seed"] == 42 and kf["guidanceScale"] == 1
    assert (kf["width"], kf["height"]) == (512, 768)


def test_image_local_default_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["image", "a fox", "--emulator", "-q", "-v"]) == 0
    captured = capsys.readouterr()
    (path,) = _paths(captured.out)
    assert path.parent == Path("out") and path.suffix == ".png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "--emulator: using a local emulated Supernet" in captured.err
    assert "image:" not in captured.err  # -q: no progress


def test_without_api_key_says_so_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["music", "lo-fi beat", "--duration", "10"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()  # one line, no fake Supernet, no traceback
    assert "no API key" in line and "--emulator" in line and "emulated" not in line
    assert not Path("out").exists()


def test_music_with_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["music", "lo-fi beat", "--duration", "10", "--local"]) == 0  # old spelling
    (path,) = _paths(capsys.readouterr().out)
    assert path.suffix == ".mp3" and path.exists()


def test_video(net: LocalSupernet, remote: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["video", "a fox in the snow", "--duration", "2", "--fps", "16",
                 "--width", "640", "--height", "640", "--out", "clips", *remote])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (path,) = _paths(captured.out)
    assert path.parent == Path("clips") and path.suffix == ".mp4"
    assert path.read_bytes()[4:8] == b"ftyp"
    request, kf = _request(net)
    assert kf["modelID"] == "wan_v2.2-14b-fp8_t2v_lightx2v"
    assert kf["fps"] == 16 and (kf["width"], kf["height"]) == (640, 640)
    assert kf["frames"] == 33  # 2 s at 16 fps, plus the first frame
    assert request["outputFormat"] == "mp4"


def test_music(net: LocalSupernet, remote: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["music", "upbeat synth-pop", "--duration", "12", "--bpm", "118",
                 "--keyscale", "A minor", "--format", "wav", "--lyrics", "[verse]\nla la",
                 *remote])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (path,) = _paths(captured.out)
    assert path.suffix == ".wav" and path.read_bytes()[:4] == b"RIFF"
    request, kf = _request(net)
    assert kf["modelID"] == "ace_step_1.5_turbo" and kf["positivePrompt"] == "upbeat synth-pop"
    assert kf["duration"] == 12 and kf["bpm"] == 118 and kf["lyrics"] == "[verse]\nla la"
    assert kf["keyscale"] == "A minor" and request["outputFormat"] == "wav"


def test_failed_project_is_a_clean_error(remote: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["image", "a fox [[fail]]", *remote]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error: Project" in captured.err and "failed" in captured.err
    assert "Traceback" not in captured.err


def test_unknown_model_is_invalid_input(remote: list[str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["image", "a fox", "--model", "no-such-model", *remote]) == 2
    captured = capsys.readouterr()
    assert "no-such-model" in captured.err and "Traceback" not in captured.err


def test_timeout_cancels(net: LocalSupernet, remote: list[str],
                         capsys: pytest.CaptureFixture[str]) -> None:
    net.options.step_delay = 5.0
    assert main(["image", "a fox", "--steps", "4", "--timeout", "0.2", *remote]) == 1
    captured = capsys.readouterr()
    assert "no result within 0.2s" in captured.err and "canceled" in captured.err
    assert canceled(net)


def test_ctrl_c_cancels_the_project(net: LocalSupernet, remote: list[str],
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: Any) -> list[str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(_media, "_follow", interrupted)
    net.options.step_delay = 5.0  # still running when Ctrl-C arrives, however loaded the machine
    assert main(["video", "a fox", *remote]) == 130
    captured = capsys.readouterr()
    assert "canceled" in captured.err and "interrupted" in captured.err
    assert captured.out == ""
    assert canceled(net)


def test_ctrl_c_after_the_end_sends_no_cancel(net: LocalSupernet, remote: list[str],
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    def finished_then_interrupted(project: Any, *args: Any) -> list[str]:
        project.wait(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(_media, "_follow", finished_then_interrupted)
    assert main(["image", "a fox", *remote]) == 130
    assert "had already finished" in capsys.readouterr().err
    assert net.received("jobError") == []


def test_out_must_be_a_directory(net: LocalSupernet, remote: list[str], cli_env: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    (cli_env / "taken").write_text("x")
    assert main(["image", "a fox", "--out", "taken", *remote]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert net.rest_calls == []


def test_out_with_a_dot_is_still_a_directory(remote: list[str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["image", "a fox", "--out", "run.v2", *remote]) == 0
    (path,) = _paths(capsys.readouterr().out)
    assert path.parent == Path("run.v2") and path.suffix == ".png"
