"""Emulated project records by id and history: ``GET /v2/projects/:id`` (the owner's live
lookup, also while queued or rendering) and ``GET /v1/jobs/list`` (finished renders, newest
first, one row per render with its ``parentRequest``).

The live lookup answers ``{project: {...RawProject, status, finished}}`` with the server's
normalized status names; a queued project carries a ``waitingReason``. Another account's or an
unknown id is a 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sogni_sync.testing._jobs import Project, scheduler_of
from sogni_sync.testing._state import State, error, ok

__all__ = ["LOOKUP_STATUS", "register"]

#: the emulator's project states → the lookup's normalized names
LOOKUP_STATUS = {"queued": "queued", "running": "processing", "completed": "completed",
                 "failed": "failed", "canceled": "canceled"}
WAITING = {"reason": "no_workers", "message": "Waiting for a worker to pick up the render."}


def _history_rows(state: State, projects: list[Project], since: float,
                  app_source: str | None) -> list[dict[str, Any]]:
    rows = []
    for project in projects:
        if not project.finished or (app_source and project.app_source != app_source):
            continue
        snap = project.snapshot(state)
        parent = {"id": project.id, "model": snap["model"], "appSource": project.app_source}
        for job in snap["completedWorkerJobs"]:
            if job.get("status") == "jobCompleted" and (job.get("endTime") or 0) >= since:
                rows.append({**job, "parentRequest": parent})
    rows.sort(key=lambda row: row.get("endTime") or 0, reverse=True)
    return rows


def register(rest: web.Application, socket: web.Application, state: State) -> None:
    routes = web.RouteTableDef()

    @routes.get("/v2/projects/{project_id}")
    async def lookup(request: web.Request) -> web.Response:
        project = scheduler_of(state).projects.get(request.match_info["project_id"].upper())
        if project is None or project.account is not state.require(request):
            return error(404, "Project not found", 404)
        snap = project.snapshot(state)
        snap.update(status=LOOKUP_STATUS[project.status], finished=project.finished,
                    outputFormat=project.output_format)
        if project.status == "queued":
            snap["waitingReason"] = WAITING
        return ok({"project": snap})

    @routes.get("/v1/jobs/list")
    async def history(request: web.Request) -> web.Response:
        account = state.require(request)
        query = request.query
        if query.get("role") != "artist" or (query.get("address") or "").lower() != \
                account.address.lower():
            return error(403, "You can only list your own renders", 403)
        try:
            since = float(query.get("since") or 0)
            limit = int(query.get("limit") or 50)
        except ValueError:
            return error(400, "since and limit must be numbers", 101)
        if not 1 <= limit <= 100:
            return error(400, "limit must be from 1 to 100", 101)
        mine = [p for p in scheduler_of(state).projects.values() if p.account is account]
        rows = _history_rows(state, mine, since, query.get("appSource") or None)
        return ok({"jobs": rows[:limit], "next": None})

    rest.add_routes(routes)
