"""Client-side validation with the reference's exact error texts.

The texts (including the original's "must greater or equal" slip) are part of the contract:
callers and the conformance vectors match on them. Values are judged with JavaScript
semantics — ``Number(v)``, truthiness, ``String(v)`` — because the reference did.
"""

from __future__ import annotations

import math
from typing import Any

from sogni_sync._js import js_number, js_str, js_to_number
from sogni_sync.catalog._families import max_custom_image_size, min_custom_image_size
from sogni_sync.errors import ValidationError

__all__ = [
    "validate_custom_image_size",
    "validate_number",
    "validate_teacache",
    "validate_video_size",
]


def _wire_number(number: float) -> int | float:
    """A JS double as the JSON value JS would print (``7`` not ``7.0``)."""
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def validate_number(
    value: Any, *, name: str, minimum: float | None = None, maximum: float | None = None
) -> int | float:
    number = js_to_number(value)
    if math.isnan(number):
        raise ValidationError(f"{name} must be a number, got {js_str(value)}")
    if minimum is not None and number < minimum:
        raise ValidationError(
            f"{name} must greater or equal {js_number(minimum)}, got {js_number(number)}"
        )
    if maximum is not None and number > maximum:
        raise ValidationError(
            f"{name} must be less or equal {js_number(maximum)}, got {js_number(number)}"
        )
    return _wire_number(number)


def validate_custom_image_size(value: Any, *, model_id: str, name: str) -> int | float:
    return validate_number(value, name=name, minimum=min_custom_image_size(model_id),
                           maximum=max_custom_image_size(model_id))


def validate_video_size(value: Any, name: str) -> int | float:
    return validate_number(value, name=f"Video {name}", minimum=480)


def validate_teacache(value: Any) -> int | float:
    number = js_to_number(value)
    if math.isnan(number):
        raise ValidationError(f"teacacheThreshold must be a number, got {js_str(value)}")
    if number < 0 or number > 1:
        raise ValidationError(
            f"teacacheThreshold must be between 0.0 and 1.0 (got {js_number(number)})"
        )
    return _wire_number(number)
