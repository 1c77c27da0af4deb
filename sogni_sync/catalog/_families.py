"""Model families recognised by model-ID prefix, as the reference client does.

The seed client never asks the catalogue which family a model belongs to: ComfyUI naming of the
sampler keys, video workflows, frame maths, size and context-image limits all hang off the ID.
Keeping these rules in one place lets the pure request builder and the catalogue agree.
"""

from __future__ import annotations

from typing import Literal

from sogni_sync._js import js_round

__all__ = [
    "FLASHVSR_MODEL_ID",
    "H3_BASE_FRAMES",
    "H3_FPS",
    "H3_FRAME_STEP",
    "H3_MAX_FRAMES",
    "H3_WORKFLOW_ASSETS",
    "VIDEO_WORKFLOW_ASSETS",
    "AssetRule",
    "WorkflowType",
    "calculate_video_frames",
    "is_audio_model_id",
    "is_comfy_model",
    "is_external_video_model",
    "is_h3_audio_guide_model",
    "is_h3_balanced_model",
    "is_h3_model",
    "is_h3_reference_model",
    "is_h3_turbo_model",
    "is_happyhorse_model",
    "is_ltx_model",
    "is_model_artifact",
    "is_seedance25_model",
    "is_seedance_model",
    "is_video_upscale_model",
    "is_wan3_enhanced_model",
    "is_wan3_model",
    "is_video_model_id",
    "is_wan_animate_model",
    "is_wan_model",
    "max_context_images",
    "max_custom_image_size",
    "is_seed_era_model",
    "max_video_duration",
    "min_custom_image_size",
    "min_video_duration",
    "prompt_optional",
    "sends_vae",
    "video_workflow",
]

WorkflowType = Literal[
    "t2v", "i2v", "s2v", "ia2v", "a2v", "animate-move", "animate-replace", "v2v", "flf2v",
    "flfa2v", "r2v", "upscale",
]
AssetRule = Literal["required", "optional", "forbidden"]

_COMFY_PREFIXES = (
    "z_image_", "qwen_image_", "flux2_", "wan_", "ace_step", "krea2_", "rtx_vsr_", "flashvsr_",
    "minimax_music3", "qwen3_tts_", "dark_beast_",
)
_SEEDANCE_IDS = frozenset(
    {"seedance-2-0", "seedance-2-0-mini", "seedance-2-0-fast", "seedance-2-5"})
