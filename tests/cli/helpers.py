"""Helpers of the CLI suite."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import time
from typing import Any

import pytest

from sogni_sync.testing import LocalSupernet

EXE = shutil.which("sogni-sync", path=str(pathlib.Path(sys.executable).parent))
#: ``pytestmark`` of the modules that run the installed console script.
needs_console_script = pytest.mark.skipif(
    EXE is None, reason="the sogni-sync console script is not installed (pip install -e .)")


def sogni(*args: str, cwd: pathlib.Path, key: str | None = None,
          timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``sogni-sync *args`` as a user types it: no ``SOGNI_*`` variables unless ``key``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOGNI_")}
    if key is not None:
        env["SOGNI_API_KEY"] = key
    assert EXE is not None
    return subprocess.run([EXE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def canceled(net: LocalSupernet, timeout: float = 5.0) -> bool:
    """Whether the emulator received a cancel (``jobError`` artistCanceled). The emulator
    records frames on its own loop, a moment after the client wrote them, so this waits (up to
    ``timeout``) for its bookkeeping; it returns as soon as the frame is there."""
    deadline = time.monotonic() + timeout
    while True:
        if any(_is_cancel(m) for m in net.received("jobError")):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


def _is_cancel(message: Any) -> bool:
    return isinstance(message, dict) and message.get("error") == "artistCanceled"
