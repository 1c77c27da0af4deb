"""Emulated creative-agent extras: hosted tool execution, replay records, announcements.

* ``POST /v1/creative-agent/tools/execute`` ``{tool, arguments, token_type?, app_source?,
  safe_content_filter?}`` runs one synchronous hosted tool of the current manifest
  (``hosted_tools_current.json``): required arguments are checked, the answer is deterministic
  ``{toolCallId, tool, result, message}``. Media tools are refused (they run as projects or
  through hosted chat).
* ``/v1/replay/records`` (bare JSON, no envelope: both official clients read it so): ``POST``
  stores a RunRecord (``run_id`` required; a ``secret`` / ``api_key`` / ``authorization`` key
  anywhere is blanked and ``redacted`` set), ``GET`` lists the caller's summaries newest first
  (``limit``), ``GET …/{runId}`` returns one.
* ``GET /v1/announcements/active?platform=`` lists live announcements (under ``data`` and at the
  top level: the official clients read one each) minus the account's dismissed ones
  (platform-scoped ones only when the platform matches); ``POST /v1/announcements/{id}/dismiss``.
  Test hook ``publish(alert)``, through
  ``net.call(lambda s: s.extras["announcements"].publish({...}))``: stores one and pushes it as
  ``appAlert`` to connections that opted in, as ``toastMessage`` to the rest; calling it again
  with the same id redelivers. Live pinned ones are re-sent on every new connection, as the
  server does.
"""

from __future__ import annotations

import hashlib
import json
import time
from importlib import resources
from typing import Any

from aiohttp import web

from sogni_sync.testing._state import State, error, ok

__all__ = ["Announcements", "register_agent_routes"]

EXECUTE = "/v1/creative-agent/tools/execute"
REPLAY = "/v1/replay/records"
ANNOUNCEMENTS = "/v1/announcements"
SYNCHRONOUS = ("enhance_prompt", "compose_script", "compose_lyrics", "compose_instrumental",
               "compose_workflow", "compose_workflow_template")
SECRET_KEYS = ("secret", "api_key", "apikey", "authorization", "password")


def _now() -> int:
    return int(time.time() * 1000)


def _manifest() -> dict[str, dict[str, Any]]:
    text = resources.files("sogni_sync").joinpath("data/hosted_tools_current.json") \
        .read_text("utf-8")
    return {t["function"]["name"]: t["function"]["parameters"]
            for t in json.loads(text)["tools"]}


