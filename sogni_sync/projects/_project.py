"""``Project`` and ``Job`` handles: what users hold, read and wait on.

A handle only reads: the state behind it (``_state.py``) is written by the client's tracker
under the client's state lock. Waiters sleep on a ``threading.Condition`` built on that lock and
are woken by the writes — nothing polls. User callbacks run on the ``sogni-callbacks`` thread,
never on the socket thread.

From prompt to file: ``project = client.projects.create(...)``, then ``project.save("out/")``
(it waits) — or ``project.jobs[0].read()`` for the bytes.
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import os
import pathlib
import queue
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from sogni_sync._sync import Deadline, wait_for
from sogni_sync._transport import ProjectsTransport
from sogni_sync.catalog._api import ENHANCEMENT_STRENGTHS
from sogni_sync.catalog._families import is_model_artifact
from sogni_sync.errors import (
    ApiError,
    ClientClosedError,
    ProjectCanceledError,
    ProjectError,
    SogniError,
    TimeoutError,
    ValidationError,
)
from sogni_sync.projects._events import (
    ErrorData,
    EventIterator,
    EventQueue,
    ProjectEvent,
    failure_class,
)
from sogni_sync.projects._files import default_filename, resolve_target, write_atomically
from sogni_sync.projects._followups import FollowUpIo
from sogni_sync.projects._state import JobState, ProjectState

__all__ = ["Job", "Project", "Services", "as_completed", "check_timeout", "wait_all"]

log = logging.getLogger(__name__)

#: Minted download URLs live 30 minutes; refresh a little early.
URL_REFRESH_AFTER = 25 * 60.0
#: the job events after which ``job.events()`` ends
_JOB_END = frozenset({"job_completed", "job_failed"})


def _left(deadline: Deadline) -> float | None:
    """What is left of ``deadline`` for a download (a spent one still fails, not hangs)."""
    left = deadline.remaining()
    return None if left is None else max(left, 0.001)


def check_timeout(timeout: Any, name: str = "timeout") -> float | None:
    """``None`` (wait forever) or a number of seconds ≥ 0; anything else is a ValidationError
    before anything waits (``"5"``, ``True``, NaN, -1)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise ValidationError(f"{name} must be a number of seconds or None, "
                              f"not {type(timeout).__name__} {timeout!r}")
    if math.isnan(timeout) or timeout < 0:
        raise ValidationError(f"{name} must be >= 0 seconds or None, not {timeout!r}")
    return float(timeout)


@attrs.frozen
class Services:
    """What a handle needs from its client: the transport (lock, dispatcher, REST), URL
    minting, and ``create``/``cancel`` for enhancements and ``project.cancel()``."""

    transport: ProjectsTransport
    follow: FollowUpIo
    create: Callable[..., Project]
    cancel: Callable[[str], bool]


def _subscribe(state: ProjectState, transport: ProjectsTransport, timeout: float | None,
               job_id: str | None, ends: Callable[[ProjectEvent], bool] | None) -> EventIterator:
    """A bounded event queue replaying the history so far, then following live events."""
    events = EventQueue()
    with state.cond:
        for event in state.history.snapshot():
            if job_id is None or getattr(event, "job_id", job_id) == job_id:
                events.put(event)
        state.subscribers.append(events if job_id is None else _JobQueue(events, job_id))

    def unsubscribe() -> None:
        with state.cond:
            state.subscribers[:] = [q for q in state.subscribers
                                    if q is not events and getattr(q, "inner", None) is not events]

    return EventIterator(state.cond, events, transport.closing, unsubscribe, timeout, ends)


class _JobQueue(EventQueue):
    """A subscriber that forwards one job's events (and project-level ones) to ``inner``."""

    def __init__(self, inner: EventQueue, job_id: str) -> None:
        super().__init__()
        self.inner = inner
        self.job_id = job_id

    def put(self, event: ProjectEvent) -> None:
        if getattr(event, "job_id", self.job_id) == self.job_id:
            self.inner.put(event)


def _listen(state: ProjectState, transport: ProjectsTransport, name: str, job_id: str | None,
            callback: Callable[[ProjectEvent], Any]) -> Callable[[], None]:
    if not isinstance(name, str) or not callable(callback):
        raise ValidationError("on(name, callback) needs an event name and a callable")
    entry = (name, job_id, callback)
    with state.cond:
        for event in state.history.snapshot():
            if job_id is not None and getattr(event, "job_id", job_id) != job_id:
                continue
            if name in ("*", event.name):
                transport.dispatch(callback, event)
        state.listeners.append(entry)

    def remove() -> None:
        with state.cond:
            if entry in state.listeners:
                state.listeners.remove(entry)

    return remove


