"""Helpers of the CLI suite."""

from __future__ import annotations

import time
from typing import Any

from sogni_sync.testing import LocalSupernet


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
