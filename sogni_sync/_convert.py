"""Wire naming and conversion, shared by every concern.

The public API is snake_case; the wire is camelCase (with a few irregular keys such as
``jobID``). ``to_snake`` is the mechanical rule the conformance suite uses; ``make_converter``
builds a cattrs converter that renames attrs fields to camelCase on the way out and accepts the
camelCase keys (ignoring unknown ones) on the way in, so wire names never leak into public classes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

__all__ = [
    "camel_keys",
    "make_converter",
    "snake_keys",
    "to_camel",
    "to_decimal",
    "to_snake",
]

_RUN = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAP = re.compile(r"(?<=[a-z0-9])([A-Z])")

# snake name -> wire name, where the mechanical camelCase rule does not give the wire spelling.
IRREGULAR: dict[str, str] = {
    "job_id": "jobID",
    "img_id": "imgID",
    "model_id": "modelID",
    "sid": "SID",
    "client_sid": "clientSID",
    "address_sid": "addressSID",
}


def to_snake(name: str) -> str:
    """``modelId`` → ``model_id``; a run of capitals is one word (``disableNSFWFilter`` →
    ``disable_nsfw_filter``)."""
    name = _RUN.sub(r"\1_\2", name)
    return _CAP.sub(r"_\1", name).lower()


def to_camel(name: str) -> str:
    """``number_of_media`` → ``numberOfMedia`` (the plain rule; see ``IRREGULAR`` for the rest)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake_keys(value: Any) -> Any:
    """Recursively convert mapping keys from camelCase to snake_case."""
    if isinstance(value, Mapping):
        return {to_snake(str(k)): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def camel_keys(value: Any) -> Any:
    """Recursively convert mapping keys from snake_case to camelCase (the plain rule)."""
    if isinstance(value, Mapping):
        return {to_camel(str(k)): camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


def to_decimal(value: Any) -> Decimal | None:
    """Money and balances as exact decimals: the wire sends decimal strings (or JSON numbers,
    read through their shortest repr); ``None``/empty/unparseable → ``None``."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(value if isinstance(value, (str, int)) else repr(float(value)))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def _wire_name(field: attrs.Attribute[Any]) -> str:
    alias = field.metadata.get("wire")
    if alias:
        return str(alias)
    return IRREGULAR.get(field.name, to_camel(field.name))


def make_converter(*, omit_none: bool = True) -> cattrs.Converter:
    """A converter that maps attrs classes to and from camelCase wire dicts.

    A field may name its wire key explicitly with ``attrs.field(metadata={"wire": "jobID"})``.
    Structuring ignores unknown keys (the server grows fields); unstructuring drops ``None``
    values when ``omit_none`` (JSON.stringify drops ``undefined``).
    """
    conv = cattrs.Converter(forbid_extra_keys=False)

    def _is_attrs(cls: Any) -> bool:
        return attrs.has(cls)

    def _structure_factory(cls: Any) -> Any:
        overrides: dict[str, Any] = {
            f.name: override(rename=_wire_name(f)) for f in attrs.fields(cls)
        }
        return make_dict_structure_fn(cls, conv, **overrides)

    def _unstructure_factory(cls: Any) -> Any:
        overrides: dict[str, Any] = {
            f.name: override(rename=_wire_name(f), omit_if_default=False)
            for f in attrs.fields(cls)
        }
        base = make_dict_unstructure_fn(cls, conv, **overrides)
        if not omit_none:
            return base

        def unstructure(obj: Any) -> dict[str, Any]:
            return {k: v for k, v in base(obj).items() if v is not None}

        return unstructure

    conv.register_structure_hook(Decimal, lambda value, _type: to_decimal(value) or Decimal(0))
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook_factory(_is_attrs, _structure_factory)
    conv.register_unstructure_hook_factory(_is_attrs, _unstructure_factory)
    return conv


#: The converter every concern shares; build a private one only for special needs.
converter = make_converter()