def _tool_result(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    seed = str(args.get("brief") or args.get("prompt") or "")
    digest = hashlib.sha256(f"{tool}:{seed}".encode()).hexdigest()[:8]
    if tool == "enhance_prompt":
        return {"prompt": f"{seed}, highly detailed, cinematic lighting",
                "destination_model": args.get("destination_model")}
    if tool == "compose_workflow":
        count = int(args.get("scene_count") or 2)
        steps = [{"id": f"scene-{i + 1}", "toolName": "generate_image",
                  "arguments": {"prompt": f"{seed} (scene {i + 1})"}} for i in range(count)]
        return {"steps": steps, "estimatedCapacityUnits": 2 * count, "fits_budget": True}
    if tool == "compose_workflow_template":
        return {"template_draft": {
            "name": args.get("name"), "version": "1.0.0", "description": seed,
            "inputs": [{"name": "subject", "type": "text", "required": True}],
            "stages": [{"id": "image", "toolName": "generate_image",
                        "arguments": {"prompt": "$inputs.subject"}}]},
            "plan": {"steps": [{"id": "image", "toolName": "generate_image",
                                "arguments": {"prompt": seed}}]}}
    return {"text": f"[{tool} {digest}] {seed}"}


def _redact(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        out, hit = {}, False
        for key, item in value.items():
            if key.lower() in SECRET_KEYS:
                out[key], hit = "[REDACTED]", True
            else:
                out[key], sub = _redact(item)
                hit = hit or sub
        return out, hit
    if isinstance(value, list):
        pairs = [_redact(v) for v in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


class Announcements:
    """Live announcements and per-account dismissals (emulator loop only)."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.live: dict[str, dict[str, Any]] = {}
        self.platforms: dict[str, str | None] = {}
        self.dismissed: set[tuple[str, str]] = set()

    def publish(self, alert: dict[str, Any], platform: str | None = None) -> None:
        alert = {"kind": "toast", "severity": "info", "pinned": False, "dismissible": True,
                 "bodyMarkdown": "", "startsAt": _now(), **alert}
        self.live[alert["id"]] = alert
        self.platforms[alert["id"]] = platform
        for conn in list(self.state.connections.values()):
            if (conn.account.username, alert["id"]) in self.dismissed:
                continue
            if conn.subscriptions.get("appAlert") is True:
                conn.send("appAlert", alert)
            else:
                conn.send("toastMessage", {"type": alert["severity"], "title": alert["title"],
                                           "message": alert["bodyMarkdown"]})

    def on_connect(self, conn: Any) -> None:
        """As the server does: a live pinned announcement is re-sent on every connection."""
        for aid, alert in self.live.items():
            if alert.get("pinned") and (conn.account.username, aid) not in self.dismissed \
                    and conn.subscriptions.get("appAlert") is True \
                    and (alert.get("endsAt") is None or alert["endsAt"] > _now()):
                conn.send("appAlert", alert)

    def reset(self) -> None:
        self.live.clear()
        self.platforms.clear()
        self.dismissed.clear()


def register_agent_routes(rest: web.Application, state: State) -> None:
    schemas = _manifest()
    records: dict[str, tuple[str, dict[str, Any], int, int, bool]] = {}
    notices = Announcements(state)
    state.extras["announcements"] = notices
    state.extras.setdefault("reset_hooks", []).extend([notices.reset, records.clear])
    state.extras.setdefault("connect_hooks", []).append(notices.on_connect)

    def user(request: web.Request) -> str:
        account: Any = request.get("account") or state.authenticate(request)
        return str(account.username)

    async def body_of(request: web.Request) -> Any:
        try:
            return await request.json() if request.body_exists else {}
        except ValueError:
            return None

    async def execute(request: web.Request) -> web.Response:
        body = await body_of(request)
        if not isinstance(body, dict):
            return error(400, "Request body must be an object", 400)
        tool, args = body.get("tool"), body.get("arguments")
        if tool not in schemas:
            return error(400, f'Unknown hosted Sogni tool "{tool}"', 400)
        if tool not in SYNCHRONOUS:
            return error(400, f"Tool '{tool}' is not a synchronous hosted tool; run it through "
                              "chat.hosted.create() or chat.runs.create()", 400)
        if not isinstance(args, dict):
            return error(400, f"Invalid {tool} arguments: Tool arguments must be a JSON object",
                         400)
        missing = [k for k in schemas[tool].get("required", []) if args.get(k) is None]
        if missing:
            text = "; ".join(f'Missing required argument "{k}"' for k in missing)
            return error(400, f"Invalid {tool} arguments: {text}", 400)
        call_id = "call_" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()) \
            .hexdigest()[:12]
        return ok({"toolCallId": call_id, "tool": tool, "result": _tool_result(tool, args),
                   "message": None})

    async def write(request: web.Request) -> web.Response:
        body = await body_of(request)
        if not isinstance(body, dict) or not isinstance(body.get("run_id"), str) \
                or not body["run_id"]:
            return error(400, "run_id is required", 400)
        clean, redacted = _redact(body)
        now = _now()
        old = records.get(body["run_id"])
        if old is not None and old[0] != user(request):
            return error(403, "Replay record belongs to another account", 403)
        created = old[2] if old else now
        records[body["run_id"]] = (user(request), clean, created, now, redacted)
        return web.json_response(
            {"runId": body["run_id"], "schemaVersion": clean.get("schema_version", 1),
             "redacted": redacted, "createTime": created, "updateTime": now},
            status=201 if old is None else 200)

    async def listing(request: web.Request) -> web.Response:
        try:
            limit = min(max(int(request.query.get("limit", "50")), 1), 200)
        except ValueError:
            return error(400, "limit must be an integer", 400)
        mine = sorted((r for r in records.values() if r[0] == user(request)),
                      key=lambda r: r[3], reverse=True)[:limit]
        rows = []
        for _, rec, created, updated, _red in mine:
            row: dict[str, Any] = {"runId": rec["run_id"],
                                   "schemaVersion": rec.get("schema_version", 1),
                                   "createTime": created, "updateTime": updated,
                                   "rounds": len(rec.get("rounds") or [])}
            for key, wire in (("user_request", "userRequest"),
                              ("final_response", "finalResponse"), ("model_id", "modelId")):
                if key in rec:
                    row[wire] = rec[key]
            rows.append(row)
        return web.json_response({"records": rows})

    async def get_one(request: web.Request) -> web.Response:
        found = records.get(request.match_info["rid"])
        if found is None or found[0] != user(request):
            return error(404, "Replay record not found", 404)
        return web.json_response({"record": found[1], "createTime": found[2]})

    async def active(request: web.Request) -> web.Response:
        me, platform = user(request), request.query.get("platform")
        live = [a for aid, a in notices.live.items() if (me, aid) not in notices.dismissed
                and notices.platforms[aid] in (None, platform)
                and (a.get("endsAt") is None or a["endsAt"] > _now())]
        # both shapes: JS 5.54 reads data.announcements, Python 5.70 a top-level key
        return web.json_response({"status": "success", "data": {"announcements": live},
                                  "announcements": live})

    async def dismiss(request: web.Request) -> web.Response:
        aid = request.match_info["aid"]
        if aid not in notices.live:
            return error(404, "Announcement not found", 404)
        notices.dismissed.add((user(request), aid))
        return ok({"dismissed": True, "id": aid})

    rest.router.add_post(EXECUTE, execute)
    rest.router.add_post(REPLAY, write)
    rest.router.add_get(REPLAY, listing)
    rest.router.add_get(REPLAY + "/{rid}", get_one)
    rest.router.add_get(ANNOUNCEMENTS + "/active", active)
    rest.router.add_post(ANNOUNCEMENTS + "/{aid}/dismiss", dismiss)
