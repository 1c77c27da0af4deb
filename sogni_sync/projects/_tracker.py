"""The tracker: the one owner of the projects this client follows.

It registers every submitted project, applies socket frames (on the socket thread) and REST
snapshots / follow-up results (on io threads) to their state, and fans project and job events
out to ``client.projects.on(...)`` listeners. Slow work — result and preview URL minting,
server syncs — is handed to a :class:`FollowUps` port (``_followups.py``), which reports back
through the tracker's methods only.

Frames are untrusted: a frame without a usable ``imgID`` where a job is meant, or with absurd
numbers, creates no state and never raises (issue 11 D3).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sogni_sync._transport import ProjectsTransport
from sogni_sync.errors import ProjectFailedError
from sogni_sync.projects._events import ErrorData, ProjectEvent, error_from_job_error
from sogni_sync.projects._queue import queue_status, start_seconds, waiting_reason
from sogni_sync.projects._state import JobState, ProjectState

__all__ = ["DISCONNECTED", "SERVER_FORGOT", "FollowUps", "Tracker"]

log = logging.getLogger(__name__)

DISCONNECTED = ErrorData(0, "Server disconnected")
SERVER_FORGOT = ("The Supernet no longer knows project {id}: it was not in the project list of "
                 "the new session after the server restarted, nor in the server's records")
#: sane upper bounds: anything larger is a broken or hostile frame, ignored
MAX_STEPS = 1_000_000
MAX_ETA_SECONDS = 30 * 24 * 3600.0
MAX_ID = 256

EventFn = Callable[[ProjectEvent], Any]


class FollowUps(Protocol):
    """Slow work the tracker hands off (io pool); implemented in ``_followups.py``."""

    def mint_result(self, state: ProjectState, job: JobState, payload: dict[str, Any]) -> None:
        ...

    def mint_preview(self, state: ProjectState, job_id: str) -> None: ...

    def sync(self, state: ProjectState, quiet: bool, after_restart: bool = False) -> None:
        ...

    def apply_snapshot(self, state: ProjectState, raw: Mapping[str, Any]) -> None: ...


def _number(value: Any, low: float = 0.0, high: float = MAX_STEPS) -> float | None:
    """A finite number in [low, high], else None (bools, strings, NaN, 1e308 ...)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def _seed(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(number) if math.isfinite(number) and abs(number) < 2**64 else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _job_id(payload: Mapping[str, Any]) -> str | None:
    raw = payload.get("imgID")
    if isinstance(raw, str) and raw.strip() and len(raw) <= MAX_ID:
        return raw
    return None


class Tracker:
    """Tracked projects by id, and how each socket frame (``jobState``, ``jobProgress``,
    ``jobResult``, ``jobError``...) or REST snapshot changes their state."""

    def __init__(self, transport: ProjectsTransport) -> None:
        self.transport = transport
        self.lock = transport.lock
        self._projects: dict[str, ProjectState] = {}
        self._listeners: list[tuple[str, EventFn]] = []
        self._follow: FollowUps | None = None
        self._closing_hooks: list[Callable[[], None]] = []
        transport.subscribe("jobState", self._guard(self.on_job_state))
        transport.subscribe("jobProgress", self._guard(self.on_job_progress))
        transport.subscribe("jobETA", self._guard(self.on_job_eta))
        transport.subscribe("jobResult", self._guard(self.on_job_result))
        transport.subscribe("jobError", self._guard(self.on_job_error))
        transport.subscribe("jobRetry", self._guard(self.on_job_retry))
        transport.on_connection(self.on_connection)

    def attach(self, follow: FollowUps) -> None:
        self._follow = follow

    def on_closing(self, hook: Callable[[], None]) -> None:
        self._closing_hooks.append(hook)

    @property
    def follow(self) -> FollowUps:
        if self._follow is None:
            raise RuntimeError("the tracker has no follow-ups attached")
        return self._follow

    # -- registry ---------------------------------------------------------------------------

    def new_project(self, project_id: str, params: Mapping[str, Any],
                    expected_jobs: int) -> ProjectState:
        """A ProjectState wired to this client's lock, dispatcher and listeners (untracked)."""
        return ProjectState(project_id, params, expected_jobs, lock=self.lock,
                            dispatch=self.transport.dispatch, sink=self._fan_out)

    def track(self, state: ProjectState) -> None:
        """Register before the request is sent, so no event can outrun it."""
        with self.lock:
            self._projects[state.id] = state

    def forget(self, project_id: str) -> ProjectState | None:
        with self.lock:
            return self._projects.pop(project_id, None)

    def get(self, project_id: str) -> ProjectState | None:
        with self.lock:
            return self._projects.get(project_id)

    def tracked(self) -> list[ProjectState]:
        with self.lock:
            return list(self._projects.values())

    def cancel(self, project_id: str) -> ProjectState | None:
        """Stop tracking and mark canceled (after the cancel message went out)."""
        with self.lock:
            state = self._projects.pop(project_id, None)
            if state is not None:
                state.cancel()
            return state

    def prune(self, now: float, after: float) -> None:
        with self.lock:
            for pid, state in list(self._projects.items()):
                if state.finished_at is not None and now - state.finished_at >= after:
                    del self._projects[pid]

    def due_for_sync(self, now: float, idle: float) -> list[ProjectState]:
        with self.lock:
            return [s for s in self._projects.values() if s.due_for_sync(now, idle)]

    # -- listeners (client.projects.on) -----------------------------------------------------

    def add_listener(self, kind: str, fn: EventFn) -> Callable[[], None]:
        entry = (kind, fn)
        with self.lock:
            self._listeners.append(entry)

        def remove() -> None:
            with self.lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)

        return remove

    def _fan_out(self, event: ProjectEvent) -> None:
        kind = "job" if event.job_level or getattr(event, "job_id", None) else "project"
        for wanted, fn in self._listeners:
            if wanted == kind:
                self.transport.dispatch(fn, event, droppable=event.coalesce)

    # -- frames (socket thread) ---------------------------------------------------------------

    def _guard(self, handler: Callable[[ProjectState, Mapping[str, Any]], None]
               ) -> Callable[[Any], None]:
        """Look up the frame's project (ignored when untracked or canceled), apply it under the
        lock, and never let a broken frame raise out of the event path."""

        def on_frame(payload: Any) -> None:
            if not isinstance(payload, Mapping):
                return
            project_id = payload.get("jobID")
            if not isinstance(project_id, str) or len(project_id) > MAX_ID:
                return
            try:
                with self.lock:
                    state = self._projects.get(project_id)
                    if state is None or (state.done and state.status == "canceled"):
                        return
                    state.mark_seen()
                    handler(state, payload)
            except Exception:
                log.exception("ignored a malformed %s frame for project %s",
                              getattr(handler, "__name__", "?"), project_id)

        return on_frame

    def on_job_state(self, state: ProjectState, payload: Mapping[str, Any]) -> None:
        kind = payload.get("type")
        if kind == "queued":
            position = payload.get("queuePosition")
            if isinstance(position, bool) or not isinstance(position, int) or not (
                    -1 <= position < 2**53):
                position = None
            state.queued(position, start_seconds(payload.get("estimatedStartSeconds")),
                         queue_status(payload.get("queueStatus")),
                         waiting_reason(payload.get("waitingReason")))
        elif kind in ("initiatingModel", "jobStarted"):
            job_id = _job_id(payload)
            if job_id is None:
                log.debug("jobState %s without imgID for %s ignored", kind, state.id)
                return
            index = payload.get("jobIndex")
            state.job_started(job_id, str(kind), {
                "worker_name": _text(payload.get("workerName")),
                "positive_prompt": _text(payload.get("positivePrompt")),
                "negative_prompt": _text(payload.get("negativePrompt")),
                "job_index": index if isinstance(index, int) and not isinstance(index, bool)
                else None,
            })
        elif kind == "jobCompleted" and state.server_says_completed():
            # Results may still be minting, or some were never announced: the REST snapshot
            # fills in what the socket did not deliver.
            self.schedule_sync(state, quiet=True)

    def on_job_progress(self, state: ProjectState, payload: Mapping[str, Any]) -> None:
        job_id = _job_id(payload)
        if job_id is None:
            return
        low, high = (_number(payload.get(k), 0.0, MAX_ETA_SECONDS) for k in ("etaMin", "etaMax"))
        state.job_progress(job_id, _number(payload.get("step")),
                           _number(payload.get("stepCount")),
                           _number(payload.get("progress"), -MAX_STEPS),
                           # workers send 0/0 while they have no interval
                           (low, high) if low is not None and high and high >= low else None)
        if payload.get("hasImage") is True:
            state.preview_started(job_id, self.transport.io.submit(
                self.follow.mint_preview, state, job_id))

    def on_job_eta(self, state: ProjectState, payload: Mapping[str, Any]) -> None:
        seconds = _number(payload.get("etaSeconds"), 0.0, MAX_ETA_SECONDS)
        job_id = _job_id(payload)
        if seconds is None or job_id is None:
            return  # keep-alive only (already touched): a job "" would never finish
        state.job_eta(job_id, seconds)

    def on_job_result(self, state: ProjectState, payload: Mapping[str, Any]) -> None:
        job_id = _job_id(payload)
        if job_id is None:
            return
        url = next((u for u in (payload.get("resultUrl"), payload.get("videoUrl"),
                                payload.get("videoFile")) if isinstance(u, str) and u), None)
        user_canceled = payload.get("userCanceled") is True
        nsfw = payload.get("triggeredNSFWFilter") is True
        withheld = nsfw and not state.params.get("disable_nsfw_filter")
        if url or user_canceled or withheld:
            self._complete(state, job_id, payload, url, minted=False)
            return
        job = state.result_pending(job_id)
        data = dict(payload)
        follow = self.follow
        # Minted off the socket thread. A preview URL still in flight is minted first, so the
        # job's preview event always comes before its completion.

        def mint(_preview: object = None) -> None:
            self.transport.io.submit(follow.mint_result, state, job, data)

        if job.preview is not None:
            job.preview.add_done_callback(mint)  # submit only: never blocks whoever runs it
        else:
            mint()

    def on_job_error(self, state: ProjectState, payload: Mapping[str, Any]) -> None:
        error = error_from_job_error(payload)
        job_id = _job_id(payload)
        if job_id is not None:
            state.job_failed(job_id, error)
        elif payload.get("imgID") in (None, ""):
            state.fail(error)
            self.schedule_sync(state, quiet=True)

    def on_job_retry(self, state: ProjectState, payload: Mapping[str, Any]) -> None:
        """A render moved to another worker: handled in the state only, never a job failure
        (that would fail a one-image project the server is about to finish)."""
        index = payload.get("jobIndex")
        state.job_retry(_job_id(payload), index if isinstance(index, int)
                        and not isinstance(index, bool) and index >= 0 else None)

    # -- follow-up results (io threads) ------------------------------------------------------

    def _complete(self, state: ProjectState, job_id: str, payload: Mapping[str, Any],
                  url: str | None, *, minted: bool) -> None:
        state.complete_job(job_id, payload, url, minted=minted,
                           steps=_number(payload.get("performedStepCount")),
                           seed=_seed(payload.get("lastSeed")))

    def minted(self, state: ProjectState, job_id: str, payload: Mapping[str, Any],
               url: str) -> None:
        with self.lock:
            self._complete(state, job_id, payload, url, minted=True)

    def mint_failed(self, state: ProjectState, job_id: str, error: ErrorData,
                    exception: BaseException) -> None:
        with self.lock:
            state.result_unavailable(job_id, error, exception)

    def preview_minted(self, state: ProjectState, job_id: str, url: str) -> None:
        with self.lock:
            state.preview_ready(job_id, url)

    def url_refreshed(self, state: ProjectState, job_id: str, url: str) -> None:
        with self.lock:
            state.refresh_url(job_id, url)

    def snapshot(self, state: ProjectState, raw: Mapping[str, Any],
                 urls: Mapping[str, str | None],
                 unavailable: Mapping[str, tuple[ErrorData, BaseException]]) -> None:
        with self.lock:
            state.apply_snapshot(raw, urls, unavailable)

    def schedule_sync(self, state: ProjectState, *, quiet: bool,
                      after_restart: bool = False) -> None:
        """Caller holds the lock. One sync per project at a time, on the io pool."""
        if state.begin_sync():
            self.transport.io.submit(self.follow.sync, state, quiet, after_restart)

    def sync_done(self, state: ProjectState) -> None:
        with self.lock:
            state.end_sync()

    def sync_failed(self, state: ProjectState, limit: int) -> bool:
        with self.lock:
            return state.sync_failed(limit)

    def timed_out(self, state: ProjectState, job_error: ErrorData,
                  project_error: ErrorData) -> None:
        with self.lock:
            state.timed_out(job_error, project_error)

    def server_forgot(self, state: ProjectState) -> None:
        message = SERVER_FORGOT.format(id=state.id)
        error = ErrorData(0, message)
        with self.lock:
            state.fail(error, ProjectFailedError(message, error=error, project=state.handle))

    # -- connection events ----------------------------------------------------------------------

    def on_connection(self, event: str, payload: Any) -> None:
        if event == "disconnected":
            terminal = isinstance(payload, Mapping) and bool(payload.get("terminal"))
            if not terminal or self.transport.closing.is_set():
                # A reconnect follows (the server keeps running our projects), or the client
                # is closing and its waiters get ClientClosedError instead.
                return
            with self.lock:
                for state in list(self._projects.values()):
                    state.fail(DISCONNECTED)
        elif event == "request_lost" and isinstance(payload, Mapping):
            # The server could not confirm the jobRequest after a drop and it was not re-sent
            # (never run twice), or it never left: the project cannot finish, so wait() raises
            # that error.
            if payload.get("type") != "jobRequest":
                return
            with self.lock:
                lost = self._projects.get(str(payload.get("request_id", "")).upper())
                if lost is None:
                    return
                error = payload.get("error")
                lost.fail(ErrorData(0, str(error or "Request lost")),
                          error if isinstance(error, BaseException) else None)
        elif event == "request_confirmed" and isinstance(payload, Mapping):
            self._confirmed(payload)
        elif event == "closing":
            for hook in self._closing_hooks:
                hook()
            with self.lock:
                for state in self._projects.values():
                    state.closing()
        elif event == "authenticated" and isinstance(payload, Mapping):
            self._after_authenticated(payload)

    def _confirmed(self, payload: Mapping[str, Any]) -> None:
        """The server has a jobRequest that was in doubt after a drop. Unless the new session
        listed it (its events follow), it may have finished while the server still wrote to
        the dead connection: ask for its record now rather than after the inactivity timeout."""
        if payload.get("type") != "jobRequest" or payload.get("listed"):
            return
        with self.lock:
            state = self._projects.get(str(payload.get("request_id", "")).upper())
            if state is not None and not state.done:
                self.schedule_sync(state, quiet=True)

    def _after_authenticated(self, payload: Mapping[str, Any]) -> None:
        """A (new) session: catch up with projects that ended while we were away, and ask
        about those the server did not list (it restarted) at once, not 2 minutes later.

        ``unclaimedCompletedProjects`` carry the REST snapshot shape; applying one may mint
        URLs, so it runs on the io pool. Servers that list neither array (the seed's era) say
        nothing about our projects: the inactivity sync catches up instead, as in the
        reference. Projects the server never acknowledged are the outbox's to resend.
        """
        active = payload.get("activeProjects")
        unclaimed = payload.get("unclaimedCompletedProjects")
        if not isinstance(active, list) and not isinstance(unclaimed, list):
            return
        snapshots = {str(raw.get("id", "")).upper(): raw
                     for raw in unclaimed or [] if isinstance(raw, Mapping)}
        listed = set(snapshots)
        for raw in active or []:
            value = raw.get("id") if isinstance(raw, Mapping) else raw
            if isinstance(value, str):
                listed.add(value.upper())
        with self.lock:
            missed = [(s, snapshots[pid]) for pid, s in self._projects.items()
                      if pid in snapshots and not s.done]
            unknown = [s for pid, s in self._projects.items()
                       if pid not in listed and not s.done and s.seen]
            for state in unknown:
                log.info("project %s not listed by the new session; asking the server",
                         state.id)
                self.schedule_sync(state, quiet=False, after_restart=True)
        for state, snapshot in missed:
            log.info("project %s finished while disconnected; catching up", state.id)
            self.transport.io.submit(self.follow.apply_snapshot, state, snapshot)
