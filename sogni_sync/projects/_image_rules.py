"""The 5.54 image families' own checks: SAM 3, BiRefNet, Pixal3D and GPT Image 2.5.

Each check reads the given parameters as a snake_case mapping (``ImageParams.given()``) and
raises :class:`ValidationError` with the reference's message, in the reference's order.
:func:`sam3_wire_prompt` also returns the normalised ``sam3Prompt`` the keyframe carries.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from typing import Any

from sogni_sync._convert import to_camel
from sogni_sync._js import truthy
from sogni_sync.errors import ValidationError

__all__ = [
    "BIREFNET_MODEL_ID",
    "PIXAL3D_MODEL_ID",
    "PIXAL3D_MULTIVIEW_MODEL_ID",
    "PIXAL3D_OPTIONS",
    "PIXAL3D_VIEWS",
    "SAM3_MODEL_ID",
    "check_gpt_image_options",
    "check_utility_images",
    "gpt_quality_message",
    "is_gpt_image_model",
    "is_pixal3d_model",
    "is_segmentation_model",
    "mask_from_data_uri",
    "sam3_wire_prompt",
]

Params = Mapping[str, Any]

SAM3_MODEL_ID = "sam3_image_segment_bf16"
BIREFNET_MODEL_ID = "birefnet_image_background_removal_fp16"
PIXAL3D_MODEL_ID = "pixal3d_int8_i23d"
PIXAL3D_MULTIVIEW_MODEL_ID = "pixal3d_multiview_int8_i23d"
#: Pixal3D orbit views and the context-image slot each one travels in.
PIXAL3D_VIEWS = (("left_view_image", 1), ("back_view_image", 2), ("right_view_image", 3))
#: Pixal3D integer options and their inclusive ranges.
PIXAL3D_OPTIONS = (
    ("texture_size", 1024, 4096),
    ("mesh_target_faces", 5000, 700000),
    ("normal_map_size", 512, 2048),
    ("ambient_occlusion_size", 256, 1024),
    ("shape_resolution", 1024, 1536),
)
_TEMPLATE_VARIANTS = ("i23d-birefnet",)
_GPT_IMAGE_IDS = frozenset({"gpt-image-2", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare"})
_SAM3_KEYS = ("points", "boxes", "text", "threshold", "multimask", "apply_mask", "max_instances")


def is_segmentation_model(model_id: str) -> bool:
    return model_id in (SAM3_MODEL_ID, BIREFNET_MODEL_ID)


def is_pixal3d_model(model_id: str) -> bool:
    return model_id in (PIXAL3D_MODEL_ID, PIXAL3D_MULTIVIEW_MODEL_ID)


def is_gpt_image_model(model_id: str) -> bool:
    return model_id in _GPT_IMAGE_IDS


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _coordinate(value: Any, name: str) -> Any:
    if not _number(value) or not 0 <= value <= 1:
        raise ValidationError(f"{name} must be a finite normalized coordinate from 0 to 1")
    return value


def _entries(prompt: Params, key: str, limit: int) -> list[Any]:
    value = prompt.get(key) or []
    if not isinstance(value, (list, tuple)) or len(value) > limit:
        raise ValidationError(f"sam3Prompt.{key} must contain at most {limit} entries")
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise ValidationError(f"sam3Prompt.{key}[{index}] must be an object")
    return list(value)


def _label(entry: Params, where: str, default: str | None) -> str:
    label = entry.get("label", default)
    if label not in ("positive", "negative"):
        raise ValidationError(f'{where}.label must be "positive" or "negative"')
    return str(label)


def _points(prompt: Params) -> list[dict[str, Any]]:
    out = []
    for index, point in enumerate(_entries(prompt, "points", 32)):
        where = f"sam3Prompt.points[{index}]"
        if set(point) - {"x", "y", "label"}:
            raise ValidationError(f"{where} contains unsupported fields")
        label = _label(point, where, None)
        out.append({"x": _coordinate(point.get("x"), f"{where}.x"),
                    "y": _coordinate(point.get("y"), f"{where}.y"), "label": label})
    return out


def _boxes(prompt: Params) -> list[dict[str, Any]]:
    out = []
    for index, box in enumerate(_entries(prompt, "boxes", 16)):
        where = f"sam3Prompt.boxes[{index}]"
        if set(box) - {"x0", "y0", "x1", "y1", "label"}:
            raise ValidationError(f"{where} contains unsupported fields")
        if box.get("label") is not None:
            _label(box, where, None)
        wire = {k: _coordinate(box.get(k), f"{where}.{k}") for k in ("x0", "y0", "x1", "y1")}
        wire["label"] = box.get("label") or "positive"
        if wire["x0"] >= wire["x1"] or wire["y0"] >= wire["y1"]:
            raise ValidationError(f"{where} must have x0 < x1 and y0 < y1")
        out.append(wire)
    return out


def _sam3_text(prompt: Params) -> str | None:
    if prompt.get("text") is None:
        return None
    if not isinstance(prompt["text"], str):
        raise ValidationError("sam3Prompt.text must be a string")
    text = prompt["text"].strip()
    if not text or len(text) > 240:
        raise ValidationError("sam3Prompt.text must contain 1 to 240 characters")
    return text


def _sam3_flags(prompt: Params, points: list[dict[str, Any]]) -> None:
    threshold = prompt.get("threshold")
    if threshold is not None and (not _number(threshold) or not 0 <= threshold <= 1):
        raise ValidationError("sam3Prompt.threshold must be a finite number from 0 to 1")
    for key in ("multimask", "apply_mask"):
        if prompt.get(key) is not None and not isinstance(prompt[key], bool):
            raise ValidationError(f"sam3Prompt.{to_camel(key)} must be a boolean")
        if key == "multimask" and prompt.get(key) is True and not points:
            raise ValidationError("sam3Prompt.multimask requires point prompts")
    instances = prompt.get("max_instances")
    if instances is not None and (not isinstance(instances, int) or isinstance(instances, bool)
                                  or not 1 <= instances <= 16):
        raise ValidationError("sam3Prompt.maxInstances must be an integer from 1 to 16")


def sam3_wire_prompt(prompt: Any) -> dict[str, Any]:
    """Check a SAM 3 prompt and return it as the keyframe carries it (defaults filled)."""
    if not isinstance(prompt, Mapping):
        raise ValidationError("sam3Prompt must be an object")
    unknown = [to_camel(str(k)) for k in prompt if k not in _SAM3_KEYS]
    if unknown:
        raise ValidationError(f"sam3Prompt contains unsupported fields: {', '.join(unknown)}")
    points, boxes, text = _points(prompt), _boxes(prompt), _sam3_text(prompt)
    if not points and not boxes and not text:
        raise ValidationError("sam3Prompt requires at least one point, box, or text prompt")
    if text and points:
        raise ValidationError("sam3Prompt cannot combine text and point prompts")
    if points and len(boxes) > 1:
        raise ValidationError("sam3Prompt supports at most one box when point prompts are present")
    if points and any(b["label"] == "negative" for b in boxes):
        raise ValidationError("sam3Prompt negative boxes require a text prompt")
    _sam3_flags(prompt, points)
    wire: dict[str, Any] = {"points": points, "boxes": boxes}
    if text:
        wire["text"] = text
    threshold = prompt.get("threshold")
    wire["threshold"] = 0.5 if threshold is None else threshold
    if points:
        wire["multimask"] = prompt.get("multimask") is not False
    wire["applyMask"] = prompt.get("apply_mask") is True
    if prompt.get("max_instances") is not None:
        wire["maxInstances"] = prompt["max_instances"]
    return wire


def _check_segmentation(params: Params, model: str) -> None:
    if model == SAM3_MODEL_ID:
        if not truthy(params.get("starting_image")):
            raise ValidationError("SAM3 image segmentation requires startingImage")
        if not truthy(params.get("sam3_prompt")):
            raise ValidationError("SAM3 image segmentation requires sam3Prompt")
        sam3_wire_prompt(params["sam3_prompt"])
    elif params.get("sam3_prompt") is not None:
        raise ValidationError(f"sam3Prompt is only supported by {SAM3_MODEL_ID}")
    if model == BIREFNET_MODEL_ID:
        if not truthy(params.get("starting_image")):
            raise ValidationError("BiRefNet background removal requires startingImage")
    elif params.get("apply_mask") is not None:
        raise ValidationError(f"applyMask is only supported by {BIREFNET_MODEL_ID}")


def _check_pixal3d(params: Params, model: str) -> None:
    pixal3d, multiview = is_pixal3d_model(model), model == PIXAL3D_MULTIVIEW_MODEL_ID
    if pixal3d and not truthy(params.get("starting_image")):
        raise ValidationError(
            "Pixal3D multi-view reconstruction requires startingImage (the front view)"
            if multiview else "Pixal3D reconstruction requires startingImage")
    if pixal3d and any(truthy(c) for c in params.get("context_images") or ()):
        raise ValidationError(
            f"{PIXAL3D_MULTIVIEW_MODEL_ID} takes its orbit views as leftViewImage, backViewImage "
            "and rightViewImage, not contextImages" if multiview else
            f"{PIXAL3D_MODEL_ID} reconstructs from startingImage alone and does not support "
            f"contextImages; use {PIXAL3D_MULTIVIEW_MODEL_ID} for more views")
    for view, _ in PIXAL3D_VIEWS:
        if params.get(view) is None or multiview:
            continue
        name = to_camel(view)
        raise ValidationError(
            f"{PIXAL3D_MODEL_ID} reconstructs from startingImage alone and ignores {name}; use "
            f"{PIXAL3D_MULTIVIEW_MODEL_ID} for orbit views" if model == PIXAL3D_MODEL_ID else
            f"{name} is only supported by {PIXAL3D_MULTIVIEW_MODEL_ID}")
    variant = params.get("template_variant")
    if variant is not None:
        if model != PIXAL3D_MODEL_ID:
            raise ValidationError(f"templateVariant is only supported by {PIXAL3D_MODEL_ID}")
        if variant not in _TEMPLATE_VARIANTS:
            raise ValidationError(
                f"templateVariant must be one of: {', '.join(_TEMPLATE_VARIANTS)}")
    for key, low, high in PIXAL3D_OPTIONS:
        value = params.get(key)
        if value is None:
            continue
        if not pixal3d:
            raise ValidationError(f"{to_camel(key)} is only supported by {PIXAL3D_MODEL_ID} and "
                                  f"{PIXAL3D_MULTIVIEW_MODEL_ID}")
        if not low <= value <= high:
            raise ValidationError(f"{to_camel(key)} must be an integer from {low} to {high}")


def check_utility_images(params: Params) -> None:
    """SAM 3, BiRefNet and Pixal3D: their required source and their own options."""
    model = str(params.get("model_id"))
    _check_segmentation(params, model)
    _check_pixal3d(params, model)


def gpt_quality_message(params: Any) -> str:
    """The reference's text for a GPT Image quality outside the typed set."""
    model, quality = params.model_id, params.gpt_image_quality
    if quality == "auto":
        more = "" if model == "gpt-image-2" else ", xhigh or max"
        return f"Unsupported quality for {model}: auto. Choose low, medium or high{more}."
    return f"Unsupported quality for {model}: {quality}"


