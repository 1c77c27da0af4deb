"""Emulated durable chat runs: REST under ``/v1/chat/runs``, events over SSE.

A run is a task on the emulator loop. The reply is planned by the emulator's LLM rules
(:func:`._llm.plan_reply`); when it calls a hosted media tool the run may pause for cost
approval first. Every transition appends an event ``{sequence: 1, 2, …, type, at, payload}``:

``run_queued`` → ``run_started`` → [``tool_call_requested`` → (``run_awaiting_cost_confirmation``
+ ``run_waiting_for_user``, then ``run_cost_confirmed`` or ``run_cost_declined``) →
``tool_call_started`` → ``tool_call_completed``] → ``message_delta`` per piece of the answer →
``run_completed`` (or ``run_cancelled`` / ``run_failed``). Status events carry
``payload.status``.

A pause happens when ``runtime_config.requireJobConfirmation`` is true or the estimate exceeds
``max_estimated_capacity_units``, unless ``confirm_cost`` is true. ``confirm-cost`` wants the
paused ``tool_call_id``, a ``decision`` (``confirm`` | ``cancel``) and, to confirm, the current
preview echoed back as ``acceptedCostPreview`` (400 without it, 409 when it differs); a repeated
``Idempotency-Key`` answers the run again. The stream starts with an unnumbered ``run_status``
frame, replays events after ``Last-Event-ID``, follows live ones and closes after a terminal one.

Test hooks (``net.call(lambda s: ...)`` on ``s.extras["runs"]``): ``token_delay`` paces the
answer pieces, ``stream_requests`` records each stream's ``Last-Event-ID``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from typing import Any

from aiohttp import web

from sogni_sync.testing._llm import plan_reply
from sogni_sync.testing._media import render_audio, render_image
from sogni_sync.testing._state import State, error, ok

__all__ = ["RunEngine", "register"]

BASE = "/v1/chat/runs"
TERMINAL = ("completed", "failed", "cancelled", "partial_failure")
#: capacity units per hosted media tool (the emulator's price list)
PRICES = {"generate_image": 4.0, "edit_image": 4.0, "generate_music": 8.0,
          "generate_video": 40.0}
INLINE = "Durable chat runs do not support inline base64/data URI media."
_CONTEXT_FIELDS = ("images", "videos", "audio", "uploadedImages", "uploadedVideos",
                   "uploadedAudio")


def _iso(offset: float = 0.0) -> str:
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _inline_media(body: dict[str, Any]) -> list[str]:
    """Paths of media given inline (``data:``) or not as an HTTP(S) URL."""

    def bad(value: Any) -> bool:
        return isinstance(value, str) and bool(value.strip()) and not value.strip().lower(
        ).startswith(("http://", "https://"))

    found: list[str] = []
    for i, message in enumerate(body.get("messages") or []):
        parts = message.get("content") if isinstance(message, dict) else None
        for j, part in enumerate(parts if isinstance(parts, list) else []):
            url = ((part.get("image_url") or {}).get("url")
                   if isinstance(part, dict) and part.get("type") == "image_url" else None)
            if bad(url):
                found.append(f"messages[{i}].content[{j}].image_url.url")
    for i, ref in enumerate(body.get("media_references") or []):
        if isinstance(ref, dict) and (bad(ref.get("url")) or ref.get("dataUri")):
            found.append(f"mediaReferences[{i}]")
    context = body.get("media_context") or {}
    for field in _CONTEXT_FIELDS:
        values = context.get(field) if isinstance(context, dict) else None
        found += [f"mediaContext.{field}[{i}]" for i, v in enumerate(values or []) if bad(v)]
    return found


def _hosted_name(name: str) -> str:
    return name.removeprefix("sogni_")


class RunEngine:
    """Run records and their runner tasks (emulator loop only)."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.records: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str] = {}
        self.changed: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.decisions: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.keys: dict[tuple[str, str], str] = {}  # (owner, Idempotency-Key) → run id
        self.token_delay = 0.0
        self.stream_requests: list[str | None] = []  # Last-Event-ID of each stream

    def reset(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for store in (self.records, self.owners, self.changed, self.tasks, self.decisions,
                      self.keys):
            store.clear()
        self.token_delay = 0.0
        self.stream_requests.clear()

    # -- records ---------------------------------------------------------------------------

    def create(self, owner: str, body: dict[str, Any]) -> dict[str, Any]:
        rid = f"run_{secrets.token_hex(8)}"
        now = _iso()
        record: dict[str, Any] = {
            "runId": rid, "status": "queued", "schemaVersion": "1",
            "scope": {"ownerWalletAddress": owner,
                      **({"tokenType": body["token_type"]} if body.get("token_type") else {}),
                      **({"appSource": body["app_source"]} if body.get("app_source") else {})},
            "request": {"sessionId": body.get("session_id"),
                        "clientMessageId": body.get("client_message_id"),
                        "model": body.get("model"), "messages": body["messages"]},
            "messages": list(body["messages"]), "toolCalls": [], "toolResults": [],
            "mediaContext": body.get("media_context") or {"images": [], "videos": [],
                                                          "audio": []},
            "artifacts": [], "events": [],
            "timestamps": {"createdAt": now, "updatedAt": now},
        }
        self.records[rid] = record
        self.owners[rid] = owner
        self.changed[rid] = asyncio.Event()
        self._event(record, "run_queued", status="queued")
        self.tasks[rid] = asyncio.get_running_loop().create_task(self._run(record, body))
        return record

    def _event(self, record: dict[str, Any], kind: str, *, status: str | None = None,
               **payload: Any) -> None:
        if status is not None:
            record["status"] = status
            payload = {"status": status, **payload}
        at = _iso()
        record["events"].append({"sequence": len(record["events"]) + 1, "type": kind, "at": at,
                                 "payload": payload})
        record["timestamps"]["updatedAt"] = at
        if status in TERMINAL:
            record["timestamps"]["completedAt"] = at
        flag = self.changed.get(record["runId"])
        if flag is not None:
            flag.set()
            self.changed[record["runId"]] = asyncio.Event()

    # -- the run ---------------------------------------------------------------------------

    async def _run(self, record: dict[str, Any], body: dict[str, Any]) -> None:
        await asyncio.sleep(self.state.options.step_delay or 0)
        self._event(record, "run_started", status="running")
        plan = plan_reply(body)
        call = plan["tool_call"]
        if call is not None and _hosted_name(call["name"]) in PRICES:
            if not await self._tool_round(record, body, call):
                return
            plan = plan_reply({**body, "messages": record["messages"], "tools": None})
        elif call is not None:  # a client-side function: the server cannot run it
            record["toolCalls"].append({"id": f"call_{secrets.token_hex(6)}",
                                        "type": "function", "function": call})
            plan = {**plan, "pieces": [], "content": ""}
        for piece in plan["pieces"]:
            if piece:
                self._event(record, "message_delta", delta=piece)
                await asyncio.sleep(self.token_delay)
        record["finalResponse"] = {"content": plan["content"],
                                   "finishReason": plan["finish_reason"]}
        self._event(record, "run_completed", status="completed",
                    finalResponse=record["finalResponse"])

    async def _tool_round(self, record: dict[str, Any], body: dict[str, Any],
                          call: dict[str, Any]) -> bool:
        """Run one paid tool call (after approval when needed); False when the run ended."""
        call_id = f"call_{secrets.token_hex(6)}"
        name = _hosted_name(call["name"])
        units = PRICES[name]
        tool_call = {"id": call_id, "type": "function", "function": call}
        record["toolCalls"].append(tool_call)
        self._event(record, "tool_call_requested", toolCallId=call_id, toolName=name)
        runtime = body.get("runtime_config") or {}
        ceiling = body.get("max_estimated_capacity_units")
        overrides: dict[str, Any] = {}
        needs_ok = bool(runtime.get("requireJobConfirmation")) or (
            isinstance(ceiling, (int, float)) and units > ceiling)
        if needs_ok and body.get("confirm_cost") is not True:
            preview = {"totalEstimatedCapacityUnits": units,
                       "tokenType": body.get("token_type") or "spark",
                       "validityUntil": _iso(600),
                       "perToolBreakdown": [{"toolCallId": call_id, "toolName": name,
                                             "capacityUnits": units}]}
            waiting = {"reason": "cost_approval_required",
                       "message": f"{name} needs about {units:g} capacity units",
                       "details": {"toolCallId": call_id, "pendingToolCallIds": [call_id],
                                   "costApprovalPreview": preview}}
            record["waiting"] = waiting
            record["billingPreview"] = preview
            self.decisions[record["runId"]] = asyncio.get_running_loop().create_future()
            self._event(record, "run_awaiting_cost_confirmation", toolCallId=call_id,
                        toolName=name, costApprovalPreview=preview)
            self._event(record, "run_waiting_for_user", status="waiting_for_user", **waiting)
            decision = await self.decisions[record["runId"]]
            record.pop("waiting", None)
            if decision["decision"] != "confirm":
                reason = decision.get("reason") or "Cost approval declined"
                self._event(record, "run_cost_declined", toolCallId=call_id, reason=reason)
                record["cancellationReason"] = reason
                self._event(record, "run_cancelled", status="cancelled", reason=reason)
                return False
            overrides = decision.get("overrides") or {}
            self._event(record, "run_cost_confirmed", status="running", toolCallId=call_id)
        arguments = {**json.loads(call["arguments"] or "{}"), **overrides}
        self._event(record, "tool_call_started", toolCallId=call_id, toolName=name)
        await asyncio.sleep(self.state.options.step_delay or 0)
        artifact = self._artifact(record, name, str(arguments.get("prompt") or name))
        record["artifacts"].append(artifact)
        result = {"toolCallId": call_id, "toolName": name, "success": True,
                  "urls": [artifact["url"]], "capacityUnits": units}
        record["toolResults"].append(result)
        summary = f"{name}: 1 {artifact['type']} ready"
        record["messages"] += [{"role": "assistant", "content": "", "tool_calls": [tool_call]},
                               {"role": "tool", "tool_call_id": call_id, "content": summary}]
        self._event(record, "tool_call_completed", toolCallId=call_id, toolName=name,
                    artifacts=[artifact])
        return True

    def _artifact(self, record: dict[str, Any], name: str, prompt: str) -> dict[str, Any]:
        key = f"runs/{record['runId']}/{len(record['artifacts'])}"
        if name == "generate_music":
            data, mime, kind = render_audio(prompt, 0, 2, "mp3"), "audio/mpeg", "audio"
        else:  # images stand in for the other media here
            data = render_image(prompt, 0, 512, 512, model=name,
                                max_side=self.state.options.media_max_side)
            mime, kind = "image/png", "image"
        self.state.storage.put(key, data, mime)
        return {"id": f"art_{secrets.token_hex(6)}", "type": kind, "mimeType": mime,
                "url": self.state.storage.signed_url(key)}

    # -- decisions -------------------------------------------------------------------------

    def decide(self, record: dict[str, Any], body: dict[str, Any]) -> tuple[int, str] | None:
        """Check a confirm-cost body against the pause; None when accepted (and applied)."""
        waiting = record.get("waiting")
        future = self.decisions.get(record["runId"])
        if not waiting or future is None or future.done():
            return 409, "Chat run is not awaiting cost approval"
        details = waiting["details"]
        if body.get("decision") not in ("confirm", "cancel"):
            return 400, "decision must be 'confirm' or 'cancel'"
        if body.get("tool_call_id") != details["toolCallId"]:
            return 400, "tool_call_id does not match the paused tool call"
        if body["decision"] == "confirm":
            accepted = body.get("acceptedCostPreview")
            if not isinstance(accepted, dict):
                return 400, "acceptedCostPreview is required to confirm"
            if accepted != details["costApprovalPreview"]:
                return 409, "acceptedCostPreview is stale or does not match the current preview"
        future.set_result(body)
        return None

    def cancel(self, record: dict[str, Any], reason: str | None) -> None:
        if record["status"] in TERMINAL:
            return
        task = self.tasks.get(record["runId"])
        if task is not None:
            task.cancel()
        record.pop("waiting", None)
        record["cancellationReason"] = reason or "Cancelled by user"
        self._event(record, "run_cancelled", status="cancelled",
                    reason=record["cancellationReason"])


def _sse(event: dict[str, Any]) -> bytes:
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event['sequence']}\nevent: {event['type']}\ndata: {data}\n\n".encode()


