"""Follow-up I/O of tracked projects: URL minting, server syncs and housekeeping.

Everything here runs on the io pool (or the ``sogni-projects`` housekeeping thread), never on
the socket thread, and never touches project state itself: results go back through the
:class:`~sogni_sync.projects._tracker.Tracker`'s methods.

Minting a result URL is retried (bounded, with backoff that ``close()`` cuts short); when it
still fails the job and its project fail with a clear error instead of "completing" without a
result (issue 11 D2).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from sogni_sync._transport import ProjectsTransport, quote_segment
from sogni_sync.catalog import Catalog
from sogni_sync.catalog._families import is_model_artifact
from sogni_sync.errors import (
    NotFoundError,
    ProjectFailedError,
    SogniError,
    UnexpectedResponseError,
)
from sogni_sync.projects._events import ErrorData
from sogni_sync.projects._state import RAW_JOB_STATUS, JobState, ProjectState
from sogni_sync.projects._tracker import Tracker

__all__ = ["TIMED_OUT_JOB", "TIMED_OUT_PROJECT", "FollowUpIo", "download_url"]

log = logging.getLogger(__name__)

_IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
                "png": "image/png"}
_AUDIO_TYPES = {"flac": "audio/flac", "wav": "audio/wav"}
TIMED_OUT_JOB = ErrorData(0, "Job timed out")
TIMED_OUT_PROJECT = ErrorData(0, "Project timed out. Please try again or contact support.")


def download_url(path: str, data: Any) -> str:
    url = data.get("downloadUrl") if isinstance(data, Mapping) else None
    if not isinstance(url, str) or not url:
        raise UnexpectedResponseError(path, f"no downloadUrl in {data!r}", payload=data)
    return url


class FollowUpIo:
    """The tracker's :class:`~sogni_sync.projects._tracker.FollowUps`, over one transport."""

    #: attempts to mint one result URL (each already retried by the REST layer)
    mint_attempts = 4
    #: first pause between attempts; doubles each time (0.25, 0.5, 1 s)
    mint_backoff = 0.25
    #: seconds without any event before the client asks the server about a project
    inactivity_timeout = 120.0
    #: failed server syncs after which a silent project is failed (the reference's 3)
    max_failed_syncs = 3
    #: finished projects stay tracked this long for late events
    prune_after = 30.0

    def __init__(self, tracker: Tracker, transport: ProjectsTransport, catalog: Catalog) -> None:
        self.tracker = tracker
        self.transport = transport
        self.catalog = catalog
        self._housekeeper: threading.Thread | None = None
        self._wake = threading.Event()
        tracker.attach(self)
        tracker.on_closing(self._wake.set)
        # After a reconnect, a jobRequest in doubt is settled by the server's word: listed in
        # the new session, or known to GET /v2/projects/{id} -- else it is sent again.
        transport.track("jobRequest", named_by="jobID",
                        listed_in=("activeProjects", "unclaimedCompletedProjects"),
                        lookup=self.exists)

    # -- result and preview URLs -------------------------------------------------------------

    def result_url(self, state: ProjectState, job_id: str) -> str:
        """Mint the signed download URL of a finished job (one attempt; REST retries apply)."""
        return self.mint_url(state.id, job_id, state.model_id, state.params.get("output_format"))

    def mint_url(self, project_id: str, job_id: str, model_id: str, output_format: Any,
                 kind: str | None = None) -> str:
        """The signed download URL of job ``job_id`` of ``project_id``: the media endpoint
        for video, audio and 3D models (``kind``, else the model's kind in the catalogue),
        the image endpoint otherwise."""
        fmt = str(output_format or "").lower()
        is_audio = kind == "audio" if kind else self.catalog.is_audio_model(model_id)
        is_model = kind == "model" if kind else is_model_artifact(model_id)
        is_video = kind == "video" if kind else self.catalog.is_video_model(model_id)
        if is_audio or is_model or is_video:
            query: dict[str, Any] = {"jobId": project_id, "id": job_id, "type": "complete"}
            if is_audio:
                query["contentType"] = _AUDIO_TYPES.get(fmt, "audio/mpeg")
            if is_model:  # Pixal3D: a GLB through the media download URL
                query["contentType"] = "model/gltf-binary"
            path = "/v1/media/downloadUrl"
        else:
            query = {"jobId": project_id, "imageId": job_id, "type": "complete",
                     "contentType": _IMAGE_TYPES.get(fmt)}
            path = "/v1/image/downloadUrl"
        return download_url(path,
                            self.transport.rest.request("GET", path, params=query, hot=True))

    def refresh_url(self, state: ProjectState, job_id: str) -> str:
        """A fresh URL for ``job.get_result_url(refresh=True)``, stored on the job."""
        url = self.result_url(state, job_id)
        self.tracker.url_refreshed(state, job_id, url)
        return url

    def _mint_with_retries(self, state: ProjectState, job_id: str) -> str:
        delay = self.mint_backoff
        for attempt in range(1, self.mint_attempts + 1):
            try:
                return self.result_url(state, job_id)
            except Exception as exc:
                if attempt == self.mint_attempts or self.transport.closing.is_set():
                    raise
                log.warning("result URL of job %s failed (attempt %d/%d): %s; retrying",
                            job_id, attempt, self.mint_attempts, exc)
            if self.transport.closing.wait(delay):
                break
            delay *= 2
        raise ProjectFailedError(f"client closed while minting the result URL of job {job_id}")

    def _unavailable(self, state: ProjectState, job_id: str,
                     exc: BaseException) -> tuple[ErrorData, BaseException]:
        message = (f"Project {state.id}: the result of job {job_id} could not be fetched "
                   f"({type(exc).__name__}: {exc}); the server ran the job, so "
                   "project.job(id).get_result_url() may still succeed later")
        error = ErrorData(0, message)
        failure = ProjectFailedError(message, error=error, project=state.handle)
        failure.__cause__ = exc
        log.error("%s", message)
        return error, failure

    def mint_result(self, state: ProjectState, job: JobState, payload: dict[str, Any]) -> None:
        try:
            url = self._mint_with_retries(state, job.id)
        except Exception as exc:
            self.tracker.mint_failed(state, job.id, *self._unavailable(state, job.id, exc))
            return
        self.tracker.minted(state, job.id, payload, url)

    def mint_preview(self, state: ProjectState, job_id: str) -> None:
        query = {"jobId": state.id, "imageId": job_id, "type": "preview"}
        try:
            path = "/v1/image/downloadUrl"
            url = download_url(path, self.transport.rest.request("GET", path, params=query))
        except Exception as exc:
            log.warning("could not get the preview URL of job %s: %s", job_id, exc)
            return
        self.tracker.preview_minted(state, job_id, url)

    # -- server sync ----------------------------------------------------------------------------

    def status_answer(self, project_id: str) -> Any:
        """``GET /v2/projects/{id}``, the id quoted into one segment: the server's live record
        of a project, running or finished. NotFoundError: it never received the request."""
        return self.transport.rest.request(
            "GET", f"/v2/projects/{quote_segment(project_id, 'project_id')}")

    def exists(self, project_id: str) -> bool:
        """Whether the server has any record of the project, running or finished."""
        try:
            self.status_answer(project_id)
        except NotFoundError:
            return False
        return True

    def fetch(self, project_id: str) -> dict[str, Any]:
        """The server's record of a project (``GET /v1/projects/{id}``, id quoted)."""
        data = self.transport.rest.request(
            "GET", f"/v1/projects/{quote_segment(project_id, 'project_id')}")
        project = data.get("project") if isinstance(data, Mapping) else None
        if not isinstance(project, Mapping):
            raise UnexpectedResponseError("/v1/projects/{id}",
                                          f"no project in the response for {project_id}",
                                          payload=data)
        return dict(project)

    def sync(self, state: ProjectState, quiet: bool, after_restart: bool = False) -> None:
        try:
            raw = self.fetch(state.id)
            self.apply_snapshot(state, raw)
        except NotFoundError:
            if after_restart:
                self.tracker.server_forgot(state)
            elif not quiet:
                self._sync_failed(state)
        except (SogniError, OSError) as exc:
            log.debug("sync of project %s failed: %s", state.id, exc)
            if not quiet:
                self._sync_failed(state)
        finally:
            self.tracker.sync_done(state)

    def _sync_failed(self, state: ProjectState) -> None:
        if not self.tracker.sync_failed(state, self.max_failed_syncs):
            return
        log.warning("project %s timed out", state.id)
        try:  # tell the server first, like the reference, so it stops billing the work
            self.transport.send("jobError", {"jobID": state.id, "error": "artistCanceled",
                                             "error_message": "artistCanceled",
                                             "isFromWorker": False})
        except (SogniError, OSError) as exc:
            log.debug("timeout cancel of %s not sent: %s", state.id, exc)
        self.tracker.timed_out(state, TIMED_OUT_JOB, TIMED_OUT_PROJECT)

    def apply_snapshot(self, state: ProjectState, raw: Mapping[str, Any]) -> None:
        """Mint what the snapshot's finished jobs lack (no lock held), then apply it."""
        urls: dict[str, str | None] = {}
        unavailable: dict[str, tuple[ErrorData, BaseException]] = {}
        with self.tracker.lock:
            settled = {j.id for j in state.jobs.values() if j.finished}
        for rj in raw.get("completedWorkerJobs") or []:
            if not isinstance(rj, Mapping) or not isinstance(rj.get("imgID"), str):
                continue
            job_id = rj["imgID"]
            url = next((u for u in (rj.get("resultUrl"), rj.get("imageUrl"),
                                    rj.get("videoUrl")) if isinstance(u, str) and u), None)
            done = RAW_JOB_STATUS.get(str(rj.get("status"))) == "completed"
            withheld = rj.get("triggeredNSFWFilter") is True and not state.params.get(
                "disable_nsfw_filter")
            if not url and done and not withheld and job_id not in settled:
                try:
                    url = self._mint_with_retries(state, job_id)
                except Exception as exc:
                    unavailable[job_id] = self._unavailable(state, job_id, exc)
            urls[job_id] = url
        self.tracker.snapshot(state, raw, urls, unavailable)

    # -- housekeeping -----------------------------------------------------------------------

    def ensure_housekeeper(self) -> None:
        with self.tracker.lock:
            if self._housekeeper is not None or self.transport.closing.is_set():
                return
            self._housekeeper = threading.Thread(
                target=self._housekeeping, name="sogni-projects", daemon=True)
            self._housekeeper.start()

    def _housekeeping(self) -> None:
        """Timer thread: prunes finished projects and syncs silent ones with the server."""
        tick = max(0.05, min(10.0, self.inactivity_timeout / 4, self.prune_after / 2))
        while not self._wake.wait(tick):
            now = time.monotonic()
            self.tracker.prune(now, self.prune_after)
            with self.tracker.lock:
                if self.transport.closing.is_set() or not self.tracker.tracked():
                    self._housekeeper = None
                    return
                for state in self.tracker.due_for_sync(now, self.inactivity_timeout):
                    self.tracker.schedule_sync(state, quiet=False)
        with self.tracker.lock:
            self._housekeeper = None
