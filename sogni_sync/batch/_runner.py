"""The batch runner: ``concurrency`` threads take items one at a time from a lazy source, run
each through a :class:`Backend` (this process's client, or a Dask cluster) and record it in
the manifest; the calling thread only collects results, reports progress, calls
``on_result`` and handles Ctrl-C.

Crash safety: an item's ``in_flight`` line, with the project id chosen here, is written
before its project is submitted. On resume that id is recovered from the server instead of
submitted again; only an id the server never received is submitted again (under the same id).
A failure whose outcome is unknown (connection lost, timeout) is recovered by id too; only a
definite failure is retried, under a new id, with backoff.
"""

from __future__ import annotations

import itertools
import logging
import pathlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import attrs

from sogni_sync.batch._items import Item, ItemSource, check_item, params_hash
from sogni_sync.batch._manifest import Manifest, ManifestMismatchError
from sogni_sync.batch._progress import Progress
from sogni_sync.batch._types import BatchSummary, ItemResult
from sogni_sync.batch._work import Outcome
from sogni_sync.errors import ValidationError
from sogni_sync.projects._recover import new_project_id

__all__ = ["Backend", "Runner", "Settings"]

log = logging.getLogger("sogni_sync.batch")
#: Ctrl-C: how long in-flight items get to record their cancellation
CANCEL_GRACE = 0.8
_DONE = object()


class Backend(Protocol):
    """Where items run. ``app_id`` goes into the manifest header; ``ticket()`` is the app id
    of the next submission (written in its in-flight line)."""

    app_id: str

    def check_resume(self, manifest: Manifest) -> None: ...

    def ticket(self) -> str: ...

    def submit(self, item: Item, project_id: str, app_id: str) -> Outcome: ...

    def recover(self, item: Item, project_id: str, app_id: str | None) -> Outcome: ...

    def chat(self, item: Item) -> Outcome: ...

    def cancel_all(self) -> None: ...


@attrs.frozen
class Settings:
    concurrency: int = 8
    output_dir: pathlib.Path | None = None
    manifest: pathlib.Path | None = None
    resume: bool = False
    retries: int = 2
    progress: bool = True
    on_result: Callable[[ItemResult], Any] | None = None
    backoff: float = 0.5


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


