"""REST-host routes (enveloped ``{status, data}``): account data, media URLs, storage, projects.

Every route except storage requires ``api-key`` or an ``Authorization`` access JWT (401 JSON
otherwise). Storage: upload URLs (``/v1/image/uploadUrl``, ``/v1/media/uploadUrl``) point to
``PUT /storage/uploads/<projectId>/<type>`` (a numbered media slot: ``<type><n>``) and check
signature, expiry and that the ``Content-Type`` header equals the ``contentType`` the URL was
minted for (403 otherwise); download URLs (``/v1/image/downloadUrl``, ``/v1/media/downloadUrl``)
are absolute ``http://`` URLs to ``GET /storage/...`` with an expiry (``url_ttl``), served
without auth.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from aiohttp import web

from sogni_sync.testing._jobs import preview_key, result_key, scheduler_of, upload_key
from sogni_sync.testing._state import State, error, ok

__all__ = ["add_routes"]

_IMAGE_UPLOAD_TYPES = {"startingImage", "cnImage", "referenceImage", "referenceImageEnd",
                       "referenceMask", *(f"contextImage{i}" for i in range(1, 17))}
#: media slots; the numbered ones are asked either as ``type=referenceVideo1`` (Python client)
#: or as ``type=referenceVideo&id=referenceVideo1`` (JS client), stored under the numbered name
_MEDIA_UPLOAD_TYPES = {"referenceAudio", "referenceVideo",
                       *(f"reference{kind}{i}" for kind in ("Audio", "Video") for i in (1, 2, 3))}
_LEADERBOARD_TYPES = {
    "renderUSDCompleteWorker", "renderUSDCompleteArtist", "renderSecCompleteWorker",
    "renderSecCompleteArtist", "renderTokenCompleteWorker", "renderTokenCompleteWorker2",
    "renderTokenCompleteArtist", "renderTokenCompleteArtist2", "jobCompleteWorker",
    "jobCompleteArtist", "projectCompleteArtist", "uloginWorker", "uloginArtist", "tokenVolume",
    "referral"}
REWARDS = [
    {"id": "daily-boost", "type": "instant", "title": "Daily boost",
     "description": "Free Spark once a day", "amount": "50", "tokenType": "spark",
     "claimResetFrequencySec": 86400},
    {"id": "welcome", "type": "instant", "title": "Welcome bonus",
     "description": "One-time bonus", "amount": "100", "tokenType": "spark",
     "claimResetFrequencySec": -1},
]


def _q(request: web.Request, key: str) -> str | None:
    """A query value; JS clients send the literals ``undefined``/``null`` for absent ones."""
    value = request.query.get(key)
    return None if value in (None, "", "undefined", "null") else value


def add_routes(app: web.Application, state: State) -> None:
    routes = web.RouteTableDef()

    @routes.get("/v1/account/me")
    async def me(request: web.Request) -> web.Response:
        acc = state.require(request)
        return ok({"username": acc.username, "currentEmail": acc.email, "walletAddress":
                   acc.address, "emailVerified": True, "discord2FA": False,
                   "discordLinked": False, "discordServerMember": False, "discordUsername": "",
                   "requestedUpdatedEmail": ""})

    @routes.get("/v4/account/balance")
    async def balance(request: web.Request) -> web.Response:
        return ok(state.require(request).balance_payload(full=True))

    @routes.get("/v2/wallet/balance")
    async def wallet_balance(request: web.Request) -> web.Response:
        address = _q(request, "walletAddress")
        acc = state.by_address.get(address.lower()) if address else state.require(request)
        if acc is None:
            return ok({"sogni": "0", "spark": "0", "ether": "0"})
        return ok({"sogni": str(acc.available("sogni")), "spark": str(acc.available("spark")),
                   "ether": "0"})

    @routes.get("/v1/transactions/list")
    async def transactions(request: web.Request) -> web.Response:
        acc = state.require(request)
        try:
            limit = int(_q(request, "limit") or 20)
            offset = int(_q(request, "offset") or 0)
        except ValueError:
            return error(400, "limit and offset must be integers", 101)
        items = list(reversed(acc.transactions))
        page = items[offset:offset + limit]
        nxt = offset + len(page) if offset + len(page) < len(items) else 0
        return ok({"transactions": page, "next": nxt})

    @routes.get("/v4/account/rewards")
    async def rewards(request: web.Request) -> web.Response:
        acc = state.require(request)
        out = []
        for r in REWARDS:
            claimed = r["id"] in acc.claimed_rewards
            out.append({**r, "claimed": int(claimed), "canClaim": int(not claimed),
                        "cantClaimReason": "already_claimed" if claimed else None,
                        "lastClaimTimestamp": int(time.time()) if claimed else 0})
        return ok({"rewards": out})

    @routes.post("/v3/account/reward/claim")
    async def claim(request: web.Request) -> web.Response:
        acc = state.require(request)
        body = await _json(request)
        claims = body.get("claims")
        ids: list[Any] = claims if isinstance(claims, list) else []
        known: dict[Any, dict[str, Any]] = {r["id"]: r for r in REWARDS}
        for reward_id in ids:
            reward = known.get(reward_id)
            if reward is None or reward_id in acc.claimed_rewards:
                return error(400, f"Reward {reward_id} cannot be claimed", 130)
        for reward_id in ids:
            acc.claimed_rewards.add(reward_id)
            token = str(known[reward_id]["tokenType"])
            acc.balances[token] = acc.balances.get(token, Decimal(0)) + Decimal(
                str(known[reward_id]["amount"]))
        state.push_balance(acc)
        return ok()

    @routes.get("/v1/leaderboard/")
    async def leaderboard(request: web.Request) -> web.Response:
        kind = _q(request, "type")
        if kind not in _LEADERBOARD_TYPES or _q(request, "period") not in ("day", "lifetime"):
            return error(400, "Invalid leaderboard type or period", 101)
        rows = sorted(state.accounts.values(), key=lambda a: -len(a.transactions))
        limit = int(_q(request, "limit") or 10)
        return ok([{"rank": i + 1, "username": a.username, "address": a.address,
                    "country": "", "value": str(len(a.transactions)), "role": "artist"}
                   for i, a in enumerate(rows[:limit])])

    async def upload_url(request: web.Request, allowed: set[str],
                         id_key: str | None) -> web.Response:
        job_id, slot = _q(request, "jobId"), _q(request, "type")
        if not job_id or slot not in allowed or (id_key and not _q(request, id_key)):
            return error(400, "jobId, type and id are required and type must be valid", 101)
        numbered = _q(request, "id")
        if id_key is None and numbered is not None:
            if numbered not in allowed or not numbered.startswith(str(slot)):
                return error(400, f"id {numbered} is not a {slot} slot", 101)
            slot = numbered
        key = upload_key(job_id.upper(), str(slot))
        return ok({"uploadUrl": state.storage.upload_url(key, _q(request, "contentType"))})

    @routes.get("/v1/image/uploadUrl")
    async def image_upload_url(request: web.Request) -> web.Response:
        return await upload_url(request, _IMAGE_UPLOAD_TYPES, "imageId")

    @routes.get("/v1/media/uploadUrl")
    async def media_upload_url(request: web.Request) -> web.Response:
        return await upload_url(request, _MEDIA_UPLOAD_TYPES, None)

    def download(request: web.Request, id_key: str) -> web.Response:
        job_id, item_id, slot = _q(request, "jobId"), _q(request, id_key), _q(request, "type")
        if not job_id or not slot:
            return error(400, "jobId and type are required", 101)
        job_id = job_id.upper()
        if slot in ("complete", "preview"):
            if not item_id:
                return error(400, f"{id_key} is required", 101)
            maker = result_key if slot == "complete" else preview_key
            key = maker(job_id, item_id.upper())
        else:
            key = upload_key(job_id, slot)
        if not state.storage.has(key):
            return error(404, "File not found", 404)
        return ok({"downloadUrl": state.storage.signed_url(key)})

    @routes.get("/v1/image/downloadUrl")
    async def image_download_url(request: web.Request) -> web.Response:
        return download(request, "imageId")

    @routes.get("/v1/media/downloadUrl")
    async def media_download_url(request: web.Request) -> web.Response:
        return download(request, "id")

    @routes.get("/v1/projects/{project_id}")
    async def project_v1(request: web.Request) -> web.Response:
        project = scheduler_of(state).projects.get(request.match_info["project_id"].upper())
        if project is None or project.account is not state.require(request) or not project.finished:
            return error(404, "Project not found", 404)
        return ok({"project": project.snapshot(state)})

    @routes.get("/v1/subscriptions/status")
    async def subscription(request: web.Request) -> web.Response:
        return ok({"active": False, "plan": None, "status": "none", "entitlement": None})

    app.add_routes(routes)


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except Exception:
        return {}
    return data if isinstance(data, dict) else {}


def add_storage_routes(app: web.Application, state: State) -> None:
    storage = state.storage

    def check(request: web.Request, verb: str, key: str, extra: str = "") -> web.Response | None:
        try:
            expires = int(request.query.get("X-Expires", "0"))
        except ValueError:
            expires = 0
        if storage.sign(verb, key, expires, extra) != request.query.get("X-Signature"):
            return error(403, "Signature does not match", 403)
        if expires < time.time():
            return error(403, "Request has expired", 403)
        return None

    async def get(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        bad = check(request, "GET", key)
        if bad is not None:
            return bad
        item = storage.get(key)
        if item is None:
            return error(404, "NoSuchKey", 404)
        return web.Response(body=item[0], content_type=item[1])

    async def put(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        wanted = request.query.get("X-Content-Type", "")
        bad = check(request, "PUT", key, wanted)
        if bad is not None:
            return bad
        sent = request.headers.get("Content-Type", "")
        if wanted and sent.split(";")[0].strip().lower() != wanted.lower():
            return error(403, f"Content-Type {sent!r} does not match the signed {wanted!r}", 403)
        storage.put(key, await request.read(), sent or wanted or "application/octet-stream")
        return web.Response(status=200)

    app.router.add_get("/storage/{key:.+}", get)
    app.router.add_put("/storage/{key:.+}", put)
