"""Frozen result types of the catalogue and the estimates."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from sogni_sync._convert import to_decimal

__all__ = ["AvailableModel", "CostEstimate", "SizePreset", "SupportedModel", "VideoAssetConfig"]


@attrs.frozen
class SupportedModel:
    """An entry of ``/api/v1/models/list``: ``media`` is ``image``, ``video`` or ``audio``."""

    id: str
    name: str
    sid: int | None
    tier: str
    media: str

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> SupportedModel:
        return cls(
            id=str(raw.get("id", "")),
            name=str(raw.get("name") or raw.get("id") or ""),
            sid=raw.get("SID"),
            tier=str(raw.get("tier", "")),
            media=str(raw.get("media") or "image"),
        )


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

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> SizePreset:
        return cls(
            id=str(raw.get("id", "")),
            label=str(raw.get("label", "")),
            width=raw.get("width", 0),
            height=raw.get("height", 0),
            ratio=str(raw.get("ratio", "")),
            aspect=str(raw.get("aspect", "")),
        )


@attrs.frozen
class CostEstimate:
    """A project's price quote, exact (``None`` where the server gave no figure)."""

    token: Decimal | None
    usd: Decimal | None
    spark: Decimal | None
    sogni: Decimal | None

    @classmethod
    def from_wire(cls, raw: Any) -> CostEstimate:
        project = raw.get("quote", {}).get("project", {}) if isinstance(raw, Mapping) else {}
        return cls(
            token=to_decimal(project.get("costInToken")),
            usd=to_decimal(project.get("costInUSD")),
            spark=to_decimal(project.get("costInSpark")),
            sogni=to_decimal(project.get("costInSogni")),
        )


@attrs.frozen
class VideoAssetConfig:
    """Which reference assets a video model's workflow needs (snake_case parameter names).

    ``workflow_type`` is None for video models without a workflow (e.g. plain Seedance).
    """

    workflow_type: str | None
    assets: Mapping[str, str] = attrs.field(factory=dict)