class Runner:
    def __init__(self, backend: Backend, source: ItemSource, settings: Settings,
                 stop: threading.Event) -> None:
        self.backend = backend
        self.source = source
        self.s = settings
        self.stop = stop
        self.manifest = Manifest(settings.manifest) if settings.manifest else None
        self._feed_lock = threading.Lock()
        self._feed: Iterator[tuple[int, Any]] = iter(())
        self._results: queue.Queue[Any] = queue.Queue()
        self._counts = dict.fromkeys(("completed", "skipped", "recovered", "failed",
                                      "canceled", "retried"), 0)
        self._cost = Decimal(0)
        self._failures: list[ItemResult] = []

    # -- preparation (no network I/O) -------------------------------------------------------

    def _prepare(self) -> int | None:
        manifest = self.manifest
        if manifest is not None:
            if self.s.resume:
                manifest.load()
            elif manifest.path.exists() and manifest.path.stat().st_size:
                raise ValidationError(
                    f"manifest {str(manifest.path)!r} already exists: pass resume=True to "
                    "continue that batch, or choose another manifest/output directory")
        elif self.s.resume:
            raise ValidationError("resume=True needs a manifest (or an output_dir holding one)")
        total = None
        if self.source.rereadable:  # check every item, and the manifest, before any I/O
            total = 0
            for index, raw in enumerate(self.source.raw()):
                item = check_item(index, raw)
                if manifest is not None:
                    manifest.check(index, item.hash)
                total += 1
            if manifest is not None and manifest.records and max(manifest.records) >= total:
                raise ManifestMismatchError(
                    f"{manifest.path.name} does not belong to these items: it records item "
                    f"{max(manifest.records)} but there are only {total}")
        if manifest is not None:
            self.backend.check_resume(manifest)
        return total

    # -- run --------------------------------------------------------------------------------

    def run(self) -> BatchSummary:
        started = time.monotonic()
        total = self._prepare()
        if self.manifest is not None:
            self.manifest.open({"app_id": self.backend.app_id})
        if self.s.output_dir is not None:
            self.s.output_dir.mkdir(parents=True, exist_ok=True)
            if self.s.resume:  # downloads a crash cut short (never renamed into place)
                for stale in self.s.output_dir.glob(".sogni-*.part"):
                    stale.unlink(missing_ok=True)
        self._feed = enumerate(self.source.raw())
        progress = Progress(self.s.progress, total)
        threads = [threading.Thread(target=self._worker, name=f"sogni-batch-{n}", daemon=True)
                   for n in range(self.s.concurrency)]
        for thread in threads:
            thread.start()
        alive, interrupted = len(threads), False
        try:
            while alive:
                got = self._results.get()
                if got is _DONE:
                    alive -= 1
                elif isinstance(got, BaseException):
                    raise got
                else:
                    self._account(got, progress)
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            self._abort(alive, progress)
            raise
        finally:
            progress.close()
            if self.manifest is not None:
                self.manifest.close()
            if interrupted:
                log.warning("batch interrupted: in-flight projects canceled; resume=True "
                            "continues it")
        c = self._counts
        return BatchSummary(
            total=c["completed"] + c["skipped"] + c["failed"] + c["canceled"],
            completed=c["completed"], skipped=c["skipped"], recovered=c["recovered"],
            failed=c["failed"], canceled=c["canceled"], retried=c["retried"], cost=self._cost,
            elapsed=time.monotonic() - started,
            manifest=self.manifest.path if self.manifest else None,
            output_dir=self.s.output_dir, failures=tuple(self._failures))

    def _abort(self, alive: int, progress: Progress) -> None:
        """Stop feeding, cancel what is in flight, and let the workers record it (bounded)."""
        self.stop.set()
        try:
            self.backend.cancel_all()
        except Exception:
            log.exception("canceling the in-flight projects failed")
        deadline = time.monotonic() + CANCEL_GRACE
        while alive and (left := deadline - time.monotonic()) > 0:
            try:
                got = self._results.get(timeout=left)
            except (queue.Empty, KeyboardInterrupt):
                break
            if got is _DONE:
                alive -= 1
            elif isinstance(got, ItemResult):
                self._account(got, progress)

    def _account(self, result: ItemResult, progress: Progress) -> None:
        counts = self._counts
        counts[result.status] = counts.get(result.status, 0) + 1
        counts["retried"] += result.retried
        if result.recovered:
            counts["recovered"] += 1
        if result.status == "completed" and result.cost is not None:
            self._cost += result.cost
        if result.status == "failed":
            self._failures.append(result)
        progress.update(result.status, counts["failed"])
        if self.s.on_result is not None and result.status != "skipped":
            try:
                self.s.on_result(result)
            except Exception:
                log.exception("on_result raised for item %d", result.index)

    # -- worker threads -----------------------------------------------------------------------

    def _next(self) -> tuple[int, Any] | None:
        with self._feed_lock:
            if self.stop.is_set():
                return None
            return next(self._feed, None)

    def _worker(self) -> None:
        try:
            while (got := self._next()) is not None:
                result = self._item(*got)
                if result is not None:
                    self._results.put(result)
        except BaseException as exc:
            self.stop.set()
            self._results.put(exc)
        finally:
            self._results.put(_DONE)

    def _item(self, index: int, raw: Any) -> ItemResult | None:
        try:
            item = check_item(index, raw)
        except ValidationError as exc:  # iterables are checked as they are read
            digest = params_hash(raw) if isinstance(raw, dict) else ""
            return self._record(index, digest, Outcome("failed", error=str(exc)), 0, False,
                                None)
        record = self.manifest.check(index, item.hash) if self.manifest else None
        if record is not None and record.get("status") == "completed":
            return ItemResult(index, "skipped", item.hash, record.get("project_id"))
        attempts = int(record.get("attempt") or 0) if record else 0
        if item.chat is not None:
            return self._chat(item, attempts)
        return self._project(item, record, attempts)

    def _chat(self, item: Item, attempts: int) -> ItemResult | None:
        for tries in itertools.count(1):
            if self.stop.is_set():
                return None
            outcome = self.backend.chat(item)
            if outcome.status == "completed" or not outcome.retryable or \
                    tries > self.s.retries or self.stop.wait(self.s.backoff * 2 ** (tries - 1)):
                return self._record(item.index, item.hash, outcome, attempts + tries, False,
                                    None, tries - 1)
        return None  # pragma: no cover - the loop always returns

    def _project(self, item: Item, record: dict[str, Any] | None,
                 attempts: int) -> ItemResult | None:
        pending = record is not None and bool(record.get("project_id")) and (
            record.get("status") == "in_flight" or record.get("recoverable"))
        recover_id = str(record["project_id"]) if record and pending else None
        recover_app = record.get("app_id") if record and pending else None
        reuse: str | None = None
        tries = 0
        while True:
            if recover_id is not None:
                outcome = self.backend.recover(item, recover_id, recover_app)
                if outcome.status == "lost":  # never received: submit it under the same id
                    reuse, recover_id = recover_id, None
                    continue
                recovered, app = True, recover_app
            else:
                if self.stop.is_set():
                    return None
                pid, reuse = reuse or new_project_id(), None
                app = self.backend.ticket()
                tries += 1
                if self.manifest is not None:
                    self.manifest.append({"index": item.index, "hash": item.hash,
                                          "project_id": pid, "app_id": app,
                                          "status": "in_flight", "attempt": attempts + tries})
                outcome = self.backend.submit(item, pid, app)
                recovered = False
            again = outcome.retryable or outcome.recoverable
            if outcome.status == "completed" or not again or tries > self.s.retries or \
                    self.stop.is_set():
                return self._record(item.index, item.hash, outcome, attempts + tries,
                                    recovered and outcome.status == "completed", app,
                                    max(0, tries - 1))
            if self.stop.wait(self.s.backoff * 2 ** max(0, tries - 1)):
                return self._record(item.index, item.hash, outcome, attempts + tries, False,
                                    app, max(0, tries - 1))
            if outcome.recoverable and outcome.project_id:
                if recovered:
                    tries += 1  # a failed recovery counts as a try
                recover_id, recover_app = outcome.project_id, app
            else:
                recover_id = None

    def _record(self, index: int, digest: str, outcome: Outcome, attempts: int,
                recovered: bool, app_id: str | None, retried: int = 0) -> ItemResult:
        if outcome.status not in ("completed", "failed", "canceled"):
            outcome = attrs.evolve(outcome, status="failed")  # nothing ends uncounted
        if self.manifest is not None:
            self.manifest.append({
                "index": index, "hash": digest, "project_id": outcome.project_id,
                "app_id": app_id, "status": outcome.status, "attempt": attempts,
                "result_urls": list(outcome.result_urls), "files": list(outcome.files),
                "cost": outcome.cost, "error": outcome.error, "answer": outcome.answer,
                "recoverable": outcome.recoverable or None, "recovered": recovered or None})
        base = self.s.output_dir
        return ItemResult(
            index=index, status=outcome.status, params_hash=digest,
            project_id=outcome.project_id, result_urls=outcome.result_urls,
            files=tuple((base / f) if base else pathlib.Path(f) for f in outcome.files),
            cost=_decimal(outcome.cost), error=outcome.error, answer=outcome.answer,
            attempts=attempts, recovered=recovered, retried=retried)
