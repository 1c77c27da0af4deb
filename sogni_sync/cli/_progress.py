"""Progress on stderr: a tqdm bar when tqdm is installed (extra ``progress``) and stderr is a
terminal, else a plain percentage line (rewritten in place on a terminal, one line per change
otherwise, so logs and pipes stay readable)."""

from __future__ import annotations

from typing import Any, TextIO

__all__ = ["Progress"]


class Progress:
    """``update(percent, status)`` as often as you like; ``close()`` once."""

    def __init__(self, label: str, stream: TextIO, *, enabled: bool = True) -> None:
        self._label = label
        self._stream = stream
        self._enabled = enabled
        self._tty = _isatty(stream)
        self._last: tuple[int, str] | None = None
        self._bar: Any = None
        if enabled and self._tty:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=100, desc=label, file=stream, leave=True,
                                 bar_format="{desc}: {percentage:3.0f}%|{bar}| "
                                            "[{elapsed}{postfix}]")

    def update(self, percent: int, status: str = "") -> None:
        if not self._enabled:
            return
        percent = max(0, min(100, int(percent)))
        state = (percent, status)
        if state == self._last:
            return
        previous = self._last[0] if self._last else 0
        self._last = state
        if self._bar is not None:
            self._bar.set_postfix_str(status, refresh=False)
            self._bar.update(max(0, percent - previous))
            self._bar.refresh()
            return
        suffix = f" ({status})" if status else ""
        if self._tty:
            self._stream.write(f"\r\x1b[K{self._label}: {percent:3d}%{suffix}")
        else:
            self._stream.write(f"{self._label}: {percent:3d}%{suffix}\n")
        self._stream.flush()

    def close(self) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._tty and self._last is not None:
            self._stream.write("\n")
            self._stream.flush()
        self._enabled = False


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
