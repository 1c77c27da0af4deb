"""``client.projects``: create and track media projects, plus the catalogue helpers."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from sogni_sync._sync import Deadline
from sogni_sync.catalog import (
    AvailableModel,
    Catalog,
    CostEstimate,
    ModelOptions,
    SizePreset,
    SupportedModel,
    VideoAssetConfig,
)
from sogni_sync.errors import (
    ApiError,
    ClientClosedError,
    NotFoundError,
    SogniError,
    TimeoutError,
)
from sogni_sync.projects._checks import check_options
from sogni_sync.projects._estimate import estimate_project
from sogni_sync.projects._events import ErrorData, JobCompletedEvent, JobPreviewEvent
from sogni_sync.projects._handlers import EventHandlers
from sogni_sync.projects._media import run_uploads, without_media
from sogni_sync.projects._prepare import prepare_request
from sogni_sync.projects.params import (
    AudioParams,
    ImageParams,
    ProjectParams,
    VideoParams,
    build_params,
    params_from,
    same_parameters_as,
)
from sogni_sync.projects.project import Job, Project

__all__ = ["ProjectsApi", "as_completed", "wait_all"]

log = logging.getLogger(__name__)

_IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
                "png": "image/png"}
_AUDIO_TYPES = {"flac": "audio/flac", "wav": "audio/wav"}
_RAW_JOB_STATUS = {"created": "pending", "queued": "pending", "assigned": "initiating",
                   "initiatingModel": "initiating", "jobStarted": "processing",
                   "jobProgress": "processing", "jobCompleted": "completed",
                   "jobError": "failed"}
TIMED_OUT_JOB = ErrorData(0, "Job timed out")
TIMED_OUT_PROJECT = ErrorData(0, "Project timed out. Please try again or contact support.")


class ProjectsApi:
    """Media projects over one transport. Built by ``SogniClient``; use ``client.projects``."""

    #: seconds without any event before the client asks the server about a project
    inactivity_timeout = 120.0
    #: failed server syncs after which a silent project is failed (the reference's 3)
    max_failed_syncs = 3
    #: finished projects stay tracked this long for late events
    prune_after = 30.0

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.catalog = Catalog(transport)
        self._tracked: dict[str, Project] = {}
        self._housekeeper: threading.Thread | None = None
        self._wake = threading.Event()
        self._handlers = EventHandlers(self)

    # -- creating ------------------------------------------------------------------------------

    def create(
        self,
        type: str,
        model_id: str,
        positive_prompt: str | None = None,
        *,
        number_of_media: int | None = None,
        **params: Any,
    ) -> Project:
        """The reference-shaped entry: ``create(type="image", model_id=..., ...)``.

        Parameters are those of :class:`ImageParams`, :class:`VideoParams` or
        :class:`AudioParams` by ``type`` (``None`` means "not given"); prefer the typed
        :meth:`create_image`, :meth:`create_video` and :meth:`create_audio`, which IDEs and
        mypy check. Parameters of another project type are ignored with a warning, as the
        reference ignores them; unknown names and bad values raise ValidationError.
        """
        typed = self._typed(type, model_id, positive_prompt, number_of_media, params)
        return self._create(typed)

    @same_parameters_as(ImageParams)
    def create_image(self, *args: Any, **kwargs: Any) -> Project:
        """Create an image project; the parameters are :class:`ImageParams`'s.

        Every value is checked — types, then the model's own options from the catalogue —
        before any upload or socket message (ValidationError naming the parameter). Returns
        as soon as the request is written: ``project.wait()`` gives the result URLs.
        """
        return self._create(build_params(ImageParams, args, kwargs))

    @same_parameters_as(VideoParams)
    def create_video(self, *args: Any, **kwargs: Any) -> Project:
        """Create a video project; the parameters are :class:`VideoParams`'s (checked as in
        :meth:`create_image`, reference media by their magic bytes)."""
        return self._create(build_params(VideoParams, args, kwargs))

    @same_parameters_as(AudioParams)
    def create_audio(self, *args: Any, **kwargs: Any) -> Project:
        """Create a music project; the parameters are :class:`AudioParams`'s (checked as in
        :meth:`create_image`)."""
        return self._create(build_params(AudioParams, args, kwargs))

    def _typed(self, kind: str, model_id: str, positive_prompt: str | None,
               number_of_media: int | None, params: Mapping[str, Any]) -> ProjectParams:
        given = {"type": kind, "model_id": model_id, "positive_prompt": positive_prompt,
                 "number_of_media": number_of_media, **params}
        typed, ignored = params_from({k: v for k, v in given.items() if v is not None})
        if ignored:
            log.warning("%s: not parameters of %s projects, ignored as the reference does",
                        ", ".join(sorted(ignored)), kind)
        return typed

    def _create(self, params: ProjectParams) -> Project:
        if self.transport.closing.is_set():
            raise ClientClosedError("the client is closed")
        options = self.catalog.model_options(params.model_id)
        project_id = str(uuid.uuid4()).upper()
        app_source = (getattr(self.transport.options, "app_source", None) or "").strip() or None
        request, plan = prepare_request(project_id, params, options, app_source=app_source)
        run_uploads(self.transport.rest, self.transport.io, project_id, plan)
        project = Project(self, project_id, without_media(params.given()),
                          params.number_of_media)
        with self.transport.lock:
            self._tracked[project_id] = project  # before sending: no event can outrun it
        try:
            self.transport.send("jobRequest", request, request_id=project_id)
        except BaseException:
            with self.transport.lock:
                self._tracked.pop(project_id, None)
            raise
        self._ensure_housekeeper()
        return project

    # -- estimates: the words of create() -------------------------------------------------------

    def estimate_cost(self, type: str, model_id: str, positive_prompt: str | None = None,
                      **params: Any) -> CostEstimate:
        """Quote a project before creating it: the same parameters as :meth:`create`, checked
        the same way; unset steps, sizes, fps and duration use the model's defaults."""
        count = params.pop("number_of_media", None)
        return self._estimate(self._typed(type, model_id, positive_prompt, count, params))

    @same_parameters_as(ImageParams)
    def estimate_image_cost(self, *args: Any, **kwargs: Any) -> CostEstimate:
        """Quote :meth:`create_image` with these parameters (``/api/v2|v3/job/estimate``)."""
        return self._estimate(build_params(ImageParams, args, kwargs))

    @same_parameters_as(VideoParams)
    def estimate_video_cost(self, *args: Any, **kwargs: Any) -> CostEstimate:
        """Quote :meth:`create_video` with these parameters (``/api/v1/job-video/estimate``)."""
        return self._estimate(build_params(VideoParams, args, kwargs))

    @same_parameters_as(AudioParams)
    def estimate_audio_cost(self, *args: Any, **kwargs: Any) -> CostEstimate:
        """Quote :meth:`create_audio` with these parameters (``/api/v1/job-audio/estimate``)."""
        return self._estimate(build_params(AudioParams, args, kwargs))

    def _estimate(self, params: ProjectParams) -> CostEstimate:
        options = self.catalog.model_options(params.model_id)
        check_options(params, options)
        return estimate_project(self.catalog, params, options, network=self.transport.network)

    def cancel(self, project_id: str) -> bool:
        """Cancel a project: tell the server, then mark it and its unfinished jobs canceled.

        Returns ``False`` without sending anything when this client already saw the project
        finish (as ``concurrent.futures.Future.cancel`` does), ``True`` otherwise.
        """
        with self.transport.lock:
            known = self._tracked.get(project_id)
            if known is not None and known.done():
                return False
        self.transport.send("jobError", {"jobID": project_id, "error": "artistCanceled",
                                         "error_message": "artistCanceled",
                                         "isFromWorker": False})
        with self.transport.lock:
            project = self._tracked.pop(project_id, None)
            if project is None:
                return True
            for job in project._jobs.values():
                if not job.finished:
                    job.status = "canceled"
            project._finish("canceled")
            return project.status == "canceled"

    @property
    def tracked_projects(self) -> list[Project]:
        """Projects this client still follows (finished ones leave after ``prune_after``)."""
        with self.transport.lock:
            return list(self._tracked.values())

    def get(self, project_id: str) -> dict[str, Any]:
        """The server's record of a *finished* project (NotFoundError while it runs)."""
        data = self.transport.rest.request("GET", f"/v1/projects/{project_id}")
        project = data.get("project") if isinstance(data, Mapping) else None
        if not isinstance(project, Mapping):
            raise ApiError(f"no project in the response for {project_id}", status=0)
        return dict(project)

    # -- catalogue (delegated) --------------------------------------------------------------

    @property
    def available_models(self) -> list[AvailableModel]:
        return self.catalog.available_models

    def wait_for_models(self, timeout: float | None = 10.0) -> list[AvailableModel]:
        return self.catalog.wait_for_models(timeout)

    def supported_models(self, force_refresh: bool = False) -> list[SupportedModel]:
        return self.catalog.supported_models(force_refresh)

    def model_options(self, model_id: str) -> ModelOptions:
        return self.catalog.model_options(model_id)

    def size_presets(self, network: str, model_id: str,
                     force_refresh: bool = False) -> list[SizePreset]:
        return self.catalog.size_presets(network, model_id, force_refresh)

    def fetch_available_models(self, network: str | None = None) -> list[AvailableModel]:
        return self.catalog.fetch_available_models(network)

    def video_asset_config(self, model_id: str) -> VideoAssetConfig:
        return self.catalog.video_asset_config(model_id)

    def is_video_model(self, model_id: str) -> bool:
        return self.catalog.is_video_model(model_id)

    def is_audio_model(self, model_id: str) -> bool:
        return self.catalog.is_audio_model(model_id)

    def estimate_enhancement_cost(self, strength: str = "medium",
                                  token_type: str = "spark") -> CostEstimate:
        return self.catalog.estimate_enhancement_cost(strength, token_type)

    # -- result URLs (io pool / caller threads, never the socket thread) ---------------------

    def _mint_result_url(self, project: Project, job_id: str) -> str:
        fmt = str(project.params.get("output_format") or "").lower()
        if self.catalog.is_video_model(project.model_id) or self.catalog.is_audio_model(
                project.model_id):
            query: dict[str, Any] = {"jobId": project.id, "id": job_id, "type": "complete"}
            if self.catalog.is_audio_model(project.model_id):
                query["contentType"] = _AUDIO_TYPES.get(fmt, "audio/mpeg")
            data = self.transport.rest.request("GET", "/v1/media/downloadUrl", params=query,
                                               hot=True)
        else:
            query = {"jobId": project.id, "imageId": job_id, "type": "complete",
                     "contentType": _IMAGE_TYPES.get(fmt)}
            data = self.transport.rest.request("GET", "/v1/image/downloadUrl", params=query,
                                               hot=True)
        return _download_url(data)

    def _mint_and_complete(self, project: Project, job: Job, payload: Mapping[str, Any]) -> None:
        url: str | None
        try:
            url = self._mint_result_url(project, job.id)
        except (SogniError, OSError) as exc:
            log.warning("could not get the result URL of job %s: %s", job.id, exc)
            url = None
        with self.transport.lock:
            self._handlers.complete_job(project, job, payload, url, minted=True)

    def _mint_preview(self, project: Project, job_id: str) -> None:
        query = {"jobId": project.id, "imageId": job_id, "type": "preview"}
        try:
            url = _download_url(
                self.transport.rest.request("GET", "/v1/image/downloadUrl", params=query))
        except (SogniError, OSError) as exc:
            log.warning("could not get the preview URL of job %s: %s", job_id, exc)
            return
        with self.transport.lock:
            job = project._jobs.get(job_id)
            if job is None:
                return
            job.preview_url = url
            if project._finished_at is None:  # the terminal event stays the last one
                project._emit(JobPreviewEvent(project.id, job_id, url))

    # -- server sync, inactivity and pruning ------------------------------------------------

    def _schedule_sync(self, project: Project, *, quiet: bool) -> None:
        """Caller holds the lock. One sync per project at a time, on the io pool."""
        if project._syncing:
            return
        project._syncing = True
        self.transport.io.submit(self._sync, project, quiet)

    def _sync(self, project: Project, quiet: bool) -> None:
        try:
            raw = self.get(project.id)
            self._apply_snapshot(project, raw)
        except (SogniError, OSError) as exc:
            if not (quiet and isinstance(exc, NotFoundError)):
                log.debug("sync of project %s failed: %s", project.id, exc)
            if not quiet:
                self._sync_failed(project)
        finally:
            with self.transport.lock:
                project._syncing = False

    def _sync_failed(self, project: Project) -> None:
        with self.transport.lock:
            project._failed_syncs += 1
            if project._failed_syncs < self.max_failed_syncs or project._finished_at is not None:
                return
        log.warning("project %s timed out", project.id)
        try:  # tell the server first, like the reference, so it stops billing the work
            self.transport.send("jobError", {"jobID": project.id, "error": "artistCanceled",
                                             "error_message": "artistCanceled",
                                             "isFromWorker": False})
        except (SogniError, OSError) as exc:
            log.debug("timeout cancel of %s not sent: %s", project.id, exc)
        with self.transport.lock:
            for job in project._jobs.values():
                if not job.finished:
                    job.status = "failed"
                    job.error = TIMED_OUT_JOB
            project._finish("failed", TIMED_OUT_PROJECT)

    def _apply_snapshot(self, project: Project, raw: Mapping[str, Any]) -> None:
        completed = [j for j in raw.get("completedWorkerJobs") or [] if isinstance(j, Mapping)]
        urls: dict[str, str | None] = {}
        for rj in completed:
            job_id = str(rj.get("imgID") or "")
            local = project._jobs.get(job_id)
            url = rj.get("resultUrl") or rj.get("imageUrl") or rj.get("videoUrl")
            done = _RAW_JOB_STATUS.get(str(rj.get("status"))) == "completed"
            if (not url and done and not rj.get("triggeredNSFWFilter")
                    and (local is None or not local.finished)):
                try:
                    url = self._mint_result_url(project, job_id)
                except (SogniError, OSError) as exc:
                    log.warning("could not get the result URL of job %s: %s", job_id, exc)
            urls[job_id] = url
        with self.transport.lock:
            for rj in completed:
                job_id = str(rj.get("imgID") or "")
                job, _ = project._job(job_id)
                if job.finished:
                    continue
                status = _RAW_JOB_STATUS.get(str(rj.get("status")), job.status)
                worker = rj.get("worker")
                if isinstance(worker, Mapping) and worker.get("name"):
                    job.worker_name = str(worker["name"])
                if isinstance(rj.get("performedSteps"), int):
                    job.step = rj["performedSteps"]
                if isinstance(rj.get("seedUsed"), int):
                    job.seed = rj["seedUsed"]
                job.is_nsfw = bool(rj.get("triggeredNSFWFilter"))
                if status == "completed":
                    job.result_url = urls.get(job_id)
                    job._url_minted_at = time.monotonic() if job.result_url else None
                job.status = status
                if status == "completed":
                    project._emit(JobCompletedEvent(project.id, job.id, job.result_url,
                                                    job.seed, job.is_nsfw, False))
            if isinstance(raw.get("imageCount"), int) and raw["imageCount"] > 0:
                project.number_of_media = raw["imageCount"]
            raw_status = raw.get("status")
            project._touch()
            if raw_status == "completed":
                project._server_completed = True
                project._check_completed()
            elif raw_status == "errored":
                project._finish("failed", project.error or ErrorData(0, "Project failed"))
            elif raw_status == "cancelled":
                project._finish("canceled")
            project._cond.notify_all()

    def _ensure_housekeeper(self) -> None:
        with self.transport.lock:
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
            with self.transport.lock:
                if self.transport.closing.is_set() or not self._tracked:
                    self._housekeeper = None
                    return
                for pid, project in list(self._tracked.items()):
                    if project._finished_at is not None:
                        if now - project._finished_at >= self.prune_after:
                            del self._tracked[pid]
                    elif (now - project._last_update > self.inactivity_timeout
                          and now >= project._next_sync and not project._syncing):
                        project._next_sync = now + self.inactivity_timeout
                        self._schedule_sync(project, quiet=False)
        with self.transport.lock:
            self._housekeeper = None

    def _on_closing(self) -> None:
        self._wake.set()
        with self.transport.lock:
            for project in self._tracked.values():
                for watcher in list(project._watchers):
                    watcher(None)
                project._cond.notify_all()


