"""The batch manifest: one JSON object a line, appended and flushed as things happen.

The first line is a header (``{"sogni_batch": 1, "app_id": ...}``: the app id whose socket
receives the events of the batch's projects). Every other line is a record of one item:
``index``, ``hash`` (of its parameters), ``project_id``, ``app_id``, ``status``
(``in_flight`` — written *before* the project is submitted —, ``completed``, ``failed`` or
``canceled``), ``attempt``, ``result_urls``, ``files``, ``cost``, ``error``, ``answer`` (chat)
and ``time``. The last record of an index wins. A line torn by a crash (the last one, without
its newline) is cut off when the manifest is opened again.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

from sogni_sync.errors import ValidationError

__all__ = ["FORMAT", "Manifest", "ManifestMismatchError"]

log = logging.getLogger(__name__)
FORMAT = 1
#: what resume needs of each item's last record (kept in memory; the rest stays on disk)
_KEPT = ("index", "hash", "project_id", "app_id", "status", "attempt", "recoverable")


class ManifestMismatchError(ValidationError):
    """``resume=True`` with a manifest written for other items (or another format)."""


class Manifest:
    """Records by index (the last one of each) and a thread-safe, flushed appender."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = pathlib.Path(path)
        self.header: dict[str, Any] = {}
        self.records: dict[int, dict[str, Any]] = {}
        self.torn = 0
        self._lock = threading.Lock()
        self._fh: IO[str] | None = None
        self._closed = False

    # -- reading -------------------------------------------------------------------------------

    def load(self) -> None:
        """Read an existing manifest; cut off a torn last line; refuse garbage elsewhere."""
        if not self.path.exists():
            return
        good = 0
        with open(self.path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                try:
                    record = json.loads(line) if line.endswith(b"\n") else None
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    if fh.read(1):
                        raise ManifestMismatchError(
                            f"{self.path.name} line {number} is not a manifest record")
                    self.torn = 1
                    break
                good += len(line)
                self._take(number, record)
        if self.torn:
            log.warning("manifest %s: a torn last line (a crash while writing) was dropped",
                        self.path)
            os.truncate(self.path, good)

    def _take(self, number: int, record: dict[str, Any]) -> None:
        if number == 1:
            if record.get("sogni_batch") != FORMAT:
                raise ManifestMismatchError(f"{self.path.name} is not a sogni-sync batch "
                                            "manifest (or of another version)")
            self.header = record
            return
        index = record.get("index")
        if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
            self.records[index] = {k: record[k] for k in _KEPT if k in record}

    def check(self, index: int, digest: str) -> dict[str, Any] | None:
        """The last record of item ``index``; ManifestMismatchError if it was written for
        different parameters."""
        record = self.records.get(index)
        if record is not None and record.get("hash") != digest:
            raise ManifestMismatchError(
                f"{self.path.name} does not belong to these items: item {index} has other "
                "parameters than when the manifest was written (refusing to resume; use "
                "another manifest or output directory)")
        return record

    # -- writing -------------------------------------------------------------------------------

    def open(self, header: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open, closed in close()
        if fresh:
            self.header = {"sogni_batch": FORMAT, **header}
            self._write(self.header)

    def _write(self, record: Mapping[str, Any]) -> None:
        assert self._fh is not None
        self._fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._fh.flush()  # a killed process loses nothing already written

    def append(self, record: Mapping[str, Any]) -> bool:
        """Write one record (``time`` added); False once the manifest is closed."""
        with self._lock:
            if self._closed or self._fh is None:
                return False
            self._write({**record, "time": round(time.time(), 3)})
            index = record.get("index")
            if isinstance(index, int):
                self.records[index] = {k: record[k] for k in _KEPT if k in record}
            return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._fh is not None:
                self._fh.close()
                self._fh = None
