"""Typed project/job events and the bounded, coalescing queue behind ``project.events()``."""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import attrs

from sogni_sync._sync import Deadline, wait_for
from sogni_sync.errors import (
    ClientClosedError,
    InsufficientFundsProjectError,
    ProjectFailedError,
    TimeoutError,
)

__all__ = [
    "ErrorData",
    "EventQueue",
    "JobCompletedEvent",
    "JobEtaEvent",
    "JobFailedEvent",
    "JobPreviewEvent",
    "JobProgressEvent",
    "JobStartedEvent",
    "ProjectCanceledEvent",
    "ProjectCompletedEvent",
    "ProjectEvent",
    "ProjectFailedEvent",
    "ProjectQueuedEvent",
    "ProjectUpdatedEvent",
    "error_from_job_error",
]

_SYMBOLIC_CODES = {
    "serverRestarting": 5001,
    "workerDisconnected": 5002,
    "jobTimedOut": 5003,
    "artistCanceled": 5004,
    "workerCancelled": 5005,
}


@attrs.frozen
class ErrorData:
    """Why a project or job failed: numeric ``code``, server ``message`` and, for symbolic
    server codes, the ``original_code`` string."""

    code: int
    message: str
    original_code: str | None = None


INSUFFICIENT_BALANCE = 123  # the server's job error code for a balance that cannot pay


def failure_class(error: ErrorData) -> type[ProjectFailedError]:
    """The exception class for a project or job that failed with ``error``: a lack of balance
    (code 123, or the symbolic ``insufficientFunds``) is also an InsufficientFundsError."""
    if error.code == INSUFFICIENT_BALANCE or error.original_code == "insufficientFunds":
        return InsufficientFundsProjectError
    return ProjectFailedError


def error_from_job_error(payload: Mapping[str, Any]) -> ErrorData:
    """ErrorData from a ``jobError`` frame (numeric strings are numbers; symbols → 5000-5005)."""
    raw = payload.get("error")
    message = str(payload.get("error_message") or "")
    if raw is None or raw == "":
        return ErrorData(0, message)
    if isinstance(raw, bool):
        return ErrorData(int(raw), message)
    try:
        number = float(raw)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isnan(number) and not math.isinf(number):
        return ErrorData(int(number), message)
    return ErrorData(_SYMBOLIC_CODES.get(str(raw), 5000), message, str(raw))


@attrs.frozen
class ProjectEvent:
    """Base of every event; ``name`` is what ``project.on(name, ...)`` matches."""

    name: ClassVar[str] = "event"
    #: progress-like events may be merged with the previous one of the same job
    coalesce: ClassVar[bool] = False
    terminal: ClassVar[bool] = False
    #: job events carry a ``job_id``; project-level events have none
    job_level: ClassVar[bool] = False
    project_id: str

    def merged(self, newer: ProjectEvent) -> ProjectEvent:
        """What a coalesced queue keeps when ``newer`` follows this event: the newer one."""
        return newer

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the event's fields plus its ``event`` name."""
        data = attrs.asdict(self, recurse=True)
        return {"event": self.name, **{k: list(v) if isinstance(v, tuple) else v
                                       for k, v in data.items()}}


@attrs.frozen
class ProjectUpdatedEvent(ProjectEvent):
    """State changed: ``keys`` names the changed fields (of the job ``job_id``, or of the
    project itself when ``job_id`` is None). Delivered to ``on("updated", ...)`` listeners only,
    so ``"*"`` and ``events()`` stay the readable story of the project."""

    name: ClassVar[str] = "updated"
    coalesce: ClassVar[bool] = True
    job_id: str | None = None
    keys: tuple[str, ...] = ()

    def merged(self, newer: ProjectEvent) -> ProjectEvent:
        if not isinstance(newer, ProjectUpdatedEvent):
            return newer
        keys = tuple(dict.fromkeys((*self.keys, *newer.keys)))
        return attrs.evolve(newer, keys=keys)


@attrs.frozen
class ProjectQueuedEvent(ProjectEvent):
    """In the queue: ``estimated_start_seconds`` until a worker starts it (None: unknown),
    ``queue_status`` ``waiting`` or ``no-workers`` (nothing connected can run its model)."""

    name: ClassVar[str] = "queued"
    queue_position: int | None = None
    estimated_start_seconds: float | None = None
    queue_status: str | None = None


@attrs.frozen
class JobStartedEvent(ProjectEvent):
    """A job was first seen (usually at ``initiatingModel``)."""

    job_level: ClassVar[bool] = True
    name: ClassVar[str] = "job_started"
    job_id: str = ""
    worker_name: str | None = None


