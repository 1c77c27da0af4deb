"""Emulated creative workflows: REST under ``/v1/creative-agent/workflows``, events over SSE.

A workflow runs as a task on the emulator loop: ``queued`` → ``running`` → per step
``step_started``/``step_completed`` (with an artifact in emulator storage) → ``completed``.
Every transition appends an event ``{id: 1, 2, …, type, status?, message, timestamp, data}``;
only workflow-level events carry ``status``, so a step never looks terminal to an SSE reader.
``step_delay`` paces the steps. The event stream replays events after ``?after=`` or
``Last-Event-ID``, follows live ones and closes after the terminal event.

Test hooks (through ``net.call(lambda s: ...)`` on ``s.extras["workflows"]``):
``drop_streams_after = N`` makes the next stream connection close after N frames without the
terminal one (once), to exercise client resume; ``hold = True`` keeps new workflows queued until
``release()``; a step id in ``pause_before`` (consumed once) pauses the run in
``waiting_for_user`` before that step until ``POST …/{id}/resume``.

Starts take the seed's ``{kind, input}``, an inline ``{input: {title?, steps}}`` (a hosted tool
sequence) or a template run ``{workflow_id, inputs}`` (:mod:`._templates`). ``POST …/{id}/reseed``
clones a completed (or partially failed) run with fresh seeds (``seed_overrides`` pins some).
An ``Idempotency-Key`` on a start or a reseed makes a repeat return the first run with
``idempotent: true``.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import time
from typing import Any

from aiohttp import web

from sogni_sync.testing._agents import register_agent_routes
from sogni_sync.testing._media import render_audio, render_image, render_video
from sogni_sync.testing._state import State, error, ok
from sogni_sync.testing._templates import TemplateStore, add_template_routes, read_json

__all__ = ["WorkflowEngine", "register"]

BASE = "/v1/creative-agent/workflows"
KINDS = ("image_to_video", "hosted_tool_sequence")
TERMINAL = ("completed", "failed", "cancelled")
RESEEDABLE = ("completed", "partial_failure")
BILLING_MODES = (None, "auto", "subscription", "tokens")
MAX_SEED = 2**31 - 1
TOOL_MEDIA = {
    "sogni_generate_image": "image",
    "sogni_edit_image": "image",
    "sogni_generate_video": "video",
    "sogni_sound_to_video": "video",
    "sogni_video_to_video": "video",
    "sogni_generate_music": "audio",
    **{name: "video" for name in ("generate_video", "sound_to_video", "video_to_video",
                                  "animate_photo", "extend_video", "upscale_video")},
    "generate_music": "audio", "generate_speech": "audio",
}
_TYPES = {"string": str, "boolean": bool, "array": list, "object": dict}


def _now() -> int:
    return int(time.time() * 1000)


def _schemas() -> dict[str, dict[str, Any]]:
    """Step tools: the seed's six ``sogni_*`` tools and the current set's flat names."""
    from importlib import resources

    folder = resources.files("sogni_sync").joinpath("data")
    seed = json.loads(folder.joinpath("sogni_tools.json").read_text("utf-8"))
    current = json.loads(folder.joinpath("hosted_tools_current.json").read_text("utf-8"))
    return {t["function"]["name"]: t["function"]["parameters"]
            for t in [*seed, *current["tools"]]}


def _check_arguments(tool: str, args: Any, schemas: dict[str, dict[str, Any]]) -> str | None:
    if tool not in schemas:
        return f'Unknown hosted Sogni tool "{tool}"'
    if not isinstance(args, dict):
        return f"Invalid {tool} arguments: Tool arguments must be a JSON object"
    schema = schemas[tool]
    problems = [f'Missing required argument "{k}"' for k in schema.get("required", [])
                if args.get(k) is None]
    for key, value in args.items():
        prop = schema["properties"].get(key)
        if prop is None or value is None:
            continue
        kind = prop.get("type")
        if kind == "number":
            fine = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            fine = isinstance(value, _TYPES.get(kind, object))
        if not fine:
            problems.append(f'Argument "{key}" must be {kind}')
    return f"Invalid {tool} arguments: {'; '.join(problems)}" if problems else None


class WorkflowEngine:
    """Workflow records and their runner tasks (emulator loop only)."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.records: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str] = {}
        self.changed: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.schemas = _schemas()
        self.drop_streams_after: int | None = None
        self.stream_requests: list[tuple[str | None, str | None]] = []  # (after, Last-Event-ID)
        self.hold = False
        self._released = asyncio.Event()
        self.pause_before: set[str] = set()
        self.resumes: dict[str, asyncio.Event] = {}
        self.idempotent: dict[tuple[str, ...], str] = {}  # (user, what, key) -> workflow id
        self.templates = TemplateStore()

    # -- lifecycle -------------------------------------------------------------------------

    def validate(self, kind: Any, data: Any) -> str | None:
        if kind not in KINDS:
            return f"Unsupported workflow kind {kind!r}"
        if not isinstance(data, dict):
            return "input must be an object"
        if kind == "image_to_video":
            prompt = data.get("prompt")
            if isinstance(prompt, str) and prompt.strip():
                return None
            return "input.prompt is required"
        steps = data.get("steps")
        if not isinstance(steps, list) or not steps:
            return "input.steps must be a non-empty array"
        for step in steps:
            if not isinstance(step, dict):
                return "each step must be an object"
            problem = _check_arguments(str(step.get("toolName")), step.get("arguments"),
                                       self.schemas)
            if problem:
                return problem
        return None

    def create(self, account: Any, kind: str, data: dict[str, Any],
               token_type: str | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        wid = f"wf_{secrets.token_hex(8)}"
        if kind == "image_to_video":
            steps = [
                {"id": "image", "toolName": "sogni_generate_image",
                 "arguments": {"prompt": data["prompt"]}, "status": "pending"},
                {"id": "video", "toolName": "sogni_generate_video",
                 "arguments": {"prompt": data.get("videoPrompt") or data["prompt"]},
                 "dependsOn": [{"sourceStepId": "image", "targetArgument": "reference_image_url",
                                "transform": "artifact_url"}], "status": "pending"},
            ]
            title = data.get("title") or f"Image to video: {data['prompt'][:40]}"
        else:
            steps = [{**s, "id": s.get("id") or f"step-{i + 1}", "status": "pending"}
                     for i, s in enumerate(data["steps"])]
            title = data.get("title") or f"Hosted tool sequence ({len(steps)} steps)"
        now = _now()
        record: dict[str, Any] = {
            "workflowId": wid, "kind": kind, "title": title, "status": "queued", "input": data,
            "steps": steps, "events": [], "artifacts": [], "createTime": now, "updateTime": now,
        }
        if token_type:
            record["tokenType"] = token_type
        record.update(extra or {})
        self.records[wid] = record
        self.owners[wid] = account.username
        self.changed[wid] = asyncio.Event()
        self._event(record, "workflow_queued", "Workflow queued", status="queued")
        self.tasks[wid] = asyncio.get_running_loop().create_task(self._run(record))
        return record

    def _event(self, record: dict[str, Any], kind: str, message: str, *,
               status: str | None = None, data: Any = None) -> None:
        event: dict[str, Any] = {"id": len(record["events"]) + 1, "type": kind}
        if status is not None:
            event["status"] = status
            record["status"] = status
        event.update(message=message, timestamp=_now(), data=data or {})
        record["events"].append(event)
        record["updateTime"] = event["timestamp"]
        flag = self.changed.get(record["workflowId"])
        if flag is not None:
            flag.set()
            self.changed[record["workflowId"]] = asyncio.Event()

    async def _run(self, record: dict[str, Any]) -> None:
        delay = self.state.options.step_delay or 0
        if self.hold:
            await self._released.wait()
        await asyncio.sleep(delay)
        self._event(record, "workflow_running", "Workflow started", status="running")
        for index, step in enumerate(record["steps"]):
            if step["id"] in self.pause_before:
                self.pause_before.discard(step["id"])
                await self._wait_for_user(record, step)
            step["status"] = "running"
            self._event(record, "step_started", f"Step {step['id']} started",
                        data={"stepId": step["id"], "toolName": step["toolName"]})
            await asyncio.sleep(delay)
            artifact = self._artifact(record, step, index)
            step["status"] = "completed"
            step["artifactIds"] = [artifact["id"]]
            record["artifacts"].append(artifact)
            self._event(record, "step_completed", f"Step {step['id']} completed",
                        data={"stepId": step["id"], "artifacts": [artifact]})
        self._event(record, "workflow_completed", "Workflow completed", status="completed",
                    data={"artifacts": record["artifacts"]})

    async def _wait_for_user(self, record: dict[str, Any], step: dict[str, Any]) -> None:
        resume = self.resumes[record["workflowId"]] = asyncio.Event()
        record["waitingReason"] = "workflow_user_input_required"
        self._event(record, "workflow_waiting_for_user", f"Waiting for the user before step "
                    f"{step['id']}", status="waiting_for_user", data={"stepId": step["id"]})
        await resume.wait()

    def resume(self, wid: str) -> bool:
        event = self.resumes.pop(wid, None)
        if event is None or self.records[wid]["status"] != "waiting_for_user":
            return False
        event.set()
        record = self.records[wid]
        record.pop("waitingReason", None)
        self._event(record, "workflow_resumed", "Workflow resumed", status="running")
        return True

    def reseed(self, account: Any, source: dict[str, Any],
               overrides: dict[str, int]) -> dict[str, Any]:
        steps = []
        for step in source["steps"]:
            seed = overrides.get(step["id"], secrets.randbelow(MAX_SEED + 1))
            clone = {k: copy.deepcopy(v) for k, v in step.items()
                     if k in ("id", "toolName", "arguments", "dependsOn")}
            clone["arguments"] = {**(clone.get("arguments") or {}), "seed": seed}
            steps.append(clone)
        kept = ("kind", "templateId", "billingMode", "appSource", "safeContentFilter")
        extra: dict[str, Any] = {k: source[k] for k in kept if k in source}
        return self.create(account, "hosted_tool_sequence",
                           {"title": source["title"], "steps": steps}, source.get("tokenType"),
                           {**extra, "reseededFrom": source["workflowId"]})

    def _artifact(self, record: dict[str, Any], step: dict[str, Any], index: int) -> dict[str, Any]:
        media = TOOL_MEDIA.get(step["toolName"], "image")
        prompt = str((step.get("arguments") or {}).get("prompt") or record["title"])
        key = f"workflows/{record['workflowId']}/{step['id']}"
        art: dict[str, Any] = {"id": f"art_{secrets.token_hex(6)}", "type": media,
                               "mediaType": media}
        if media == "video":
            opts = self.state.options
            data, mime = render_video(prompt, index, 480, 480, 17, 16, model=step["toolName"],
                                      max_side=opts.video_max_side,
                                      max_frames=opts.max_frames), "video/mp4"
            art.update(width=480, height=480, duration=1)
        elif media == "audio":
            data, mime = render_audio(prompt, index, 2, "mp3"), "audio/mpeg"
            art.update(duration=2)
        else:
            data, mime = render_image(prompt, index, 512, 512, model=step["toolName"],
                                      max_side=self.state.options.media_max_side), "image/png"
            art.update(width=512, height=512)
        self.state.storage.put(key, data, mime)
        art.update(mimeType=mime, url=self.state.storage.signed_url(key))
        return art

    def cancel(self, wid: str) -> dict[str, Any]:
        record = self.records[wid]
        if record["status"] not in TERMINAL:
            task = self.tasks.get(wid)
            if task is not None:
                task.cancel()
            self._event(record, "workflow_cancelled", "Workflow cancelled", status="cancelled")
        return record

    async def wait_done(self, wid: str, timeout: float) -> None:
        task = self.tasks.get(wid)
        if task is not None:
            await asyncio.wait({task}, timeout=timeout)

    def release(self) -> None:
        self.hold = False
        self._released.set()

    def reset(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        self.records.clear()
        self.owners.clear()
        self.changed.clear()
        self.tasks.clear()
        self.drop_streams_after = None
        self.stream_requests.clear()
        self.hold = False
        self._released = asyncio.Event()
        self.pause_before.clear()
        self.resumes.clear()
        self.idempotent.clear()
        self.templates.reset()

    def account(self, request: web.Request) -> Any:
        return request.get("account") or self.state.authenticate(request)

    def owned(self, request: web.Request) -> dict[str, Any] | None:
        wid = request.match_info["wid"]
        account = self.account(request)
        if wid not in self.records or account is None or self.owners[wid] != account.username:
            return None
        return self.records[wid]


def _sse(event: dict[str, Any]) -> bytes:
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {data}\n\n".encode()


def _billing_problem(body: dict[str, Any]) -> str | None:
    if body.get("token_type") not in (None, "sogni", "spark"):
        return "token_type must be sogni or spark"
    if body.get("billing_mode") not in BILLING_MODES:
        return "billing_mode must be auto, subscription or tokens"
    return None


def _billing(body: Any) -> dict[str, Any]:
    names = {"token_type": "tokenType", "billing_mode": "billingMode",
             "app_source": "appSource", "safe_content_filter": "safeContentFilter",
             "max_estimated_capacity_units": "maxEstimatedCapacityUnits",
             "confirm_cost": "confirmCost", "media_references": "mediaReferences"}
    if not isinstance(body, dict):
        return {}
    return {wire: body[key] for key, wire in names.items() if body.get(key) is not None}


def _plan(engine: WorkflowEngine, account: Any,
          body: dict[str, Any]) -> tuple[str, Any, dict[str, Any]] | web.Response:
    """(kind, input, extra record keys) of a start body, or the refusal."""
    for index, ref in enumerate(body.get("media_references") or []):
        url = ref.get("url") if isinstance(ref, dict) else None
        if isinstance(url, str) and not url.lower().startswith(("http://", "https://")):
            return error(400, "Durable creative workflows do not support inline data URI "
                              f"media (media_references[{index}].url)", 400)
    template_id = body.get("workflow_id")
    if template_id is None:
        kind = body.get("kind") or ("hosted_tool_sequence" if isinstance(body.get("input"), dict)
                                    else None)
        if kind is None:
            return error(400, "Either input or workflow_id is required", 400)
        return str(kind), body.get("input"), {}
    if body.get("input") is not None:
        return error(400, "input and workflow_id are mutually exclusive", 400)
    template = engine.templates.visible(str(template_id), account.username)
    if template is None:
        return error(404, "Workflow template not found", 404)
    resolved = engine.templates.resolve(template, body.get("inputs"))
    if isinstance(resolved, str):
        return error(400, resolved, 400)
    steps, title = resolved
    return "hosted_tool_sequence", {"title": title, "steps": steps}, {
        "templateId": template["id"], "templateVersion": template.get("version"),
        "inputs": body.get("inputs") or {}}


def register(rest: web.Application, socket: web.Application, state: State) -> None:
    """Emulator extension hook: creative-workflow REST + SSE routes (templates first: their
    path would otherwise match ``/{wid}``)."""
    engine = WorkflowEngine(state)
    state.extras["workflows"] = engine
    state.extras.setdefault("reset_hooks", []).append(engine.reset)
    add_template_routes(rest, engine.templates, engine.account)
    register_agent_routes(rest, state)  # hosted tools, replay records, announcements
    not_found = (404, "Workflow not found", 404)

    async def start(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return error(400, "Invalid JSON body", 400)
        if not isinstance(body, dict):
            return error(400, "Request body must be an object", 400)
        account = engine.account(request)
        key = request.headers.get("Idempotency-Key")
        earlier = engine.idempotent.get((account.username, "start", key)) if key else None
        if earlier is not None:
            return ok({"workflow": engine.records[earlier], "idempotent": True})
        planned = _plan(engine, account, body)
        if isinstance(planned, web.Response):
            return planned
        kind, data, extra = planned
        problem = engine.validate(kind, data) or _billing_problem(body)
        if problem:
            return error(400, problem, 400)
        record = engine.create(account, kind, data, body.get("token_type"),
                               {**extra, **_billing(body)})
        if key:
            engine.idempotent[(account.username, "start", key)] = record["workflowId"]
        return ok({"workflow": record})

    async def resume(request: web.Request) -> web.Response:
        record = engine.owned(request)
        if record is None:
            return error(*not_found)
        body = await read_json(request)
        problem = _billing_problem(body if isinstance(body, dict) else {})
        if problem:
            return error(400, problem, 400)
        resumed = engine.resume(record["workflowId"])
        if resumed:
            record.update(_billing(body))
        return ok({"workflow": record, "resumed": resumed})

    async def reseed(request: web.Request) -> web.Response:
        source = engine.owned(request)
        if source is None:
            return error(*not_found)
        account = engine.account(request)
        key = request.headers.get("Idempotency-Key")
        memo = (account.username, "reseed", source["workflowId"], key or "")
        if key and memo in engine.idempotent:
            again = engine.records[engine.idempotent[memo]]
            return ok({"workflow": again, "idempotent": True, "reseed": {
                "cloned_from_run_id": source["workflowId"], "steps": again["steps"]}})
        if source["status"] not in RESEEDABLE:
            return error(409, "Only a completed or partially failed workflow can be reseeded",
                         409)
        body = await read_json(request)
        body = body if isinstance(body, dict) else {}
        overrides = body.get("seed_overrides") or {}
        ids = {step["id"] for step in source["steps"]}
        if not isinstance(overrides, dict) or any(
                k not in ids or not isinstance(v, int) or isinstance(v, bool)
                or not 0 <= v <= MAX_SEED for k, v in overrides.items()):
            return error(400, "seed_overrides must map this workflow's step ids to seeds "
                              f"0-{MAX_SEED}", 400)
        problem = _billing_problem(body)
        if problem:
            return error(400, problem, 400)
        record = engine.reseed(account, source, overrides)
        record.update(_billing(body))
        if key:
            engine.idempotent[memo] = record["workflowId"]
        return ok({"workflow": record, "reseed": {"cloned_from_run_id": source["workflowId"],
                                                  "steps": record["steps"]}})

    async def listing(request: web.Request) -> web.Response:
        try:
            limit = int(request.query.get("limit", "50"))
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            return error(400, "limit and offset must be integers", 400)
        mine = [r for wid, r in engine.records.items()
                if engine.owners[wid] == engine.account(request).username]
        mine.sort(key=lambda r: r["createTime"], reverse=True)
        return ok({"workflows": mine[offset:offset + limit]})

    async def get_one(request: web.Request) -> web.Response:
        record = engine.owned(request)
        return ok({"workflow": record}) if record else error(*not_found)

    async def events(request: web.Request) -> web.Response:
        record = engine.owned(request)
        return ok({"events": record["events"]}) if record else error(*not_found)

    async def cancel(request: web.Request) -> web.Response:
        record = engine.owned(request)
        if record is None:
            return error(*not_found)
        return ok({"workflow": engine.cancel(record["workflowId"]), "cancelled": True})

    async def stream(request: web.Request) -> web.StreamResponse:
        record = engine.owned(request)
        if record is None:
            return error(*not_found)
        engine.stream_requests.append((request.query.get("after"),
                                       request.headers.get("Last-Event-ID")))
        raw_after = request.query.get("after") or request.headers.get("Last-Event-ID") or "0"
        try:
            after = int(raw_after)
        except ValueError:
            return error(400, "after must be an event id", 400)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        drop_after, engine.drop_streams_after = engine.drop_streams_after, None
        sent = 0
        wid = record["workflowId"]
        while True:
            for event in record["events"]:
                if event["id"] <= after:
                    continue
                if drop_after is not None and sent >= drop_after:
                    return response  # simulated drop: close before the terminal event
                await response.write(_sse(event))
                after = event["id"]
                sent += 1
                if event.get("status") in TERMINAL:
                    await response.write_eof()
                    return response
            flag = engine.changed.get(wid)
            if flag is None:
                return response
            try:
                await asyncio.wait_for(flag.wait(), timeout=30)
            except asyncio.TimeoutError:
                return response

    rest.router.add_post(BASE, start)
    rest.router.add_get(BASE, listing)
    rest.router.add_get(BASE + "/{wid}", get_one)
    rest.router.add_get(BASE + "/{wid}/events", events)
    rest.router.add_post(BASE + "/{wid}/cancel", cancel)
    rest.router.add_post(BASE + "/{wid}/resume", resume)
    rest.router.add_post(BASE + "/{wid}/reseed", reseed)
    rest.router.add_get(BASE + "/{wid}/events/stream", stream)
