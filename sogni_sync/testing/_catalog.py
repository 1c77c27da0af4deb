"""The model catalogue the emulator serves, and its deterministic price formula.

``catalog.json`` (package data, or a path/dict given to :class:`LocalSupernet`) has the shapes of
the real endpoints: ``models`` (``/api/v1/models/list``), ``tiers`` (``/api/v2/models/tiers``),
``sizePresets`` (model id -> presets), ``workers`` (network -> SID -> count, also the source of
``swarmModels``) and ``llmModels`` (``swarmLLMModels``).

Prices: ``render seconds x 0.0005 USD x network multiplier``; tokens = USD / token price
(spark 0.01 USD, sogni 0.005 USD). Render seconds grow with media count, steps and pixels, so
more images are never cheaper. Jobs are charged with the same formula.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["Catalog", "Price", "load_catalog"]

USD_PER_RENDER_SEC = Decimal("0.0005")
TOKEN_PRICE_USD = {"spark": Decimal("0.01"), "sogni": Decimal("0.005")}
NETWORK_MULTIPLIER = {"fast": Decimal("1"), "relaxed": Decimal("0.5")}
_DEFAULT_PRESETS = [
    {"label": "Square", "id": "square", "width": 1024, "height": 1024, "ratio": "1:1",
     "aspect": "square"},
    {"label": "Portrait 3:4", "id": "portrait_3_4", "width": 896, "height": 1152,
     "ratio": "3:4", "aspect": "portrait"},
    {"label": "Landscape 4:3", "id": "landscape_4_3", "width": 1152, "height": 896,
     "ratio": "4:3", "aspect": "landscape"},
]


def load_catalog(source: str | Path | dict[str, Any] | None) -> dict[str, Any]:
    """Read the catalogue from a dict, a JSON file path, or the packaged default."""
    if isinstance(source, dict):
        return source
    if source is None:
        text = resources.files("sogni_sync").joinpath("data/catalog.json").read_text("utf-8")
        return dict(json.loads(text))
    return dict(json.loads(Path(source).read_text("utf-8")))


#: the queue wait an estimate adds to the render time, by network
QUEUE_SEC = {"fast": 0.0, "relaxed": 30.0}


def _q(value: Decimal, places: str = "0.000001") -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


class Price:
    """A render-time based quote in the server's ``EstimationResponse`` shape."""

    def __init__(self, render_sec: Decimal, token_type: str, network: str) -> None:
        self.render_sec = max(render_sec, Decimal("0.01"))
        self.token_type = token_type if token_type in TOKEN_PRICE_USD else "spark"
        self.network = network if network in NETWORK_MULTIPLIER else "fast"
        self.usd = self.render_sec * USD_PER_RENDER_SEC * NETWORK_MULTIPLIER[self.network]
        self.tokens = self.usd / TOKEN_PRICE_USD[self.token_type]

    def cost(self) -> dict[str, str]:
        return {
            "costInRenderSec": _q(self.render_sec, "0.0001"),
            "costInUSD": _q(self.usd),
            "costInToken": _q(self.tokens),
            "costInSpark": _q(self.usd / TOKEN_PRICE_USD["spark"]),
            "costInSogni": _q(self.usd / TOKEN_PRICE_USD["sogni"]),
        }

    def response(self, request: dict[str, Any], jobs: int = 1) -> dict[str, Any]:
        per_job = Price(self.render_sec / max(1, jobs), self.token_type, self.network)
        render = round(float(self.render_sec), 2)
        return {
            "request": request,
            # the render-time benchmark; the relaxed network adds a queue wait of QUEUE_SEC
            "benchmark": {"estimatedRenderTimeSec": render, "estimatedTotalTimeSec":
                          round(render + QUEUE_SEC.get(self.network, 0.0), 2)},
            "rate": {
                "costPerBaseHQRenderInUSD": "0.0100",
                "tokenMarkePriceUSD": str(TOKEN_PRICE_USD[self.token_type]),
                "costPerRenderSecUSD": str(USD_PER_RENDER_SEC),
                "costPerRenderSecToken": _q(USD_PER_RENDER_SEC / TOKEN_PRICE_USD[self.token_type]),
                "network": self.network,
                "networkCostMultiplier": str(NETWORK_MULTIPLIER[self.network]),
            },
            "quote": {
                "model": {"weight": "1", "secPerStep": "0.25", "secPerPreview": "0.1",
                          "secForCN": "0.5"},
                "job": per_job.cost(),
                "project": self.cost(),
            },
        }


def _num(value: Any, default: float = 0.0) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if out == out and out not in (float("inf"), float("-inf")) else default


