"""Model families recognised by model-ID prefix, as the reference client does.

The seed client never asks the catalogue which family a model belongs to: ComfyUI naming of the
sampler keys, video workflows, frame maths, size and context-image limits all hang off the ID.
Keeping these rules in one place lets the pure request builder and the catalogue agree.
"""

from __future__ import annotations

from typing import Literal

from sogni_sync._js import js_round

__all__ = [
    "VIDEO_WORKFLOW_ASSETS",
    "AssetRule",
    "WorkflowType",
    "calculate_video_frames",
    "is_audio_model_id",
    "is_comfy_model",
    "is_ltx_model",
    "is_seedance_model",
    "is_video_model_id",
    "is_wan_animate_model",
    "is_wan_model",
    "max_context_images",
    "max_custom_image_size",
    "max_video_duration",
    "video_workflow",
]

WorkflowType = Literal["t2v", "i2v", "s2v", "ia2v", "a2v", "animate-move", "animate-replace", "v2v"]
AssetRule = Literal["required", "optional", "forbidden"]

_COMFY_PREFIXES = ("z_image_", "qwen_image_", "flux2_", "wan_", "ace_step")
_EXTENDED_SIZE_MODELS = frozenset(
    {
        "z_image_bf16",
        "z_image_turbo_bf16",
        "qwen_image_edit_2511_fp8",
        "qwen_image_edit_2511_fp8_lightning",
        "qwen_image_2512_fp8",
        "qwen_image_2512_fp8_lightning",
        "flux2_dev_fp8",
    }
)


def is_wan_model(model_id: str) -> bool:
    return model_id.startswith("wan_")


def is_ltx_model(model_id: str) -> bool:
    return model_id.startswith(("ltx2-", "ltx23-"))


def is_seedance_model(model_id: str) -> bool:
    return model_id.startswith("seedance-2-0")


def is_wan_animate_model(model_id: str) -> bool:
    return "_animate-move" in model_id or "_animate-replace" in model_id


def is_video_model_id(model_id: str) -> bool:
    """The prefix rule used when the model list is not loaded (and always by ``create``)."""
    return is_wan_model(model_id) or is_ltx_model(model_id) or is_seedance_model(model_id)


def is_audio_model_id(model_id: str) -> bool:
    return model_id.startswith("ace_step")


def is_comfy_model(model_id: str) -> bool:
    """ComfyUI models carry ``comfySampler``/``comfyScheduler``; the rest use legacy keys."""
    return model_id.startswith(_COMFY_PREFIXES)


def max_custom_image_size(model_id: str) -> int:
    if model_id == "gpt-image-2":
        return 3840
    if model_id in _EXTENDED_SIZE_MODELS:
        return 2560
    return 2048


def max_context_images(model_id: str) -> int:
    if model_id == "gpt-image-2":
        return 16
    if model_id.startswith("flux2_"):
        return 6
    if model_id.startswith("qwen_image_"):
        return 3
    if "kontext" in model_id:
        return 2
    return 3


def max_video_duration(model_id: str) -> int:
    if is_seedance_model(model_id):
        return 15
    if is_ltx_model(model_id) or is_wan_animate_model(model_id):
        return 20
    return 10


def min_video_duration(model_id: str) -> int:
    return 4 if is_seedance_model(model_id) else 1


def video_workflow(model_id: str) -> WorkflowType | None:
    """The workflow a video model ID implies (first match wins), or None."""
    wan, ltx, seedance = is_wan_model(model_id), is_ltx_model(model_id), is_seedance_model(model_id)
    if not (wan or ltx or seedance):
        return None
    if "_i2v" in model_id:
        return "i2v"
    if "_t2v" in model_id:
        return "t2v"
    if (ltx or seedance) and "_v2v" in model_id:
        return "v2v"
    # "_ia2v" contains "_a2v", so it is tested first.
    if (ltx or seedance) and "_ia2v" in model_id:
        return "ia2v"
    if ltx and "_a2v" in model_id:
        return "a2v"
    if wan:
        if "_s2v" in model_id:
            return "s2v"
        if "_animate-move" in model_id:
            return "animate-move"
        if "_animate-replace" in model_id:
            return "animate-replace"
    return None


_ASSET_KEYS = ("reference_image", "reference_image_end", "reference_audio",
               "reference_audio_identity", "reference_video")
_RULE: dict[str, AssetRule] = {"R": "required", "O": "optional", "F": "forbidden"}


def _rules(spec: str) -> dict[str, AssetRule]:
    """``"FFFOF"`` → rule per asset key, in ``_ASSET_KEYS`` order."""
    return {key: _RULE[c] for key, c in zip(_ASSET_KEYS, spec, strict=True)}


#: Which reference assets each workflow needs (snake_case parameter names, reference order):
#: R = required, O = optional, F = forbidden.
VIDEO_WORKFLOW_ASSETS: dict[str, dict[str, AssetRule]] = {
    "t2v": _rules("FFFOF"),
    "i2v": _rules("OOFOF"),
    "s2v": _rules("RFRFF"),
    "ia2v": _rules("RFRFF"),
    "a2v": _rules("FFRFF"),
    "animate-move": _rules("RFFFR"),
    "animate-replace": _rules("RFFFR"),
    "v2v": _rules("OFFOR"),
}


def calculate_video_frames(model_id: str, duration: float, fps: float) -> int:
    """Frame count for a duration: WAN always renders 16 fps; LTX snaps to 1 + 8n."""
    if is_wan_model(model_id):
        return js_round(duration * 16) + 1
    frames = js_round(duration * fps) + 1
    if is_ltx_model(model_id):
        frames = js_round((frames - 1) / 8) * 8 + 1
    return frames
