"""The media-job scheduler: turns a ``jobRequest`` into the server's event sequence.

Per project (``jobID`` = the client's project id): validation -> balance reservation ->
``jobState queued`` -> per job (one per medium, fresh upper-case ``imgID``, run concurrently as
simulated workers) ``initiatingModel`` -> ``jobStarted`` -> ``jobProgress`` per step
(``hasImage: true`` on evenly spaced steps when previews were requested; the preview is stored
first) and ``jobETA`` per step for video -> ``jobResult`` (``lastSeed`` string; the request's
explicit seed on job 0, ``seed + i`` on job i) -> ``jobState jobCompleted`` -> settlement
(``balanceUpdate``). ``step_delay`` seconds per step; with 0 a job yields to the loop once
(after its first step) and then runs straight through, which keeps thousands of concurrent
projects cheap.

Frames go to whichever connection currently owns the project's ``appId``, so a client that
reconnects (same appId) keeps receiving events; projects that finish while their app is
disconnected are reported once in the next ``authenticated.unclaimedCompletedProjects``.

Server-side validation failures become a project-level ``jobError`` (``isFromWorker: false``)
with these numeric codes: 4004 unknown model, 4005 invalid parameter (size, steps, count),
4006 missing uploaded asset, 4007 asset not allowed for the model family, 4009 no workers,
123 insufficient balance.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import math
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sogni_sync.testing import _media
from sogni_sync.testing._state import Account, State
from sogni_sync.testing._wire import dumps, new_id, now_ms

if TYPE_CHECKING:
    from sogni_sync.testing._socket import Connection

__all__ = ["Job", "Project", "Scheduler", "scheduler_of"]

log = logging.getLogger(__name__)

_IMAGE_ASSETS = {"hasStartingImage": "startingImage"}
_VIDEO_ASSETS = {"hasReferenceImage": "referenceImage", "hasReferenceImageEnd": "referenceImageEnd",
                 "hasReferenceAudio": "referenceAudio", "hasReferenceVideo": "referenceVideo",
                 "hasReferenceAudioIdentity": "referenceAudio"}
_SEGMENTATION_PREFIXES = ("sam3_", "birefnet_")
_AUDIO_ASSETS = {"hasReferenceAudio": "referenceAudio"}  # voice cloning
_RAW_STATUS = {"queued": "active", "running": "progress", "completed": "completed",
               "failed": "errored", "canceled": "cancelled"}


class Rejection(Exception):
    def __init__(self, code: int | str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProjectAborted(Exception):
    """A project-level failure stops every job of the project."""


@dataclass
class Job:
    id: str
    index: int
    seed: int
    worker: str
    status: str = "created"
    step: int = 0
    create_time: int = field(default_factory=now_ms)
    start_time: int | None = None
    end_time: int | None = None
    error: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("jobCompleted", "jobError", "canceled")


@dataclass
class Project:
    id: str
    app_id: str
    app_source: str
    account: Account
    request: dict[str, Any]
    kind: str
    model_id: str
    network: str
    count: int
    steps: int
    previews: int
    prompt: str
    output_format: str
    token_type: str
    cost: Decimal
    status: str = "queued"  # queued, running, completed, failed, canceled
    jobs: list[Job] = field(default_factory=list)
    create_time: int = field(default_factory=now_ms)
    end_time: int | None = None
    unclaimed: bool = False
    task: asyncio.Task[None] | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "canceled")

    def raw_job(self, job: Job, storage_url: str | None) -> dict[str, Any]:
        per_job = self.cost / max(1, self.count)
        return {
            "id": job.id, "SID": str(job.index + 1), "imgID": job.id, "jobIndex": job.index,
            "worker": {"name": job.worker, "username": job.worker},
            "createTime": job.create_time, "updateTime": job.end_time or now_ms(),
            "startTime": job.start_time, "endTime": job.end_time,
            # a canceled job is a finished job with reason artistCanceled (what 5.x replays)
            "status": job.status if job.status != "canceled" else "jobCompleted",
            "reason": {"jobCompleted": "jobCompleted", "canceled": "artistCanceled",
                       "jobError": "genfailure"}.get(job.status),
            "performedSteps": job.step, "triggeredNSFWFilter": False, "seedUsed": job.seed,
            "costActual": {"costInRenderSec": "0", "costInUSD": "0",
                           "costInToken": str(per_job if job.status == "jobCompleted" else 0)},
            "network": self.network, "resultUrl": storage_url,
        }

    def snapshot(self, state: State) -> dict[str, Any]:
        """``RawProject`` (``/v1/projects/{id}``) plus the recovery fields of later versions."""
        done = [j for j in self.jobs if j.finished]
        urls = {j.id: (state.storage.signed_url(result_key(self.id, j.id))
                       if j.status == "jobCompleted" else None) for j in done}
        cost = {"costInRenderSec": "0", "costInUSD": "0", "costInToken": str(self.cost)}
        return {
            "id": self.id, "SID": abs(hash(self.id)) % 10**9,
            "artist": {"id": str(self.account.sid), "address": self.account.address,
                       "username": self.account.username, "name": self.account.username},
            "model": {"id": self.model_id, "SID": 0, "name": self.model_id},
            "imageCount": self.count, "stepCount": self.steps, "previewCount": self.previews,
            "hasGuideImage": bool((self.request.get("keyFrames") or [{}])[0].get(
                "hasStartingImage")),
            "denoiseStrength": "1", "costEstimate": {"rate": {}, "quote": {"project": cost}},
            "costActual": cost, "createTime": self.create_time,
            "updateTime": self.end_time or now_ms(), "endTime": self.end_time,
            "status": _RAW_STATUS[self.status],
            "reason": "artistCanceled" if self.status == "canceled" else "allJobsCompleted",
            "network": self.network, "txId": "",
            "appId": self.app_id, "appSource": self.app_source,
            "clientRequestData": base64.b64encode(dumps(self.request).encode()).decode(),
            "workerJobs": [self.raw_job(j, None) for j in self.jobs if not j.finished],
            "completedWorkerJobs": [self.raw_job(j, urls[j.id]) for j in done],
        }


def result_key(project_id: str, job_id: str) -> str:
    return f"results/{project_id}/{job_id}/complete"


def preview_key(project_id: str, job_id: str) -> str:
    return f"results/{project_id}/{job_id}/preview"


def upload_key(project_id: str, slot: str) -> str:
    return f"uploads/{project_id}/{slot}"


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value) if math.isfinite(value) else default


class Scheduler:
    """Owns every media project; all methods run on the emulator loop."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.projects: dict[str, Project] = {}
        self._sem: asyncio.Semaphore | None = None
        self.waiting = 0
        self._finished: deque[str] = deque()

    def reset(self) -> None:
        for project in self.projects.values():
            if project.task and not project.task.done():
                project.task.cancel()
        self.projects.clear()
        self._finished.clear()

    # -- routing -----------------------------------------------------------------------------

    def emit(self, project: Project, msg_type: str, payload: dict[str, Any]) -> None:
        conn = self.state.connections.get(project.app_id)
        if conn is not None and conn.account is project.account:
            conn.send(msg_type, payload)

    def recovery(self, app_id: str, account: Account) -> tuple[list[Any], list[Any]]:
        """``(activeProjects, unclaimedCompletedProjects)`` for a new connection of app_id."""
        active, unclaimed = [], []
        for project in self.projects.values():
            if project.app_id != app_id or project.account is not account:
                continue
            if not project.finished:
                active.append(project.snapshot(self.state))
            elif project.unclaimed:
                project.unclaimed = False
                unclaimed.append(project.snapshot(self.state))
        return active, unclaimed

    # -- requests ----------------------------------------------------------------------------

    async def on_job_request(self, state: State, conn: Connection, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("jobID"), str):
            log.debug("jobRequest without jobID ignored")
            return
        project_id = data["jobID"].upper()
        if project_id in self.projects:
            log.debug("duplicate jobRequest %s ignored", project_id)
            return
        try:
            project = self._admit(conn, project_id, data)
        except Rejection as rej:
            conn.send("jobError", {"jobID": project_id, "isFromWorker": False, "error": rej.code,
                                   "error_message": rej.message})
            return
        self.projects[project_id] = project
        project.task = asyncio.get_running_loop().create_task(self._run(project))

    def _admit(self, conn: Connection, project_id: str, req: dict[str, Any]) -> Project:
        frames = req.get("keyFrames")
        kf = frames[0] if isinstance(frames, list) and frames and isinstance(frames[0], dict) \
            else None
        if kf is None:
            raise Rejection(4005, "keyFrames must hold one keyframe object")
        model_id = kf.get("modelID")
        catalog = self.state.catalog
        if not isinstance(model_id, str) or catalog.model(model_id) is None:
            raise Rejection(4004, f"Model {model_id} not found")
        if model_id in self.state.faults.hidden_models:
            raise Rejection(4009, f"No workers available for model {model_id}")
        kind = catalog.kind(model_id)
        count = _number(req.get("numberOfImages"), 1)
        if count != int(count) or not 1 <= count <= 512:
            raise Rejection(4005, f"Invalid numberOfImages {req.get('numberOfImages')}")
        tier = catalog.tier(model_id) or {}
        steps = _number(kf.get("steps"), _number((tier.get("steps") or {}).get("default"), 20))
        if steps != int(steps) or not 1 <= steps <= 200:
            raise Rejection(4005, f"Invalid steps {kf.get('steps')}")
        for key in ("width", "height"):
            if key in kf and not 64 <= _number(kf[key], 0) <= 15360:  # RTX VSR goes to 16K
                raise Rejection(4005, f"Invalid {key} {kf[key]}")
        self._check_assets(project_id, kind, kf)
        network = str(req["network"]) if req.get("network") in ("fast", "relaxed") \
            else conn.network
        price = catalog.request_price(req, network)
        token_type = price.token_type
        account = conn.account
        if account.available(token_type) < price.tokens:
            raise Rejection(123, "Insufficient balance")
        account.reserved[token_type] = account.reserved.get(token_type, Decimal(0)) + price.tokens
        self.state.push_balance(account)
        default_fmt = {"video": "mp4", "audio": "mp3"}.get(kind, "png")
        return Project(
            id=project_id, app_id=conn.app_id, app_source=str(req.get("appSource") or ""),
            account=account, request=req, kind=kind, model_id=model_id, network=network,
            count=int(count), steps=int(steps),
            previews=int(_number(req.get("previews"), 0)) if kind == "image" else 0,
            prompt=str(kf.get("positivePrompt") or ""),
            output_format=str(req.get("outputFormat") or default_fmt), token_type=token_type,
            cost=price.tokens,
        )

    def _check_assets(self, project_id: str, kind: str, kf: dict[str, Any]) -> None:
        allowed = {"image": _IMAGE_ASSETS, "video": _VIDEO_ASSETS, "audio": _AUDIO_ASSETS}[kind]
        for flag, slot in {**_IMAGE_ASSETS, **_VIDEO_ASSETS}.items():
            if kf.get(flag) is not True:
                continue
            if flag not in allowed:
                raise Rejection(4007, f"{slot} is not supported for {kind} models")
            if not self.state.storage.has(upload_key(project_id, slot)):
                raise Rejection(4006, f"Missing uploaded {slot}")
        nets = kf.get("currentControlNetsJob")
        if isinstance(nets, list) and any(isinstance(n, dict) and n.get("hasImage") is True
                                          for n in nets):
            if kind != "image":
                raise Rejection(4007, f"cnImage is not supported for {kind} models")
            if not self.state.storage.has(upload_key(project_id, "cnImage")):
                raise Rejection(4006, "Missing uploaded cnImage")
        for i in range(1, 17):
            flag = f"hasContextImage{i}"
            if kf.get(flag) is True and not self.state.storage.has(
                    upload_key(project_id, f"contextImage{i}")):
                raise Rejection(4006, f"Missing uploaded contextImage{i}")

    async def on_cancel(self, state: State, conn: Connection, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("jobID"), str):
            return
        project_id = data["jobID"].upper()
        project = self.projects.get(project_id)
        reply = {"jobID": project_id, "didCancel": True, "error_message": ""}
        if project is None or project.account is not conn.account:
            reply.update(didCancel=False, error_message="Project not found")
            conn.send("artistCancelConfirmation", reply)
            return
        if project.finished:
            reply.update(didCancel=False, error_message=f"Project already {project.status}")
            conn.send("artistCancelConfirmation", reply)
            return
        project.status = "canceled"
        if project.task is not None:
            project.task.cancel()
        conn.send("artistCancelConfirmation", reply)
        for job in project.jobs:
            if not job.finished:
                job.status = "canceled"
                job.end_time = now_ms()
                self.emit(project, "jobResult", {
                    "jobID": project.id, "imgID": job.id, "performedStepCount": job.step,
                    "lastSeed": str(job.seed), "userCanceled": True, "triggeredNSFWFilter": False})
        self._settle(project)

    # -- running -----------------------------------------------------------------------------

    def _seed_base(self, project: Project) -> int:
        kf = project.request["keyFrames"][0]
        seed = kf.get("seed")
        if isinstance(seed, (int, float)) and not isinstance(seed, bool) and math.isfinite(seed):
            return int(seed)
        return int.from_bytes(hashlib.sha256(project.id.encode()).digest()[:4], "big")

    async def _run(self, project: Project) -> None:
        state = self.state
        try:
            workers = state.options.workers
            if workers and self._sem is None:
                self._sem = asyncio.Semaphore(workers)
            self.emit(project, "jobState", {"jobID": project.id, "type": "queued",
                                            "queuePosition": self.waiting,
                                            "queueStatus": "waiting",
                                            "estimatedStartSeconds": round(
                                                self.waiting * project.steps
                                                * state.options.step_delay, 3)})
            base = self._seed_base(project)
            for i in range(project.count):
                project.jobs.append(Job(id=new_id(), index=i, seed=(base + i) % 2**32,
                                        worker=f"emulator-worker-{(i % 8) + 1}"))
            tasks: list[asyncio.Task[None]] = []
            try:
                if project.count == 1:
                    await self._run_job(project, project.jobs[0])
                else:
                    loop = asyncio.get_running_loop()
                    tasks = [loop.create_task(self._run_job(project, j)) for j in project.jobs]
                    await asyncio.gather(*tasks)
            except ProjectAborted:
                for task in tasks:
                    task.cancel()
                project.status = "failed"
                for job in project.jobs:
                    if not job.finished:
                        job.status, job.end_time = "jobError", now_ms()
                self._settle(project)
                return
            if project.status == "canceled":
                return
            if any(j.status == "jobCompleted" for j in project.jobs):
                project.status = "completed"
                self.emit(project, "jobState", {"jobID": project.id, "type": "jobCompleted"})
            else:
                project.status = "failed"
            self._settle(project)
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug here must not kill the loop; fail the project visibly
            log.exception("project %s crashed", project.id)
            project.status = "failed"
            self.emit(project, "jobError", {"jobID": project.id, "isFromWorker": False,
                                            "error": 5000, "error_message": "Emulator error"})
            self._settle(project)

    async def _run_job(self, project: Project, job: Job) -> None:
        sem = self._sem
        if sem is not None:
            self.waiting += 1
            try:
                await sem.acquire()
            finally:
                self.waiting -= 1
        try:
            await self._work(project, job)
        finally:
            if sem is not None:
                sem.release()

    async def _work(self, project: Project, job: Job) -> None:
        state, pid, jid = self.state, project.id, job.id
        delay = state.options.step_delay
        base = {"jobID": pid, "imgID": jid}
        if project.finished:
            return
        project.status = "running"
        job.status = "initiatingModel"
        self.emit(project, "jobState", {**base, "type": "initiatingModel",
                                        "workerName": job.worker, "jobIndex": job.index})
        job.status, job.start_time = "jobStarted", now_ms()
        self.emit(project, "jobState", {**base, "type": "jobStarted", "workerName": job.worker,
                                        "jobIndex": job.index})
        n = project.steps
        previews = project.previews
        preview_steps = {math.ceil(k * n / previews) for k in range(1, previews + 1)}
        moved = state.faults.take_job_retry()
        failure = None if moved else state.faults.take_job_failure()
        if failure is None and not moved and state.faults.prompt_fails(project.prompt):
            failure = (state.faults.fail_code, state.faults.fail_message, False)
        kf = project.request["keyFrames"][0]
        for step in range(1, n + 1):
            if delay > 0:
                await asyncio.sleep(delay)
            elif step == 1:
                await asyncio.sleep(0)  # zero-delay mode: let other projects start, no more
            if project.finished:  # aborted or canceled while this job was running
                return
            job.step, job.status = step, "jobProgress"
            if moved:  # its worker went away: the same render again, elsewhere, new id
                self.emit(project, "jobRetry", {**base, "jobIndex": job.index, "attempt": 1,
                                                "maxAttempts": 3, "isFromWorker": True,
                                                "error": "workerDisconnected",
                                                "error_message": "Worker disconnected"})
                job.id, job.worker, job.step = new_id(), f"{job.worker}-b", 0
                await self._work(project, job)
                return
            if failure is not None:
                job.status, job.end_time = "jobError", now_ms()
                job.error = {"error": failure[0], "error_message": failure[1]}
                if failure[2]:
                    self.emit(project, "jobError", {"jobID": pid, "isFromWorker": False,
                                                    **job.error})
                    project.status = "failed"
                    raise ProjectAborted
                else:
                    self.emit(project, "jobError", {**base, "isFromWorker": True, **job.error})
                return
            if project.kind == "video":
                self.emit(project, "jobETA", {**base, "etaSeconds": round((n - step) * delay, 3)})
            progress: dict[str, Any] = {**base, "step": step, "stepCount": n}
            if project.kind == "video":  # the worker's ETA interval: ±20 % of what is left
                left = (n - step) * delay
                progress.update(etaMin=round(left * 0.8, 3), etaMax=round(left * 1.2, 3))
            if step in preview_steps:
                recipe = self._image_recipe(project, job, f"p{step}")
                state.storage.put(preview_key(pid, jid), recipe, "image/png")
                progress["hasImage"] = True
            self.emit(project, "jobProgress", progress)
        key = result_key(pid, jid)
        opts = state.options
        if project.kind == "video":
            fps, frames = kf.get("fps", 16), kf.get("frames", 33)
            w, h = kf.get("width", 512), kf.get("height", 512)
            if project.model_id.startswith("minimax-h3-") and project.model_id.endswith(
                    "_2stage"):  # MiniMax H3 two-stage ids deliver twice the canvas
                w, h = _number(w, 512) * 2, _number(h, 512) * 2
            state.storage.put(key, lambda: _media.render_video(
                project.prompt, job.seed, w, h, frames, fps, model=project.model_id,
                max_side=opts.video_max_side, max_frames=opts.max_frames), "video/mp4")
        elif project.output_format == "glb":  # image-to-3D (Pixal3D): a GLB model
            state.storage.put(key, lambda: _media.render_glb(project.prompt, job.seed),
                              _media.content_type_for("image", "glb"))
        elif project.kind == "audio":
            fmt, dur = project.output_format, _number(kf.get("duration"), 10)
            state.storage.put(key, lambda: _media.render_audio(
                project.prompt, job.seed, dur, fmt, max_seconds=opts.max_seconds),
                _media.content_type_for("audio", fmt))
        else:
            fmt = project.output_format
            state.storage.put(key, self._image_recipe(project, job, "", fmt),
                              _media.content_type_for("image", fmt))
        job.status, job.end_time = "jobCompleted", now_ms()
        extra: dict[str, Any] = {}
        if project.kind == "video" and kf.get("returnLastFrame") is True:  # Seedance 2.5
            frame_key = f"{key}-lastFrame"
            state.storage.put(frame_key, self._image_recipe(project, job, "last"), "image/png")
            extra["lastFrameUrl"] = state.storage.signed_url(frame_key)
        self.emit(project, "jobResult", {**base, "performedStepCount": n,
                                         "lastSeed": str(job.seed), "triggeredNSFWFilter": False,
                                         "userCanceled": False, **extra})

    def _image_recipe(self, project: Project, job: Job, salt: str, fmt: str = "png") -> Any:
        kf = project.request["keyFrames"][0]
        w, h = _number(kf.get("width"), 1024), _number(kf.get("height"), 1024)
        if project.model_id.startswith(_SEGMENTATION_PREFIXES):  # a mask the size of the source
            source = self.state.storage.get(upload_key(project.id, "startingImage"))
            size = _media.image_size(source[0]) if source else None
            if size and min(size) > 0:
                w, h = size
        side = self.state.options.media_max_side
        return lambda: _media.render_image(project.prompt, job.seed, w, h, output_format=fmt,
                                           model=project.model_id, max_side=side, salt=salt)

    def _settle(self, project: Project) -> None:
        """Release the reservation, charge completed jobs, record it, push a balanceUpdate."""
        state, account = self.state, project.account
        if project.end_time is not None:  # settle exactly once
            return
        project.end_time = now_ms()
        if state.connections.get(project.app_id) is None:
            project.unclaimed = True
        done = sum(1 for j in project.jobs if j.status == "jobCompleted")
        charge = project.cost * done / max(1, project.count)
        held = account.reserved.get(project.token_type, Decimal(0))
        account.reserved[project.token_type] = max(Decimal(0), held - project.cost)
        if charge:
            account.balances[project.token_type] = (
                account.balances.get(project.token_type, Decimal(0)) - charge)
            state.record_transaction(account, project.token_type, charge,
                                     f"Project {project.id}", "project")
        state.push_balance(account)
        self._retire(project.id)

    def _retire(self, project_id: str) -> None:
        """Bound memory of a long-running emulator: keep the newest finished projects only."""
        self._finished.append(project_id)
        while len(self._finished) > max(1, self.state.options.max_finished_projects):
            old = self._finished.popleft()
            self.projects.pop(old, None)
            self.state.storage.forget_project(old)


def scheduler_of(state: State) -> Scheduler:
    """The scheduler the server stored in ``state.extras`` at start-up."""
    sched = state.extras["scheduler"]
    assert isinstance(sched, Scheduler)
    return sched
