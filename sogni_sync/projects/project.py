"""``Project`` and ``Job`` handles.

State is written only under ``transport.lock`` (by socket-event handlers and io-pool follow-ups)
and read under it; waiters sleep on a ``threading.Condition`` built on that lock and are woken
by the writes — nothing polls. User callbacks run on the dispatcher thread, never on the socket
thread.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import pathlib
import re
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sogni_sync._sync import Deadline, wait_for
from sogni_sync.catalog._families import js_round
from sogni_sync.errors import (
    ApiError,
    ClientClosedError,
    ProjectCanceled,
    ProjectError,
    ProjectFailed,
    TimeoutError,
)
from sogni_sync.projects._events import (
    ErrorData,
    EventIterator,
    EventQueue,
    ProjectCanceledEvent,
    ProjectCompletedEvent,
    ProjectEvent,
    ProjectFailedEvent,
)

if TYPE_CHECKING:
    from sogni_sync.projects.api import ProjectsApi

__all__ = ["Job", "Project"]

log = logging.getLogger(__name__)

#: Minted download URLs live 30 minutes; refresh a little early.
URL_REFRESH_AFTER = 25 * 60.0
FINISHED = frozenset({"completed", "failed", "canceled"})
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSIONS = {"jpg": ".jpg", "jpeg": ".jpg", "webp": ".webp", "png": ".png",
               "mp3": ".mp3", "flac": ".flac", "wav": ".wav", "mp4": ".mp4"}


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, int(value)))


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once at import: os.umask() is process-wide, so flipping it later could race other threads.
_UMASK = _read_umask()


def _file_mode() -> int:
    """0666 less the umask, as ``open()`` would have created the file."""
    return 0o666 & ~_UMASK


class Job:
    """One produced medium of a project. Read-only for users; updated by the client."""

    def __init__(self, project: Project, job_id: str, step_count: int) -> None:
        self._project = project
        self.id = job_id
        self.project_id = project.id
        self.status = "pending"
        self.step = 0
        self.step_count = step_count
        self.seed: int | None = None
        self.preview_url: str | None = None
        self.result_url: str | None = None
        self.is_nsfw = False
        self.user_canceled = False
        self.worker_name: str | None = None
        self.positive_prompt: str | None = None
        self.negative_prompt: str | None = None
        self.job_index: int | None = None
        self.external_progress: float | None = None
        self.eta: float | None = None  # epoch seconds
        self.eta_started_at: float | None = None
        self.error: ErrorData | None = None
        self._url_minted_at: float | None = None  # None for URLs that came with the event
        self._minting = False  # a jobResult arrived; its download URL is being minted
        self._preview: concurrent.futures.Future[None] | None = None  # preview URL in flight

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.status} {self.progress}%>"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def has_result_media(self) -> bool:
        return self.status == "completed" and not self.is_nsfw

    @property
    def eta_seconds(self) -> float | None:
        return None if self.eta is None else max(0.0, self.eta - time.time())

    @property
    def progress(self) -> int:
        """0-100: completed → 100; else external progress, steps, or the ETA estimate."""
        if self.status == "completed":
            return 100
        ext = self.external_progress
        if isinstance(ext, (int, float)) and ext == ext and abs(ext) != float("inf"):
            return _clamp(js_round(ext * 100 if 0 <= ext <= 1 else ext), 0, 100)
        if self.step_count and self.step_count > 0:
            return _clamp(js_round(self.step / self.step_count * 100), 0, 100)
        if self.eta is not None and self.eta_started_at is not None:
            span = self.eta - self.eta_started_at
            if span > 0:
                elapsed = time.time() - self.eta_started_at
                return 1 if elapsed <= 0 else _clamp(js_round(elapsed / span * 100), 1, 95)
        return 0

    def get_result_url(self, refresh: bool = False) -> str:
        """The result URL, minting a fresh signed URL when it expired (or ``refresh``)."""
        api = self._project._api
        with api.transport.lock:
            if self.status != "completed":
                raise ProjectError("Job is not completed yet", project=self._project)
            url, minted = self.result_url, self._url_minted_at
        stale = minted is not None and time.monotonic() - minted > URL_REFRESH_AFTER
        if url and not refresh and not stale:
            return url
        if url and minted is None:  # hosted URLs from the worker are never re-signed
            return url
        url = api._mint_result_url(self._project, self.id)
        with api.transport.lock:
            self.result_url = url
            self._url_minted_at = time.monotonic()
        return url

    def get_result_data(self, timeout: float | None = None) -> bytes:
        """Download the result into memory (use :meth:`download` for large media)."""
        if not self.has_result_media:
            raise ProjectError("No result media available", project=self._project)
        rest = self._project._api.transport.rest
        try:
            return bytes(rest.get_bytes(self.get_result_url(), timeout=timeout))
        except ApiError as exc:
            if exc.status not in (401, 403, 404) or self._url_minted_at is None:
                raise
            return bytes(rest.get_bytes(self.get_result_url(refresh=True), timeout=timeout))

    def default_filename(self) -> str:
        params = self._project.params
        fmt = str(params.get("output_format") or "").lower()
        kind = self._project.type
        ext = _EXTENSIONS.get(fmt) or {"video": ".mp4", "audio": ".mp3"}.get(kind, ".png")
        return _SAFE.sub("_", f"{self.project_id}_{self.id}") + ext

    def download(self, path: str | os.PathLike[str] = ".") -> pathlib.Path:
        """Stream the result to ``path``; returns the file written.

        ``path`` is a directory (existing, ending with a separator, or without a file
        extension — it is created) to get the safe default name ``<project>_<job>.<ext>``,
        or a file path. Written to a temporary file first and renamed, so a failed download
        leaves nothing half-written behind.
        """
        if not self.has_result_media:
            raise ProjectError("No result media available", project=self._project)
        target = pathlib.Path(path)
        as_dir = target.is_dir() or str(path).endswith((os.sep, "/")) or (
            not target.exists() and not target.suffix)
        if as_dir:
            target.mkdir(parents=True, exist_ok=True)
            target = target / self.default_filename()
        target.parent.mkdir(parents=True, exist_ok=True)
        rest = self._project._api.transport.rest
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".sogni-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                try:
                    rest.stream_to(self.get_result_url(), fh)
                except ApiError as exc:
                    if exc.status not in (401, 403, 404) or self._url_minted_at is None:
                        raise
                    fh.seek(0)
                    fh.truncate()
                    rest.stream_to(self.get_result_url(refresh=True), fh)
            os.chmod(tmp, _file_mode())  # mkstemp makes 0600; a download is an ordinary file
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return target

    def enhance(
        self,
        strength: str = "medium",
        *,
        positive_prompt: str | None = None,
        style_prompt: str | None = None,
        token_type: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """Re-render this image with flux1-schnell img2img; returns the enhanced image URL.

        ``strength`` is ``"light"``, ``"medium"`` or ``"heavy"`` (others count as medium).
        """
        from sogni_sync.catalog.api import ENHANCEMENT_STRENGTHS

        parent = self._project
        if parent.type != "image":
            raise ProjectError("Enhancement is only available for images", project=parent)
        if self.status != "completed":
            raise ProjectError("Job is not completed yet", project=parent)
        if self.is_nsfw:
            raise ProjectError("Job did not pass NSFW filter", project=parent)
        data = self.get_result_data()
        p = parent.params
        params: dict[str, Any] = {
            "type": "image",
            "network": "fast",
            "model_id": "flux1-schnell-fp8",
            "positive_prompt": positive_prompt or p.get("positive_prompt"),
            "negative_prompt": "",
            "style_prompt": style_prompt or p.get("style_prompt"),
            "starting_image_strength": 1 - ENHANCEMENT_STRENGTHS.get(strength, 0.35),
            "steps": 5,
            "guidance": 1,
            "number_of_media": 1,
            "number_of_previews": 0,
            "token_type": token_type or p.get("token_type"),
            "seed": self.seed or p.get("seed"),
            "starting_image": data,
            "size_preset": p.get("size_preset"),
        }
        enhanced = parent._api.create(**params)
        urls = enhanced.wait(timeout)
        if not urls:
            raise ProjectError("Enhancement produced no result", project=enhanced)
        return urls[0]


class Project:
    """A submitted project. ``wait()`` for its result URLs, or follow it with ``events()``."""

    def __init__(self, api: ProjectsApi, project_id: str, params: Mapping[str, Any],
                 expected_jobs: int) -> None:
        self._api = api
        self._cond = threading.Condition(api.transport.lock)
        self.id = project_id
        #: the creation parameters (media inputs included), snake_case
        self.params: dict[str, Any] = dict(params)
        self.type: str = str(params.get("type"))
        self.model_id: str = str(params.get("model_id"))
        self.number_of_media = expected_jobs
        self.status = "pending"
        self.queue_position = -1
        self.error: ErrorData | None = None
        self.eta: float | None = None
        self._jobs: dict[str, Job] = {}
        self._server_completed = False
        self._finished_at: float | None = None
        self._last_update = time.monotonic()
        self._failed_syncs = 0
        self._next_sync = 0.0
        self._syncing = False
        self._history = EventQueue()
        self._subscribers: list[EventQueue] = []
        self._listeners: list[tuple[str, Callable[[ProjectEvent], Any]]] = []
        self._done_callbacks: list[Callable[[Project], Any]] = []
        self._watchers: list[Callable[[Project | None], Any]] = []
        self._exception: BaseException | None = None  # raised by wait() instead of ProjectFailed

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.type} {self.status} {self.progress}%>"

    # -- read-only views (consistent snapshots under the lock) ---------------------------------

    @property
    def jobs(self) -> list[Job]:
        with self._cond:
            return list(self._jobs.values())

    @property
    def result_urls(self) -> list[str]:
        with self._cond:
            return [j.result_url for j in self._jobs.values() if j.result_url]

    @property
    def progress(self) -> int:
        with self._cond:
            if self.status == "completed":
                return 100
            if not self._jobs:
                return 0
            total = sum(j.progress for j in self._jobs.values())
            return _clamp(js_round(total / max(1, self.number_of_media)), 0, 100)

    @property
    def eta_seconds(self) -> float | None:
        return None if self.eta is None else max(0.0, self.eta - time.time())

    def done(self) -> bool:
        """True once the project completed, failed or was canceled."""
        with self._cond:
            return self._finished_at is not None

    # -- blocking --------------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> list[str]:
        """Block until the project finishes; return its result URLs.

        Raises ProjectFailed (``.error`` is the ErrorData), ProjectCanceled, TimeoutError, or
        ClientClosedError when the client closes first. NSFW-withheld results are left out.
        """
        closing = self._api.transport.closing
        with self._cond:
            wait_for(self._cond, lambda: self._finished_at is not None or closing.is_set(),
                     Deadline(timeout))
            return self._outcome(closing.is_set())

    def _outcome(self, closing: bool) -> list[str]:
        if self.status == "completed":
            return [j.result_url for j in self._jobs.values() if j.result_url]
        if self.status == "failed":
            if self._exception is not None:
                raise self._exception
            error = self.error or ErrorData(0, "Project failed")
            raise ProjectFailed(f"Project {self.id} failed: {error.message} (code {error.code})",
                                error=error, project=self)
        if self.status == "canceled":
            raise ProjectCanceled(f"Project {self.id} was canceled", project=self)
        if closing:
            raise ClientClosedError("client closed while waiting for the project")
        raise TimeoutError(f"Project {self.id} did not finish in time")

    def cancel(self) -> bool:
        """Ask the network to stop this project; it ends ``canceled``.

        ``False`` when it had already finished (nothing is sent), ``True`` otherwise.
        """
        return self._api.cancel(self.id)

    def add_done_callback(self, fn: Callable[[Project], Any]) -> None:
        """Call ``fn(project)`` on the callback thread once the project finishes."""
        with self._cond:
            if self._finished_at is None:
                self._done_callbacks.append(fn)
                return
        self._api.transport.dispatch(fn, self)

    def on(self, name: str, callback: Callable[[ProjectEvent], Any]) -> Callable[[], None]:
        """Call ``callback(event)`` (callback thread) for events named ``name`` (``"*"`` = all).

        Events that already happened are replayed first, in order, so registering right after
        ``create()`` never misses anything. Returns a function that removes the listener.
        """
        entry = (name, callback)
        with self._cond:
            for event in self._history.snapshot():
                if name in ("*", event.name):
                    self._api.transport.dispatch(callback, event)
            self._listeners.append(entry)

        def remove() -> None:
            with self._cond:
                if entry in self._listeners:
                    self._listeners.remove(entry)

        return remove

    def events(self, timeout: float | None = None) -> EventIterator:
        """A blocking iterator of this project's events, from its creation to its terminal
        event. Progress/ETA updates of a job are coalesced when the consumer lags."""
        queue = EventQueue()
        with self._cond:
            for event in self._history.snapshot():
                queue.put(event)
            self._subscribers.append(queue)

        def unsubscribe() -> None:
            with self._cond:
                if queue in self._subscribers:
                    self._subscribers.remove(queue)

        return EventIterator(self._cond, queue, self._api.transport.closing, unsubscribe,
                             timeout)

    # -- updates (caller holds the lock) ------------------------------------------------------

    def _touch(self) -> None:
        self._last_update = time.monotonic()

    def _emit(self, event: ProjectEvent) -> None:
        self._history.put(event)
        for queue in self._subscribers:
            queue.put(event)
        dispatch = self._api.transport.dispatch
        for name, callback in self._listeners:
            if name in ("*", event.name):
                dispatch(callback, event)
        self._cond.notify_all()

    def _job(self, job_id: str) -> tuple[Job, bool]:
        job = self._jobs.get(job_id)
        if job is not None:
            return job, False
        steps = self.params.get("steps")
        job = Job(self, job_id, steps if isinstance(steps, int) else 0)
        self._jobs[job_id] = job
        return job, True

    def _check_completed(self) -> None:
        if self._finished_at is not None or not self._server_completed:
            return
        jobs = self._jobs.values()
        if len(self._jobs) >= self.number_of_media and all(j.finished for j in jobs):
            self._finish("completed")

    def _finish(self, status: str, error: ErrorData | None = None) -> None:
        if self._finished_at is not None:
            return
        self.status = status
        self.error = error if status == "failed" else self.error
        self._finished_at = time.monotonic()
        if status == "completed":
            self._emit(ProjectCompletedEvent(self.id, tuple(
                j.result_url for j in self._jobs.values() if j.result_url)))
        elif status == "failed":
            self._emit(ProjectFailedEvent(self.id, error))
        else:
            self._emit(ProjectCanceledEvent(self.id))
        for fn in self._done_callbacks:
            self._api.transport.dispatch(fn, self)
        self._done_callbacks.clear()
        for watcher in list(self._watchers):
            watcher(self)
        self._cond.notify_all()
