"""Emulated workflow templates under ``/v1/creative-agent/workflows/templates``.

Two system templates are always there (author ``"system"``, public). Accounts create private
(or public) templates, change and delete their own, and fork any they can see. A template's
``stages`` are hosted tool steps ``{id, toolName, arguments, dependsOn?}``; an argument equal to
``"$inputs.<name>"`` takes that input's value, and ``$inputs.<name>`` inside a longer string is
replaced by its text. :meth:`TemplateStore.resolve` turns a template and run inputs into steps,
checking the declared ``inputs`` (required, type, select options, defaults). Registered by
:mod:`._workflows` (before its ``/{wid}`` routes, which would match ``templates``).
"""

from __future__ import annotations

import copy
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sogni_sync.testing._state import error, ok

__all__ = ["SYSTEM_TEMPLATES", "TemplateStore", "add_template_routes", "read_json"]

BASE = "/v1/creative-agent/workflows/templates"
VISIBILITIES = ("private", "public", "team")
_PLACEHOLDER = re.compile(r"\$inputs\.([A-Za-z0-9_]+)")
_MEDIA = ("image", "audio", "video")


def _now() -> int:
    return int(time.time() * 1000)


SYSTEM_TEMPLATES: list[dict[str, Any]] = [
    {"id": "sys_portrait_to_clip", "name": "Portrait to clip", "version": "1.0.0",
     "description": "A portrait from a brief, then a short clip of it.",
     "category": "video-social", "stability": "production", "author": "system",
     "visibility": "public", "exposeToLLM": True, "tags": ["portrait", "video"],
     "inputs": [{"name": "brief", "type": "text", "required": True},
                {"name": "motion", "type": "text", "default": "slow push-in"}],
     "stages": [{"id": "portrait", "toolName": "sogni_generate_image",
                 "arguments": {"prompt": "$inputs.brief"}},
                {"id": "clip", "toolName": "sogni_generate_video",
                 "arguments": {"prompt": "$inputs.brief, $inputs.motion"},
                 "dependsOn": [{"sourceStepId": "portrait",
                                "targetArgument": "reference_image_url",
                                "transform": "artifact_url"}]}],
     "estimatedCapacityUnits": {"min": 4, "max": 9}},
    {"id": "sys_jingle", "name": "Jingle", "version": "1.0.0",
     "description": "A short instrumental from a mood.", "category": "music",
     "stability": "beta", "author": "system", "visibility": "public",
     "inputs": [{"name": "mood", "type": "select", "required": True,
                 "options": [{"value": "happy", "label": "Happy"},
                             {"value": "calm", "label": "Calm"}]},
                {"name": "seconds", "type": "number", "default": 10}],
     "stages": [{"id": "music", "toolName": "sogni_generate_music",
                 "arguments": {"prompt": "a $inputs.mood jingle", "duration": "$inputs.seconds"}}]},
]


def _check_input(spec: dict[str, Any], value: Any) -> str | None:
    name, kind = spec.get("name"), spec.get("type")
    if kind == "text" and not isinstance(value, str):
        return f'Input "{name}" must be a string'
    if kind == "number" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        return f'Input "{name}" must be a number'
    if kind == "boolean" and not isinstance(value, bool):
        return f'Input "{name}" must be a boolean'
    if kind in _MEDIA and not (isinstance(value, str)
                               and value.lower().startswith(("http://", "https://"))):
        return f'Input "{name}" must be an http(s) {kind} URL'
    if kind == "select":
        allowed = [o.get("value") for o in spec.get("options") or [] if isinstance(o, dict)]
        if value not in allowed:
            return f'Input "{name}" must be one of {", ".join(map(str, allowed))}'
    return None


def _substitute(value: Any, inputs: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return inputs.get(whole.group(1))
        return _PLACEHOLDER.sub(lambda m: str(inputs.get(m.group(1), "")), value)
    if isinstance(value, list):
        return [_substitute(v, inputs) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, inputs) for k, v in value.items()}
    return value


