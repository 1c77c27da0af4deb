"""Project and job state, and every transition of it, as the reference client keeps them.

One :class:`ProjectState` per submitted project, holding its :class:`JobState`\\ s. Every method
that changes state runs with the client's state lock held — called by the tracker (socket
frames, REST snapshots, follow-up results) or by a caller cancelling — records what changed
(``updated`` events carry the changed keys), emits the events it implies and wakes the
project's waiters. Nothing else writes this state: ``Project``/``Job`` handles only read it.
"""

from __future__ import annotations

import concurrent.futures
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sogni_sync._js import js_round
from sogni_sync.projects._events import (
    ErrorData,
    EventQueue,
    JobCompletedEvent,
    JobEtaEvent,
    JobFailedEvent,
    JobPreviewEvent,
    JobProgressEvent,
    JobStartedEvent,
    ProjectCanceledEvent,
    ProjectCompletedEvent,
    ProjectEvent,
    ProjectFailedEvent,
    ProjectQueuedEvent,
    ProjectUpdatedEvent,
)

__all__ = ["FINISHED", "JobState", "ProjectState", "clamp_percent", "json_safe"]

FINISHED = frozenset({"completed", "failed", "canceled"})
Listener = tuple[str, "str | None", Callable[[ProjectEvent], Any]]


def clamp_percent(value: float) -> int:
    """``round(value)`` clamped to 0-100; NaN counts as 0 and infinities clamp (never raises)."""
    if not isinstance(value, (int, float)) or value != value:
        return 0
    if value >= 100:
        return 100
    if value <= 0:
        return 0
    return js_round(value)


