"""Batch items on a ``dask.distributed`` cluster (extra ``dask``).

The driver (``client.batch.run(..., dask_client=...)``) keeps everything that must be single:
the item feed, the project ids, the manifest and the retries. Each attempt is one Dask task,
pinned to one worker, which runs it on that worker process's own :class:`SogniClient` — built
lazily there from a picklable recipe (endpoints, network, API key; the driver's client is never
pickled) with its own app id ``<batch app id>-w<worker name>``. The app id goes into the
manifest's in-flight line before the task is sent, so after a crash a resumed batch recovers
each project on the worker of the same name (a restarted cluster has the same names), or on
the driver with a client of that app id when no such worker exists. All workers write into the
one output directory (a shared file system for a multi-machine cluster).
"""

from __future__ import annotations

import atexit
import itertools
import logging
import pathlib
import threading
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from sogni_sync.batch._items import Item, check_item
from sogni_sync.batch._manifest import Manifest
from sogni_sync.batch._work import Outcome, Worker
from sogni_sync.errors import MissingDependencyError, SogniError, ValidationError

__all__ = ["DaskBackend", "remote_chat", "remote_recover", "remote_submit"]

log = logging.getLogger("sogni_sync.batch")

# -- the worker side: one client per app id per process, made on first use -----------------------

_WORKERS: dict[str, Worker] = {}
_WORKERS_LOCK = threading.Lock()


def _close_all() -> None:
    with _WORKERS_LOCK:
        workers = list(_WORKERS.values())
        _WORKERS.clear()
    for worker in workers:
        worker.client.close()


def _worker(factory: Callable[..., Any], app_id: str, output_dir: str | None) -> Worker:
    with _WORKERS_LOCK:
        worker = _WORKERS.get(app_id)
        if worker is None or worker.client.closed:
            if not _WORKERS:
                atexit.register(_close_all)
            client = factory(app_id=app_id)
            worker = _WORKERS[app_id] = Worker(
                client, pathlib.Path(output_dir) if output_dir else None)
        return worker


def _ignore(_project: Any) -> None:
    return None


def remote_submit(factory: Callable[..., Any], app_id: str, output_dir: str | None, index: int,
                  raw: dict[str, Any], project_id: str) -> dict[str, Any]:
    item = check_item(index, raw)
    assert item.params is not None
    worker = _worker(factory, app_id, output_dir)
    return worker.submit(index, item.params, project_id, _ignore).to_dict()


def remote_recover(factory: Callable[..., Any], app_id: str, output_dir: str | None,
                   index: int, project_id: str) -> dict[str, Any]:
    return _worker(factory, app_id, output_dir).recover(index, project_id, _ignore).to_dict()


def remote_chat(factory: Callable[..., Any], app_id: str, index: int,
                raw: dict[str, Any]) -> dict[str, Any]:
    item = check_item(index, raw)
    assert item.chat is not None
    return _worker(factory, app_id, None).chat(item.chat).to_dict()


def _outcome(data: dict[str, Any]) -> Outcome:
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                              for k, v in data.items()}
    return Outcome(**fields)


# -- the driver side -------------------------------------------------------------------------