class Job:
    """One produced medium of a project; a read-only view of its live state."""

    def __init__(self, project: Project, state: JobState) -> None:
        self._project = project
        self._state = state

    def _read(self, name: str) -> Any:
        with self._project._cond:
            return getattr(self._state, name)

    id = property(lambda self: self._state.id, doc="the job id (``imgID``)")
    project_id = property(lambda self: self._state.project_id)
    status = property(lambda self: self._read("status"),
                      doc="pending, initiating, processing, completed, failed or canceled")
    step = property(lambda self: self._read("step"))
    step_count = property(lambda self: self._read("step_count"))
    seed = property(lambda self: self._read("seed"))
    preview_url = property(lambda self: self._read("preview_url"))
    result_url = property(lambda self: self._read("result_url"))
    last_frame_url = property(lambda self: self._read("last_frame_url"),
                              doc="Seedance 2.5 ``return_last_frame``: the last frame's URL")
    is_nsfw = property(lambda self: self._read("is_nsfw"))
    user_canceled = property(lambda self: self._read("user_canceled"))
    worker_name = property(lambda self: self._read("worker_name"))
    positive_prompt = property(lambda self: self._read("positive_prompt"))
    negative_prompt = property(lambda self: self._read("negative_prompt"))
    job_index = property(lambda self: self._read("job_index"))
    external_progress = property(lambda self: self._read("external_progress"))
    eta = property(lambda self: self._read("eta"), doc="estimated end, epoch seconds")
    eta_started_at = property(lambda self: self._read("eta_started_at"))
    eta_range = property(lambda self: self._read("eta_range"),
                         doc="the worker's ETA interval (min, max) in seconds, or None")
    error = property(lambda self: self._read("error"))
    finished = property(lambda self: self._read("finished"))
    has_result_media = property(lambda self: self._read("has_result_media"))
    progress = property(lambda self: self._read("progress"),
                        doc="0-100 (steps, the worker's own progress, or the ETA estimate)")

    def __repr__(self) -> str:
        try:
            return f"<Job {self.id} {self.status} {self.progress}%>"
        except Exception:
            return f"<Job {self._state.id!r}>"

    @property
    def eta_seconds(self) -> float | None:
        eta = self.eta
        return None if eta is None else max(0.0, eta - time.time())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (``json.dumps`` works on it), for web handlers and logs."""
        with self._project._cond:
            return self._state.to_dict()

    # -- following ------------------------------------------------------------------------------

    def on(self, name: str, callback: Callable[[ProjectEvent], Any]) -> Callable[[], None]:
        """Call ``callback(event)`` (callback thread) for this job's events named ``name``
        (``"*"``: all but ``updated``; ``"updated"``: changes with their keys). Earlier events
        are replayed first. Returns a function that removes the listener."""
        return _listen(self._project._state, self._project._services.transport, name,
                       self._state.id, callback)

    def events(self, timeout: float | None = None) -> EventIterator:
        """A blocking iterator of this job's events (and its project's), ending when the job
        completes or fails, or the project ends."""
        check_timeout(timeout)
        return _subscribe(self._project._state, self._project._services.transport, timeout,
                          self._state.id, lambda e: e.terminal or e.name in _JOB_END)

    def wait(self, timeout: float | None = None) -> str | None:
        """Block until this job finishes; its result URL (None when withheld as NSFW).

        Raises ProjectFailedError when the job failed, ProjectCanceledError when canceled,
        TimeoutError or ClientClosedError."""
        check_timeout(timeout)
        project = self._project
        closing = project._services.transport.closing
        with project._cond:
            wait_for(project._cond,
                     lambda: self._state.finished or project._state.done or closing.is_set(),
                     Deadline(timeout))
            if self._state.status == "completed":
                return self._state.result_url
            if self._state.status == "failed":
                error = self._state.error or ErrorData(0, "Job failed")
                raise failure_class(error)(
                    f"Job {self.id} failed: {error.message} (code {error.code})",
                    error=error, project=project)
            if self._state.status == "canceled":
                raise ProjectCanceledError(f"Job {self.id} was canceled", project=project)
            project._outcome_locked(closing.is_set())  # raises unless it completed
            return None  # the project completed without ever reporting this job

    # -- results --------------------------------------------------------------------------------

    def get_result_url(self, refresh: bool = False) -> str:
        """The result URL, minting a fresh signed URL when it expired (or ``refresh``)."""
        with self._project._cond:
            if self._state.status != "completed":
                raise ProjectError("Job is not completed yet", project=self._project)
            url, minted = self._state.result_url, self._state.url_minted_at
        stale = minted is not None and time.monotonic() - minted > URL_REFRESH_AFTER
        if url and ((not refresh and not stale) or minted is None):
            return str(url)  # hosted URLs from the worker are never re-signed
        return self._project._services.follow.refresh_url(self._project._state, self.id)

    def _retry_fresh(self, fetch: Callable[[str], Any]) -> Any:
        try:
            return fetch(self.get_result_url())
        except ApiError as exc:
            if exc.status not in (401, 403, 404) or self._read("url_minted_at") is None:
                raise
            return fetch(self.get_result_url(refresh=True))

    def get_result_data(self, timeout: float | None = None) -> bytes:
        """Download the result into memory (use :meth:`download` for large media)."""
        check_timeout(timeout)
        if not self.has_result_media:
            raise ProjectError("No result media available", project=self._project)
        rest = self._project._services.transport.rest
        deadline = Deadline(timeout)
        return bytes(self._retry_fresh(lambda url: rest.get_bytes(url, timeout=_left(deadline))))

    def read(self, timeout: float | None = None) -> bytes:
        """The result's bytes, waiting for the job first (``timeout`` covers both)."""
        deadline = Deadline(check_timeout(timeout))
        self.wait(deadline.remaining())
        return self.get_result_data(deadline.remaining())

    def default_filename(self) -> str:
        params = self._project.params
        fmt = "glb" if is_model_artifact(str(params.get("model_id"))) else str(
            params.get("output_format") or "")
        return default_filename(self.project_id, self.id, self._project.type, fmt)

    def download(self, path: str | os.PathLike[str] = ".", *,
                 timeout: float | None = None) -> pathlib.Path:
        """Stream the result to ``path``; returns the file written.

        ``path`` is a directory (existing, ending with a separator, or without a file
        extension — it is created) to get the safe default name ``<project>_<job>.<ext>``,
        or a file path. Written to a temporary file first and renamed, so a failed download
        leaves nothing half-written behind. ``timeout`` bounds the whole download in seconds
        (TimeoutError); without one, only a transfer stalled for 300 s fails. ``close()``
        interrupts it (ClientClosedError).
        """
        deadline = Deadline(check_timeout(timeout))
        if not self.has_result_media:
            raise ProjectError("No result media available", project=self._project)
        target = resolve_target(path, self.default_filename())
        rest = self._project._services.transport.rest

        def fill(fh: Any) -> None:
            def fetch(url: str) -> None:
                fh.seek(0)
                fh.truncate()
                rest.stream_to(url, fh, timeout=_left(deadline))

            self._retry_fresh(fetch)

        return write_atomically(target, fill)

    save = download

    # -- enhancement -------------------------------------------------------------------------

    def start_enhancement(
        self,
        strength: str = "medium",
        *,
        positive_prompt: str | None = None,
        style_prompt: str | None = None,
        token_type: str | None = None,
    ) -> Project:
        """Start re-rendering this image with flux1-schnell img2img (the finished image is
        downloaded and sent back as the starting image of a one-image project) and
        return that project at once: follow it like any project (``wait``, ``events``,
        ``on``); it is also :attr:`enhancement` until the next one starts.

        ``strength`` is ``"light"``, ``"medium"`` or ``"heavy"`` (others count as medium).
        """
        parent = self._project
        if parent.type != "image":
            raise ProjectError("Enhancement is only available for images", project=parent)
        if self.status != "completed":
            raise ProjectError("Job is not completed yet", project=parent)
        if self.is_nsfw:
            raise ProjectError("Job did not pass NSFW filter", project=parent)
        data = self.get_result_data()
        p = parent.params
        enhanced = parent._services.create(
            type="image", network="fast", model_id="flux1-schnell-fp8",
            positive_prompt=positive_prompt or p.get("positive_prompt"), negative_prompt="",
            style_prompt=style_prompt or p.get("style_prompt"),
            starting_image_strength=1 - ENHANCEMENT_STRENGTHS.get(strength, 0.35),
            steps=5, guidance=1, number_of_media=1, number_of_previews=0,
            token_type=token_type or p.get("token_type"), seed=self.seed or p.get("seed"),
            starting_image=data, size_preset=p.get("size_preset"))
        parent._enhancements[self.id] = enhanced
        return enhanced

    @property
    def enhancement(self) -> Project | None:
        """The latest enhancement project started from this job, if any."""
        return self._project._enhancements.get(self.id)

    def enhance(
        self,
        strength: str = "medium",
        *,
        positive_prompt: str | None = None,
        style_prompt: str | None = None,
        token_type: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """:meth:`start_enhancement`, then wait for it; returns the enhanced image URL."""
        check_timeout(timeout)
        enhanced = self.start_enhancement(strength, positive_prompt=positive_prompt,
                                          style_prompt=style_prompt, token_type=token_type)
        urls = enhanced.wait(timeout)
        if not urls:
            raise ProjectError("Enhancement produced no result", project=enhanced)
        return urls[0]


class Project:
    """A submitted project. ``wait()`` for its result URLs, ``save(dir)`` for the files, or
    follow it with ``events()`` / ``on()``."""

    def __init__(self, state: ProjectState, services: Services) -> None:
        self._state = state
        self._services = services
        self._cond = state.cond
        self._jobs: dict[str, Job] = {}
        self._enhancements: dict[str, Project] = {}

    id = property(lambda self: self._state.id)
    params = property(lambda self: self._state.params,
                      doc="the creation parameters (media inputs replaced by True), snake_case")
    type = property(lambda self: self._state.type)
    model_id = property(lambda self: self._state.model_id)
    number_of_media = property(lambda self: self._read("number_of_media"))
    status = property(lambda self: self._read("status"),
                      doc="pending, queued, processing, completed, failed or canceled")
    queue_position = property(lambda self: self._read("queue_position"))
    estimated_start_at = property(lambda self: self._read("estimated_start_at"),
                                  doc="when a worker should start it, epoch seconds (queued)")
    queue_status = property(lambda self: self._read("queue_status"),
                            doc="waiting, or no-workers when nothing connected can run it")
    waiting_reason = property(lambda self: self._read("waiting_reason"),
                              doc="the server's WaitingReason while it is queued, or None")
    error = property(lambda self: self._read("error"))
    eta = property(lambda self: self._read("eta"))
    progress = property(lambda self: self._read("progress"), doc="0-100")
    result_urls = property(lambda self: self._read("result_urls"))

    def _read(self, name: str) -> Any:
        with self._cond:
            return getattr(self._state, name)

    def __repr__(self) -> str:
        try:
            return f"<Project {self.id} {self.type} {self.status} {self.progress}%>"
        except Exception:
            return f"<Project {self._state.id!r}>"

    def _job_handle(self, state: JobState) -> Job:
        handle = self._jobs.get(state.id)
        if handle is None:
            handle = self._jobs[state.id] = Job(self, state)
        return handle

    @property
    def jobs(self) -> list[Job]:
        with self._cond:
            return [self._job_handle(s) for s in self._state.jobs.values()]

    def job(self, job_id: str) -> Job | None:
        """The job ``job_id`` of this project, or None when it has not been seen."""
        with self._cond:
            state = self._state.jobs.get(job_id)
            return None if state is None else self._job_handle(state)

    @property
    def eta_seconds(self) -> float | None:
        eta = self.eta
        return None if eta is None else max(0.0, eta - time.time())

    def done(self) -> bool:
        """True once the project completed, failed or was canceled."""
        return bool(self._read("done"))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot with its jobs (``json.dumps`` works on it)."""
        with self._cond:
            return self._state.to_dict()

    # -- blocking --------------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> list[str]:
        """Block until the project finishes (``None``: no limit); return its result URLs.

        Raises ProjectFailedError (``.error`` is the ErrorData; an InsufficientFundsProjectError
        when the balance could not pay) — also when a result could not be fetched —,
        ProjectCanceledError, TimeoutError, ValidationError for a bad ``timeout``, or
        ClientClosedError when the client closes first. NSFW-withheld results are left out.
        """
        check_timeout(timeout)
        closing = self._services.transport.closing
        with self._cond:
            wait_for(self._cond, lambda: self._state.done or closing.is_set(), Deadline(timeout))
            return self._outcome_locked(closing.is_set())

    def _outcome_locked(self, closing: bool) -> list[str]:
        state = self._state
        if state.status == "completed":
            return state.result_urls
        if state.status == "failed":
            if state.exception is not None:
                raise state.exception
            error = state.error or ErrorData(0, "Project failed")
            raise failure_class(error)(
                f"Project {self.id} failed: {error.message} (code {error.code})",
                error=error, project=self)
        if state.status == "canceled":
            raise ProjectCanceledError(f"Project {self.id} was canceled", project=self)
        if closing:
            raise ClientClosedError("client closed while waiting for the project")
        raise TimeoutError(f"Project {self.id} did not finish in time")

    def save(self, directory: str | os.PathLike[str] = ".", *,
             timeout: float | None = None) -> list[pathlib.Path]:
        """Wait for the project, then download every result into ``directory`` (created);
        returns the files written, one per job with media. Raises as :meth:`wait`."""
        deadline = Deadline(check_timeout(timeout))
        self.wait(deadline.remaining())
        return [job.download(pathlib.Path(directory) / "", timeout=_left(deadline))
                for job in self.jobs if job.has_result_media]

    def cancel(self) -> bool:
        """Ask the network to stop this project; it ends ``canceled``.

        ``False`` when it had already finished (nothing is sent), ``True`` otherwise.
        """
        return self._services.cancel(self.id)

    def add_done_callback(self, fn: Callable[[Project], Any]) -> None:
        """Call ``fn(project)`` on the callback thread once the project finishes."""
        with self._cond:
            if not self._state.done:
                self._state.done_callbacks.append(fn)
                return
        self._services.transport.dispatch(fn, self)

    def on(self, name: str, callback: Callable[[ProjectEvent], Any]) -> Callable[[], None]:
        """Call ``callback(event)`` (callback thread) for events named ``name`` (``"*"``: all
        but ``updated``; ``"updated"``: state changes with the changed keys).

        Events that already happened are replayed first, in order, so registering right after
        ``create()`` never misses anything. Returns a function that removes the listener.
        """
        return _listen(self._state, self._services.transport, name, None, callback)

    def events(self, timeout: float | None = None) -> EventIterator:
        """A blocking iterator of this project's events, from its creation to its terminal
        event. Progress/ETA updates of a job are coalesced when the consumer lags."""
        check_timeout(timeout)
        return _subscribe(self._state, self._services.transport, timeout, None, None)

    def as_future(self) -> concurrent.futures.Future[list[str]]:
        """A stdlib Future of :meth:`wait`'s outcome, completed on the callback thread."""
        future: concurrent.futures.Future[list[str]] = concurrent.futures.Future()

        def settle(project: Project) -> None:
            try:
                future.set_result(project.wait(0))
            except BaseException as exc:
                future.set_exception(exc)

        self.add_done_callback(settle)
        return future


def as_completed(projects: Iterable[Project], timeout: float | None = None) -> Iterator[Project]:
    """Yield projects as they finish (any order). Raises TimeoutError when ``timeout``
    passes first, ClientClosedError when a client closes; never raises a project's failure."""
    check_timeout(timeout)
    pending = {id(p): p for p in projects}
    finished: queue.SimpleQueue[Project | None] = queue.SimpleQueue()
    watchers: list[tuple[ProjectState, Callable[[Any], Any]]] = []

    def watcher(item: Project | None) -> None:
        finished.put(item)

    for project in pending.values():
        state = project._state
        with state.cond:
            if state.done:
                finished.put(project)
            else:
                state.watchers.append(watcher)
                watchers.append((state, watcher))
    deadline = Deadline(timeout)
    try:
        while pending:
            if finished.empty() and any(
                    p._services.transport.closing.is_set() for p in pending.values()):
                raise ClientClosedError("client closed while waiting for projects")
            try:
                item = finished.get(timeout=deadline.remaining())
            except queue.Empty:
                raise TimeoutError(f"{len(pending)} project(s) did not finish in time") from None
            if item is None:
                raise ClientClosedError("client closed while waiting for projects")
            if pending.pop(id(item), None) is not None:
                yield item
    finally:
        for state, registered in watchers:
            with state.cond:
                if registered in state.watchers:
                    state.watchers.remove(registered)


def wait_all(projects: Iterable[Project], timeout: float | None = None, *,
             return_exceptions: bool = False) -> list[Any]:
    """Wait for every project with one overall ``timeout``; results in the given order.

    The first failure is raised unless ``return_exceptions``, which puts the exception in the
    project's slot instead (like ``asyncio.gather``).
    """
    projects = list(projects)
    deadline = Deadline(check_timeout(timeout))
    results: list[Any] = []
    for project in projects:
        try:
            results.append(project.wait(deadline.remaining()))
        except (SogniError, TimeoutError) as exc:
            if not return_exceptions or isinstance(exc, (TimeoutError, ClientClosedError)):
                raise
            results.append(exc)
    return results