def json_safe(value: Any) -> Any:
    """A JSON-ready copy: mappings and sequences recursively, numbers finite, the rest ``str``."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    return str(value)


def _error_dict(error: ErrorData | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"code": error.code, "message": error.message, "original_code": error.original_code}


#: what a render that moved to another worker starts over from
_FRESH_ATTEMPT: dict[str, Any] = {"step": 0, "worker_name": None, "preview_url": None,
                                  "external_progress": None, "eta": None,
                                  "eta_started_at": None, "eta_range": None}


class JobState:
    """One produced medium. Transitions return the changed keys (empty: nothing changed)."""

    def __init__(self, project: ProjectState, job_id: str, step_count: int) -> None:
        self.project = project
        self.id = job_id
        self.project_id = project.id
        self.status = "pending"
        self.step = 0
        self.step_count = step_count
        self.seed: int | None = None
        self.preview_url: str | None = None
        self.result_url: str | None = None
        #: Seedance 2.5 with ``return_last_frame``: the clip's last frame (a signed URL)
        self.last_frame_url: str | None = None
        self.is_nsfw = False
        self.user_canceled = False
        self.worker_name: str | None = None
        self.positive_prompt: str | None = None
        self.negative_prompt: str | None = None
        self.job_index: int | None = None
        self.external_progress: float | None = None
        self.eta: float | None = None  # epoch seconds
        self.eta_started_at: float | None = None
        self.eta_range: tuple[float, float] | None = None  # the worker's interval, seconds
        self.error: ErrorData | None = None
        self.url_minted_at: float | None = None  # None for URLs that came with the event
        self.minting = False  # a jobResult arrived; its download URL is being minted
        self.preview: concurrent.futures.Future[None] | None = None  # preview URL in flight

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def has_result_media(self) -> bool:
        return self.status == "completed" and not self.is_nsfw

    @property
    def progress(self) -> int:
        """0-100 by the reference's rule: completed → 100; else external
        progress, steps, or — for jobs without steps — elapsed/ETA clamped to 1-95."""
        if self.status == "completed":
            return 100
        ext = self.external_progress
        if isinstance(ext, (int, float)) and math.isfinite(ext):
            return clamp_percent(ext * 100 if 0 <= ext <= 1 else ext)
        if self.step_count > 0:
            return clamp_percent(self.step / self.step_count * 100)
        if self.eta is not None and self.eta_started_at is not None:
            span = self.eta - self.eta_started_at
            if math.isfinite(span) and span > 0:
                elapsed = time.time() - self.eta_started_at
                return 1 if elapsed <= 0 else max(1, min(95, clamp_percent(elapsed / span * 100)))
        return 0

    def update(self, **delta: Any) -> list[str]:
        """Merge ``delta``; return the keys whose value changed (like the reference's
        ``_update``). The project hears about it (``updated`` event, idle clock)."""
        changed = [k for k, v in delta.items() if getattr(self, k) != v]
        for key in changed:
            setattr(self, key, delta[key])
        self.project.job_changed(self, changed)
        return changed

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "project_id": self.project_id, "status": self.status,
            "progress": self.progress, "step": self.step, "step_count": self.step_count,
            "seed": self.seed, "result_url": self.result_url, "preview_url": self.preview_url,
            "last_frame_url": self.last_frame_url,
            "is_nsfw": self.is_nsfw, "user_canceled": self.user_canceled,
            "worker_name": self.worker_name, "positive_prompt": self.positive_prompt,
            "negative_prompt": self.negative_prompt, "job_index": self.job_index,
            "eta": self.eta if self.eta is None or math.isfinite(self.eta) else None,
            "error": _error_dict(self.error),
        }


class ProjectState:
    """A submitted project: its data, jobs, subscribers and every transition."""

    def __init__(
        self,
        project_id: str,
        params: Mapping[str, Any],
        expected_jobs: int,
        *,
        lock: threading.RLock,
        dispatch: Callable[..., None],
        sink: Callable[[ProjectEvent], None] | None = None,
    ) -> None:
        self.cond = threading.Condition(lock)
        self.dispatch = dispatch
        self.sink = sink
        self.id = project_id
        self.params: dict[str, Any] = dict(params)
        self.type = str(params.get("type"))
        self.model_id = str(params.get("model_id"))
        self.number_of_media = expected_jobs
        self.status = "pending"
        self.queue_position = -1
        self.estimated_start_at: float | None = None  # epoch seconds, while queued
        self.queue_status: str | None = None  # waiting | no-workers, while queued
        self.waiting_reason: Any = None  # the server's WaitingReason, while queued
        self.error: ErrorData | None = None
        self.eta: float | None = None
        self.jobs: dict[str, JobState] = {}
        self.awaiting_retry: set[str] = set()  # moved to another worker (jobRetry), no frame yet
        self.server_completed = False
        self.seen = False  # the server answered about it (any frame or snapshot)
        self.finished_at: float | None = None
        self.last_update = time.monotonic()
        self.failed_syncs = 0
        self.next_sync = 0.0
        self.syncing = False
        self.exception: BaseException | None = None  # wait() raises it, not ProjectFailedError
        self.handle: Any = None  # the user's Project, handed to done callbacks and watchers
        self.history = EventQueue()
        self.subscribers: list[EventQueue] = []
        self.listeners: list[Listener] = []
        self.done_callbacks: list[Callable[[Any], Any]] = []
        self.watchers: list[Callable[[Any], Any]] = []
        self._last_progress = -1

    # -- reads ------------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    @property
    def result_urls(self) -> list[str]:
        return [j.result_url for j in self.jobs.values() if j.result_url]

    @property
    def progress(self) -> int:
        if self.status == "completed":
            return 100
        if not self.jobs:
            return 0
        total = sum(j.progress for j in self.jobs.values())
        return clamp_percent(total / max(1, self.number_of_media))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type, "model_id": self.model_id, "status": self.status,
            "progress": self.progress, "queue_position": self.queue_position,
            "number_of_media": self.number_of_media,
            "eta": self.eta if self.eta is None or math.isfinite(self.eta) else None,
            "error": _error_dict(self.error), "result_urls": self.result_urls,
            "params": json_safe(self.params), "jobs": [j.to_dict() for j in self.jobs.values()],
        }

    # -- events -----------------------------------------------------------------------------------

    def emit(self, event: ProjectEvent) -> None:
        if event.name != "updated":
            self.history.put(event)
            for queue in self.subscribers:
                queue.put(event)
        job_id = getattr(event, "job_id", None)
        for name, only_job, callback in self.listeners:
            if only_job is not None and only_job != job_id:
                continue
            if name == event.name or (name == "*" and event.name != "updated"):
                self.dispatch(callback, event)
        if self.sink is not None:
            self.sink(event)
        self.cond.notify_all()

    def _changed(self, keys: list[str], job_id: str | None = None) -> None:
        self.touch()
        if keys:
            self.emit(ProjectUpdatedEvent(self.id, job_id, tuple(keys)))

    def update(self, **delta: Any) -> list[str]:
        changed = [k for k, v in delta.items() if getattr(self, k) != v]
        for key in changed:
            setattr(self, key, delta[key])
        self._changed(changed)
        return changed

    def job_changed(self, job: JobState, keys: list[str]) -> None:
        self._changed(keys, job.id)

    def touch(self) -> None:
        self.last_update = time.monotonic()

    def _progress_event(self, job: JobState) -> None:
        progress = self.progress
        self._last_progress = progress
        self.emit(JobProgressEvent(self.id, job.id, job.step, job.step_count, job.progress,
                                   progress))

    # -- jobs ---------------------------------------------------------------------------------

    def job(self, job_id: str, worker_name: str | None = None,
            job_index: int | None = None) -> JobState:
        """The job ``job_id``, created (``job_started`` event) when first seen -- unless it is
        a render the server moved to another worker coming back under a new id."""
        if (self.queue_status, self.estimated_start_at, self.waiting_reason) != (None,) * 3:
            # a worker has the project: the queue estimate is over
            self.update(estimated_start_at=None, queue_status=None, waiting_reason=None)
        job = self.jobs.get(job_id) or self._reclaim(job_id, job_index)
        if job is not None:
            return job
        steps = self.params.get("steps")
        job = JobState(self, job_id, steps if isinstance(steps, int) and steps > 0 else 0)
        self.jobs[job_id] = job
        self.emit(JobStartedEvent(self.id, job_id, worker_name))
        self._changed(["jobs"])
        return job

    def job_retry(self, job_id: str | None, job_index: int | None) -> None:
        """``jobRetry``: the server gave up on this render's worker and queued the same render
        for another one. It starts over (nothing the old worker reported holds) and waits for
        its next worker's first frame, which arrives under a new id and reclaims it."""
        job = self.jobs.get(job_id) if job_id else None
        if job is None and job_index is not None:
            job = next((j for j in self.jobs.values() if j.job_index == job_index), None)
        if job is None or job.finished or self.done:
            return
        self.awaiting_retry.add(job.id)
        job.preview = None
        job.update(status="pending", **_FRESH_ATTEMPT,
                   **({} if job_index is None else {"job_index": job_index}))

    def _reclaim(self, job_id: str, job_index: int | None) -> JobState | None:
        """The unfinished job a frame with an unknown id continues: the one holding its
        ``jobIndex``, else the only render announced as moved that has no index."""
        unfinished = [j for j in self.jobs.values() if not j.finished]
        match = next((j for j in unfinished if job_index is not None
                      and j.job_index == job_index), None)
        if match is None:
            waiting = [j for j in unfinished if j.id in self.awaiting_retry
                       and j.job_index is None]
            match = waiting[0] if len(waiting) == 1 else None
        if match is None:
            return None
        old = match.id
        self.awaiting_retry.discard(old)
        self.jobs = {(job_id if key == old else key): j for key, j in self.jobs.items()}
        match.id = job_id
        match.preview = None
        match.update(**_FRESH_ATTEMPT)
        self._changed(["jobs"], job_id)
        return match

    def _live(self) -> bool:
        """Events still apply: not canceled by the user (the reference ignores them then)."""
        return not (self.done and self.status == "canceled")

    def mark_seen(self) -> None:
        self.seen = True
        self.touch()

    def queued(self, position: int | None, start_seconds: float | None = None,
               queue_status: str | None = None, waiting: Any = None) -> None:
        delta: dict[str, Any] = {
            "queue_position": position if position is not None else -1,
            "estimated_start_at": None if start_seconds is None else time.time() + start_seconds,
            "queue_status": queue_status, "waiting_reason": waiting}
        if not self.done:
            delta["status"] = "queued"
        self.update(**delta)
        self.emit(ProjectQueuedEvent(self.id, position, start_seconds, queue_status))

    def job_started(self, job_id: str, kind: str, fields: Mapping[str, Any]) -> None:
        job = self.job(job_id, fields.get("worker_name"), fields.get("job_index"))
        job.update(status="initiating" if kind == "initiatingModel" else "processing", **fields)

    def job_progress(self, job_id: str, step: float | None, step_count: float | None,
                     progress: float | None,
                     eta_range: tuple[float, float] | None = None) -> None:
        job = self.job(job_id)
        delta: dict[str, Any] = {"status": "processing"}
        if eta_range is not None:
            delta["eta_range"] = eta_range
        if step is not None:
            delta["step"] = int(max(step, job.step))
        if step_count is not None:
            delta["step_count"] = int(step_count)
        if progress is not None:
            delta["external_progress"] = progress
        job.update(**delta)
        if not self.done and self.status != "processing":
            self.update(status="processing")
        self._progress_event(job)

    def job_eta(self, job_id: str, seconds: float) -> None:
        job = self.job(job_id)
        now = time.time()
        delta: dict[str, Any] = {"eta": now + seconds}
        if job.eta_started_at is None:
            delta["eta_started_at"] = now
        job.update(**delta)
        self.update(eta=max(j.eta or 0 for j in self.jobs.values()) or None)
        self.emit(JobEtaEvent(self.id, job.id, seconds))
        if job.step_count <= 0 and job.external_progress is None:
            self._progress_event(job)  # the ETA is all the progress such a job reports

    def preview_started(self, job_id: str,
                        future: concurrent.futures.Future[None] | None) -> None:
        self.job(job_id).preview = future

    def preview_ready(self, job_id: str, url: str) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        job.update(preview_url=url)
        if not self.done:  # the terminal event stays the last one
            self.emit(JobPreviewEvent(self.id, job_id, url))

    def result_pending(self, job_id: str) -> JobState:
        """A ``jobResult`` without a URL: the job stays unfinished while its URL is minted."""
        job = self.job(job_id)
        job.minting = True
        job.update(status="processing")
        return job

    def complete_job(self, job_id: str, payload: Mapping[str, Any], url: str | None, *,
                     minted: bool, steps: float | None, seed: int | None) -> None:
        """Apply a ``jobResult`` whose URL is known (or rightly absent: NSFW, user cancel)."""
        job = self.job(job_id)
        job.minting = False
        if job.finished or not self._live():
            return  # already settled (e.g. by a server sync) or canceled
        user_canceled = payload.get("userCanceled") is True
        delta: dict[str, Any] = {
            "status": "canceled" if user_canceled else "completed",
            "result_url": url, "is_nsfw": payload.get("triggeredNSFWFilter") is True,
            "user_canceled": user_canceled,
        }
        job.url_minted_at = time.monotonic() if minted and url else None
        last_frame = payload.get("lastFrameUrl")
        if isinstance(last_frame, str) and last_frame:
            delta["last_frame_url"] = last_frame
        if steps is not None:
            delta["step"] = int(steps)
        elif job.step_count > 0:
            delta["step"] = job.step_count
        if seed is not None:
            delta["seed"] = seed
        job.update(**delta)
        if not user_canceled:
            self.emit(JobCompletedEvent(self.id, job.id, url, job.seed, job.is_nsfw, False,
                                        job.last_frame_url))
        self.check_completed()

    def result_unavailable(self, job_id: str, error: ErrorData,
                           exception: BaseException) -> None:
        """The job ran but its result URL could not be minted: the job and the project fail
        with that error — never "completed" without a result (issue 11 D2)."""
        job = self.job(job_id)
        job.minting = False
        if job.finished or not self._live():
            return
        job.update(status="failed", error=error)
        self.emit(JobFailedEvent(self.id, job.id, error))
        self.fail(error, exception)

    def refresh_url(self, job_id: str, url: str) -> None:
        job = self.jobs.get(job_id)
        if job is not None:
            job.url_minted_at = time.monotonic()
            job.update(result_url=url)

    def job_failed(self, job_id: str, error: ErrorData) -> None:
        job = self.job(job_id)
        job.update(status="failed", error=error)
        self.emit(JobFailedEvent(self.id, job.id, error))
        all_failed = len(self.jobs) >= self.number_of_media and all(
            j.status == "failed" for j in self.jobs.values())
        if self.number_of_media == 1 or all_failed:
            self.fail(error)
        else:
            self.check_completed()

    def server_says_completed(self) -> bool:
        """``jobState jobCompleted``; True when some results are still missing (sync then)."""
        self.server_completed = True
        self.check_completed()
        accounted = len(self.jobs) >= self.number_of_media and all(
            j.finished or j.minting for j in self.jobs.values())
        self.cond.notify_all()
        return not self.done and not accounted

    def apply_snapshot(self, raw: Mapping[str, Any], urls: Mapping[str, str | None],
                       unavailable: Mapping[str, tuple[ErrorData, BaseException]]) -> None:
        """Merge the REST record of a finished project (``GET /v1/projects/{id}``, which
        answers 404 while it runs): job results and failures fill what the socket missed;
        finished jobs are never re-opened."""
        self.mark_seen()
        for rj in raw.get("completedWorkerJobs") or []:
            if not isinstance(rj, Mapping) or not _valid_id(rj.get("imgID")):
                continue
            job_id = str(rj["imgID"])
            job = self.job(job_id)
            if job.finished:
                continue
            if job_id in unavailable:
                self.result_unavailable(job_id, *unavailable[job_id])
                continue
            status = RAW_JOB_STATUS.get(str(rj.get("status")), job.status)
            delta: dict[str, Any] = {"is_nsfw": rj.get("triggeredNSFWFilter") is True}
            worker = rj.get("worker")
            if isinstance(worker, Mapping) and isinstance(worker.get("name"), str):
                delta["worker_name"] = worker["name"]
            for key, field in (("performedSteps", "step"), ("seedUsed", "seed")):
                value = rj.get(key)
                if isinstance(value, int) and not isinstance(value, bool):
                    delta[field] = value
            if status == "completed":
                delta["result_url"] = urls.get(job_id)
                job.url_minted_at = time.monotonic() if delta["result_url"] else None
            delta["status"] = status
            job.update(**delta)
            if status == "completed":
                self.emit(JobCompletedEvent(self.id, job.id, job.result_url, job.seed,
                                            job.is_nsfw, False))
        count = raw.get("imageCount")
        if isinstance(count, int) and not isinstance(count, bool) and 0 < count <= 10_000:
            self.update(number_of_media=count)
        raw_status = raw.get("status")
        if raw_status == "completed":
            self.server_completed = True
            self.check_completed()
        elif raw_status == "errored":
            self.fail(self.error or ErrorData(0, "Project failed"))
        elif raw_status == "cancelled":
            self.finish("canceled")
        self.cond.notify_all()

    # -- the project's end --------------------------------------------------------------------

    def check_completed(self) -> None:
        if self.done or not self.server_completed:
            return
        jobs = self.jobs.values()
        if len(self.jobs) >= self.number_of_media and all(j.finished for j in jobs):
            self.finish("completed")

    def fail(self, error: ErrorData, exception: BaseException | None = None) -> None:
        if self.done:
            return
        if exception is not None:
            self.exception = exception
        self.finish("failed", error)

    def cancel(self) -> None:
        for job in self.jobs.values():
            if not job.finished:
                job.update(status="canceled")
        self.finish("canceled")

    def timed_out(self, job_error: ErrorData, project_error: ErrorData) -> None:
        for job in self.jobs.values():
            if not job.finished:
                job.update(status="failed", error=job_error)
        self.fail(project_error)

    def finish(self, status: str, error: ErrorData | None = None) -> None:
        if self.done:
            return
        delta: dict[str, Any] = {"status": status}
        if status == "failed":
            delta["error"] = error
        self.update(**delta)
        self.finished_at = time.monotonic()
        if status == "completed":
            self.emit(ProjectCompletedEvent(self.id, tuple(self.result_urls)))
        elif status == "failed":
            self.emit(ProjectFailedEvent(self.id, error))
        else:
            self.emit(ProjectCanceledEvent(self.id))
        for fn in self.done_callbacks:
            self.dispatch(fn, self.handle)
        self.done_callbacks.clear()
        for watcher in list(self.watchers):
            watcher(self.handle)
        self.cond.notify_all()

    def closing(self) -> None:
        """The client closes: wake every waiter (they raise ClientClosedError)."""
        for watcher in list(self.watchers):
            watcher(None)
        self.cond.notify_all()

    # -- sync bookkeeping ---------------------------------------------------------------------

    def begin_sync(self) -> bool:
        """Claim the one sync this project may have in flight; False when one already runs."""
        if self.syncing:
            return False
        self.syncing = True
        return True

    def end_sync(self) -> None:
        self.syncing = False

    def sync_failed(self, limit: int) -> bool:
        """Count a failed sync; True when this one was the last allowed (time out then)."""
        self.failed_syncs += 1
        return self.failed_syncs >= limit and not self.done

    def due_for_sync(self, now: float, idle: float) -> bool:
        if self.done or self.syncing or now - self.last_update <= idle or now < self.next_sync:
            return False
        self.next_sync = now + idle
        return True


#: job status of the REST project record (``workerJobs[].status``) → our job status
RAW_JOB_STATUS = {"created": "pending", "queued": "pending", "assigned": "initiating",
                  "initiatingModel": "initiating", "jobStarted": "processing",
                  "jobProgress": "processing", "jobCompleted": "completed",
                  "jobError": "failed"}


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) and len(value.strip()) > 0 and len(value) <= 256
