"""Projects by id and recent history, from the server's records rather than the socket:
``projects.get_status(id)`` (``GET /v2/projects/:id``, also while queued or rendering),
``projects.get_result(id)`` (that, plus a signed URL for every completed render) and
``projects.list_recent(...)`` (``GET /v1/jobs/list``, the 7-day history of finished media).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from sogni_sync._convert import register_wire, structure
from sogni_sync._js import truthy
from sogni_sync._transport import ProjectsTransport
from sogni_sync.errors import UnexpectedResponseError, ValidationError
from sogni_sync.projects._followups import FollowUpIo
from sogni_sync.projects._loras import check_id
from sogni_sync.projects._queue import WaitingReason, waiting_reason

__all__ = [
    "LookupStatus",
    "ProjectElsewhere",
    "ProjectLookup",
    "ProjectResult",
    "ProjectStatusSnapshot",
    "RecentJob",
    "RecentProject",
    "ResultJob",
]

log = logging.getLogger(__name__)

LookupStatus = Literal["pending", "queued", "processing", "completed", "failed", "canceled"]
#: the history's default window and its depth (7 days less a minute of clock slack), in ms
RECENT_DEFAULT_MS = 24 * 3600 * 1000
RECENT_MAX_MS = 7 * 24 * 3600 * 1000 - 60 * 1000


def _status_wire(raw: Any) -> Mapping[str, Any]:
    model = raw.get("model")
    jobs = [j for key in ("completedWorkerJobs", "workerJobs")
            for j in (raw.get(key) or []) if isinstance(j, Mapping)]
    return {**raw, "modelId": model.get("id") if isinstance(model, Mapping) else None,
            "waitingReason": None, "workerJobs": tuple(jobs), "raw": raw}


@attrs.frozen
class ProjectStatusSnapshot:
    """One of your projects as the live lookup reports it. ``status`` is one of the
    server's normalized names (:data:`LookupStatus`); ``finished`` is True for completed,
    failed and canceled. ``worker_jobs`` are the raw render records (finished ones first),
    ``raw`` the whole record (other fields may be absent while the project runs)."""

    id: str
    status: str
    finished: bool
    model_id: str | None = attrs.field(metadata={"wire": "modelId"})
    waiting_reason: WaitingReason | None = attrs.field()
    worker_jobs: tuple[Mapping[str, Any], ...] = attrs.field()
    raw: Mapping[str, Any] = attrs.field()


register_wire(ProjectStatusSnapshot, _status_wire)


@attrs.frozen
class ResultJob:
    """One render of :class:`ProjectResult`: ``status`` is ``completed``, ``failed`` or
    ``canceled`` once finished (else the worker job's own status); ``url`` the signed download
    URL of a completed render (it expires: ask again), or ``url_unavailable`` says why there is
    none (``sensitiveContent``, ``downloadUrlFailed``)."""

    id: str
    status: str
    reason: str | None = None
    seed: int | None = None
    url: str | None = None
    url_unavailable: str | None = None


@attrs.frozen
class ProjectResult:
    """``projects.get_result(id)``: the state and results of one of your projects."""

    id: str
    status: str
    finished: bool
    model_id: str | None
    waiting_reason: WaitingReason | None
    jobs: tuple[ResultJob, ...]


@attrs.frozen
class RecentJob:
    """A render of a recent project; ``sensitive_content_withheld`` when the Sensitive
    Content Filter kept its media back."""

    id: str
    status: str
    sensitive_content_withheld: bool
    finished_at: dt.datetime | None = None


@attrs.frozen
class RecentProject:
    """A recently finished project of this account (``finished_at``: its latest render)."""

    id: str
    jobs: tuple[RecentJob, ...]
    model_id: str | None = None
    model_name: str | None = None
    app_source: str | None = None
    finished_at: dt.datetime | None = None


@attrs.frozen
class ProjectElsewhere:
    """One of your projects in flight on another app instance (another app, device or
    process): read-only, not tracked here. ``worker_jobs`` are its raw render records
    (``performedSteps``/``stepCount`` give its progress), ``raw`` the whole record."""

    id: str
    app_id: str
    status: str = ""
    app_source: str | None = None
    model_id: str | None = attrs.field(default=None, metadata={"wire": "modelId"})
    created_at: dt.datetime | None = None
    worker_jobs: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = attrs.field(factory=dict)


register_wire(ProjectElsewhere, lambda raw: {
    **_status_wire(raw), "createdAt": _epoch(raw.get("createTime"))})


def _is_llm(project: Mapping[str, Any]) -> bool:
    model = project.get("model")
    return project.get("jobType") == "llm" or (isinstance(model, Mapping)
                                               and model.get("type") == "llm")


def job_status(job: Mapping[str, Any]) -> str:
    """A worker job's status in the lookup's names."""
    status = job.get("status")
    if status == "jobCompleted":
        return "completed"
    if status == "jobError":
        return "canceled" if job.get("reason") == "artistCanceled" else "failed"
    return str(status) if truthy(status) else "unknown"


def _job_id(job: Mapping[str, Any]) -> str | None:
    value = job.get("imgID") if truthy(job.get("imgID")) else job.get("id")
    return str(value) if truthy(value) else None


def _withheld(job: Mapping[str, Any]) -> bool:
    return job.get("triggeredNSFWFilter") is True and job.get("nsfwDetected") is not True


def _epoch(value: Any) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return None
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.timezone.utc)


class ProjectLookup:
    """The server-record calls of ``client.projects``."""

    def __init__(self, transport: ProjectsTransport, follow: FollowUpIo) -> None:
        self._transport = transport
        self._follow = follow

    def status(self, project_id: str) -> ProjectStatusSnapshot:
        check_id(project_id, "project_id")  # a clear ValidationError before any I/O
        data = self._follow.status_answer(project_id)
        project = data.get("project") if isinstance(data, Mapping) else None
        if not isinstance(project, Mapping):
            raise UnexpectedResponseError.expected("/v2/projects/{id}", "a project", data)
        snapshot = structure(project, ProjectStatusSnapshot, "/v2/projects/{id}")
        return attrs.evolve(snapshot, waiting_reason=waiting_reason(project.get("waitingReason")))

    def result(self, project_id: str, kind: str | None = None) -> ProjectResult:
        if kind not in (None, "image", "video", "audio"):
            raise ValidationError(f"kind must be image, video, audio or None, not {kind!r}")
        snap = self.status(project_id)
        output_format = snap.raw.get("outputFormat")
        jobs: list[ResultJob] = []
        seen: set[str] = set()
        for job in snap.worker_jobs:
            job_id = _job_id(job)
            if job_id is None or job_id in seen:
                continue
            seen.add(job_id)
            status = job_status(job)
            seed = job.get("seedUsed")
            entry = ResultJob(
                id=job_id, status=status,
                reason=str(job["reason"]) if status != "completed" and truthy(
                    job.get("reason")) else None,
                seed=int(seed) if isinstance(seed, (int, float)) and not isinstance(
                    seed, bool) and seed >= 0 else None)
            if status == "completed":
                entry = self._with_url(snap, job, entry, output_format, kind)
            jobs.append(entry)
        return ProjectResult(id=snap.id, status=snap.status, finished=snap.finished,
                             model_id=snap.model_id, waiting_reason=snap.waiting_reason,
                             jobs=tuple(jobs))

    def _with_url(self, snap: ProjectStatusSnapshot, job: Mapping[str, Any], entry: ResultJob,
                  output_format: Any, kind: str | None) -> ResultJob:
        if _withheld(job):
            return attrs.evolve(entry, url_unavailable="sensitiveContent")
        if isinstance(job.get("resultUrl"), str) and job["resultUrl"]:
            return attrs.evolve(entry, url=job["resultUrl"])
        fmt = job.get("outputFormat") or output_format
        try:
            url = self._follow.mint_url(snap.id, entry.id, snap.model_id or "", fmt, kind)
        except Exception as exc:
            log.error("could not sign a download URL for %s/%s: %s", snap.id, entry.id, exc)
            return attrs.evolve(entry, url_unavailable="downloadUrlFailed")
        return attrs.evolve(entry, url=url)

    def recent(self, since: dt.datetime | float | None, limit: int | None,
               app_source: str | None) -> tuple[RecentProject, ...]:
        now = time.time() * 1000
        if since is None:
            start = now - RECENT_DEFAULT_MS
        elif isinstance(since, dt.datetime):
            if since.tzinfo is None:
                raise ValidationError("since must be an aware datetime (with a time zone)")
            start = since.timestamp() * 1000
        elif isinstance(since, (int, float)) and not isinstance(since, bool) \
                and math.isfinite(since):
            start = float(since)
        else:
            raise ValidationError("since must be a datetime or epoch milliseconds")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or not 1 <= limit <= 100):
            raise ValidationError("limit must be an integer from 1 to 100")
        if app_source is not None and (not isinstance(app_source, str) or not app_source):
            raise ValidationError("app_source must be a non-empty string or None")
        query: dict[str, Any] = {
            "role": "artist", "address": self._address(), "state": "completed",
            "mediaOnly": True, "since": int(max(start, now - RECENT_MAX_MS)),
            "limit": 50 if limit is None else limit}
        if app_source:
            query["appSource"] = app_source
        data = self._transport.rest.request("GET", "/v1/jobs/list", params=query)
        records = data.get("jobs") if isinstance(data, Mapping) else None
        return _group(records if isinstance(records, list) else [])

    def elsewhere(self) -> tuple[ProjectElsewhere, ...]:
        path = "/api/v1/artist/projects/sync"
        data = self._transport.rest.request("GET", path, host="socket")
        active = data.get("activeProjects") if isinstance(data, Mapping) else None
        own = self._transport.options.app_id
        return tuple(structure(p, ProjectElsewhere, path) for p in active or []
                     if isinstance(p, Mapping) and truthy(p.get("id"))
                     and isinstance(p.get("appId"), str) and p["appId"] != own
                     and not _is_llm(p))

    def _address(self) -> str:
        auth = self._transport.authenticated_payload or {}
        address = auth.get("address")
        if not isinstance(address, str) or not address:
            me = self._transport.rest.request("GET", "/v1/account/me")
            address = me.get("walletAddress") if isinstance(me, Mapping) else None
        if not isinstance(address, str) or not address:
            raise ValidationError("list_recent needs a signed-in account")
        return address


def _group(records: list[Any]) -> tuple[RecentProject, ...]:
    """History rows (one per render) grouped into projects, newest first."""
    heads: dict[str, dict[str, Any]] = {}
    renders: dict[str, list[RecentJob]] = {}
    for job in records:
        parent = job.get("parentRequest") if isinstance(job, Mapping) else None
        if not isinstance(parent, Mapping) or not truthy(parent.get("id")):
            continue
        pid = str(parent["id"])
        if pid not in heads:
            model: Mapping[str, Any] = parent.get("model") or {}
            if not isinstance(model, Mapping):
                model = {}
            heads[pid] = {"model_id": model.get("id") or None,
                          "model_name": model.get("name") or None,
                          "app_source": parent.get("appSource") or None, "finished_at": None}
            renders[pid] = []
        finished = _epoch(job.get("endTime"))
        renders[pid].append(RecentJob(id=_job_id(job) or "", status=job_status(job),
                                      sensitive_content_withheld=_withheld(job),
                                      finished_at=finished))
        latest = heads[pid]["finished_at"]
        if finished is not None and (latest is None or finished > latest):
            heads[pid]["finished_at"] = finished
    projects = [RecentProject(id=pid, jobs=tuple(renders[pid]), **head)
                for pid, head in heads.items()]
    epoch = dt.datetime.fromtimestamp(0, tz=dt.timezone.utc)
    return tuple(sorted(projects, key=lambda p: p.finished_at or epoch, reverse=True))
