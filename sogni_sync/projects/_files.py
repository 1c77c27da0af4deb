"""Writing results to disk: safe default names and atomic, umask-respecting files."""

from __future__ import annotations

import os
import pathlib
import re
import tempfile
from collections.abc import Callable
from typing import IO

__all__ = ["default_filename", "resolve_target", "write_atomically"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSIONS = {"jpg": ".jpg", "jpeg": ".jpg", "webp": ".webp", "png": ".png",
               "mp3": ".mp3", "flac": ".flac", "wav": ".wav", "mp4": ".mp4", "mov": ".mov",
               "glb": ".glb"}


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once at import: os.umask() is process-wide, so flipping it later could race other threads.
_UMASK = _read_umask()


def default_filename(project_id: str, job_id: str, kind: str, output_format: str) -> str:
    """``<project>_<job>.<ext>`` with anything unsafe in a file name replaced by ``_``."""
    fmt = output_format.lower()
    ext = _EXTENSIONS.get(fmt) or {"video": ".mp4", "audio": ".mp3"}.get(kind, ".png")
    return _SAFE.sub("_", f"{project_id}_{job_id}") + ext


def resolve_target(path: str | os.PathLike[str], default_name: str) -> pathlib.Path:
    """``path`` as a file path: a directory (existing, ending with a separator, or without a
    file extension — created) gets ``default_name`` inside it."""
    target = pathlib.Path(path)
    as_dir = target.is_dir() or str(path).endswith((os.sep, "/")) or (
        not target.exists() and not target.suffix)
    if as_dir:
        target.mkdir(parents=True, exist_ok=True)
        target = target / default_name
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def write_atomically(target: pathlib.Path, fill: Callable[[IO[bytes]], None]) -> pathlib.Path:
    """Run ``fill(fileobj)`` into a temporary file beside ``target``, then rename it over, so a
    failure leaves nothing half-written behind. Mode 0666 less the umask, like ``open()``."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".sogni-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a download is an ordinary file
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target
