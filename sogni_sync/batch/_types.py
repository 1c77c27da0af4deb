"""Results of a batch: one :class:`ItemResult` per item finished in this run, and the
:class:`BatchSummary` of the run."""

from __future__ import annotations

import pathlib
from decimal import Decimal

import attrs

__all__ = ["BatchEstimate", "BatchSummary", "ItemResult"]


@attrs.frozen
class ItemResult:
    """One item's final state in this run (also its manifest line)."""

    index: int
    status: str  #: completed, failed or canceled
    params_hash: str
    project_id: str | None = None
    result_urls: tuple[str, ...] = ()
    files: tuple[pathlib.Path, ...] = ()
    cost: Decimal | None = None
    error: str | None = None
    answer: str | None = None
    attempts: int = 0  #: submissions of this item, over every run
    recovered: bool = False  #: picked up by its durable id after a crash, not re-submitted
    retried: int = 0  #: extra submissions in this run


@attrs.frozen
class BatchSummary:
    """Counts, cost, time and failures of one ``batch.run``."""

    total: int  #: items seen in this run (skipped ones included)
    completed: int  #: completed in this run
    skipped: int  #: already completed in the manifest (resume)
    recovered: int  #: in flight at a crash, picked up by their durable ids
    failed: int
    canceled: int
    retried: int  #: extra attempts made
    cost: Decimal  #: sum of the known costs of the items completed in this run
    elapsed: float  #: seconds
    manifest: pathlib.Path | None
    output_dir: pathlib.Path | None
    failures: tuple[ItemResult, ...] = ()
    interrupted: bool = False

    @property
    def items_per_second(self) -> float:
        done = self.completed + self.failed
        return done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.canceled == 0 and not self.interrupted


@attrs.frozen
class BatchEstimate:
    """The quoted price of a batch before running it (``client.batch.estimate``)."""

    projects: int  #: media items priced
    chats: int  #: chat items (priced by the tokens they use: not quoted up front)
    tokens: Decimal  #: sum of the quotes
    unquoted: int = 0  #: media items the server gave no quote for
    kinds: tuple[tuple[str, int], ...] = ()  #: (type, count), sorted
