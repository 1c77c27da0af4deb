"""``client.projects``: create and track media projects (images, video, audio).

The catalogue is the client's (``client.catalog``); this API receives it. Project state is
owned by the tracker (``_tracker.py``); follow-up I/O lives in ``_followups.py``; what users
hold are the read-only :class:`Project`/:class:`Job` handles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from sogni_sync._transport import ProjectsTransport
from sogni_sync.catalog import Catalog, CostEstimate
from sogni_sync.errors import ClientClosedError, ValidationError
from sogni_sync.projects._assets import AssetsApi
from sogni_sync.projects._checks import check_options
from sogni_sync.projects._estimate import estimate_project
from sogni_sync.projects._events import ProjectEvent
from sogni_sync.projects._followups import FollowUpIo
from sogni_sync.projects._lookup import (
    ProjectElsewhere,
    ProjectLookup,
    ProjectResult,
    ProjectStatusSnapshot,
    RecentProject,
)
from sogni_sync.projects._lora_types import LoraCatalog, LoraCatalogEntry, LoraConstraints
from sogni_sync.projects._loras import LoraCatalogReader, PersonalLoras
from sogni_sync.projects._media import run_uploads, without_media
from sogni_sync.projects._params import (
    AudioParams,
    ImageParams,
    ProjectParams,
    VideoParams,
    build_params,
    params_from,
    same_parameters_as,
)
from sogni_sync.projects._prepare import normalize_params, prepare_request
from sogni_sync.projects._project import Project, Services, as_completed, wait_all
from sogni_sync.projects._recover import Recovery, check_project_id, new_project_id
from sogni_sync.projects._tracker import Tracker

__all__ = ["ProjectsApi", "as_completed", "wait_all"]

log = logging.getLogger(__name__)
#: ``on(kind, ...)`` kinds: project-level events, job-level events, available models
LISTEN_KINDS = ("project", "job", "models")


@attrs.frozen(kw_only=True)
class _ImageCreation(ImageParams):
    """``create_image``'s signature: the image parameters and the project's own id."""

    project_id: str | None = None


@attrs.frozen(kw_only=True)
class _VideoCreation(VideoParams):
    """``create_video``'s signature: the video parameters and the project's own id."""

    project_id: str | None = None


@attrs.frozen(kw_only=True)
class _AudioCreation(AudioParams):
    """``create_audio``'s signature: the music parameters and the project's own id."""

    project_id: str | None = None


def _project_id(kwargs: dict[str, Any]) -> str | None:
    value = kwargs.pop("project_id", None)
    return None if value is None else check_project_id(value)


class ProjectsApi:
    """Media projects over one transport. Built by ``SogniClient``; use ``client.projects``."""

    def __init__(self, transport: ProjectsTransport, catalog: Catalog) -> None:
        self._transport = transport
        self.catalog = catalog
        self._tracker = Tracker(transport)
        self._follow = FollowUpIo(self._tracker, transport, catalog)
        self._services = Services(transport, self._follow, self.create, self.cancel)
        self._recovery = Recovery(self._tracker, self._follow, transport, catalog)
        self._lookup = ProjectLookup(transport, self._follow)
        #: ``projects.personal_loras``: the account's private LoRA library
        self.personal_loras = PersonalLoras(transport)
        #: ``projects.assets``: saved uploads, reusable across projects
        self.assets = AssetsApi(transport)
        self._loras = LoraCatalogReader(transport, self.personal_loras)

    # -- timing knobs (the follow-ups own them) -----------------------------------------------

    @property
    def inactivity_timeout(self) -> float:
        """Seconds without any event before the client asks the server about a project."""
        return self._follow.inactivity_timeout

    @inactivity_timeout.setter
    def inactivity_timeout(self, seconds: float) -> None:
        self._follow.inactivity_timeout = float(seconds)

    @property
    def max_failed_syncs(self) -> int:
        """Failed server syncs after which a silent project is failed (the reference's 3)."""
        return self._follow.max_failed_syncs

    @property
    def prune_after(self) -> float:
        """Finished projects stay tracked this long for late events."""
        return self._follow.prune_after

    @prune_after.setter
    def prune_after(self, seconds: float) -> None:
        self._follow.prune_after = float(seconds)

    # -- creating ------------------------------------------------------------------------------

    def create(
        self,
        type: str,
        model_id: str,
        positive_prompt: str | None = None,
        *,
        number_of_media: int | None = None,
        project_id: str | None = None,
        **params: Any,
    ) -> Project:
        """The reference-shaped entry: ``create(type="image", model_id=..., ...)``.

        Parameters are those of :class:`ImageParams`, :class:`VideoParams` or
        :class:`AudioParams` by ``type`` (``None`` means "not given"); prefer the typed
        :meth:`create_image`, :meth:`create_video` and :meth:`create_audio`, which IDEs and
        mypy check. Parameters of another project type are ignored with a warning, as the
        reference ignores them; unknown names and bad values raise ValidationError.

        ``project_id`` (all four creators take it): your own id for the project, a UUID in the
        reference's format (upper-cased); write it down before creating the project and a
        later process can :meth:`recover` it. Default: a fresh upper-case UUID v4.
        """
        pid = None if project_id is None else check_project_id(project_id)
        typed = self._typed(type, model_id, positive_prompt, number_of_media, params)
        return self._create(typed, pid)

    @same_parameters_as(_ImageCreation)
    def create_image(self, *args: Any, **kwargs: Any) -> Project:
        """Create an image project; the parameters are :class:`ImageParams`'s.

        Every value is checked — types, then the model's own options from the catalogue —
        before any upload or socket message (ValidationError naming the parameter). Returns
        as soon as the request is written: ``project.wait()`` gives the result URLs.
        """
        pid = _project_id(kwargs)
        return self._create(build_params(ImageParams, args, kwargs), pid)

    @same_parameters_as(_VideoCreation)
    def create_video(self, *args: Any, **kwargs: Any) -> Project:
        """Create a video project; the parameters are :class:`VideoParams`'s (checked as in
        :meth:`create_image`, reference media by their magic bytes)."""
        pid = _project_id(kwargs)
        return self._create(build_params(VideoParams, args, kwargs), pid)

    @same_parameters_as(_AudioCreation)
    def create_audio(self, *args: Any, **kwargs: Any) -> Project:
        """Create a music project; the parameters are :class:`AudioParams`'s (checked as in
        :meth:`create_image`)."""
        pid = _project_id(kwargs)
        return self._create(build_params(AudioParams, args, kwargs), pid)

    def _typed(self, kind: str, model_id: str, positive_prompt: str | None,
               number_of_media: int | None, params: Mapping[str, Any]) -> ProjectParams:
        given = {"type": kind, "model_id": model_id, "positive_prompt": positive_prompt,
                 "number_of_media": number_of_media, **params}
        typed, ignored = params_from({k: v for k, v in given.items() if v is not None})
        if ignored:
            log.warning("%s: not parameters of %s projects, ignored as the reference does",
                        ", ".join(sorted(ignored)), kind)
        return typed

    def _create(self, params: ProjectParams, project_id: str | None = None) -> Project:
        if self._transport.closing.is_set():
            raise ClientClosedError("the client is closed")
        options = self.catalog.model_options(params.model_id)
        params = normalize_params(params)
        if project_id is None:
            project_id = new_project_id()
        elif self._tracker.get(project_id) is not None:
            raise ValidationError(f"project_id {project_id} is already used by a project of "
                                  "this client")
        app_source = (self._transport.options.app_source or "").strip() or None
        request, plan = prepare_request(project_id, params, options, app_source=app_source)
        run_uploads(self._transport.rest, self._transport.io, project_id, plan,
                    reuse=self.assets.try_bind)
        state = self._tracker.new_project(project_id, without_media(params.given()),
                                          params.number_of_media)
        project = Project(state, self._services)
        state.handle = project
        self._tracker.track(state)  # before sending: no event can outrun it
        try:
            self._transport.send("jobRequest", request, request_id=project_id)
        except BaseException:
            self._tracker.forget(project_id)
            raise
        self._follow.ensure_housekeeper()
        return project

    def recover(self, project_id: str, *, timeout: float | None = None) -> Project:
        """Re-attach to a project an earlier process created under ``project_id``.

        Uses the server's records: the session's ``activeProjects`` (still running — live
        events follow, so create this client with the same ``app_id`` as the process that
        submitted it) and ``unclaimedCompletedProjects``, and the project record by id
        (finished while we were away). Returns the tracked :class:`Project` — ``wait()``,
        ``save()`` as usual. Raises ProjectNotFoundError when the server does not know the
        id (it never arrived: submitting it again is safe), ProjectError when it runs under
        another app id, ValidationError for a malformed id. ``timeout`` bounds connecting.
        """
        pid = check_project_id(project_id)
        state = self._recovery.recover(pid, timeout, lambda s: Project(s, self._services))
        handle: Project = state.handle
        return handle

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
        return estimate_project(self.catalog, params, options, network=self._transport.network)

    def cancel(self, project_id: str) -> bool:
        """Cancel a project: tell the server, then mark it and its unfinished jobs canceled.

        Returns ``False`` without sending anything when this client already saw the project
        finish (as ``concurrent.futures.Future.cancel`` does), ``True`` otherwise.
        """
        known = self._tracker.get(project_id)
        if known is not None:
            with self._transport.lock:
                if known.done:
                    return False
        self._transport.send("jobError", {"jobID": project_id, "error": "artistCanceled",
                                         "error_message": "artistCanceled",
                                         "isFromWorker": False})
        state = self._tracker.cancel(project_id)
        if state is None:
            return True
        with self._transport.lock:
            return state.status == "canceled"

    @property
    def tracked_projects(self) -> list[Project]:
        """Projects this client still follows (finished ones leave after ``prune_after``)."""
        return [s.handle for s in self._tracker.tracked()]

    def project(self, project_id: str) -> Project | None:
        """The tracked project ``project_id``, or None."""
        state = self._tracker.get(project_id)
        return None if state is None else state.handle

    def get(self, project_id: str) -> dict[str, Any]:
        """The server's record of a *finished* project (NotFoundError while it runs)."""
        if not isinstance(project_id, str) or not project_id:
            raise ValidationError("project_id must be a non-empty string")
        return self._follow.fetch(project_id)

    # -- server records by id, history ----------------------------------------------------------

    def get_status(self, project_id: str) -> ProjectStatusSnapshot:
        """The current state of one of your projects, also while it is queued or rendering
        (``GET /v2/projects/:id``; :meth:`get` answers only finished ones). NotFoundError for
        another account's or an unknown id; a 503 (ServerError) means "not known yet, ask
        again" -- wait ``retry_after`` seconds on a 429."""
        return self._lookup.status(project_id)

    def get_result(self, project_id: str, *,
                   kind: Literal["image", "video", "audio"] | None = None) -> ProjectResult:
        """State and results of one of your projects by id, at any time (also one that
        finished while no client was connected): completed renders come with a signed
        download URL, a queued project with the server's ``waiting_reason``. ``kind`` says
        what the project produces when the catalogue does not know its model."""
        return self._lookup.result(project_id, kind)

    def list_recent(self, *, since: datetime | float | None = None, limit: int | None = None,
                    app_source: str | None = None) -> tuple[RecentProject, ...]:
        """Your recently finished projects that produced media, newest first, from the
        7-day history (``GET /v1/jobs/list``). ``since``: the oldest finish time (an aware
        datetime or epoch milliseconds; default 24 hours ago, at most 7 days); ``limit``:
        renders to read, 1-100 (default 50); ``app_source``: only that app's projects. Pass
        an id to :meth:`get_result` for its URLs."""
        return self._lookup.recent(since, limit, app_source)

    def list_projects_elsewhere(self) -> tuple[ProjectElsewhere, ...]:
        """Your projects in flight on *other* app instances (another app, device or
        process), for an "in progress elsewhere" note: read-only, not tracked, no events;
        their results land in your history. The socket host allows about 20 calls per 10 s
        per account: poll every few tens of seconds at most."""
        return self._lookup.elsewhere()

    # -- LoRAs ----------------------------------------------------------------------------------

    def available_loras(self, model_id: str | None = None, *, include_personal: bool = False,
                        force_refresh: bool = False) -> LoraCatalog:
        """The LoRA catalogue (``GET /v1/loras/comfy``), only the LoRAs ``model_id`` accepts
        when given (an unknown model gives none). Public; cached 5 minutes per filter unless
        ``force_refresh``. ``include_personal`` adds your ready personal imports (signed in,
        with a subscription; never cached). Pass a row's ``lora_id`` in ``loras``."""
        return self._loras.available(model_id, include_personal=include_personal,
                                     force_refresh=force_refresh)

    def get_lora(self, lora_id: str) -> LoraCatalogEntry | None:
        """One LoRA's catalogue row (a ``personal-…`` id: from your library), or None."""
        return self._loras.get(lora_id)

    def supports_loras(self, model_id: str) -> bool:
        """Whether ``model_id`` accepts any LoRA (from the catalogue, not a fixed list)."""
        return self._loras.supports(model_id)

    def lora_constraints(self) -> LoraConstraints:
        """The limits of every LoRA request: LoRAs per render, the loader's strength bounds."""
        return self._loras.constraints()

    def on(self, kind: str, callback: Callable[[Any], Any]) -> Callable[[], None]:
        """Follow every tracked project: ``"project"`` (queued, completed, failed, canceled,
        ``updated`` of a project), ``"job"`` (started, progress, ETA, preview, completed,
        failed, ``updated`` of a job) or ``"models"`` (the available-models list changed;
        ``callback(list[AvailableModel])``). Callbacks run on the ``sogni-callbacks`` thread.
        Returns a function that unsubscribes."""
        if kind not in LISTEN_KINDS:
            raise ValidationError(f"on() kind must be one of {', '.join(LISTEN_KINDS)}, "
                                  f"not {kind!r}")
        if not callable(callback):
            raise ValidationError("on() callback must be callable")
        if kind == "models":
            return self.catalog.on_models(callback)
        listener: Callable[[ProjectEvent], Any] = callback
        return self._tracker.add_listener(kind, listener)

    # -- estimates --------------------------------------------------------------------------

    def estimate_enhancement_cost(self, strength: str = "medium",
                                  token_type: str = "spark") -> CostEstimate:
        return self.catalog.estimate_enhancement_cost(strength, token_type)

