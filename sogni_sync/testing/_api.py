"""Socket-host HTTP routes (bare JSON, no envelope): catalogue, estimates, project recovery.

Estimates use the formula in :mod:`._catalog`; unknown models answer 404 and malformed numeric
segments 400, both in the server's error shape.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web

from sogni_sync.testing._jobs import scheduler_of
from sogni_sync.testing._state import Account, State, error
from sogni_sync.testing._wire import now_ms

__all__ = ["add_routes"]


def _num(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(text)
    return value


def _opt(text: str | None) -> str | None:
    return None if text in (None, "", "undefined", "null", "_") else text


def add_routes(app: web.Application, state: State) -> None:
    catalog = state.catalog
    routes = web.RouteTableDef()
    # Serialised once: clients fetch these per project when their cache is cold, so under load
    # (hundreds of concurrent create() calls) re-encoding the large tier map would dominate.
    models_body = json.dumps(catalog.models, separators=(",", ":")).encode()
    tiers_body = json.dumps(catalog.tiers, separators=(",", ":")).encode()

    @routes.get("/api/v1/models/list")
    async def models(request: web.Request) -> web.Response:
        return web.Response(body=models_body, content_type="application/json")

    @routes.get("/api/v2/models/tiers")
    async def tiers(request: web.Request) -> web.Response:
        return web.Response(body=tiers_body, content_type="application/json")

    @routes.get("/api/v1/size-presets/network/{network}/model/{model_id}")
    async def presets(request: web.Request) -> web.Response:
        model_id = request.match_info["model_id"]
        if catalog.model(model_id) is None:
            return error(404, f"Model {model_id} not found", 404)
        return web.json_response(catalog.size_presets(model_id))

    @routes.get("/api/v1/status/network/{network}/models")
    async def status(request: web.Request) -> web.Response:
        return web.json_response(catalog.status_models(request.match_info["network"]))

    def unknown(model_id: str) -> web.Response | None:
        if catalog.model(model_id) is None and model_id not in catalog.llm_models:
            return error(404, f"Model {model_id} not found", 404)
        return None

    async def image_estimate(request: web.Request) -> web.Response:
        parts = request.match_info["rest"].split("/")
        if len(parts) not in (10, 13):
            return error(400, "Invalid estimate path", 400)
        token, network, model = parts[0], parts[1], parts[2]
        bad = unknown(model)
        if bad is not None:
            return bad
        try:
            images, steps, previews = _num(parts[3]), _num(parts[4]), _num(parts[5])
            cn = parts[6] not in ("0", "false")
            denoise, width, height = _num(parts[7]), _num(parts[8]), _num(parts[9])
        except ValueError:
            return error(400, "Invalid estimate parameters", 400)
        price = catalog.image_price(token, network, images, steps, previews, cn, width, height)
        req = {"model": model, "name": (catalog.model(model) or {}).get("name", model),
               "imageCount": images, "stepCount": steps, "previewCount": previews,
               "cnEnabled": cn, "denoiseStrength": str(denoise), "time": str(now_ms())}
        return web.json_response(price.response(req, int(images) or 1))

    app.router.add_get("/api/v2/job/estimate/{rest:.+}", image_estimate)
    app.router.add_get("/api/v3/job/estimate/{rest:.+}", image_estimate)

    @routes.get("/api/v1/job-video/estimate/{rest:.+}")
    async def video_estimate(request: web.Request) -> web.Response:
        parts = request.match_info["rest"].split("/")
        if len(parts) not in (6, 8):
            return error(400, "Invalid estimate path", 400)
        token, model = parts[0], parts[1]
        bad = unknown(model)
        if bad is not None:
            return bad
        try:
            width, height, frames, fps = (_num(p) for p in parts[2:6])
            steps = _num(parts[6]) if len(parts) == 8 else 0.0
            count = _num(parts[7]) if len(parts) == 8 else 1.0
        except ValueError:
            return error(400, "Invalid estimate parameters", 400)
        price = catalog.video_price(_opt(token) or "spark", request.query.get("network", "fast"),
                                    width, height, frames, steps, count)
        req = {"model": model, "width": width, "height": height, "frames": frames, "fps": fps,
               "steps": steps, "numberOfMedia": count, "time": str(now_ms())}
        return web.json_response(price.response(req, int(count) or 1))

    @routes.get("/api/v1/job-audio/estimate/{token}/{model}/{duration}/{steps}/{count}")
    async def audio_estimate(request: web.Request) -> web.Response:
        m = request.match_info
        bad = unknown(m["model"])
        if bad is not None:
            return bad
        try:
            duration, steps, count = _num(m["duration"]), _num(m["steps"]), _num(m["count"])
        except ValueError:
            return error(400, "Invalid estimate parameters", 400)
        price = catalog.audio_price(_opt(m["token"]) or "spark",
                                    request.query.get("network", "fast"), duration, steps, count)
        req = {"model": m["model"], "duration": duration, "steps": steps,
               "numberOfMedia": count, "time": str(now_ms())}
        return web.json_response(price.response(req, int(count) or 1))

    @routes.get("/api/v1/job-llm/estimate/{token}/{model}/{inputs}/{outputs}")
    async def llm_estimate(request: web.Request) -> web.Response:
        m = request.match_info
        if m["model"] not in catalog.llm_models:
            return error(404, f"Model {m['model']} not found", 404)
        try:
            inputs, outputs = _num(m["inputs"]), _num(m["outputs"])
        except ValueError:
            return error(400, "Invalid estimate parameters", 400)
        token = _opt(m["token"]) or "sogni"
        return web.json_response({
            "request": {"model": m["model"], "inputTokens": inputs, "maxOutputTokens": outputs,
                        "tokenType": token, "time": str(now_ms())},
            "quote": catalog.llm_quote(token, m["model"], inputs, outputs)})

    def owned(account: Account, app_id: str | None) -> tuple[list[Any], list[Any]]:
        active, done = [], []
        for project in scheduler_of(state).projects.values():
            if project.account is not account or (app_id and project.app_id != app_id):
                continue
            if not project.finished:
                active.append(project.snapshot(state))
            elif project.unclaimed:
                done.append(project.snapshot(state))
        return active, done

    @routes.get("/api/v1/artist/projects/sync")
    async def sync(request: web.Request) -> web.Response:
        active, done = owned(state.require(request), request.query.get("appId"))
        return web.json_response({"activeProjects": active, "unclaimedCompletedProjects": done,
                                  "serverTime": now_ms()})

    @routes.get("/api/v1/artist/projects/active")
    async def active(request: web.Request) -> web.Response:
        projects, _ = owned(state.require(request), request.query.get("appId"))
        return web.json_response({"projects": projects, "serverTime": now_ms()})

    app.add_routes(routes)