@attrs.frozen
class JobProgressEvent(ProjectEvent):
    job_level: ClassVar[bool] = True
    name: ClassVar[str] = "progress"
    coalesce: ClassVar[bool] = True
    job_id: str = ""
    step: int | None = None
    step_count: int | None = None
    job_progress: int = 0
    project_progress: int = 0


@attrs.frozen
class JobPreviewEvent(ProjectEvent):
    job_level: ClassVar[bool] = True
    name: ClassVar[str] = "preview"
    job_id: str = ""
    url: str = ""


@attrs.frozen
class JobEtaEvent(ProjectEvent):
    job_level: ClassVar[bool] = True
    name: ClassVar[str] = "eta"
    coalesce: ClassVar[bool] = True
    job_id: str = ""
    eta_seconds: float = 0


@attrs.frozen
class JobCompletedEvent(ProjectEvent):
    """A job finished; ``result_url`` is None when withheld (NSFW) or user-canceled."""

    job_level: ClassVar[bool] = True
    name: ClassVar[str] = "job_completed"
    job_id: str = ""
    result_url: str | None = None
    seed: int | None = None
    is_nsfw: bool = False
    user_canceled: bool = False
    #: Seedance 2.5 with ``return_last_frame``: the clip's last frame
    last_frame_url: str | None = None


@attrs.frozen
class JobFailedEvent(ProjectEvent):
    job_level: ClassVar[bool] = True
    name: ClassVar[str] = "job_failed"
    job_id: str = ""
    error: ErrorData | None = None


@attrs.frozen
class ProjectCompletedEvent(ProjectEvent):
    name: ClassVar[str] = "completed"
    terminal: ClassVar[bool] = True
    result_urls: tuple[str, ...] = ()


@attrs.frozen
class ProjectFailedEvent(ProjectEvent):
    name: ClassVar[str] = "failed"
    terminal: ClassVar[bool] = True
    error: ErrorData | None = None


@attrs.frozen
class ProjectCanceledEvent(ProjectEvent):
    name: ClassVar[str] = "canceled"
    terminal: ClassVar[bool] = True


def _same_stream(a: ProjectEvent, b: ProjectEvent) -> bool:
    return type(a) is type(b) and getattr(a, "job_id", None) == getattr(b, "job_id", None)


class EventQueue:
    """A bounded event buffer; the caller holds the lock its Condition is built on.

    Consecutive progress/ETA events of one job replace each other; when full, coalescible
    events are dropped and everything else (results, failures, terminal events) is kept.
    """

    def __init__(self, maxlen: int = 1000) -> None:
        self._items: collections.deque[ProjectEvent] = collections.deque()
        self._maxlen = maxlen
        self.dropped = 0

    def put(self, event: ProjectEvent) -> None:
        if event.coalesce and self._items and _same_stream(self._items[-1], event):
            self._items[-1] = self._items[-1].merged(event)
            return
        if len(self._items) >= self._maxlen and event.coalesce:
            self.dropped += 1
            return
        self._items.append(event)

    def pop(self) -> ProjectEvent | None:
        return self._items.popleft() if self._items else None

    def __len__(self) -> int:
        return len(self._items)

    def snapshot(self) -> list[ProjectEvent]:
        return list(self._items)


class EventIterator(Iterator[ProjectEvent]):
    """Blocking iterator over one project's (or one job's) events; ends after the terminal
    event (``ends(event)``, by default the project's terminal event).

    A context manager too: leaving it unsubscribes. ``timeout`` bounds the whole iteration.
    """

    def __init__(
        self,
        cond: Any,
        queue: EventQueue,
        closing: Any,
        unsubscribe: Callable[[], None],
        timeout: float | None,
        ends: Callable[[ProjectEvent], bool] | None = None,
    ) -> None:
        self._cond = cond
        self._queue = queue
        self._closing = closing
        self._unsubscribe = unsubscribe
        self._deadline = Deadline(timeout)
        self._ends = ends or (lambda event: event.terminal)
        self._finished = False

    def __iter__(self) -> EventIterator:
        return self

    def __next__(self) -> ProjectEvent:
        if self._finished:
            raise StopIteration
        with self._cond:
            wait_for(self._cond, lambda: len(self._queue) > 0 or self._closing.is_set(),
                     self._deadline)
            event = self._queue.pop()
        if event is None:
            self.close()
            if self._closing.is_set():
                raise ClientClosedError("client closed while iterating project events")
            raise TimeoutError("timed out waiting for project events")
        if self._ends(event):
            self.close()
        return event

    def close(self) -> None:
        if not self._finished:
            self._finished = True
            self._unsubscribe()

    def __enter__(self) -> EventIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
