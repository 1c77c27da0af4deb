"""Checks of project parameters: their types (no catalogue needed) and the model's options.

:func:`check_fields` runs when a parameter object is built. It reads each field's annotation —
the same one mypy and IDEs see — so the runtime check cannot drift from the typed signature:
``bool`` is not a number, NaN and infinities are refused, ``Literal`` sets are closed. Field
metadata adds what a type cannot say: fixed ranges (``min``/``max``), media inputs (``media``),
and the reference's own message for a value it checked itself (``reference``, ``urls``), so
those texts stay exactly the reference's.

:func:`check_options` runs once the model's catalogue options are known, in the reference's
order of checks (so the first error reported is the reference's first), followed by the
ranges the reference left to the server.
"""

from __future__ import annotations

import functools
import math
import os
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from sogni_sync._convert import to_camel
from sogni_sync._js import js_number, js_str, truthy
from sogni_sync.catalog._families import (
    calculate_video_frames,
    is_h3_model,
    is_video_model_id,
    is_video_upscale_model,
    is_wan3_model,
    max_context_images,
    max_video_duration,
    min_video_duration,
    sends_vae,
)
from sogni_sync.catalog._options import (
    ModelOptions,
    check_allowed,
    check_range,
    check_sampler,
    check_scheduler,
    check_vae,
)
from sogni_sync.errors import ValidationError
from sogni_sync.projects._image_rules import check_gpt_image_options, check_utility_images
from sogni_sync.projects._validate import (
    validate_custom_image_size,
    validate_number,
    validate_teacache,
    validate_video_size,
)
from sogni_sync.projects._video_rules import check_h3_params, check_upscale, check_video_assets

__all__ = ["check_fields", "check_options", "is_media_value"]

#: ControlNet keys the reference checks itself, with the names its messages use.
_CONTROL_NET_NUMBERS = {"strength": "strength", "guidance_start": "guidanceStart",
                        "guidance_end": "guidanceEnd"}


def is_media_value(value: Any) -> bool:
    """bytes-like, a path, a readable object, or True ("already uploaded")."""
    return (value is True or isinstance(value, (bytes, bytearray, memoryview, str, os.PathLike))
            or callable(getattr(value, "read", None)))


# -- types ---------------------------------------------------------------------------------


def _is_typed_dict(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__total__")


def _members(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(a for a in typing.get_args(hint) if a is not type(None))
    return (hint,)


def _conforms(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, h) for h in _members(hint))
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in typing.get_args(hint))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value))
    if hint is str:
        return isinstance(value, str)
    if origin is Sequence:
        (item,) = typing.get_args(hint)
        return isinstance(value, (list, tuple)) and all(_conforms(v, item) for v in value)
    if _is_typed_dict(hint):
        return isinstance(value, Mapping)  # keys are checked one by one by _check_mapping
    raise TypeError(f"no runtime check for {hint!r}")  # pragma: no cover - a new annotation


def _describe(hint: Any) -> str:
    members = _members(hint)
    if len(members) > 1:
        return " or ".join(_describe(m) for m in members)
    hint = members[0]
    if typing.get_origin(hint) is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if typing.get_origin(hint) is Sequence:
        return f"a list, each item {_describe(typing.get_args(hint)[0])}"
    if _is_typed_dict(hint):
        keys = ", ".join(sorted(hint.__required_keys__ | hint.__optional_keys__))
        return f"a mapping with the keys {keys}"
    names = {bool: "True or False", int: "an integer (not a bool)",
             float: "a finite number (not a bool)", str: "a string"}
    return names[hint]


def _type_error(name: str, value: Any, hint: Any) -> ValidationError:
    return ValidationError(f"{name} must be {_describe(hint)}, got {value!r}")


def _check_bounds(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    values = value if isinstance(value, (list, tuple)) else [value]
    low, high = meta.get("min"), meta.get("max")
    for number in values:
        if low is not None and (number < low or (meta.get("exclusive") and number == low)):
            word = "greater than" if meta.get("exclusive") else "at least"
            if high is not None:
                raise ValidationError(f"{name} must be between {js_number(low)} and "
                                      f"{js_number(high)}, got {js_number(number)}")
            raise ValidationError(f"{name} must be {word} {js_number(low)}, "
                                  f"got {js_number(number)}")
        if high is not None and number > high:
            raise ValidationError(f"{name} must be between {js_number(low or 0)} and "
                                  f"{js_number(high)}, got {js_number(number)}")


def _check_media(name: str, value: Any, many: bool) -> None:
    if many:
        if not isinstance(value, (list, tuple)):
            raise ValidationError(f"{name} must be a list of media inputs, got {value!r}")
        for index, item in enumerate(value):
            if item is not None and item is not False:
                _check_media(f"{name}[{index}]", item, many=False)
        return
    if not is_media_value(value):
        raise ValidationError(
            f"{name} must be bytes, a file path, a binary file object or True, "
            f"got {type(value).__name__}"
        )


def _check_urls(reference: str, value: Any) -> None:
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"{reference} must be an array of URL strings.")
    if any(not isinstance(u, str) for u in value):
        raise ValidationError(f"{reference} must contain only non-empty URL strings.")


