"""Emulated LoRA endpoints: the public catalogue ``GET /v1/loras/comfy[?modelId=]`` and the
personal library ``/v1/loras/personal`` (list, get, import, delete, catalog).

The catalogue is :data:`CATALOG` (a few LoRAs of the packaged image models). A personal import
moves one status per read (``queued`` → ``validating`` → ``ready``); a URL containing
``reject`` ends ``rejected`` (``invalid_artifact``), one containing ``private`` fails at once
with ``source_access``. The library holds :data:`LIMITS` ``entries``.
"""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from sogni_sync.testing._state import State, error, ok
from sogni_sync.testing._wire import now_ms

__all__ = ["CATALOG", "LIMITS", "register"]

_MODELS = ("flux1-schnell-fp8", "flux1-krea-dev_fp8_scaled", "z_image_turbo_bf16")
CONSTRAINTS = {"maxPerRequest": 8, "minStrength": -100, "maxStrength": 100}
LIMITS = {"entries": 3, "fileBytes": 1024 ** 3, "importsPerDay": 10, "perGeneration": 2}


def _ui(low: float, high: float, default: float, **extra: Any) -> dict[str, Any]:
    return {"min": low, "max": high, "default": default, "step": 0.05,
            "recommendedMin": low / 2, "recommendedMax": high / 2, "category": "style",
            "nsfw": False, "sexual": False, "creator": "emulator",
            "sourceUrl": "https://example.invalid/loras", **extra}


CATALOG: list[dict[str, Any]] = [
    {"loraId": "detail_tweaker", "slug": "detail-tweaker", "name": "Detail tweaker",
     "description": "More or less fine detail.", "relatedLoraIds": ["warm_light"],
     "modelIds": list(_MODELS[:2]), "ui": _ui(-2, 2, 1, rangeLabels={
         "min": "Smoother", "max": "More detail"}, examples=[
         {"url": "https://example.invalid/detail.png", "caption": "detail 1.0"}])},
    {"loraId": "warm_light", "slug": "warm-light", "name": "Warm light",
     "description": "Cooler or warmer light.", "relatedLoraIds": [],
     "modelIds": [_MODELS[1]], "ui": _ui(-1, 1, 0, section={
         "id": "light", "label": "Light", "order": 1})},
    {"loraId": "z_sketch", "slug": "z-sketch", "name": "Sketch", "description": "Pencil look.",
     "relatedLoraIds": [], "modelIds": [_MODELS[2]], "ui": _ui(0, 1.5, 0.8)},
]
_NEXT = {"queued": "validating", "validating": "ready"}


class PersonalLibrary:
    """Each account's imports, keyed by username."""

    def __init__(self) -> None:
        self.by_user: dict[str, dict[str, dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def reset(self) -> None:
        self.by_user.clear()

    def of(self, username: str) -> dict[str, dict[str, Any]]:
        return self.by_user.setdefault(username, {})

    def add(self, username: str, body: dict[str, Any]) -> dict[str, Any]:
        url = str(body.get("url"))
        now = now_ms()
        entry: dict[str, Any] = {
            "id": f"personal-{next(self._ids):04d}", "name": body.get("name"),
            "modelId": body.get("modelId"), "modelIds": [body.get("modelId")],
            "source": "civitai" if "civitai" in url else "huggingface", "status": "queued",
            "createdAt": now, "updatedAt": now, "requirements": [], "_url": url}
        if "private" in url:
            entry.update(status="rejected", reason="The file could not be downloaded.",
                         failureCode="source_access")
        self.of(username)[entry["id"]] = entry
        return entry

    @staticmethod
    def advance(entry: dict[str, Any]) -> None:
        status = entry["status"]
        if status == "validating" and "reject" in entry["_url"]:
            entry.update(status="rejected", reason="Not a LoRA file.",
                         failureCode="invalid_artifact")
        elif status in _NEXT:
            entry["status"] = _NEXT[status]
            if entry["status"] == "ready":
                entry["bytes"] = 151_000_000
        entry["updatedAt"] = now_ms()

    @staticmethod
    def public(entry: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in entry.items() if not k.startswith("_")}

    @staticmethod
    def row(entry: dict[str, Any]) -> dict[str, Any]:
        return {"loraId": entry["id"], "slug": entry["id"], "name": entry["name"],
                "description": "", "relatedLoraIds": [], "modelIds": entry["modelIds"],
                "ui": _ui(-1, 2, 1, category="personal")}


def register(rest: web.Application, socket: web.Application, state: State) -> None:
    library = PersonalLibrary()
    state.extras["personal_loras"] = library
    state.extras.setdefault("reset_hooks", []).append(library.reset)
    state.public_paths.add("/v1/loras/comfy")
    routes = web.RouteTableDef()

    @routes.get("/v1/loras/comfy")
    async def catalog(request: web.Request) -> web.Response:
        model = request.query.get("modelId")
        rows = [r for r in CATALOG if not model or model in r["modelIds"]]
        models = sorted({m for r in CATALOG for m in r["modelIds"]})
        return ok({"lastUpdated": "2026-11-30T00:00:00Z", "loras": rows, "models": models,
                   "constraints": CONSTRAINTS})

    @routes.get("/v1/loras/personal")
    async def listing(request: web.Request) -> web.Response:
        mine = library.of(state.require(request).username)
        return ok({"loras": [library.public(e) for e in mine.values()],
                   "models": list(_MODELS), "limits": LIMITS})

    @routes.get("/v1/loras/personal/catalog")
    async def personal_catalog(request: web.Request) -> web.Response:
        mine = library.of(state.require(request).username)
        return ok({"loras": [library.row(e) for e in mine.values() if e["status"] == "ready"]})

    @routes.post("/v1/loras/personal")
    async def add(request: web.Request) -> web.Response:
        mine = library.of(state.require(request).username)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("rightsConfirmed") is not True:
            return error(400, "Confirm that you have the right to use this file.", 101)
        if body.get("modelId") not in _MODELS:
            return error(400, f"Model {body.get('modelId')} does not accept personal LoRAs.",
                         101)
        if not all(isinstance(body.get(k), str) and body[k] for k in ("url", "name")):
            return error(400, "url and name are required", 101)
        if len(mine) >= LIMITS["entries"]:
            return error(409, "Your personal LoRA library is full.", 409)
        return ok(library.public(library.add(state.require(request).username, body)), 201)

    @routes.get("/v1/loras/personal/{lora_id}")
    async def one(request: web.Request) -> web.Response:
        entry = library.of(state.require(request).username).get(request.match_info["lora_id"])
        if entry is None:
            return error(404, "LoRA not found", 404)
        library.advance(entry)
        return ok(library.public(entry))

    @routes.delete("/v1/loras/personal/{lora_id}")
    async def remove(request: web.Request) -> web.Response:
        mine = library.of(state.require(request).username)
        if mine.pop(request.match_info["lora_id"], None) is None:
            return error(404, "LoRA not found", 404)
        return ok()

    rest.add_routes(routes)
