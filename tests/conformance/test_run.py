"""The conformance driver (``make conformance``) against stand-in runners."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from tests.conformance.run import CHECKOUT, main


def _fake_runners(folder: pathlib.Path) -> None:
    for client, ok in (("js", "true"), ("py", "false")):
        (folder / client).mkdir()
        (folder / client / "run.sh").write_text(
            "test -n \"$SOGNI_USERNAME\" && test -n \"$SOGNI_API_KEY\" || exit 3\n"
            f"echo '{{\"client\":\"{client}\",\"scenario\":\"connect\",\"ok\":{ok},"
            "\"seconds\":0.1,\"detail\":\"'\"$*\"'\"}'\n")


def test_driver_parses_runner_output(tmp_path: pathlib.Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    _fake_runners(tmp_path)
    code = main(["--runners", str(tmp_path), "--only", "connect"])
    out = capsys.readouterr().out
    assert code == 1
    assert "js     connect        ok" in out and "py     connect        FAIL" in out
    assert "--only connect" in out and "1 scenario(s) failed" in out


def test_a_runner_without_output_is_one_failed_row(tmp_path: pathlib.Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "run.sh").write_text("echo 'node: not found' >&2\nexit 127\n")
    assert main(["--runners", str(tmp_path), "--client", "js"]) == 1
    assert "js     (runner)       FAIL" in capsys.readouterr().out


def test_runs_as_a_module_from_the_checkout(tmp_path: pathlib.Path) -> None:
    _fake_runners(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "tests.conformance.run", "--runners",
                           str(tmp_path), "--client", "js"], cwd=CHECKOUT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "all scenarios passed" in proc.stdout


def test_not_a_console_command() -> None:
    from sogni_sync.cli import COMMANDS

    assert "conformance" not in COMMANDS