def check_gpt_image_options(params: Params) -> None:
    """Masks, quality, background and compression (``validateGptImageOptions``)."""
    model = str(params.get("model_id"))
    mask, mask_url = params.get("gpt_image_mask"), params.get("gpt_image_mask_url")
    if not is_gpt_image_model(model):
        if truthy(mask) or truthy(mask_url):
            raise ValidationError("GPT Image masks require a GPT Image model")
        return
    context = params.get("context_images")
    if truthy(mask) and truthy(mask_url):
        raise ValidationError("Provide one GPT Image mask")
    if truthy(mask) and not context:
        raise ValidationError("GPT Image mask requires a first reference image")
    if context is not None and (len(context) > 16 or any(not truthy(c) for c in context)):
        raise ValidationError("GPT Image accepts up to 16 non-empty references in source order")
    if mask_url is not None and (not mask_url.strip() or not context):
        raise ValidationError("GPT Image mask requires a mask URL and a first reference image")
    gpt25 = model != "gpt-image-2"
    quality = params.get("gpt_image_quality")
    if quality is not None and quality in ("xhigh", "max") and not gpt25:
        raise ValidationError(f"Unsupported quality for {model}: {quality}")
    background = params.get("gpt_image_background")
    if background == "transparent" and not gpt25:
        raise ValidationError(f"Unsupported background for {model}: {background}")
    if background == "transparent" and params.get("output_format") == "jpg":
        raise ValidationError("Transparent GPT Image output requires PNG or WebP")
    compression = params.get("gpt_image_output_compression")
    if compression is not None:
        if not 0 <= compression <= 100:
            raise ValidationError("GPT Image output compression must be an integer from 0 to 100")
        if params.get("output_format") not in ("jpg", "webp"):
            raise ValidationError("GPT Image output compression requires JPEG or WebP")


_PNG_DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
_MAX_DATA_URI_CHARS = -(-50 * 1024 * 1024 * 4 // 3)  # base64 of 50 MB


def mask_from_data_uri(model_id: str, mask: Any, mask_url: str | None) -> bytes | None:
    """The bytes of a GPT Image mask given as a PNG ``data:`` URI (uploaded like a mask file),
    or None when ``mask_url`` is no data URI."""
    if not is_gpt_image_model(model_id) or not (mask_url or "").startswith("data:"):
        return None
    if truthy(mask):
        raise ValidationError("Provide one GPT Image mask, not both media and URL")
    match = _PNG_DATA_URI.fullmatch(mask_url or "")
    if match is None or len(match[1]) >= _MAX_DATA_URI_CHARS:
        raise ValidationError("GPT Image mask must be a PNG data URI smaller than 50 MB")
    try:
        return base64.b64decode(match[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(
            "GPT Image mask must be a PNG data URI smaller than 50 MB") from None
