"""Batch progress: a tqdm bar when tqdm is installed (extra ``progress``) and wanted, plain
``logging`` lines otherwise (every 5 % or 10 s, whichever comes first)."""

from __future__ import annotations

import logging
import time
from typing import Any

__all__ = ["Progress"]

log = logging.getLogger("sogni_sync.batch")


class Progress:
    def __init__(self, enabled: bool, total: int | None, done: int = 0) -> None:
        self.total = total
        self.count = done
        self._bar: Any = None
        self._last_log = time.monotonic()
        self._step = max(1, total // 20) if total else 100
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(total=total, initial=done, unit="item", desc="batch",
                                 dynamic_ncols=True)

    def update(self, status: str, failed: int) -> None:
        self.count += 1
        if self._bar is not None:
            self._bar.update(1)
            if failed:
                self._bar.set_postfix(failed=failed, refresh=False)
            return
        now = time.monotonic()
        if self.count % self._step == 0 or now - self._last_log >= 10 or (
                self.total is not None and self.count == self.total):
            self._last_log = now
            of = f"/{self.total}" if self.total is not None else ""
            log.info("batch: %d%s items done (%d failed); last %s", self.count, of, failed,
                     status)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