def _download_url(data: Any) -> str:
    url = data.get("downloadUrl") if isinstance(data, Mapping) else None
    if not isinstance(url, str) or not url:
        raise ApiError(f"API returned no downloadUrl: {data!r}", status=0)
    return url


def as_completed(projects: Iterable[Project], timeout: float | None = None) -> Iterator[Project]:
    """Yield projects as they finish (any order). Raises TimeoutError when ``timeout``
    passes first, ClientClosedError when a client closes; never raises a project's failure."""
    pending = {id(p): p for p in projects}
    finished: queue.SimpleQueue[Project | None] = queue.SimpleQueue()
    watchers: list[tuple[Project, Callable[[Project | None], Any]]] = []

    def watcher(item: Project | None) -> None:
        finished.put(item)

    for project in pending.values():
        with project._cond:
            if project._finished_at is not None:
                finished.put(project)
            else:
                project._watchers.append(watcher)
                watchers.append((project, watcher))
    deadline = Deadline(timeout)
    try:
        while pending:
            if finished.empty() and any(
                    p._api.transport.closing.is_set() for p in pending.values()):
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
        for project, registered in watchers:
            with project._cond:
                if registered in project._watchers:
                    project._watchers.remove(registered)


def wait_all(projects: Iterable[Project], timeout: float | None = None, *,
             return_exceptions: bool = False) -> list[Any]:
    """Wait for every project with one overall ``timeout``; results in the given order.

    The first failure is raised unless ``return_exceptions``, which puts the exception in the
    project's slot instead (like ``asyncio.gather``).
    """
    projects = list(projects)
    deadline = Deadline(timeout)
    results: list[Any] = []
    for project in projects:
        try:
            results.append(project.wait(deadline.remaining()))
        except (SogniError, TimeoutError) as exc:
            if not return_exceptions or isinstance(exc, (TimeoutError, ClientClosedError)):
                raise
            results.append(exc)
    return results
