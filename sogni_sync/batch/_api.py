"""``client.batch``: run many projects (or chat requests) with a cap, files, a manifest and
resume — on this process's client, or on a Dask cluster (``dask_client=``)."""

from __future__ import annotations

import os
import pathlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from sogni_sync.batch._items import Item, ItemSource
from sogni_sync.batch._manifest import Manifest
from sogni_sync.batch._runner import Runner, Settings
from sogni_sync.batch._types import BatchEstimate, BatchSummary, ItemResult
from sogni_sync.batch._work import BatchClient, Outcome, Worker
from sogni_sync.errors import ValidationError
from sogni_sync.projects import Project

__all__ = ["BatchApi", "LocalBackend"]

MANIFEST_NAME = "manifest.jsonl"
MAX_CONCURRENCY = 1024


class LocalBackend:
    """Items run on one client in this process (its threads share the client)."""

    def __init__(self, client: BatchClient, output_dir: pathlib.Path | None,
                 stop: threading.Event) -> None:
        self.client = client
        self.app_id: str = client.app_id
        self.worker = Worker(client, output_dir, stop)
        self._lock = threading.Lock()
        self._in_flight: dict[int, Project] = {}

    def check_resume(self, manifest: Manifest) -> None:
        others = {str(r.get("app_id")) for r in manifest.records.values()
                  if r.get("status") == "in_flight" and r.get("app_id") not in
                  (None, self.app_id)}
        if others:
            raise ValidationError(
                f"{manifest.path.name} has projects in flight under app id "
                f"{', '.join(sorted(others))}; the server sends their events to that app id "
                f"only: resume with a client created with app_id={sorted(others)[0]!r}")

    def ticket(self) -> str:
        return self.app_id

    def _register(self, project: Project | None) -> None:
        key = threading.get_ident()
        with self._lock:
            if project is None:
                self._in_flight.pop(key, None)
            else:
                self._in_flight[key] = project

    def submit(self, item: Item, project_id: str, app_id: str) -> Outcome:
        assert item.params is not None
        return self.worker.submit(item.index, item.params, project_id, self._register)

    def recover(self, item: Item, project_id: str, app_id: str | None) -> Outcome:
        return self.worker.recover(item.index, project_id, self._register)

    def chat(self, item: Item) -> Outcome:
        assert item.chat is not None
        return self.worker.chat(item.chat)

    def cancel_all(self) -> None:
        with self._lock:
            projects = list(self._in_flight.values())
        for project in projects:
            project.cancel()


def check_settings(concurrency: Any, retries: Any) -> None:
    for name, value, low in (("concurrency", concurrency, 1), ("retries", retries, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or not (
                low <= value <= MAX_CONCURRENCY):
            raise ValidationError(f"{name} must be an integer from {low} to {MAX_CONCURRENCY}, "
                                  f"not {value!r}")


def settings(concurrency: int, output_dir: str | os.PathLike[str] | None,
             manifest: str | os.PathLike[str] | None, resume: bool, retries: int,
             progress: bool, on_result: Callable[[ItemResult], Any] | None) -> Settings:
    """Checked :class:`Settings`; the manifest defaults to ``<output_dir>/manifest.jsonl``."""
    check_settings(concurrency, retries)
    if on_result is not None and not callable(on_result):
        raise ValidationError("on_result must be callable")
    out = pathlib.Path(output_dir) if output_dir is not None else None
    if out is not None and out.exists() and not out.is_dir():
        raise ValidationError(f"output_dir {str(out)!r} is not a directory")
    path = pathlib.Path(manifest) if manifest is not None else (
        out / MANIFEST_NAME if out is not None else None)
    return Settings(concurrency=concurrency, output_dir=out, manifest=path, resume=bool(resume),
                    retries=retries, progress=bool(progress), on_result=on_result)


class BatchApi:
    """Batches over one client. Built by ``SogniClient``; use ``client.batch``."""

    def __init__(self, client: BatchClient,
                 client_factory: Callable[..., Any] | None = None) -> None:
        self._client = client
        self._factory = client_factory

    def run(
        self,
        items: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
        *,
        concurrency: int = 8,
        output_dir: str | os.PathLike[str] | None = None,
        manifest: str | os.PathLike[str] | None = None,
        resume: bool = False,
        retries: int = 2,
        progress: bool = True,
        on_result: Callable[[ItemResult], Any] | None = None,
        dask_client: Any = None,
    ) -> BatchSummary:
        """Run every item, at most ``concurrency`` at a time, and return the summary.

        ``items``: a ``.jsonl`` file (one dict of project parameters a line — the words of
        ``projects.create(type=..., ...)``, ``type`` defaulting to ``"image"``, or
        ``{"type": "chat", "model": ..., "messages": [...]}``), a ``.csv`` file with a header
        of parameter names, or any iterable of such dicts. Read lazily; files are checked in
        full before anything is sent (ValidationError naming the item).

        Results go to ``output_dir`` as ``<index:06d>-<n>.<ext>``; ``manifest`` (default
        ``<output_dir>/manifest.jsonl``) gets one JSON line per event of an item.
        ``resume=True`` continues a crashed or interrupted batch: completed items are
        skipped, projects that were in flight are recovered by their ids, never submitted
        twice; a manifest of other items is refused. Definite failures are retried up to
        ``retries`` times with backoff (not InsufficientFunds nor validation errors).
        Ctrl-C cancels the projects in flight, records that, and re-raises
        KeyboardInterrupt. ``on_result(ItemResult)`` runs on the calling thread.

        ``dask_client``: a ``dask.distributed.Client``: items run on its workers, one
        SogniClient per worker process (see ``sogni_sync.batch.DaskBackend``); this client's
        credentials and endpoints are used there (API-key auth).
        """
        conf = settings(concurrency, output_dir, manifest, resume, retries, progress,
                        on_result)
        source = ItemSource(items)
        stop = threading.Event()
        if dask_client is not None:
            from sogni_sync.batch._dask import DaskBackend

            if self._factory is None:
                raise ValidationError("this client cannot be rebuilt on Dask workers")
            backend: Any = DaskBackend(dask_client, self._factory, conf.output_dir, stop,
                                       base_app_id=self._client.app_id)
        else:
            backend = LocalBackend(self._client, conf.output_dir, stop)
        try:
            return Runner(backend, source, conf, stop).run()
        finally:
            close = getattr(backend, "close", None)
            if close is not None:
                close()

    def estimate(self, items: str | os.PathLike[str] | Iterable[Mapping[str, Any]]
                 ) -> BatchEstimate:
        """Price a batch before running it: every item is checked as :meth:`run` checks it,
        and quoted once per distinct set of priced parameters (prompts and seeds do not
        change a price)."""
        source = ItemSource(items)
        if source.rereadable:
            for _ in source:  # every item checked before the first quote
                pass
        worker = Worker(self._client, None)
        total, unquoted, chats, kinds = Decimal(0), 0, 0, Counter[str]()
        for item in source:
            if item.params is None:
                chats += 1
                continue
            kinds[item.params.type] += 1
            price = worker.cost(item.params)
            if price is None:
                unquoted += 1
            else:
                total += Decimal(price)
        return BatchEstimate(projects=sum(kinds.values()), chats=chats, tokens=total,
                             unquoted=unquoted, kinds=tuple(sorted(kinds.items())))