def _check_mapping(name: str, value: Mapping[str, Any], hint: Any) -> None:
    hints = _typed_dict_hints(hint)
    unknown = sorted(str(k) for k in value if k not in hints)
    if unknown:
        raise ValidationError(f"{name} has unknown key(s) {', '.join(map(repr, unknown))}; "
                              f"allowed: {', '.join(sorted(hints))}")
    for key in sorted(hint.__required_keys__):
        if value.get(key) is None:
            raise ValidationError(f"{name} needs {key!r}, got {dict(value)!r}")
    for key, item in value.items():
        if item is None:
            continue
        if key == "image":
            _check_media(f"{name}['image']", item, many=False)
        elif key == "mode" and not _conforms(item, hints[key]):
            raise ValidationError(f"Invalid control mode {js_str(item)}")
        elif key in _CONTROL_NET_NUMBERS and not _conforms(item, float):
            raise ValidationError(f"{_CONTROL_NET_NUMBERS[key]} must be a number, "
                                  f"got {js_str(item)}")
        else:
            _check_value(f"{name}[{key!r}]", item, hints[key], {})


def _check_value(name: str, value: Any, hint: Any, meta: Mapping[str, Any]) -> None:
    members = _members(hint)
    if len(members) == 1 and _is_typed_dict(members[0]) and isinstance(value, Mapping):
        _check_mapping(name, value, members[0])
        return
    if len(members) == 1 and typing.get_origin(members[0]) is Sequence:
        item = typing.get_args(members[0])[0]
        if isinstance(value, (list, tuple)) and _is_typed_dict(item):
            for index, entry in enumerate(value):
                if not isinstance(entry, Mapping):
                    raise _type_error(f"{name}[{index}]", entry, item)
                _check_mapping(f"{name}[{index}]", entry, item)
            return
    if not _conforms(value, hint):
        raise _type_error(name, value, hint)
    if "min" in meta or "max" in meta:
        _check_bounds(name, value, meta)


@functools.cache
def _typed_dict_hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


_FIELD_HINTS: dict[type[Any], dict[str, Any]] = {}


def _field_hints(cls: type[Any]) -> dict[str, Any]:
    hints = _FIELD_HINTS.get(cls)
    if hints is None:
        hints = _FIELD_HINTS[cls] = typing.get_type_hints(cls)
    return hints


def check_fields(params: Any) -> None:
    """Type-check every field of an attrs parameter object (raises ValidationError)."""
    cls = type(params)
    hints = _field_hints(cls)
    for field in attrs.fields(cls):
        name, meta = field.name, field.metadata
        value = getattr(params, name)
        if meta.get("text"):
            blank_ok = meta.get("blank_ok")
            if isinstance(value, str) and blank_ok is not None and blank_ok(params.model_id):
                continue
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(f"{name} must be a non-empty string, got {value!r}")
            continue
        if value is None:
            continue
        if "message" in meta and not _conforms(value, hints[name]):
            message = meta["message"]
            raise ValidationError(message(params) if callable(message) else message)
        if meta.get("loose"):  # a mapping the model's own check reads key by key
            if not isinstance(value, Mapping):
                raise ValidationError(f"{to_camel(name)} must be an object")
            continue
        if "media" in meta:
            _check_media(name, value, many=typing.get_origin(_members(hints[name])[0])
                         is Sequence)
        elif "urls" in meta:
            _check_urls(meta["urls"], value)
        else:
            if "reference" in meta and not _conforms(value, float):
                raise ValidationError(
                    f"{meta['reference']} must be a number, got {js_str(value)}")
            _check_value(name, value, meta.get("runtime", hints[name]), meta)


# -- the model's options -------------------------------------------------------------------


