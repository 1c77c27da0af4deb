"""``sogni-sync batch`` / ``estimate`` / ``--emulator`` through the installed console script,
as a new user types them (a subprocess each: the real entry point, real exit codes)."""

from __future__ import annotations

import json
import pathlib

import pytest

from sogni_sync.testing import LocalSupernet

from .helpers import needs_console_script, sogni

pytestmark = needs_console_script
MODEL = "flux1-schnell-fp8"


def _items(path: pathlib.Path, count: int) -> pathlib.Path:
    path.write_text("".join(json.dumps({"model_id": MODEL, "positive_prompt": f"fox {i}",
                                        "steps": 2}) + "\n" for i in range(count)))
    return path


def test_image_with_emulator_writes_into_the_directory(tmp_path: pathlib.Path) -> None:
    done = sogni("image", "a lighthouse", "--emulator", "-o", "shots", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    path = tmp_path / line
    assert path.parent == tmp_path / "shots" and path.read_bytes()[:4] == b"\x89PNG"


def test_unknown_model_is_one_line_and_exit_2(tmp_path: pathlib.Path) -> None:
    done = sogni("image", "a fox", "--emulator", "--model", "no-such-model", "-q", cwd=tmp_path)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error")]
    assert errors == ["error: Model no-such-model not supported"] or (
        len(errors) == 1 and "no-such-model" in errors[0])
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize("command", [["image", "a fox"], ["chat", "hi"], ["balance"],
                                     ["batch", "items.jsonl", "--out", "o"],
                                     ["estimate", "a fox"]])
def test_without_api_key_nothing_is_faked(tmp_path: pathlib.Path, command: list[str]) -> None:
    _items(tmp_path / "items.jsonl", 2)
    done = sogni(*command, cwd=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert "no API key" in line and "emulat" not in line.split("(")[0]
    assert not (tmp_path / "o").exists() and not (tmp_path / "out").exists()


def test_batch_then_resume(tmp_path: pathlib.Path) -> None:
    _items(tmp_path / "items.jsonl", 6)
    done = sogni("batch", "items.jsonl", "--out", "run", "--concurrency", "3", "--emulator",
                 "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(pathlib.Path("run") / "manifest.jsonl")
    assert sorted(p.name for p in (tmp_path / "run").glob("*.png")) == [
        f"{i:06d}-0.png" for i in range(6)]
    assert "6 completed" in done.stderr
    again = sogni("batch", "items.jsonl", "--out", "run", "--emulator", "-q", cwd=tmp_path)
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = sogni("batch", "items.jsonl", "--out", "run", "--resume", "--emulator", "-q",
                    cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "0 completed, 6 already done" in resumed.stderr


def test_batch_against_a_remote_supernet(tmp_path: pathlib.Path, net: LocalSupernet) -> None:
    csv = tmp_path / "items.csv"
    csv.write_text(f"model_id,positive_prompt,steps\n{MODEL},a cat,2\n{MODEL},a dog,3\n")
    done = sogni("batch", "items.csv", "--out", "o", "--rest-endpoint", net.rest_url,
                 "--socket-endpoint", net.socket_url, "-q", cwd=tmp_path, key=net.api_key)
    assert done.returncode == 0, done.stderr
    assert len(net.received("jobRequest")) == 2


def test_batch_bad_input_is_exit_2(tmp_path: pathlib.Path) -> None:
    (tmp_path / "items.jsonl").write_text('{"model_id": "x", "positive_prompt": "a"}\nnot json\n')
    done = sogni("batch", "items.jsonl", "--out", "o", "--emulator", cwd=tmp_path)
    assert done.returncode == 2 and "line 2" in done.stderr and "Traceback" not in done.stderr
    missing = sogni("batch", "nope.jsonl", "--out", "o", "--emulator", cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_estimate_a_project_and_a_batch_file(tmp_path: pathlib.Path) -> None:
    one = sogni("estimate", "a fox", "-n", "2", "--emulator", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    single = float(one.stdout.split()[0])
    _items(tmp_path / "items.jsonl", 4)
    many = sogni("estimate", "items.jsonl", "--emulator", cwd=tmp_path)
    assert many.returncode == 0, many.stderr
    assert float(many.stdout.split()[0]) > 0 and "4 image" in many.stderr
    assert single > 0
