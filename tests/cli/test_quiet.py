"""A normal run says nothing on stderr: ``sogni-sync models --emulator`` over and over (the
installed console script, a subprocess each), and one line with exit 2 when there is no key."""

from __future__ import annotations

import pathlib
from concurrent.futures import ThreadPoolExecutor

from .helpers import needs_console_script, sogni

pytestmark = needs_console_script
RUNS = 20


def test_models_without_api_key_is_one_line_and_exit_2(tmp_path: pathlib.Path) -> None:
    done = sogni("models", cwd=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: no API key") and "--emulator" in line
    assert done.stdout == ""


def test_models_with_emulator_leave_stderr_empty(tmp_path: pathlib.Path) -> None:
    # a few at a time: the runs overlap, so opening and closing race the way a loaded
    # machine makes them race
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _i: sogni("models", "--emulator", cwd=tmp_path),
                             range(RUNS)))
    for done in runs:
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("MODEL "), done.stdout
        assert done.stderr == ""


def test_verbose_names_the_emulator(tmp_path: pathlib.Path) -> None:
    done = sogni("models", "--emulator", "-v", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "--emulator: using a local emulated Supernet" in done.stderr
