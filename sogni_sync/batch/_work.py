"""One item's work on one client: submit (or recover) a project, wait, download its files;
or run a chat request. Used by the local runner's threads and by Dask workers alike, so it
takes everything it needs as arguments and returns a plain :class:`Outcome`.
"""

from __future__ import annotations

import logging
import pathlib
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from sogni_sync.errors import (
    ClientClosedError,
    ConnectionLostError,
    InsufficientFundsError,
    ProjectCanceledError,
    ProjectNotFoundError,
    SogniError,
    TimeoutError,
    ValidationError,
)
from sogni_sync.projects import Project
from sogni_sync.projects._params import ProjectParams

if TYPE_CHECKING:
    from sogni_sync.chat import ChatApi
    from sogni_sync.projects import ProjectsApi

__all__ = ["BatchClient", "Outcome", "Worker", "file_names"]


class BatchClient(Protocol):
    """What a batch uses of the client it runs on."""

    @property
    def app_id(self) -> str: ...

    @property
    def projects(self) -> ProjectsApi: ...

    @property
    def chat(self) -> ChatApi: ...

    @property
    def closed(self) -> bool: ...

    def close(self) -> None: ...

log = logging.getLogger(__name__)

#: server error codes that a retry cannot fix (insufficient balance, unknown model, bad
#: parameter, missing or disallowed asset)
FINAL_CODES = frozenset({123, 4004, 4005, 4006, 4007})
_NOT_PRICED = ("type", "positive_prompt", "negative_prompt", "style_prompt", "seed")
DOWNLOAD_ATTEMPTS = 3


@attrs.frozen
class Outcome:
    """What became of one attempt. ``status``: completed, failed, canceled or lost (the server
    never received the project: submitting it again under the same id is safe).
    ``recoverable``: the project completed but its files are missing — recover it by id, never
    submit it again."""

    status: str
    project_id: str | None = None
    result_urls: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    cost: str | None = None
    error: str | None = None
    retryable: bool = False
    recoverable: bool = False
    answer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def file_names(index: int, project: Project) -> list[tuple[Any, str]]:
    """``(job, name)`` for each job with media: ``<index:06d>-<n><ext>``, ordered by the job's
    index — deterministic, and nothing from the server reaches the path."""
    jobs = sorted((j for j in project.jobs if j.has_result_media),
                  key=lambda j: (j.job_index if isinstance(j.job_index, int) else 1 << 30, j.id))
    out = []
    for n, job in enumerate(jobs):
        suffix = pathlib.PurePath(job.default_filename()).suffix or ".bin"
        out.append((job, f"{index:06d}-{n}{suffix}"))
    return out


def _classify(exc: BaseException, project_id: str | None) -> Outcome:
    if isinstance(exc, ProjectCanceledError):
        return Outcome("canceled", project_id, error=str(exc))
    error = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (ConnectionLostError, TimeoutError)) and project_id is not None:
        # the project's fate is unknown: look it up by id, never submit it twice
        return Outcome("failed", project_id, error=error, retryable=True, recoverable=True)
    code = getattr(getattr(exc, "error", None), "code", None)
    final = isinstance(exc, (ValidationError, InsufficientFundsError, ClientClosedError)) or \
        code in FINAL_CODES
    return Outcome("failed", project_id, error=error, retryable=not final)


class Worker:
    """Runs items on one client. ``register(project_or_None)`` reports the project in flight
    (for cancellation); ``stop`` cuts download retries short."""

    def __init__(self, client: BatchClient, output_dir: pathlib.Path | None,
                 stop: threading.Event | None = None) -> None:
        self.client = client
        self.output_dir = output_dir
        self.stop = stop or threading.Event()
        self._costs: dict[str, str | None] = {}
        self._lock = threading.Lock()

    # -- media projects -----------------------------------------------------------------------

    def submit(self, index: int, params: ProjectParams, project_id: str,
               register: Callable[[Project | None], None]) -> Outcome:
        try:
            given = {k: v for k, v in params.given().items() if k != "type"}
            project = self.client.projects.create(type=params.type, project_id=project_id,
                                                  **given)
        except (SogniError, OSError) as exc:
            return _classify(exc, project_id)
        register(project)  # from here on a Ctrl-C cancels it ...
        if self.stop.is_set():  # ... and one that came while create() ran, too
            project.cancel()
        return self._finish(index, project, register, self.cost(params))

    def recover(self, index: int, project_id: str,
                register: Callable[[Project | None], None]) -> Outcome:
        try:
            project = self.client.projects.recover(project_id)
        except ProjectNotFoundError as exc:
            return Outcome("lost", project_id, error=str(exc))
        except (SogniError, OSError) as exc:
            outcome = _classify(exc, project_id)
            return attrs.evolve(outcome, retryable=False, recoverable=True)
        register(project)
        if self.stop.is_set():
            project.cancel()
        return self._finish(index, project, register, None)

    def _finish(self, index: int, project: Project, register: Callable[[Project | None], None],
                cost: str | None) -> Outcome:
        try:
            urls = tuple(project.wait())
        except (SogniError, OSError) as exc:
            return attrs.evolve(_classify(exc, project.id), cost=cost)
        finally:
            register(None)
        try:
            files = self._download(index, project)
        except (SogniError, OSError) as exc:
            return Outcome("failed", project.id, urls, cost=cost, recoverable=True,
                           error=f"download failed: {type(exc).__name__}: {exc}")
        return Outcome("completed", project.id, urls, files, cost)

    def _download(self, index: int, project: Project) -> tuple[str, ...]:
        if self.output_dir is None:
            return ()
        written = []
        for job, name in file_names(index, project):
            target = self.output_dir / name
            for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
                try:
                    job.download(target)
                    break
                except (SogniError, OSError):
                    if attempt == DOWNLOAD_ATTEMPTS or self.stop.wait(0.2 * attempt):
                        raise
            written.append(name)
        return tuple(written)

    def cost(self, params: ProjectParams) -> str | None:
        """The quoted price of ``params`` in tokens (one quote per distinct non-prompt
        parameter set; None when the server gives none)."""
        given = {k: v for k, v in params.given().items() if k not in _NOT_PRICED}
        key = repr(sorted(given.items()))
        with self._lock:
            if key in self._costs:
                return self._costs[key]
        try:
            quote = self.client.projects.estimate_cost(
                params.type, **{"positive_prompt": params.positive_prompt, **given})
            value: Decimal | None = quote.token
            text = None if value is None else str(value)
        except (SogniError, OSError) as exc:
            log.debug("no cost quote for %s: %s", params.model_id, exc)
            text = None
        with self._lock:
            self._costs[key] = text
        return text

    # -- chat -----------------------------------------------------------------------------------

    def chat(self, request: dict[str, Any]) -> Outcome:
        options = dict(request)
        model, messages = options.pop("model"), options.pop("messages")
        try:
            answer = self.client.chat.complete(model, messages, **options)
        except TypeError as exc:
            return Outcome("failed", error=f"ValidationError: {exc}")
        except (SogniError, OSError) as exc:
            return _classify(exc, None)
        cost = getattr(answer.cost, "cost_in_token", None) if answer.cost else None
        return Outcome("completed", answer.job_id, cost=None if cost is None else str(cost),
                       answer=answer.content)

