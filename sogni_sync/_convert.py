"""Wire naming and conversion, shared by every concern.

The public API is snake_case; the wire is camelCase (with a few irregular keys such as
``jobID``). ``to_snake`` is the mechanical rule the conformance suite uses. :data:`converter`,
the one cattrs converter of the package, builds every result class from its wire dict (and back):
it renames attrs fields to their wire keys, ignores unknown keys and reads money as ``Decimal``,
so wire names never leak into public classes. A class whose wire form needs more (fallbacks, an
envelope, derived values) registers a hook next to its definition with :func:`register_wire`;
:func:`structure` is the edge function for REST answers.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.strategies import configure_union_passthrough

from sogni_sync.errors import UnexpectedResponseError

T = TypeVar("T")

__all__ = [
    "make_converter",
    "register_wire",
    "structure",
    "structure_optional",
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
    "cost_in_usd": "costInUSD",
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


def _snake_name(field: attrs.Attribute[Any]) -> str:
    return str(field.metadata.get("wire") or field.name)


def _is_optional(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp)


def _optional_attrs_class(tp: Any) -> Any:
    """``X`` for ``X | None`` where ``X`` is an attrs class, else None."""
    if not _is_optional(tp):
        return None
    rest = [arg for arg in get_args(tp) if arg is not type(None)]
    return rest[0] if len(rest) == 1 and attrs.has(rest[0]) else None


def _structure_fn(
    conv: cattrs.Converter,
    cls: Any,
    prepare: Callable[[Any], Mapping[str, Any]] | None = None,
    snake: bool = False,
) -> Callable[[Any, Any], Any]:
    """Build ``cls`` from a wire dict: keys renamed (camelCase unless ``snake``), unknown keys
    ignored, an absent key of an optional field without a default read as ``None``, and
    ``prepare`` (fallbacks, derived values) applied to the raw value first."""
    built: list[tuple[Callable[[Any, Any], Any], dict[str, None]]] = []

    def build() -> tuple[Callable[[Any, Any], Any], dict[str, None]]:
        # on first use, so that hooks registered later for nested classes are the ones used
        attrs.resolve_types(cls)
        fields = attrs.fields(cls)
        name = _snake_name if snake else _wire_name
        overrides: dict[str, Any] = {f.name: override(rename=name(f)) for f in fields}
        absent = {name(f): None for f in fields
                  if f.default is attrs.NOTHING and _is_optional(f.type)}
        built.append((make_dict_structure_fn(cls, conv, **overrides), absent))
        return built[0]

    def structure(value: Any, _type: Any) -> Any:
        base, absent = built[0] if built else build()
        data = prepare(value) if prepare is not None else value
        return base({**absent, **data} if absent else data, cls)

    return structure


def _epoch_ms(value: Any, _type: Any = None) -> dt.datetime:
    """A wire time (epoch milliseconds) as an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromtimestamp(float(value) / 1000, tz=dt.timezone.utc)


def make_converter() -> cattrs.Converter:
    """A converter that maps attrs classes to and from camelCase wire dicts.

    A field may name its wire key explicitly with ``attrs.field(metadata={"wire": "jobID"})``.
    Structuring ignores unknown keys (the server grows fields) and reads an absent optional
    field as ``None``; an optional nested object that is absent, empty or not an object is
    ``None``. Money (``Decimal``) is read exactly, an unreadable figure being ``None`` where the
    field allows it and 0 otherwise. A time is epoch milliseconds, as JavaScript's ``Date.now()``
    counts. Unions of JSON scalars pass through unchanged.
    Unstructuring drops ``None`` values (JSON.stringify drops ``undefined``).
    """
    conv = cattrs.Converter(forbid_extra_keys=False)
    configure_union_passthrough(str | int | float | bool | None, conv)

    def _is_attrs(cls: Any) -> bool:
        return attrs.has(cls)

    def _unstructure_factory(cls: Any) -> Any:
        overrides: dict[str, Any] = {
            f.name: override(rename=_wire_name(f), omit_if_default=False)
            for f in attrs.fields(cls)
        }
        base = make_dict_unstructure_fn(cls, conv, **overrides)

        def unstructure(obj: Any) -> dict[str, Any]:
            return {k: v for k, v in base(obj).items() if v is not None}

        return unstructure

    def _optional_object(tp: Any) -> Any:
        cls = _optional_attrs_class(tp)
        return lambda value, _type: (
            conv.structure(value, cls) if isinstance(value, Mapping) and value else None)

    conv.register_structure_hook(Decimal, lambda value, _type: to_decimal(value) or Decimal(0))
    conv.register_structure_hook(Decimal | None, lambda value, _type: to_decimal(value))
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(dt.datetime, _epoch_ms)
    conv.register_structure_hook_factory(_is_attrs, lambda cls: _structure_fn(conv, cls))
    conv.register_structure_hook_factory(
        lambda tp: _optional_attrs_class(tp) is not None, _optional_object)
    conv.register_unstructure_hook_factory(_is_attrs, _unstructure_factory)
    return conv


#: The converter every concern shares: result classes are built with it, never by hand.
converter = make_converter()


def register_wire(
    cls: type[Any],
    prepare: Callable[[Any], Mapping[str, Any]] | None = None,
    *,
    snake: bool = False,
) -> None:
    """Give ``cls`` its own structure hook on :data:`converter`, next to the class.

    ``prepare`` turns the raw wire value into the dict to structure (unwrapping an envelope,
    fallbacks such as "the name is the id when absent", derived values); ``snake`` is for the
    OpenAI shapes whose wire keys are already snake_case.
    """
    converter.register_structure_hook(cls, _structure_fn(converter, cls, prepare, snake))


def structure(data: Any, cls: type[T], path: str) -> T:
    """``cls`` from the answer of ``path``; a non-object answer or fields of the wrong type
    raise UnexpectedResponseError naming ``path``."""
    if not isinstance(data, Mapping):
        raise UnexpectedResponseError.expected(path, "an object", data)
    try:
        return converter.structure(data, cls)
    except Exception as exc:  # cattrs wraps field errors in several exception types
        raise UnexpectedResponseError(
            path, f"{cls.__name__} fields have the wrong type ({type(exc).__name__})",
            payload=data) from exc


def structure_optional(data: Any, cls: type[T]) -> T | None:
    """``cls`` from an optional wire object: ``None`` when it is absent, empty or not an
    object (as the converter reads an optional nested object)."""
    return converter.structure(data, cls) if isinstance(data, Mapping) and data else None