def _common(params: Any, options: ModelOptions) -> None:
    model = params.model_id
    seed = params.seed
    if seed is not None and not (is_wan3_model(model) or is_video_upscale_model(model)) and not (
            0 <= seed <= 2**32 - 1):
        raise ValidationError(f"seed must be between 0 and 4294967295, got {js_number(seed)}")
    check_range(params.steps, options.steps, "steps", model)
    check_range(params.guidance, options.guidance, "guidance", model)


def _image(params: Any, options: ModelOptions) -> None:
    model = params.model_id
    check_sampler(params.sampler, options)
    check_scheduler(params.scheduler, options)
    if sends_vae(model):
        check_vae(params.vae, options)
    given = params.given()
    check_utility_images(given)
    cn = params.control_net or {}
    for key, label in _CONTROL_NET_NUMBERS.items():
        if cn.get(key) is not None:
            validate_number(cn[key], name=label, minimum=0, maximum=1)
    width, height, preset = params.width, params.height, params.size_preset
    if truthy(width) and truthy(height) and (preset in (None, "", "custom")):
        validate_custom_image_size(width, model_id=model, name="Width")
        validate_custom_image_size(height, model_id=model, name="Height")
    check_gpt_image_options(given)
    _common(params, options)
    if params.context_images:
        limit = max_context_images(model)
        if len(params.context_images) > limit:
            raise ValidationError(f"Up to {limit} context images are supported for this model")


def _video(params: Any, options: ModelOptions) -> None:
    model = params.model_id
    if not is_video_model_id(model):
        raise ValidationError("Video generation is only supported for video models.")
    given = params.given()
    check_video_assets(given)
    upscale = is_video_upscale_model(model)
    if upscale:
        check_upscale(given)
    h3 = is_h3_model(model)
    if h3:
        check_h3_params(given)
    elif params.audio_start is not None and params.audio_start < 0:
        raise ValidationError(
            f"audio_start must be at least 0, got {js_number(params.audio_start)}")
    fps = params.fps
    if params.duration is not None and upscale:
        if params.frames is None:
            validate_number(params.duration, name="Video duration", minimum=1 / (fps or 24))
    elif params.duration is not None:
        validate_number(params.duration, name="Video duration",
                        minimum=min_video_duration(model), maximum=max_video_duration(model))
    if params.teacache_threshold is not None:
        validate_teacache(params.teacache_threshold)
    cn = params.control_net or {}
    if cn.get("strength") is not None:
        validate_number(cn["strength"], name="strength", minimum=0, maximum=1)
    sized = truthy(params.width) and truthy(params.height)
    if sized and not h3:
        validate_video_size(params.width, "width")
        validate_video_size(params.height, "height")
    check_sampler(params.sampler, options)
    check_scheduler(params.scheduler, options)
    _common(params, options)
    check_allowed(fps, options.fps, "fps", model)
    check_range(params.shift, options.shift, "shift", model)
    if sized:
        check_range(params.width, options.width, "width", model)
        check_range(params.height, options.height, "height", model)
    # explicit frames are sent unsnapped, as the seed does (a golden vector pins it)
    check_range(params.frames, options.frames, "frames", model, grid=False)
    if params.duration is not None and options.frames is not None and not upscale:
        fps = (30 if is_wan3_model(model) else 24) if fps is None else fps
        frames = calculate_video_frames(model, params.duration, fps)
        low, high = options.frames.min, options.frames.max
        if not low <= frames <= high:
            raise ValidationError(
                f"duration {js_number(params.duration)} s at "
                f"{js_number(fps)} fps makes {frames} frames; model "
                f"{model} allows {js_number(low)} to {js_number(high)} frames"
            )


def _audio(params: Any, options: ModelOptions) -> None:
    model = params.model_id
    check_sampler(params.sampler, options)
    check_scheduler(params.scheduler, options)
    _common(params, options)
    for name in ("duration", "bpm", "shift", "prompt_strength", "creativity"):
        check_range(getattr(params, name), getattr(options, name), name, model)
    for name in ("timesignature", "language", "keyscale"):
        check_allowed(getattr(params, name), getattr(options, name), name, model)


def _kind_error(kind: str) -> ValidationError:
    return ValidationError(
        f"Invalid model type. Model does not support {kind} generation. "
        "Please use a different model."
    )


def check_options(params: Any, options: ModelOptions) -> None:
    """Check typed parameters against the model's catalogue options (no I/O)."""
    if options.type != params.type:
        raise _kind_error(params.type)
    {"image": _image, "video": _video, "audio": _audio}[params.type](params, options)
