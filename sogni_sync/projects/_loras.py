"""LoRAs: the public catalogue (``GET /v1/loras/comfy``) and the account's personal library
(``/v1/loras/personal``), as ``client.projects.available_loras(...)`` and friends and
``client.projects.personal_loras``.

The public catalogue is cached for five minutes per model filter (``force_refresh`` skips the
cache); personal rows are private and read on every call, never cached. Rows are filtered by
their ``modelIds`` again on this side, so a server that ignores the ``modelId`` query still
gives the right answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import attrs

from sogni_sync._convert import register_wire, structure
from sogni_sync._transport import RestAccess, quote_segment
from sogni_sync.errors import ValidationError
from sogni_sync.projects._lora_types import (
    LoraCatalog,
    LoraCatalogEntry,
    LoraConstraints,
    PersonalLora,
    PersonalLoraLibrary,
)

__all__ = ["LoraCatalogReader", "PersonalLoras", "check_id"]

#: seconds the public catalogue is kept per model filter
CATALOG_TTL = 300.0
PERSONAL_PREFIX = "personal-"
_CATALOG = "/v1/loras/comfy"
_PERSONAL = "/v1/loras/personal"


def check_id(value: Any, name: str) -> str:
    """``value`` as one quoted path segment; ValidationError unless a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} must be a non-empty string")
    return quote_segment(value, name)


def _optional_model(model_id: Any) -> str | None:
    if model_id is None:
        return None
    if not isinstance(model_id, str) or not model_id:
        raise ValidationError("model_id must be a non-empty string or None")
    return model_id


def _capable_models(rows: tuple[LoraCatalogEntry, ...]) -> tuple[str, ...]:
    return tuple(sorted({m for row in rows for m in row.model_ids}))


def _catalog_wire(raw: Any) -> Mapping[str, Any]:
    """Fill what an older server leaves out: the models from the rows, the loader's limits."""
    data = dict(raw)
    rows = data.get("loras")
    data["loras"] = rows if isinstance(rows, list) else []
    if not isinstance(data.get("constraints"), Mapping):
        data["constraints"] = {}
    if not isinstance(data.get("models"), list):
        data["models"] = sorted({m for row in data["loras"] if isinstance(row, Mapping)
                                 for m in (row.get("modelIds") or []) if isinstance(m, str)})
    return data


register_wire(LoraCatalog, _catalog_wire)
register_wire(LoraConstraints, lambda raw: {k: v for k, v in raw.items() if v is not None})


@attrs.frozen
class _PersonalRows:
    loras: tuple[LoraCatalogEntry, ...] = ()


class PersonalLoras:
    """``client.projects.personal_loras``: import, inspect and remove the signed-in account's
    private LoRAs (needs an API key or a session; importing needs an active subscription)."""

    def __init__(self, transport: RestAccess) -> None:
        self._transport = transport

    def _get(self, path: str) -> Any:
        return self._transport.rest.request("GET", path)

    def list(self) -> PersonalLoraLibrary:
        """Every import with its status, the models imports can target and the limits."""
        return structure(self._get(_PERSONAL), PersonalLoraLibrary, _PERSONAL)

    def get(self, lora_id: str) -> PersonalLora:
        """The current state of one import (NotFoundError for an id that is not yours)."""
        path = f"{_PERSONAL}/{check_id(lora_id, 'lora_id')}"
        return structure(self._get(path), PersonalLora, _PERSONAL + "/{id}")

    def import_(self, *, url: str, name: str, model_id: str,
                rights_confirmed: bool) -> PersonalLora:
        """Start importing a LoRA from a public Hugging Face safetensors link or a Civitai
        model/version link; poll :meth:`get` until ``ready``, ``rejected`` or ``revoked``.
        ``rights_confirmed`` must be True: you confirm you may use the file on Sogni."""
        for key, value in (("url", url), ("name", name), ("model_id", model_id)):
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(f"{key} must be a non-empty string")
        if not url.startswith("https://"):
            raise ValidationError("url must be an https:// link to the LoRA file or its page")
        if rights_confirmed is not True:
            raise ValidationError("rights_confirmed must be True: confirm that you have the "
                                  "right to use this file on Sogni")
        body = {"url": url, "name": name, "modelId": model_id, "rightsConfirmed": True}
        data = self._transport.rest.request("POST", _PERSONAL, json=body)
        return structure(data, PersonalLora, _PERSONAL)

    def remove(self, lora_id: str) -> None:
        """Remove one of your imports (also after a subscription lapsed)."""
        self._transport.rest.request("DELETE", f"{_PERSONAL}/{check_id(lora_id, 'lora_id')}")

    def catalog(self, model_id: str | None = None) -> tuple[LoraCatalogEntry, ...]:
        """Your ready imports as catalogue rows (strength ranges, models), optionally only
        those ``model_id`` accepts; never cached."""
        wanted = _optional_model(model_id)
        path = f"{_PERSONAL}/catalog"
        rows = structure(self._get(path), _PersonalRows, path).loras
        return rows if wanted is None else tuple(r for r in rows if wanted in r.model_ids)


class LoraCatalogReader:
    """The public catalogue behind ``projects.available_loras()`` and its cache."""

    def __init__(self, transport: RestAccess, personal: PersonalLoras) -> None:
        self._transport = transport
        self._personal = personal
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, LoraCatalog]] = {}

    def available(self, model_id: str | None = None, *, include_personal: bool = False,
                  force_refresh: bool = False) -> LoraCatalog:
        wanted = _optional_model(model_id)
        public = self._public(wanted, force_refresh)
        if not include_personal:
            return public
        every = self._personal.catalog()  # one read: the rows and the models they add
        mine = every if wanted is None else tuple(r for r in every if wanted in r.model_ids)
        models = tuple(sorted({*public.models, *_capable_models(every)}))
        return attrs.evolve(public, loras=public.loras + mine, models=models)

    def _public(self, model_id: str | None, force_refresh: bool) -> LoraCatalog:
        key = model_id or ""
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and not force_refresh and time.monotonic() - hit[0] < CATALOG_TTL:
            return hit[1]
        params = {"modelId": model_id} if model_id else None
        data = self._transport.rest.request("GET", _CATALOG, params=params)
        catalog = structure(data, LoraCatalog, _CATALOG)
        if model_id:
            catalog = attrs.evolve(catalog, loras=tuple(
                row for row in catalog.loras if model_id in row.model_ids))
        with self._lock:
            self._cache[key] = (time.monotonic(), catalog)
        return catalog

    def get(self, lora_id: str) -> LoraCatalogEntry | None:
        if not isinstance(lora_id, str) or not lora_id:
            raise ValidationError("lora_id must be a non-empty string")
        rows = (self._personal.catalog() if lora_id.startswith(PERSONAL_PREFIX)
                else self._public(None, False).loras)
        return next((row for row in rows if row.lora_id == lora_id), None)

    def supports(self, model_id: str) -> bool:
        if not isinstance(model_id, str) or not model_id:
            raise ValidationError("model_id must be a non-empty string")
        return model_id in self._public(None, False).models

    def constraints(self) -> LoraConstraints:
        return self._public(None, False).constraints