class Catalog:
    """Lookups over the catalogue plus the price formula for each media family."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.models: list[dict[str, Any]] = list(data.get("models", []))
        self.tiers: dict[str, Any] = dict(data.get("tiers", {}))
        self.size_presets_map: dict[str, Any] = dict(data.get("sizePresets", {}))
        self.workers: dict[str, dict[str, int]] = dict(data.get("workers", {}))
        self.llm_models: dict[str, Any] = dict(data.get("llmModels", {}))
        self.by_id = {m["id"]: m for m in self.models}
        self.by_sid = {str(m.get("SID")): m for m in self.models}

    def model(self, model_id: str) -> dict[str, Any] | None:
        return self.by_id.get(model_id)

    def tier(self, model_id: str) -> dict[str, Any] | None:
        model = self.by_id.get(model_id)
        return self.tiers.get(model["tier"]) if model else None

    def kind(self, model_id: str) -> str:
        """``image``, ``video`` or ``audio`` (catalogue ``media``, else tier type, else prefix)."""
        model = self.by_id.get(model_id)
        if model and model.get("media") in ("image", "video", "audio"):
            return str(model["media"])
        tier = self.tier(model_id) or {}
        if tier.get("type") in ("video", "audio"):
            return str(tier["type"])
        if model_id.startswith(("wan_", "ltx2-", "ltx23-", "seedance-2-0")):
            return "video"
        return "audio" if model_id.startswith("ace_step") else "image"

    def status_models(self, network: str) -> dict[str, int]:
        """``/api/v1/status/network/{network}/models``: SID -> worker count."""
        return dict(self.workers.get(network, self.workers.get("fast", {})))

    def swarm_models(self, network: str, hidden: set[str] | None = None) -> dict[str, int]:
        """The ``swarmModels`` event: model id -> worker count (ids with workers only)."""
        out: dict[str, int] = {}
        for sid, count in self.status_models(network).items():
            model = self.by_sid.get(str(sid))
            if model and (not hidden or model["id"] not in hidden):
                out[model["id"]] = int(count)
        return out

    def size_presets(self, model_id: str) -> list[dict[str, Any]]:
        presets = self.size_presets_map.get(model_id)
        if presets is not None:
            return list(presets)
        return list(_DEFAULT_PRESETS) if self.kind(model_id) == "image" else []

    # -- prices -----------------------------------------------------------------------------

    def image_price(self, token_type: str, network: str, images: float, steps: float,
                    previews: float, cn: bool, width: float, height: float) -> Price:
        pixels = (width * height / (1024 * 1024)) if width and height else 1.0
        sec = max(1.0, images) * (max(1.0, steps) * 0.25 * max(pixels, 0.1)
                                   + previews * 0.1 + (0.5 if cn else 0.0))
        return Price(Decimal(str(round(sec, 6))), token_type, network)

    def video_price(self, token_type: str, network: str, width: float, height: float,
                    frames: float, steps: float, count: float) -> Price:
        pixels = (width * height / (512 * 512)) if width and height else 1.0
        sec = max(1.0, count) * max(1.0, frames) * max(1.0, steps or 4) * 0.05 * max(pixels, 0.1)
        return Price(Decimal(str(round(sec, 6))), token_type, network)

    def audio_price(self, token_type: str, network: str, duration: float, steps: float,
                    count: float) -> Price:
        sec = max(1.0, count) * max(1.0, duration) * max(1.0, steps) * 0.02
        return Price(Decimal(str(round(sec, 6))), token_type, network)

    def llm_quote(self, token_type: str, model: str, input_tokens: float,
                  output_tokens: float) -> dict[str, Any]:
        usd = (Decimal(str(input_tokens)) * Decimal("0.2")
               + Decimal(str(output_tokens)) * Decimal("0.6")) / Decimal(1_000_000)
        usd = max(usd, Decimal("0.000001"))
        token_type = token_type if token_type in TOKEN_PRICE_USD else "sogni"
        return {
            "costInUSD": float(usd),
            "costInSogni": float(usd / TOKEN_PRICE_USD["sogni"]),
            "costInSpark": float(usd / TOKEN_PRICE_USD["spark"]),
            "costInToken": float(usd / TOKEN_PRICE_USD[token_type]),
            "inputTokens": int(input_tokens),
            "outputTokens": int(output_tokens),
        }

    def request_price(self, req: dict[str, Any], network: str) -> Price:
        """Price a ``jobRequest`` with the same formula as the estimate endpoints."""
        kf = (req.get("keyFrames") or [{}])[0] or {}
        model_id = str(kf.get("modelID", ""))
        kind = self.kind(model_id)
        token_type = str(req.get("tokenType") or "spark")
        count = _num(req.get("numberOfImages"), 1) or 1
        steps = _num(kf.get("steps"), 0) or _default_steps(self.tier(model_id))
        if kind == "video":
            return self.video_price(token_type, network, _num(kf.get("width"), 512),
                                    _num(kf.get("height"), 512), _num(kf.get("frames"), 33),
                                    steps, count)
        if kind == "audio":
            return self.audio_price(token_type, network, _num(kf.get("duration"), 30), steps,
                                    count)
        return self.image_price(token_type, network, count, steps, _num(req.get("previews")),
                                bool(kf.get("currentControlNetsJob")),
                                _num(kf.get("width"), 1024), _num(kf.get("height"), 1024))


def _default_steps(tier: dict[str, Any] | None) -> float:
    steps = (tier or {}).get("steps") or {}
    return _num(steps.get("default"), 20) or 20
