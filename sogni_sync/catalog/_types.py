"""Frozen result types of the catalogue and the estimates."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from sogni_sync._convert import register_wire

__all__ = ["AvailableModel", "CostEstimate", "SizePreset", "SupportedModel", "VideoAssetConfig"]


@attrs.frozen
class SupportedModel:
    """An entry of ``/api/v1/models/list``: ``media`` is ``image``, ``video`` or ``audio``."""

    id: str
    name: str
    sid: int | None
    tier: str
    media: str


# the name is the id when absent; media defaults to image
register_wire(SupportedModel, lambda raw: {
    "id": "", "tier": "", **raw,
    "name": raw.get("name") or raw.get("id") or "", "media": raw.get("media") or "image"})


@attrs.frozen
class AvailableModel:
    """A model with workers online right now (from ``swarmModels`` or the status endpoint)."""

    id: str
    name: str
    worker_count: int
    media: str


@attrs.frozen
class SizePreset:
    """A named output size (``/api/v1/size-presets/...``)."""

    id: str
    label: str
    width: int
    height: int
    ratio: str = ""
    aspect: str = ""


register_wire(SizePreset, lambda raw: {"id": "", "label": "", "width": 0, "height": 0, **raw})


@attrs.frozen
class CostEstimate:
    """A project's price quote, exact (``None`` where the server gave no figure).

    ``estimated_render_seconds`` is the server's render-time benchmark for the project,
    ``estimated_total_seconds`` that plus the expected queue wait, and ``daily_fair_use_pct``
    the share of the plan's daily fair use this project would take (only when a subscription
    covers a Fast project); each ``None`` when the server gives none.
    """

    token: Decimal | None = attrs.field(metadata={"wire": "costInToken"})
    usd: Decimal | None = attrs.field(metadata={"wire": "costInUSD"})
    spark: Decimal | None = attrs.field(metadata={"wire": "costInSpark"})
    sogni: Decimal | None = attrs.field(metadata={"wire": "costInSogni"})
    estimated_render_seconds: float | None = None
    estimated_total_seconds: float | None = None
    daily_fair_use_pct: float | None = None


def _figure(block: Any, key: str) -> float | None:
    value = block.get(key) if isinstance(block, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _quoted_project(raw: Any) -> Mapping[str, Any]:
    """The estimate endpoints answer ``{"quote": {"project": {...}}, "benchmark": {...},
    "dailyFairUse": {"pct": ...}}``; the timing and fair-use figures are optional."""
    if not isinstance(raw, Mapping):
        return {}
    quote = raw.get("quote")
    project = quote.get("project") if isinstance(quote, Mapping) else None
    bench = raw.get("benchmark")
    return {**(project if isinstance(project, Mapping) else {}),
            "estimatedRenderSeconds": _figure(bench, "estimatedRenderTimeSec"),
            "estimatedTotalSeconds": _figure(bench, "estimatedTotalTimeSec"),
            "dailyFairUsePct": _figure(raw.get("dailyFairUse"), "pct")}


register_wire(CostEstimate, _quoted_project)


@attrs.frozen
class VideoAssetConfig:
    """Which reference assets a video model's workflow needs (snake_case parameter names).

    ``workflow_type`` is None for video models without a workflow (e.g. plain Seedance).
    """

    workflow_type: str | None
    assets: Mapping[str, str] = attrs.field(factory=dict)