class TemplateStore:
    """Templates by id with their owners (``"system"`` for the built-in ones)."""

    def __init__(self) -> None:
        self.templates: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str] = {}
        self.reset()

    def reset(self) -> None:
        self.templates = {t["id"]: copy.deepcopy(t) for t in SYSTEM_TEMPLATES}
        self.owners = {t["id"]: "system" for t in SYSTEM_TEMPLATES}

    def visible(self, tid: str, username: str) -> dict[str, Any] | None:
        template = self.templates.get(tid)
        if template is None:
            return None
        if self.owners[tid] == username or template.get("visibility") == "public":
            return template
        return None

    def resolve(self, template: dict[str, Any], given: Any) -> tuple[list[dict[str, Any]],
                                                                      str] | str:
        """``(steps, title)`` for a run, or the error text."""
        if given is None:
            given = {}
        if not isinstance(given, dict):
            return "inputs must be an object"
        specs = {s["name"]: s for s in template.get("inputs") or []
                 if isinstance(s, dict) and isinstance(s.get("name"), str)}
        for name in given:
            if name not in specs:
                return f'Unknown input "{name}" for template {template["id"]}'
        values: dict[str, Any] = {}
        for name, spec in specs.items():
            if given.get(name) is not None:
                problem = _check_input(spec, given[name])
                if problem:
                    return problem
                values[name] = given[name]
            elif "default" in spec:
                values[name] = spec["default"]
            elif spec.get("required") is True:
                return f'Missing required input "{name}"'
        steps = [{"id": stage.get("id") or f"stage-{i + 1}", "toolName": stage.get("toolName"),
                  "arguments": _substitute(stage.get("arguments") or {}, values),
                  **({"dependsOn": stage["dependsOn"]} if stage.get("dependsOn") else {})}
                 for i, stage in enumerate(template.get("stages") or [])]
        if not steps:
            return f"Template {template['id']} has no stages"
        return steps, str(template["name"])

    def create(self, body: dict[str, Any], account: Any) -> dict[str, Any] | str:
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            return "name is required"
        tid = body.get("id") or f"tpl_{secrets.token_hex(6)}"
        if not isinstance(tid, str):
            return "id must be a string"
        if tid in self.templates:
            return f"Template {tid} already exists"
        problem = self._check_shape(body)
        if problem:
            return problem
        now = _now()
        template = {"version": "1.0.0", "description": "", "visibility": "private",
                    "inputs": [], "stages": [], **copy.deepcopy(body), "id": tid,
                    "author": {"userId": account.username, "displayName": account.username},
                    "createdAt": now, "updatedAt": now}
        self.templates[tid] = template
        self.owners[tid] = account.username
        return template

    @staticmethod
    def _check_shape(body: dict[str, Any]) -> str | None:
        if body.get("visibility", "private") not in VISIBILITIES:
            return "visibility must be private, public or team"
        for key in ("inputs", "stages"):
            if key in body and not isinstance(body[key], list):
                return f"{key} must be an array"
        for stage in body.get("stages") or []:
            if not isinstance(stage, dict) or not isinstance(stage.get("toolName"), str):
                return "each stage needs a toolName"
        return None

    def update(self, tid: str, patch: dict[str, Any]) -> dict[str, Any] | str:
        problem = self._check_shape(patch)
        if problem:
            return problem
        template = self.templates[tid]
        fixed = {"id", "author", "createdAt"}
        template.update({k: copy.deepcopy(v) for k, v in patch.items() if k not in fixed})
        template["updatedAt"] = max(_now(), int(template.get("updatedAt") or 0) + 1)
        return template

    def fork(self, tid: str, account: Any, new_name: Any) -> dict[str, Any]:
        source = self.templates[tid]
        body = {k: v for k, v in copy.deepcopy(source).items()
                if k not in ("id", "author", "createdAt", "updatedAt")}
        body.update(name=new_name if isinstance(new_name, str) and new_name.strip()
                    else f"{source['name']} (fork)", visibility="private", forkedFrom=tid)
        created = self.create(body, account)
        assert isinstance(created, dict)
        return created


async def read_json(request: web.Request) -> Any:
    try:
        return await request.json() if request.body_exists else {}
    except ValueError:
        return None


def add_template_routes(rest: web.Application, store: TemplateStore,
                        account_of: Callable[[web.Request], Any]) -> None:
    """Template CRUD and fork on the REST host (register before ``/{wid}`` routes)."""
    missing = (404, "Workflow template not found", 404)

    async def listing(request: web.Request) -> web.Response:
        me = account_of(request).username
        which = request.query.get("visibility", "all")
        if which not in ("own", "public", "all"):
            return error(400, "visibility must be own, public or all", 400)
        try:
            offset = max(int(request.query.get("offset", "0")), 0)
            limit = min(max(int(request.query.get("limit", "50")), 1), 200)
        except ValueError:
            return error(400, "offset and limit must be integers", 400)
        rows = [t for tid, t in store.templates.items()
                if (which != "public" and store.owners[tid] == me)
                or (which != "own" and t.get("visibility") == "public")]
        page = rows[offset:offset + limit]
        more = offset + limit < len(rows)
        return ok({"templates": page, "next": offset + limit if more else None})

    def mine(request: web.Request) -> tuple[dict[str, Any] | None, web.Response | None]:
        tid = request.match_info["tid"]
        template = store.visible(tid, account_of(request).username)
        if template is None:
            return None, error(*missing)
        if store.owners[tid] != account_of(request).username:
            return None, error(403, "You can only change your own workflow templates", 403)
        return template, None

    async def get_one(request: web.Request) -> web.Response:
        template = store.visible(request.match_info["tid"], account_of(request).username)
        return ok({"template": template}) if template else error(*missing)

    async def create(request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            return error(400, "Request body must be an object", 400)
        made = store.create(body, account_of(request))
        if isinstance(made, str):
            return error(409 if made.endswith("already exists") else 400, made,
                         409 if made.endswith("already exists") else 400)
        return ok({"template": made}, status=201)

    async def update(request: web.Request) -> web.Response:
        template, refusal = mine(request)
        if refusal is not None or template is None:
            return refusal or error(*missing)
        patch = await read_json(request)
        if not isinstance(patch, dict):
            return error(400, "Request body must be an object", 400)
        changed = store.update(template["id"], patch)
        return error(400, changed, 400) if isinstance(changed, str) else ok({"template": changed})

    async def delete(request: web.Request) -> web.Response:
        template, refusal = mine(request)
        if refusal is not None or template is None:
            return refusal or error(*missing)
        del store.templates[template["id"]], store.owners[template["id"]]
        return ok({"deleted": True, "id": template["id"]})

    async def fork(request: web.Request) -> web.Response:
        source = store.visible(request.match_info["tid"], account_of(request).username)
        if source is None:
            return error(*missing)
        body = await read_json(request)
        new_name = body.get("newName") if isinstance(body, dict) else None
        return ok({"template": store.fork(source["id"], account_of(request), new_name)},
                  status=201)

    rest.router.add_get(BASE, listing)
    rest.router.add_post(BASE, create)
    rest.router.add_get(BASE + "/{tid}", get_one)
    rest.router.add_patch(BASE + "/{tid}", update)
    rest.router.add_delete(BASE + "/{tid}", delete)
    rest.router.add_post(BASE + "/{tid}/fork", fork)