_HAPPYHORSE_IDS = frozenset({"happyhorse-1.1-t2v", "happyhorse-1.1-i2v", "happyhorse-1.1-r2v"})
_WAN3_IDS = frozenset({"wan3.0-video", "wan3.0-spicy-video"})
_H3_FL2VA = "minimax-h3-fl2va-fp8_"
_H3_FAST = "minimax-h3-fastvideo-int8_"
_H3_REF = "minimax-h3-ref2va-fp8_"
#: Every MiniMax H3 id of the 5.54 client (FL2VA, Ref2VA and FastH3 checkpoints).
_H3_IDS = frozenset(
    [f"{_H3_FL2VA}{w}{t}" for w in ("t2v", "i2v", "flf2v") for t in ("", "_turbo", "_balanced")]
    + [f"{_H3_FAST}{w}_turbo{t}" for w in ("t2v", "i2v", "flf2v", "ia2v", "flfa2v", "a2v")
       for t in ("", "_2stage")]
    + [f"{_H3_REF}r2v{t}" for t in ("", "_turbo", "_balanced", "_2stage", "_balanced_2stage")]
)
FLASHVSR_MODEL_ID = "flashvsr_v1.1_tiny_long_bf16"
#: MiniMax H3 frame grid: ``124 + 17 n`` up to 362, at a fixed 24 fps.
H3_BASE_FRAMES, H3_FRAME_STEP, H3_MAX_FRAMES, H3_FPS = 124, 17, 362, 24
_EXTENDED_SIZE_MODELS = frozenset(
    {
        "z_image_bf16",
        "z_image_turbo_bf16",
        "qwen_image_edit_2511_fp8",
        "qwen_image_edit_2511_fp8_lightning",
        "qwen_image_2512_fp8",
        "qwen_image_2512_fp8_lightning",
        "flux2_dev_fp8",
        "krea2_turbo_fp8_scaled",
    }
)
_GPT_IMAGE_IDS = frozenset({"gpt-image-2", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare"})
_KREA_IDENTITY_IDS = frozenset({"krea2_identity_edit_v1_2", "dark_beast_krea2_identity_edit_v1_2"})


def is_wan_model(model_id: str) -> bool:
    return model_id.startswith("wan_")


def is_ltx_model(model_id: str) -> bool:
    return model_id.startswith(("ltx2-", "ltx23-", "ltx25-"))


def is_seedance_model(model_id: str) -> bool:
    return model_id in _SEEDANCE_IDS


def is_seedance25_model(model_id: str) -> bool:
    return model_id == "seedance-2-5"


def is_happyhorse_model(model_id: str) -> bool:
    return model_id in _HAPPYHORSE_IDS


def is_wan3_model(model_id: str) -> bool:
    return model_id in _WAN3_IDS


def is_wan3_enhanced_model(model_id: str) -> bool:
    return model_id == "wan3.0-spicy-video"


def is_external_video_model(model_id: str) -> bool:
    """Seedance, HappyHorse and Wan 3 render at an outside vendor (no negative prompt)."""
    return is_seedance_model(model_id) or is_happyhorse_model(model_id) or is_wan3_model(model_id)


def is_h3_model(model_id: str) -> bool:
    return model_id in _H3_IDS


def is_h3_turbo_model(model_id: str) -> bool:
    return is_h3_model(model_id) and "_turbo" in model_id


def is_h3_balanced_model(model_id: str) -> bool:
    return is_h3_model(model_id) and "_balanced" in model_id


def is_h3_audio_guide_model(model_id: str) -> bool:
    return is_h3_model(model_id) and video_workflow(model_id) in ("ia2v", "flfa2v", "a2v")


def is_h3_reference_model(model_id: str) -> bool:
    return is_h3_model(model_id) and video_workflow(model_id) == "r2v"


def is_video_upscale_model(model_id: str) -> bool:
    return model_id == FLASHVSR_MODEL_ID


def is_model_artifact(model_id: str) -> bool:
    """Image-to-3D models (Pixal3D): an image project whose result is a GLB model."""
    return model_id.startswith("pixal3d_")


def sends_vae(model_id: str) -> bool:
    """Comfy image models new in 5.54 carry a ``vae`` key (the seed's Comfy models do not)."""
    return model_id.startswith(("krea2_", "rtx_vsr_", "dark_beast_"))


def prompt_optional(model_id: str) -> bool:
    """Models whose prompt may be blank: Wan 3 (media alone will do), the upscalers,
    segmentation and image-to-3D."""
    return (is_wan3_model(model_id) or is_video_upscale_model(model_id)
            or model_id.startswith(("rtx_vsr_", "sam3_", "birefnet_", "pixal3d_")))


def is_seed_era_model(model_id: str) -> bool:
    """The seed client's video families, which keep the seed's error texts."""
    return model_id.startswith(("wan_", "ltx2-", "ltx23-", "seedance-2-0"))


def is_wan_animate_model(model_id: str) -> bool:
    return "_animate-move" in model_id or "_animate-replace" in model_id


def is_video_model_id(model_id: str) -> bool:
    """The prefix rule used when the model list is not loaded (and always by ``create``)."""
    return (is_wan_model(model_id) or is_ltx_model(model_id) or is_external_video_model(model_id)
            or is_h3_model(model_id) or is_video_upscale_model(model_id))


def is_audio_model_id(model_id: str) -> bool:
    return model_id.startswith(("ace_step", "qwen3_tts_")) or model_id == "minimax_music3"


def is_comfy_model(model_id: str) -> bool:
    """ComfyUI models carry ``comfySampler``/``comfyScheduler``; the rest use legacy keys."""
    return model_id.startswith(_COMFY_PREFIXES)


def min_custom_image_size(model_id: str) -> int:
    return 512 if model_id == "rtx_vsr_pro" or model_id in _KREA_IDENTITY_IDS else 256


def max_custom_image_size(model_id: str) -> int:
    if model_id == "rtx_vsr_pro":
        return 15360
    if model_id in _KREA_IDENTITY_IDS:
        return 2048
    if model_id in _GPT_IMAGE_IDS:
        return 3840
    if model_id in _EXTENDED_SIZE_MODELS:
        return 2560
    return 2048


def max_context_images(model_id: str) -> int:
    if model_id in _GPT_IMAGE_IDS:
        return 16
    if model_id in _KREA_IDENTITY_IDS:
        return 2
    if model_id.startswith("flux2_"):
        return 6
    if model_id.startswith("qwen_image_"):
        return 3
    if "kontext" in model_id:
        return 2
    return 3


def max_video_duration(model_id: str) -> float:
    if is_h3_model(model_id):
        return H3_MAX_FRAMES / H3_FPS
    if is_seedance25_model(model_id) or is_wan3_model(model_id):
        return 30
    if is_external_video_model(model_id):
        return 15
    if is_ltx_model(model_id) or is_wan_animate_model(model_id):
        return 20
    return 10


def min_video_duration(model_id: str) -> float:
    if is_h3_model(model_id):
        return H3_BASE_FRAMES / H3_FPS
    if is_wan3_model(model_id):
        return 2
    if is_happyhorse_model(model_id):
        return 3
    return 4 if is_seedance_model(model_id) else 1


def video_workflow(model_id: str) -> WorkflowType | None:
    """The workflow a video model ID implies (first match wins), or None."""
    if is_video_upscale_model(model_id):
        return "upscale"
    if is_wan3_model(model_id):
        return "t2v"
    if is_happyhorse_model(model_id):
        return next((w for w in ("r2v", "i2v", "t2v") if f"-{w}" in model_id), None)
    if is_h3_model(model_id):
        # longest names first: "_flfa2v" contains "_a2v", "_flf2v" contains nothing shorter
        order: tuple[WorkflowType, ...] = ("r2v", "flfa2v", "ia2v", "a2v", "flf2v", "i2v", "t2v")
        return next((w for w in order if f"_{w}" in model_id), None)
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
    "flf2v": _rules("RRFFF"),
    "flfa2v": _rules("RRRFF"),
    "r2v": _rules("OFFFF"),
    "upscale": _rules("FFFFR"),
}
#: MiniMax H3 overrides: i2v takes no audio identity; r2v takes audio and video references.
H3_WORKFLOW_ASSETS: dict[str, dict[str, AssetRule]] = {
    "i2v": _rules("OOFFF"),
    "r2v": _rules("OFOFO"),
}


def calculate_video_frames(model_id: str, duration: float, fps: float) -> int:
    """Frame count for a duration: WAN always renders 16 fps; LTX snaps to 1 + 8n; MiniMax H3
    takes the nearest frame of its grid; the upscaler counts source frames (no +1)."""
    if is_video_upscale_model(model_id):
        return js_round(duration * fps)
    if is_h3_model(model_id):
        top = (H3_MAX_FRAMES - H3_BASE_FRAMES) // H3_FRAME_STEP
        step = js_round((js_round(duration * H3_FPS) - H3_BASE_FRAMES) / H3_FRAME_STEP)
        return H3_BASE_FRAMES + min(top, max(0, step)) * H3_FRAME_STEP
    if is_wan_model(model_id):
        return js_round(duration * 16) + 1
    frames = js_round(duration * fps) + 1
    if is_ltx_model(model_id):
        frames = js_round((frames - 1) / 8) * 8 + 1
    return frames
