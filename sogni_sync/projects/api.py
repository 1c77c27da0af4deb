"""``client.projects``: create and track media projects (images, video, audio).

The catalogue is the client's (``client.catalog``); this API receives it. Project state is
owned by the tracker (``_tracker.py``); follow-up I/O lives in ``_followups.py``; what users
hold are the read-only :class:`Project`/:class:`Job` handles.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from sogni_sync.catalog import Catalog, CostEstimate
from sogni_sync.errors import ClientClosedError, ValidationError
from sogni_sync.projects._events import ProjectEvent
from sogni_sync.projects._followups import FollowUpIo
from sogni_sync.projects._media import run_uploads, without_media
from sogni_sync.projects._prepare import prepare_request
from sogni_sync.projects._tracker import Tracker
from sogni_sync.projects._validate import truthy
from sogni_sync.projects.params import check_params
from sogni_sync.projects.project import Project, Services, as_completed, wait_all

__all__ = ["ProjectsApi", "as_completed", "wait_all"]

log = logging.getLogger(__name__)
#: ``on(kind, ...)`` kinds: project-level events, job-level events, available models
LISTEN_KINDS = ("project", "job", "models")


class ProjectsApi:
    """Media projects over one transport. Built by ``SogniClient``; use ``client.projects``."""

    def __init__(self, transport: Any, catalog: Catalog) -> None:
        self.transport = transport
        self.catalog = catalog
        self._tracker = Tracker(transport)
        self._follow = FollowUpIo(self._tracker, transport, catalog)
        self._services = Services(transport, self._follow, self.create, self.cancel)

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
        **params: Any,
    ) -> Project:
        """Validate, upload media, send one ``jobRequest`` and return the tracked Project.

        Parameters are the reference's ``ProjectParams`` in snake_case (see
        :mod:`sogni_sync.projects.params`); ``None`` means "not given". Returns as soon as the
        request is written — call ``project.wait()`` for the results. Raises ValidationError
        (with the reference's message) before any upload or socket message.
        """
        given = {"type": type, "model_id": model_id, "positive_prompt": positive_prompt,
                 "number_of_media": number_of_media, **params}
        given = {k: v for k, v in given.items() if v is not None}
        check_params(given)
        if type not in ("image", "video", "audio"):  # the reference checks it after the catalogue
            raise ValidationError('Invalid project type. Must be "image", "video", or "audio".')
        if not isinstance(model_id, str) or not model_id:
            raise ValidationError("model_id must be a non-empty string")
        if self.transport.closing.is_set():
            raise ClientClosedError("the client is closed")
        options = self.catalog.model_options(model_id)
        project_id = str(uuid.uuid4()).upper()
        app_source = (getattr(self.transport.options, "app_source", None) or "").strip() or None
        request, plan = prepare_request(project_id, given, options, app_source=app_source)
        count = given.get("number_of_media")
        expected = int(count) if isinstance(count, (int, float)) and truthy(count) else 1
        run_uploads(self.transport.rest, self.transport.io, project_id, plan)
        state = self._tracker.new_project(project_id, without_media(given), expected)
        project = Project(state, self._services)
        state.handle = project
        self._tracker.track(state)  # before sending: no event can outrun it
        try:
            self.transport.send("jobRequest", request, request_id=project_id)
        except BaseException:
            self._tracker.forget(project_id)
            raise
        self._follow.ensure_housekeeper()
        return project

    def cancel(self, project_id: str) -> bool:
        """Cancel a project: tell the server, then mark it and its unfinished jobs canceled.

        Returns ``False`` without sending anything when this client already saw the project
        finish (as ``concurrent.futures.Future.cancel`` does), ``True`` otherwise.
        """
        known = self._tracker.get(project_id)
        if known is not None:
            with self.transport.lock:
                if known.done:
                    return False
        self.transport.send("jobError", {"jobID": project_id, "error": "artistCanceled",
                                         "error_message": "artistCanceled",
                                         "isFromWorker": False})
        state = self._tracker.cancel(project_id)
        if state is None:
            return True
        with self.transport.lock:
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

    def estimate_cost(self, **request: Any) -> CostEstimate:
        """Same keywords and result as ``Catalog.estimate_cost``."""
        return self.catalog.estimate_cost(**request)

    def estimate_enhancement_cost(self, strength: str = "medium",
                                  token_type: str = "spark") -> CostEstimate:
        return self.catalog.estimate_enhancement_cost(strength, token_type)

    def estimate_video_cost(self, **request: Any) -> CostEstimate:
        """Same keywords and result as ``Catalog.estimate_video_cost``."""
        return self.catalog.estimate_video_cost(**request)

    def estimate_audio_cost(self, **request: Any) -> CostEstimate:
        """Same keywords and result as ``Catalog.estimate_audio_cost``."""
        return self.catalog.estimate_audio_cost(**request)
