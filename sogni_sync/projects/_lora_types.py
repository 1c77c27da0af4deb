"""Frozen results of the LoRA catalogue (``/v1/loras/comfy``) and the personal LoRA library
(``/v1/loras/personal``), built by the package converter."""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = [
    "LoraCatalog",
    "LoraCatalogEntry",
    "LoraConstraints",
    "LoraExample",
    "LoraRangeLabels",
    "LoraSection",
    "LoraUi",
    "PersonalLora",
    "PersonalLoraLibrary",
    "PersonalLoraLimits",
    "PersonalLoraStatus",
]

PersonalLoraStatus = Literal["queued", "validating", "review", "ready", "rejected", "revoked"]


@attrs.frozen
class LoraRangeLabels:
    """What the two ends of a bipolar LoRA's range do (``min``: e.g. "Cooler & Darker")."""

    min: str
    max: str


@attrs.frozen
class LoraSection:
    """Several independent LoRAs shown as one row of a LoRA browser."""

    id: str
    label: str
    order: int = 0


@attrs.frozen
class LoraExample:
    """An example render of a LoRA."""

    url: str
    caption: str | None = None
    is_mature: bool | None = None
    prompt: str | None = None
    negative_prompt: str | None = None


@attrs.frozen
class LoraUi:
    """A LoRA's strength contract and presentation: ``min``/``max`` are the hard bounds (negative
    for a bipolar LoRA; a strength outside is clamped by the server), ``default`` its own
    default (not always 1), ``recommended_min``/``recommended_max`` the usable band."""

    min: float
    max: float
    default: float
    step: float = 0.05
    recommended_min: float | None = None
    recommended_max: float | None = None
    range_labels: LoraRangeLabels | None = None
    category: str = ""
    section: LoraSection | None = None
    nsfw: bool = False
    sexual: bool = False
    creator: str = ""
    source_url: str = ""
    license: str | None = None
    license_url: str | None = None
    examples: tuple[LoraExample, ...] = ()
    example_prompt: str | None = None
    example_negative_prompt: str | None = None


@attrs.frozen
class LoraCatalogEntry:
    """One LoRA: pass ``lora_id`` in a project's ``loras``; ``model_ids`` accept it."""

    lora_id: str
    name: str
    ui: LoraUi
    model_ids: tuple[str, ...] = ()
    slug: str = ""
    description: str = ""
    related_lora_ids: tuple[str, ...] = ()


@attrs.frozen
class LoraConstraints:
    """Limits of every LoRA request: how many stack on one render, and the loader's hard
    strength bounds (the fallback range of a LoRA without a catalogue entry)."""

    max_per_request: int = 8
    min_strength: float = -100.0
    max_strength: float = 100.0


@attrs.frozen
class LoraCatalog:
    """``projects.available_loras()``: the LoRAs (filtered by model when asked), every model
    id that accepts at least one LoRA (whatever the filter), and the request limits."""

    loras: tuple[LoraCatalogEntry, ...]
    models: tuple[str, ...]
    constraints: LoraConstraints
    last_updated: str | None = None


@attrs.frozen
class PersonalLora:
    """An import in the account's private LoRA library; its ``id`` (``personal-…``) goes into
    a project's ``loras`` once ``status`` is ``ready``."""

    id: str
    name: str
    model_id: str = attrs.field(metadata={"wire": "modelId"})
    status: str = attrs.field()
    model_ids: tuple[str, ...] = ()
    source: str = ""
    created_at: int = 0
    updated_at: int = 0
    bytes: int | None = None
    reason: str | None = None
    failure_code: str | None = None
    requirements: tuple[str, ...] = ()


@attrs.frozen
class PersonalLoraLimits:
    """The library's limits: entries, bytes per file (None: no limit), imports per day and
    personal LoRAs per generation."""

    entries: int
    file_bytes: int | None
    imports_per_day: int
    per_generation: int


@attrs.frozen
class PersonalLoraLibrary:
    """``projects.personal_loras.list()``: the imports, the models they can target, limits."""

    loras: tuple[PersonalLora, ...]
    models: tuple[str, ...]
    limits: PersonalLoraLimits | None = None
