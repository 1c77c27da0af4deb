"""Durable project ids: checking a caller-chosen id, and re-attaching to a project that an
earlier process created (``client.projects.recover(project_id)``).

The server's own records decide (newer servers publish them): the ``authenticated``
payload lists this app id's ``activeProjects`` (reclaimed by the new socket, so live events
follow) and ``unclaimedCompletedProjects``; ``GET /v1/projects/{id}`` has the record of a
finished project (404 while it runs) and ``GET /v2/projects/{id}`` the live status by id. The
server sends a running project's events only to the connection of the app id that created it,
so a process that wants to pick up its projects after a restart keeps its app id.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sogni_sync._transport import ProjectsTransport
from sogni_sync.catalog import Catalog
from sogni_sync.errors import NotFoundError, ProjectError, ProjectNotFoundError, ValidationError
from sogni_sync.projects._followups import FollowUpIo
from sogni_sync.projects._state import ProjectState
from sogni_sync.projects._tracker import Tracker

__all__ = ["Recovery", "check_project_id", "new_project_id"]

_UUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def new_project_id() -> str:
    """A fresh id in the reference's format: an upper-case UUID v4."""
    return str(uuid.uuid4()).upper()


def check_project_id(value: Any) -> str:
    """A caller-chosen project id in the reference's format (a UUID, any case; returned
    upper-case as the reference sends it), else ValidationError before any I/O."""
    if not isinstance(value, str):
        raise ValidationError(f"project_id must be a UUID string, not {type(value).__name__}")
    upper = value.strip().upper()
    if not _UUID.match(upper):
        raise ValidationError(
            f"project_id must be a UUID like {new_project_id()!r} (the reference's project id "
            f"format), not {value!r}")
    return upper


def _listed(payload: Mapping[str, Any] | None, project_id: str) -> tuple[str, dict[str, Any]]:
    """``("active"|"unclaimed"|"", raw)`` for ``project_id`` in an ``authenticated`` payload."""
    if not isinstance(payload, Mapping):
        return "", {}
    for key, kind in (("activeProjects", "active"), ("unclaimedCompletedProjects", "unclaimed")):
        for raw in payload.get(key) or []:
            value = raw.get("id") if isinstance(raw, Mapping) else raw
            if isinstance(value, str) and value.upper() == project_id:
                return kind, dict(raw) if isinstance(raw, Mapping) else {}
    return "", {}


def _request_data(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The original ``jobRequest`` carried by recovery records (``clientRequestData``)."""
    data = raw.get("clientRequestData")
    if isinstance(data, Mapping):
        return dict(data)
    if isinstance(data, str) and data:
        try:
            decoded = json.loads(base64.b64decode(data, validate=False))
        except (ValueError, TypeError):
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {}


class Recovery:
    """``recover(project_id)`` over one tracker, its follow-ups and the catalogue."""

    def __init__(self, tracker: Tracker, follow: FollowUpIo, transport: ProjectsTransport,
                 catalog: Catalog) -> None:
        self.tracker = tracker
        self.follow = follow
        self.transport = transport
        self.catalog = catalog

    def params_of(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """What the tracker needs of a project it did not create: type, model, format."""
        request = _request_data(raw)
        frames = request.get("keyFrames")
        frame = frames[0] if isinstance(frames, list) and frames and isinstance(
            frames[0], Mapping) else {}
        model = raw.get("model")
        model_id = (model.get("id") if isinstance(model, Mapping) else None) or frame.get(
            "modelID") or ""
        model_id = str(model_id)
        kind = ("video" if self.catalog.is_video_model(model_id) else
                "audio" if self.catalog.is_audio_model(model_id) else "image")
        params: dict[str, Any] = {"type": kind, "model_id": model_id}
        if isinstance(request.get("outputFormat"), str):
            params["output_format"] = request["outputFormat"]
        if isinstance(frame.get("positivePrompt"), str):
            params["positive_prompt"] = frame["positivePrompt"]
        return params

    def status(self, project_id: str) -> dict[str, Any] | None:
        """``GET /v2/projects/{id}``: the live status, or None when the server does not know
        the project."""
        try:
            data = self.follow.status_answer(project_id)
        except NotFoundError:
            return None
        project = data.get("project") if isinstance(data, Mapping) else None
        return dict(project) if isinstance(project, Mapping) else {}

    def recover(self, project_id: str, timeout: float | None,
                handle: Callable[[ProjectState], Any]) -> ProjectState:
        """The tracked state of ``project_id``, built from the server's records."""
        known = self.tracker.get(project_id)
        if known is not None:
            return known
        self.transport.connect(timeout)
        listed, raw = _listed(self.transport.authenticated_payload, project_id)
        finished = None
        if not raw:
            try:
                finished = self.follow.fetch(project_id)
            except NotFoundError:
                finished = None
            raw = finished or {}
        if not listed and finished is None:
            live = self.status(project_id)
            if live is None:
                raise ProjectNotFoundError(
                    f"the Supernet has no project {project_id} for this account: it was never "
                    "received (safe to submit again), or its record expired")
            raise ProjectError(
                f"project {project_id} is still running under another app id: the server "
                "sends its events to that app only; recover it with a client created with "
                "the same app_id as the process that submitted it")
        expected = raw.get("imageCount")
        count = expected if isinstance(expected, int) and not isinstance(expected, bool) \
            and 0 < expected <= 10_000 else 1
        state = self.tracker.new_project(project_id, self.params_of(raw), count)
        state.handle = handle(state)
        self.tracker.track(state)  # before any look-up: no event of it can be lost
        try:
            if finished is None:
                try:  # it may have finished between the session's list and track()
                    finished = self.follow.fetch(project_id)
                except NotFoundError:
                    finished = None
            self.follow.apply_snapshot(state, finished or raw)
        except BaseException:
            self.tracker.forget(project_id)
            raise
        self.follow.ensure_housekeeper()
        return state
