"""Emulated reusable uploads (``/v1/assets``): capabilities, prepare, the presigned PUT,
finalize (the stored bytes must match the declared SHA-256 and size), bind, list and delete.

``GET /v1/assets/capabilities`` answers 404 ("not available", what clients fall back on) until
a test offers saved uploads with ``net.offer_saved_uploads()``; the other routes work either
way. Binding copies the saved bytes into the project's upload slot,
exactly where a classic upload of ``type`` would have put them. The library holds
:data:`LIMITS` ``entries``; one more is the 409 ``Your saved upload library is full.``
"""

from __future__ import annotations

import hashlib
import itertools
import re
from typing import Any

from aiohttp import web

from sogni_sync.testing._jobs import upload_key
from sogni_sync.testing._state import State, error, ok
from sogni_sync.testing._wire import now_ms

__all__ = ["LIMITS", "SavedUploads", "register"]

TYPES = frozenset({
    "image/png", "image/jpeg", "image/webp", "video/mp4", "video/quicktime", "video/webm",
    "audio/mp4", "audio/mpeg", "audio/flac", "audio/wav", "audio/x-wav", "audio/wave"})
LIMITS = {"entries": 4, "bytes": 400 * 1024 * 1024, "fileBytes": 100 * 1024 * 1024,
          "idleDays": 30, "copyBytesPerDay": 10 * 1024 ** 3, "bindingsPerDay": 1000}
_SHA = re.compile(r"^[0-9a-f]{64}$")
_DAY_MS = 86_400_000


class SavedUploads:
    """Each account's saved uploads, keyed by username."""

    def __init__(self) -> None:
        self.enabled = False
        self.by_user: dict[str, dict[str, dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def enable(self, on: bool = True) -> None:
        self.enabled = on

    def reset(self) -> None:
        self.enabled = False
        self.by_user.clear()

    def of(self, username: str) -> dict[str, dict[str, Any]]:
        return self.by_user.setdefault(username, {})

    def new(self, body: dict[str, Any]) -> dict[str, Any]:
        now = now_ms()
        return {"id": f"asset-{next(self._ids):04d}", "name": body["name"],
                "bytes": body["bytes"], "contentType": body["contentType"],
                "state": "uploading", "createdAt": now, "expiresAt": now + 30 * _DAY_MS,
                "_sha256": body["sha256"]}


def _public(entry: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**{k: v for k, v in entry.items() if not k.startswith("_")}, **extra}


def _key(entry: dict[str, Any]) -> str:
    return f"assets/{entry['id']}"


def _bad_prepare(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "a JSON body is required"
    if not isinstance(body.get("sha256"), str) or not _SHA.match(body["sha256"]):
        return "sha256 must be 64 lowercase hex digits"
    size = body.get("bytes")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= LIMITS["fileBytes"]:
        return "Choose a saved upload no larger than 100 MiB."
    if body.get("contentType") not in TYPES:
        return f"Saved uploads cannot hold {body.get('contentType')!r} files."
    if not isinstance(body.get("name"), str) or not body["name"]:
        return "name is required"
    return None


async def _body(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def register(rest: web.Application, socket: web.Application, state: State) -> None:
    saved = SavedUploads()
    state.extras["assets"] = saved
    state.extras.setdefault("reset_hooks", []).append(saved.reset)
    routes = web.RouteTableDef()

    def owned(request: web.Request) -> dict[str, Any] | None:
        return saved.of(state.require(request).username).get(request.match_info["asset_id"])

    @routes.get("/v1/assets/capabilities")
    async def capabilities(request: web.Request) -> web.Response:
        state.require(request)
        if not saved.enabled:
            return error(404, "Asset API not available on this server", 404)
        return ok({"enabled": True})

    @routes.get("/v1/assets")
    async def listing(request: web.Request) -> web.Response:
        mine = saved.of(state.require(request).username)
        return ok({"assets": [_public(e) for e in mine.values()], "limits": LIMITS})

    @routes.post("/v1/assets/prepare")
    async def prepare(request: web.Request) -> web.Response:
        mine = saved.of(state.require(request).username)
        body = await _body(request)
        bad = _bad_prepare(body)
        if bad is not None:
            return error(400, bad, 101)
        for entry in mine.values():
            if (entry["_sha256"], entry["contentType"]) == (body["sha256"], body["contentType"]):
                if entry["state"] == "ready":
                    return ok(_public(entry, reused=True))
                break
        else:
            if len(mine) >= LIMITS["entries"]:
                return error(409, "Your saved upload library is full. Remove a saved upload "
                             "or wait for one to expire.", 409)
            entry = saved.new(body)
            mine[entry["id"]] = entry
        ctype = entry["contentType"]
        return ok(_public(entry, reused=False, uploadUrl=state.storage.upload_url(
            _key(entry), ctype), uploadHeaders={"Content-Type": ctype}))

    @routes.post("/v1/assets/{asset_id}/finalize")
    async def finalize(request: web.Request) -> web.Response:
        entry = owned(request)
        if entry is None:
            return error(404, "Saved upload not found", 404)
        stored = state.storage.get(_key(entry))
        if stored is None:
            return error(409, "The file has not been uploaded yet.", 409)
        if (hashlib.sha256(stored[0]).hexdigest(), len(stored[0])) != (
                entry["_sha256"], entry["bytes"]):
            return error(400, "The uploaded file does not match its checksum.", 101)
        entry["state"] = "ready"
        return ok(_public(entry))

    @routes.post("/v1/assets/{asset_id}/bind")
    async def bind(request: web.Request) -> web.Response:
        entry = owned(request)
        if entry is None:
            return error(404, "Saved upload not found", 404)
        body = await _body(request)
        if not isinstance(body, dict) or not all(
                isinstance(body.get(k), str) and body[k] for k in ("projectId", "type")):
            return error(400, "projectId and type are required", 101)
        stored = state.storage.get(_key(entry))
        if entry["state"] != "ready" or stored is None:
            return error(409, "The saved upload is not ready.", 409)
        slot = body["type"] if body.get("id") is None else str(body["id"])
        state.storage.put(upload_key(body["projectId"].upper(), slot), stored[0], stored[1])
        return ok()

    @routes.delete("/v1/assets/{asset_id}")
    async def remove(request: web.Request) -> web.Response:
        entry = saved.of(state.require(request).username).pop(
            request.match_info["asset_id"], None)
        if entry is None:
            return error(404, "Saved upload not found", 404)
        return ok()

    rest.add_routes(routes)