def _check_create(body: Any, state: State) -> str | None:
    if not isinstance(body, dict):
        return "Request body must be an object"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    model = body.get("model")
    if model is not None and model not in state.catalog.llm_models:
        return f"Model {model} is not available"
    if body.get("token_type") not in (None, "sogni", "spark"):
        return "token_type must be sogni or spark"
    if body.get("billing_mode") not in (None, "auto", "subscription", "tokens"):
        return "billing_mode must be auto, subscription or tokens"
    inline = _inline_media(body)
    if inline:
        return f"{INLINE} Offending field(s): {', '.join(inline)}"
    return None


def register(rest: web.Application, socket: web.Application, state: State) -> None:
    """Emulator extension hook: durable chat-run REST + SSE routes."""
    engine = RunEngine(state)
    state.extras["runs"] = engine
    state.extras.setdefault("reset_hooks", []).append(engine.reset)
    not_found = (404, "Chat run not found", 404)

    def owner(request: web.Request) -> str:
        account = request.get("account") or state.authenticate(request)
        return str(account.username) if account is not None else ""

    def owned(request: web.Request) -> dict[str, Any] | None:
        rid = request.match_info["rid"]
        if engine.owners.get(rid) != owner(request):
            return None
        return engine.records[rid]

    async def json_body(request: web.Request) -> Any:
        if not request.body_exists:
            return {}
        try:
            return await request.json()
        except ValueError:
            return None

    async def create(request: web.Request) -> web.Response:
        body = await json_body(request)
        problem = _check_create(body, state)
        if problem:
            return error(400, problem, 400)
        who = owner(request)
        key = request.headers.get("Idempotency-Key")
        if key and (who, key) in engine.keys:
            return ok({"run": engine.records[engine.keys[(who, key)]]}, status=202)
        record = engine.create(who, body)
        if key:
            engine.keys[(who, key)] = record["runId"]
        return ok({"run": record}, status=202)

    async def get_one(request: web.Request) -> web.Response:
        record = owned(request)
        return ok({"run": record}) if record else error(*not_found)

    async def cancel(request: web.Request) -> web.Response:
        record = owned(request)
        if record is None:
            return error(*not_found)
        body = await json_body(request)
        engine.cancel(record, body.get("reason") if isinstance(body, dict) else None)
        return ok({"run": record})

    async def confirm(request: web.Request) -> web.Response:
        record = owned(request)
        if record is None:
            return error(*not_found)
        key = request.headers.get("Idempotency-Key")
        if key and (record["runId"], key) in engine.keys:
            return ok({"run": record})
        body = await json_body(request)
        if not isinstance(body, dict):
            return error(400, "Request body must be an object", 400)
        problem = engine.decide(record, body)
        if problem:
            return error(problem[0], problem[1], problem[0])
        if key:
            engine.keys[(record["runId"], key)] = record["runId"]
        await asyncio.sleep(0)  # let the run record the decision before answering
        return ok({"run": record})

    async def stream(request: web.Request) -> web.StreamResponse:
        try:
            return await follow(request)
        except ConnectionResetError:  # the reader left (a resume, or it stopped reading)
            return web.StreamResponse()

    async def follow(request: web.Request) -> web.StreamResponse:
        record = owned(request)
        if record is None:
            return error(*not_found)
        raw = request.headers.get("Last-Event-ID")
        engine.stream_requests.append(raw)
        try:
            after = int(raw or "0")
        except ValueError:
            return error(400, "Last-Event-ID must be an event sequence number", 400)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        status = json.dumps({"runId": record["runId"], "status": record["status"]})
        await response.write(f"event: run_status\ndata: {status}\n\n".encode())
        rid = record["runId"]
        quiet = 0
        while True:
            for event in record["events"][after:]:
                await response.write(_sse(event))
                after = event["sequence"]
                if event["payload"].get("status") in TERMINAL:
                    await response.write_eof()
                    return response
            flag = engine.changed.get(rid)
            if flag is None or record["status"] in TERMINAL:
                return response
            try:
                await asyncio.wait_for(flag.wait(), timeout=1.0)
                quiet = 0
            except asyncio.TimeoutError:  # poll: a reader that left must not hold the task
                if request.transport is None or request.transport.is_closing():
                    return response
                quiet += 1
                if quiet % 15 == 0:
                    await response.write(b": keep-alive\n\n")

    rest.router.add_post(BASE, create)
    rest.router.add_get(BASE + "/{rid}", get_one)
    rest.router.add_post(BASE + "/{rid}/cancel", cancel)
    rest.router.add_post(BASE + "/{rid}/confirm-cost", confirm)
    rest.router.add_get(BASE + "/{rid}/events/stream", stream)
