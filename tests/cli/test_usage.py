"""Usage errors (exit 2, before any network I/O), help, logging, the progress line and the
console script."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import pytest

from sogni_sync.cli import COMMANDS, main
from sogni_sync.cli._progress import Progress
from sogni_sync.testing import LocalSupernet

BAD = [
    [],
    ["bogus"],
    ["image"],
    ["image", ""],
    ["image", "x", "--format", "gif"],
    ["image", "x", "-n", "0"],
    ["image", "x", "--steps", "four"],
    ["image", "x", "--seed", "-1"],
    ["image", "x", "--width", "512"],
    ["image", "x", "--network", "slow"],
    ["image", "x", "--timeout", "0"],
    ["image", "x", "--no-such-option"],
    ["video", "x", "--fps", "0"],
    ["video", "x", "--duration", "nan"],
    ["video", "x", "--height", "480"],
    ["music", "x", "--format", "flac"],
    ["music", "x", "--bpm", "-3"],
    ["chat"],
    ["chat", "   "],
    ["chat", "x", "--max-tokens", "0"],
    ["chat", "x", "--temperature", "-1"],
    ["models", "--kind", "text"],
    ["balance", "--token-type", "spark"],
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a) or "nothing")
def test_bad_input_fails_before_any_io(argv: list[str], net: LocalSupernet, remote: list[str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, *remote] if argv else argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "error" in captured.err
    assert net.rest_calls == [] and net.frames == [] and net.app_ids == []


def test_stdin_message_must_not_be_empty(monkeypatch: pytest.MonkeyPatch, net: LocalSupernet,
                                         remote: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["chat", "-", *remote]) == 2
    assert "empty" in capsys.readouterr().err
    assert net.rest_calls == []


def test_bad_endpoint_is_invalid_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["balance", "--api-key", "k", "--rest-endpoint", "ftp://example.com"]) == 2
    captured = capsys.readouterr()
    assert "rest_endpoint" in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"] if command else ["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: sogni-sync")
    if command not in (None, "emulator"):  # it starts its own emulator
        assert "--api-key" in out and "--emulator" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from sogni_sync._version import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sogni-sync {__version__}"


def test_verbose_logs_to_stderr_and_cleans_up(remote: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("sogni_sync")
    handlers, level = list(logger.handlers), logger.level
    assert main(["balance", "-vv", *remote]) == 0
    assert " DEBUG sogni_sync." in capsys.readouterr().err
    assert logger.handlers == handlers and logger.level == level


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_plain_lines() -> None:
    stream = io.StringIO()
    progress = Progress("image", stream)
    for percent, status in [(0, "queued"), (0, "queued"), (50, "processing"), (100, "done")]:
        progress.update(percent, status)
    progress.close()
    progress.update(10)  # after close: ignored
    assert stream.getvalue() == ("image:   0% (queued)\nimage:  50% (processing)\n"
                                 "image: 100% (done)\n")


def test_progress_plain_terminal_rewrites_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if the extra were not installed
    stream = _Tty()
    progress = Progress("music", stream)
    progress.update(40)
    progress.update(100)
    progress.close()
    assert stream.getvalue() == "\r\x1b[Kmusic:  40%\r\x1b[Kmusic: 100%\n"


def test_progress_tqdm_on_a_terminal() -> None:
    pytest.importorskip("tqdm")
    stream = _Tty()
    progress = Progress("video", stream)
    progress.update(30, "processing")
    progress.update(100, "done")
    progress.close()
    assert "video: 100%" in stream.getvalue() and "done" in stream.getvalue()


def test_progress_disabled_writes_nothing() -> None:
    stream = _Tty()
    progress = Progress("image", stream, enabled=False)
    progress.update(50)
    progress.close()
    assert stream.getvalue() == ""


def test_module_entry_point_help() -> None:
    result = subprocess.run([sys.executable, "-m", "sogni_sync.cli", "--help"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "image" in result.stdout and "balance" in result.stdout