class DaskBackend:
    """:class:`~sogni_sync.batch._runner.Backend` over a ``distributed.Client``."""

    def __init__(self, dask_client: Any, factory: Callable[[], Callable[..., Any]],
                 output_dir: pathlib.Path | None, stop: threading.Event, *,
                 base_app_id: str) -> None:
        try:
            import distributed
        except ImportError:
            raise MissingDependencyError("dask", "dask[distributed]",
                                         "Running a batch on Dask") from None
        if not isinstance(dask_client, distributed.Client):
            raise ValidationError("dask_client must be a dask.distributed.Client")
        self.dask = dask_client
        self.recipe = factory()  # picklable: partial(SogniClient, api_key=..., ...)
        self.output_dir = str(output_dir) if output_dir is not None else None
        self.stop = stop
        self.app_id = base_app_id
        self._lock = threading.Lock()
        self._futures: dict[str, Any] = {}
        self._local: dict[str, Worker] = {}
        self._workers: dict[str, str] = {}  # app id -> worker address
        self._turn: Any = iter(())
        self._driver: Any = None

    # -- workers ------------------------------------------------------------------------------

    def _discover(self) -> None:
        info = self.dask.scheduler_info().get("workers", {})
        self._workers = {f"{self.app_id}-w{meta.get('name', addr)}": addr
                         for addr, meta in sorted(info.items())}
        if not self._workers:
            raise ValidationError("the Dask cluster has no workers")
        self._turn = itertools.cycle(sorted(self._workers))
        if self._driver is None:  # sends cancels on Ctrl-C (same account, any app id)
            self._driver = self.recipe(app_id=f"{self.app_id}-driver")

    def check_resume(self, manifest: Manifest) -> None:
        header_app = manifest.header.get("app_id")
        if isinstance(header_app, str) and header_app:
            self.app_id = header_app  # the same worker names give the same app ids
        self._discover()

    def ticket(self) -> str:
        with self._lock:
            if not self._workers:
                self._discover()
            return str(next(self._turn))

    # -- running ----------------------------------------------------------------------------

    def _run(self, key: str, address: str | None, fn: Callable[..., Any],
             *args: Any) -> Outcome:
        if self.stop.is_set():
            return Outcome("canceled", key, error="batch interrupted")
        # a fresh task key per attempt: Dask would hand back an earlier task's result
        future = self.dask.submit(fn, *args, key=f"sogni-{key}-{uuid.uuid4().hex[:8]}",
                                  pure=False,
                                  workers=[address] if address else None,
                                  allow_other_workers=address is None)
        with self._lock:
            self._futures[key] = future
        try:
            return _outcome(future.result())
        except Exception as exc:  # the worker died, or the task was canceled
            if self.stop.is_set():
                return Outcome("canceled", key, error="batch interrupted")
            return Outcome("failed", key, error=f"{type(exc).__name__}: {exc}",
                           retryable=True, recoverable=True)
        finally:
            with self._lock:
                self._futures.pop(key, None)

    def submit(self, item: Item, project_id: str, app_id: str) -> Outcome:
        return self._run(project_id, self._workers.get(app_id), remote_submit, self.recipe,
                         app_id, self.output_dir, item.index, item.raw, project_id)

    def recover(self, item: Item, project_id: str, app_id: str | None) -> Outcome:
        app = app_id or self.app_id
        address = self._workers.get(app)
        if address is not None:
            return self._run(project_id, address, remote_recover, self.recipe, app,
                             self.output_dir, item.index, project_id)
        with self._lock:  # that worker is gone: recover here, under its app id
            worker = self._local.get(app)
            if worker is None:
                worker = self._local[app] = Worker(
                    self.recipe(app_id=app),
                    pathlib.Path(self.output_dir) if self.output_dir else None, self.stop)
        outcome = worker.recover(item.index, project_id, _ignore)
        return attrs.evolve(outcome, project_id=outcome.project_id or project_id)

    def chat(self, item: Item) -> Outcome:
        app = self.ticket()
        return self._run(f"chat-{item.index}", self._workers.get(app), remote_chat,
                         self.recipe, app, item.index, item.raw)

    def cancel_all(self) -> None:
        """Cancel the projects in flight (by id, from the driver: the same account) and
        their tasks."""
        with self._lock:
            futures = dict(self._futures)
        for key in futures:
            if self._driver is not None and not key.startswith("chat-"):
                try:
                    self._driver.projects.cancel(key)
                except (SogniError, OSError) as exc:
                    log.warning("could not cancel project %s: %s", key, exc)
        if futures:
            self.dask.cancel(list(futures.values()))

    def close(self) -> None:
        for worker in list(self._local.values()):
            worker.client.close()
        if self._driver is not None:
            self._driver.close()
