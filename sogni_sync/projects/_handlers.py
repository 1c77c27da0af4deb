"""Socket events → project/job state.

Every handler runs on the socket thread: it takes ``transport.lock``, updates state, wakes
waiters and hands anything slow — URL minting, project sync — to ``transport.io``. Events for
projects this client does not track (other clients' chat jobs, canceled or pruned projects)
are ignored.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from sogni_sync.projects._events import (
    ErrorData,
    JobCompletedEvent,
    JobEtaEvent,
    JobFailedEvent,
    JobProgressEvent,
    JobStartedEvent,
    ProjectQueuedEvent,
    error_from_job_error,
)
from sogni_sync.projects.project import Job, Project

if TYPE_CHECKING:
    from sogni_sync.projects.api import ProjectsApi

__all__ = ["EventHandlers"]

log = logging.getLogger(__name__)

DISCONNECTED = ErrorData(0, "Server disconnected")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _seed(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) else None


_T = TypeVar("_T")


def _tracked(
    handler: Callable[[EventHandlers, Project, Mapping[str, Any]], _T],
) -> Callable[[EventHandlers, Any], _T | None]:
    """A frame handler for the projects this client tracks.

    It runs under ``transport.lock`` with the frame's project, already touched (any frame is a
    sign of life); frames for other projects are ignored (None).
    """

    @functools.wraps(handler)
    def on_frame(self: EventHandlers, payload: Any) -> _T | None:
        with self.api.transport.lock:
            project = self._project(payload)
            if project is None:
                return None
            project._touch()
            return handler(self, project, payload)

    return on_frame


class EventHandlers:
    """Applies socket frames to the tracked projects of one ProjectsApi."""

    def __init__(self, api: ProjectsApi) -> None:
        self.api = api
        transport = api.transport
        transport.subscribe("jobState", self.on_job_state)
        transport.subscribe("jobProgress", self.on_job_progress)
        transport.subscribe("jobETA", self.on_job_eta)
        transport.subscribe("jobResult", self.on_job_result)
        transport.subscribe("jobError", self.on_job_error)
        transport.on_connection(self.on_connection)

    def _project(self, payload: Any) -> Project | None:
        if not isinstance(payload, Mapping):
            return None
        project = self.api._tracked.get(str(payload.get("jobID", "")))
        if project is None or (project._finished_at is not None and project.status == "canceled"):
            return None
        return project

    def _job(self, project: Project, payload: Mapping[str, Any]) -> Job:
        job, created = project._job(str(payload.get("imgID") or ""))
        if created:
            project._emit(JobStartedEvent(project.id, job.id, payload.get("workerName")))
        return job

    # -- frames --------------------------------------------------------------------------------

    @_tracked
    def on_job_state(self, project: Project, payload: Mapping[str, Any]) -> None:
        kind = payload.get("type")
        if kind == "queued":
            position = payload.get("queuePosition")
            project.queue_position = position if isinstance(position, int) else -1
            if project._finished_at is None:
                project.status = "queued"
            project._emit(ProjectQueuedEvent(project.id, position))
        elif kind in ("initiatingModel", "jobStarted"):
            job = self._job(project, payload)
            job.status = "initiating" if kind == "initiatingModel" else "processing"
            job.worker_name = payload.get("workerName")
            job.positive_prompt = payload.get("positivePrompt")
            job.negative_prompt = payload.get("negativePrompt")
            job.job_index = payload.get("jobIndex")
            project._cond.notify_all()
        elif kind == "jobCompleted":
            project._server_completed = True
            project._check_completed()
            accounted = len(project._jobs) >= project.number_of_media and all(
                j.finished or j._minting for j in project._jobs.values())
            if project._finished_at is None and not accounted:
                # Results may still be minting, or some were never announced: the REST
                # snapshot fills in what the socket did not deliver.
                self.api._schedule_sync(project, quiet=True)
            project._cond.notify_all()

    @_tracked
    def on_job_progress(self, project: Project, payload: Mapping[str, Any]) -> None:
        job = self._job(project, payload)
        job.status = "processing"
        step = _number(payload.get("step"))
        if step is not None:
            job.step = int(max(step, job.step))
        step_count = _number(payload.get("stepCount"))
        if step_count is not None:
            job.step_count = int(step_count)
        progress = _number(payload.get("progress"))
        if progress is not None:
            job.external_progress = progress
        if project._finished_at is None and project.status != "processing":
            project.status = "processing"
        project._emit(JobProgressEvent(
            project.id, job.id, job.step, job.step_count, job.progress, project.progress))
        if payload.get("hasImage") is True:
            job._preview = self.api.transport.io.submit(self.api._mint_preview, project, job.id)

    @_tracked
    def on_job_eta(self, project: Project, payload: Mapping[str, Any]) -> None:
        seconds = _number(payload.get("etaSeconds"))
        if seconds is None or not payload.get("imgID"):
            return  # keep-alive only: a job "" would never finish and block completion
        job = self._job(project, payload)
        now = time.time()
        job.eta = now + seconds
        if job.eta_started_at is None:
            job.eta_started_at = now
        project.eta = max(j.eta or 0 for j in project._jobs.values()) or None
        project._emit(JobEtaEvent(project.id, job.id, seconds))

    def on_job_result(self, payload: Any) -> None:
        minting = self._apply_result(payload)
        if minting is None:
            return
        # No URL yet: minted off the socket thread, lock released. A preview URL still in flight
        # is minted first, so the job's preview event always comes before its completion.
        project, job = minting
        data = dict(payload)

        def mint(_preview: object = None) -> None:
            self.api.transport.io.submit(self.api._mint_and_complete, project, job, data)

        if job._preview is not None:
            job._preview.add_done_callback(mint)  # submit only: never blocks whoever runs it
        else:
            mint()

    @_tracked
    def _apply_result(self, project: Project,
                      payload: Mapping[str, Any]) -> tuple[Project, Job] | None:
        job = self._job(project, payload)
        url = payload.get("resultUrl") or payload.get("videoUrl") or payload.get("videoFile")
        user_canceled = bool(payload.get("userCanceled"))
        nsfw = bool(payload.get("triggeredNSFWFilter"))
        withheld = nsfw and not project.params.get("disable_nsfw_filter")
        if url or user_canceled or withheld:
            self.complete_job(project, job, payload, url if url else None, minted=False)
            return None
        job.status = "processing"  # stays unfinished until its URL is minted
        job._minting = True
        return project, job

    def complete_job(self, project: Project, job: Job, payload: Mapping[str, Any],
                     url: str | None, *, minted: bool) -> None:
        """Apply a ``jobResult`` (caller holds the lock), its URL already known."""
        job._minting = False
        if job.finished or (project._finished_at is not None and project.status == "canceled"):
            return  # already settled (e.g. by a server sync) or canceled
        user_canceled = bool(payload.get("userCanceled"))
        job.status = "canceled" if user_canceled else "completed"
        job.result_url = url
        job._url_minted_at = time.monotonic() if minted and url else None
        job.is_nsfw = bool(payload.get("triggeredNSFWFilter"))
        job.user_canceled = user_canceled
        steps = _number(payload.get("performedStepCount"))
        if steps is not None:
            job.step = int(steps)
        elif job.step_count > 0:
            job.step = job.step_count
        seed = _seed(payload.get("lastSeed"))
        if seed is not None:
            job.seed = seed
        if not user_canceled:
            project._emit(JobCompletedEvent(project.id, job.id, url, job.seed, job.is_nsfw,
                                            user_canceled))
        project._touch()
        project._check_completed()
        project._cond.notify_all()

    @_tracked
    def on_job_error(self, project: Project, payload: Mapping[str, Any]) -> None:
        error = error_from_job_error(payload)
        if payload.get("imgID"):
            job = self._job(project, payload)
            job.status = "failed"
            job.error = error
            project._emit(JobFailedEvent(project.id, job.id, error))
            jobs = project._jobs.values()
            all_failed = len(project._jobs) >= project.number_of_media and all(
                j.status == "failed" for j in jobs)
            if project.number_of_media == 1 or all_failed:
                project._finish("failed", error)
            else:
                project._check_completed()
        else:
            project._finish("failed", error)
            self.api._schedule_sync(project, quiet=True)
        project._cond.notify_all()

    def on_connection(self, event: str, payload: Any) -> None:
        if event == "disconnected":
            terminal = isinstance(payload, Mapping) and bool(payload.get("terminal"))
            if not terminal or self.api.transport.closing.is_set():
                # A reconnect follows (the server keeps running our projects), or the client
                # is closing and its waiters get ClientClosedError instead.
                return
            with self.api.transport.lock:
                for project in list(self.api._tracked.values()):
                    project._finish("failed", DISCONNECTED)
        elif event == "request_lost" and isinstance(payload, Mapping):
            # The jobRequest's fate is unknown after a drop and it was not re-sent (never
            # charged twice): the project cannot finish, so wait() raises that error.
            if payload.get("type") != "jobRequest":
                return
            with self.api.transport.lock:
                lost = self.api._tracked.get(str(payload.get("request_id", "")).upper())
                if lost is None:
                    return
                error = payload.get("error")
                lost._exception = error if isinstance(error, BaseException) else None
                lost._finish("failed", ErrorData(0, str(error or "Request lost")))
        elif event == "closing":
            self.api._on_closing()
        elif event == "authenticated" and isinstance(payload, Mapping):
            self._catch_up(payload)

    def _catch_up(self, payload: Mapping[str, Any]) -> None:
        """After a reconnect, finish projects that ended while we were away.

        Later servers list them in ``unclaimedCompletedProjects`` (REST snapshot shape); applying
        it may mint URLs, so it runs on the io pool. Without the list the inactivity sync
        catches up instead, as in the reference.
        """
        unclaimed = payload.get("unclaimedCompletedProjects")
        if not isinstance(unclaimed, list) or not unclaimed:
            return
        snapshots = {str(raw.get("id", "")).upper(): raw
                     for raw in unclaimed if isinstance(raw, Mapping)}
        with self.api.transport.lock:
            missed = [(project, snapshots[pid]) for pid, project in self.api._tracked.items()
                      if pid in snapshots and project._finished_at is None]
        for project, snapshot in missed:
            log.info("project %s finished while disconnected; catching up", project.id)
            self.api.transport.io.submit(self.api._apply_snapshot, project, snapshot)
