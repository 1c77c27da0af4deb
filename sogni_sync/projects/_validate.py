"""Client-side validation with the reference's exact error texts.

The texts (including the original's "must greater or equal" slip) are part of the contract:
callers and the conformance vectors match on them. Values are judged with JavaScript
semantics — ``Number(v)``, truthiness, ``String(v)`` — because the reference did.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sogni_sync._convert import to_camel
from sogni_sync._js import js_number, js_str, js_to_number, truthy
from sogni_sync.catalog._families import (
    VIDEO_WORKFLOW_ASSETS,
    is_seedance_model,
    max_custom_image_size,
    video_workflow,
)
from sogni_sync.errors import ValidationError

__all__ = [
    "validate_custom_image_size",
    "validate_number",
    "validate_teacache",
    "validate_video_assets",
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
    return validate_number(value, name=name, minimum=256, maximum=max_custom_image_size(model_id))


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


def _reference_urls(value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)):
        return []
    return [u for u in value if isinstance(u, str) and u.strip()]


def _check_url_array(value: Any, name: str) -> None:
    if value is None:
        return
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"{name} must be an array of URL strings.")
    if any(not isinstance(u, str) or not u.strip() for u in value):
        raise ValidationError(f"{name} must contain only non-empty URL strings.")


def _validate_seedance(params: Mapping[str, Any]) -> None:
    _check_url_array(params.get("reference_image_urls"), "referenceImageUrls")
    _check_url_array(params.get("reference_video_urls"), "referenceVideoUrls")
    _check_url_array(params.get("reference_audio_urls"), "referenceAudioUrls")

    def has(key: str) -> int:
        return 1 if truthy(params.get(key)) else 0

    images = (has("reference_image") + has("reference_image_end")
              + len(_reference_urls(params.get("reference_image_urls"))))
    videos = has("reference_video") + len(_reference_urls(params.get("reference_video_urls")))
    audios = (
        (1 if truthy(params.get("reference_audio"))
         or truthy(params.get("reference_audio_identity")) else 0)
        + len(_reference_urls(params.get("reference_audio_urls")))
    )
    if images > 9:
        raise ValidationError("Seedance supports at most 9 image assets.")
    if videos > 3:
        raise ValidationError("Seedance supports at most 3 video assets.")
    if audios > 3:
        raise ValidationError("Seedance supports at most 3 audio assets.")
    if images + videos + audios > 12:
        raise ValidationError("Seedance supports at most 12 total asset files.")
    if audios > 0 and images == 0 and videos == 0:
        raise ValidationError(
            "Seedance audio references require at least one image or video reference."
        )


_URL_KEYS = ("reference_image_urls", "reference_video_urls", "reference_audio_urls")


def validate_video_assets(params: Mapping[str, Any]) -> None:
    """Reference URL arrays, Seedance limits and the workflow asset table."""
    model_id = str(params.get("model_id"))
    if is_seedance_model(model_id):
        _validate_seedance(params)
        return
    if any(truthy(params.get(k)) for k in _URL_KEYS):
        raise ValidationError(
            "referenceImageUrls, referenceVideoUrls, and referenceAudioUrls are supported only "
            "by Seedance models."
        )
    workflow = video_workflow(model_id)
    if workflow is None:
        return
    if workflow == "i2v" and not (
        truthy(params.get("reference_image")) or truthy(params.get("reference_image_end"))
    ):
        raise ValidationError(
            "i2v workflow requires at least one of referenceImage or referenceImageEnd. "
            "Please provide this asset."
        )
    if truthy(params.get("sam2_coordinates")) and workflow != "animate-replace":
        raise ValidationError("sam2Coordinates is only supported for animate-replace workflows.")
    for asset, rule in VIDEO_WORKFLOW_ASSETS[workflow].items():
        present = truthy(params.get(asset))
        if rule == "required" and not present:
            raise ValidationError(
                f"{workflow} workflow requires {to_camel(asset)}. Please provide this asset."
            )
        if rule == "forbidden" and present:
            raise ValidationError(
                f"{workflow} workflow does not support {to_camel(asset)}. "
                "Please remove this asset."
            )
