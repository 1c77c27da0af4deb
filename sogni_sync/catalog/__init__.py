"""The model catalogue: supported models, tier options, size presets, availability, prices."""

from sogni_sync.catalog._api import Catalog
from sogni_sync.catalog._options import ModelOptions, NumRange, Options
from sogni_sync.catalog._types import (
    AvailableModel,
    CostEstimate,
    SizePreset,
    SupportedModel,
    VideoAssetConfig,
)

__all__ = [
    "AvailableModel",
    "Catalog",
    "CostEstimate",
    "ModelOptions",
    "NumRange",
    "Options",
    "SizePreset",
    "SupportedModel",
    "VideoAssetConfig",
]
