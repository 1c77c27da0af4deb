"""Model routing for the SDK-local Sogni tools: which media model runs a call.

Pure functions over the online media model list, so the reference's selection rules (requested
model, then preferred ids, then most workers) are unit-testable without a network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sogni_sync._js import js_round
from sogni_sync.catalog._families import max_context_images, video_workflow
from sogni_sync.errors import ValidationError

__all__ = [
    "PREFERRED",
    "clamp_variation_count",
    "compatible_workflows",
    "is_edit_image_model",
    "max_context_images",
    "resolve_model_selector",
    "select_model",
    "video_defaults",
    "video_workflow",
]

PREFERRED = {
    "image.gpt_image_2": "gpt-image-2",
    "image.flux1_schnell": "flux1-schnell-fp8",
    "image.flux2": "flux2_dev_fp8",
    "image.chroma_flash": "chroma-v.46-flash_fp8",
    "image.z_turbo": "z_image_turbo_bf16",
    "video.t2v": "ltx23-22b-fp8_t2v_distilled",
    "video.i2v": "ltx23-22b-fp8_i2v_distilled",
    "video.a2v": "ltx23-22b-fp8_a2v_distilled",
    "video.ia2v": "ltx23-22b-fp8_ia2v_distilled",
    "video.s2v": "wan_v2.2-14b-fp8_s2v_lightx2v",
    "video.v2v": "ltx23-22b-fp8_v2v_distilled",
    "video.seedance": "seedance-2-0",
    "video.seedance_fast": "seedance-2-0-fast",
    "video.animate_move": "wan_v2.2-14b-fp8_animate-move_lightx2v",
    "video.animate_replace": "wan_v2.2-14b-fp8_animate-replace_lightx2v",
    "audio.turbo": "ace_step_1.5_turbo",
    "audio.sft": "ace_step_1.5_sft",
}

_GPT_ALIASES = (
    "chatgpt", "chatgpt-image", "chat-gpt", "chat-gpt-image", "openai", "openai-image",
    "open-ai", "open-ai-image", "gpt", "gpt-image", "gpt2", "gpt-2", "gpt2-image",
    "gpt-2-image", "gptimage2", "gpt-image2", "gpt-image-2",
)
_GPT = {alias: "gpt-image-2" for alias in _GPT_ALIASES}

_IMAGE_SELECTORS = {
    **_GPT,
    "z-turbo": "z_image_turbo_bf16",
    "z-image": "z_image_bf16",
    "chroma-v46-flash": "chroma-v.46-flash_fp8",
    "chroma-detail": "chroma-v48-detail-svd_fp8",
    "flux1-krea": "flux1-krea-dev_fp8_scaled",
    "flux2": "flux2_dev_fp8",
    "pony-v7": "coreml-cyberrealisticPony_v7",
    "qwen-2512": "qwen_image_2512_fp8",
    "qwen-2512-lightning": "qwen_image_2512_fp8_lightning",
    "albedo-xl": "coreml-albedobaseXL_v31Large",
    "animagine-xl": "coreml-animagineXL40_v4Opt",
    "anima-pencil-xl": "coreml-animaPencilXL_v500",
    "art-universe-xl": "coreml-artUniverse_sdxlV60",
    "hyphoria-real": "coreml-hyphoriaRealIllu_v05",
    "analog-madness-xl": "coreml-analogMadnessSDXL_xl2",
    "cyberrealistic-xl": "coreml-cyberrealisticXL_v60",
    "real-dream-xl": "coreml-realDream_sdxlPony11",
    "faetastic-xl": "coreml-sdxlFaetastic_v24",
    "zavychroma-xl": "coreml-zavychromaxl_v80",
    "pony-faetality": "coreml-ponyFaetality_v11",
    "dreamshaper-xl": "coreml-DreamShaper-XL1-Alpha2",
}
_EDIT_SELECTORS = {
    **_GPT,
    "qwen-lightning": "qwen_image_edit_2511_fp8_lightning",
    "qwen": "qwen_image_edit_2511_fp8",
    "flux2": "flux2_dev_fp8",
}
_T2V_SELECTORS = {
    "ltx23": "ltx23-22b-fp8_t2v_distilled",
    "wan22": "wan_v2.2-14b-fp8_t2v_lightx2v",
    "seedance2": "seedance-2-0",
    "seedance2-fast": "seedance-2-0-fast",
}
_I2V_SELECTORS = {
    "ltx23": "ltx23-22b-fp8_i2v_distilled",
    "wan22": "wan_v2.2-14b-fp8_i2v_lightx2v",
    "seedance2": "seedance-2-0",
    "seedance2-fast": "seedance-2-0-fast",
}
_V2V_SELECTORS = {
    "ltx23": "ltx23-22b-fp8_v2v_distilled",
    "ltx23-v2v": "ltx23-22b-fp8_v2v_distilled",
    "seedance2": "seedance-2-0",
}
_S2V_SELECTORS = {
    "wan-s2v": "wan_v2.2-14b-fp8_s2v_lightx2v",
    "seedance2": "seedance-2-0",
    "ltx23-ia2v": "ltx23-22b-fp8_ia2v_distilled",
    "ltx23-a2v": "ltx23-22b-fp8_a2v_distilled",
}
_MUSIC_SELECTORS = {"turbo": "ace_step_1.5_turbo", "sft": "ace_step_1.5_sft"}
_SEP = re.compile(r"[_\s]+")


def _non_blank(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def clamp_variation_count(args: Mapping[str, Any], fallback: Any = 1) -> int:
    """``number_of_variations`` if present (non-numbers count as 1), else ``fallback``; 1..16."""
    value = args.get("number_of_variations", fallback)
    if not _finite_number(value):
        value = 1
    return max(1, min(16, js_round(value)))


def compatible_workflows(model_id: str) -> frozenset[str]:
    if model_id in ("seedance-2-0", "seedance-2-0-fast"):
        return frozenset({"t2v", "i2v", "ia2v", "v2v"})
    workflow = video_workflow(model_id)
    return frozenset({workflow}) if workflow else frozenset()


def is_edit_image_model(model_id: str) -> bool:
    return (
        model_id == "gpt-image-2"
        or model_id.startswith(("qwen_image_edit_", "flux2_"))
        or "kontext" in model_id
    )


def video_defaults(model_id: str) -> tuple[int, int, int]:
    """(width, height, fps) a video tool uses when the model's call leaves them out."""
    if video_workflow(model_id) in ("s2v", "animate-move", "animate-replace"):
        return 832, 480, 16
    if "seedance-2-0-fast" in model_id:
        return 1280, 720, 24
    if model_id.startswith(("seedance-2-0", "ltx2-", "ltx23-")):
        return 1920, 1088, 24
    return 848, 480, 16


def _selector_table(tool: str, args: Mapping[str, Any]) -> Mapping[str, str]:
    if tool == "sogni_generate_image":
        return _IMAGE_SELECTORS
    if tool == "sogni_edit_image":
        return _EDIT_SELECTORS
    if tool == "sogni_generate_video":
        has_ref = _non_blank(args.get("reference_image_url")) or _non_blank(
            args.get("reference_image_end_url")
        )
        return _I2V_SELECTORS if has_ref else _T2V_SELECTORS
    if tool == "sogni_video_to_video":
        return _V2V_SELECTORS
    if tool == "sogni_sound_to_video":
        return _S2V_SELECTORS
    if tool == "sogni_generate_music":
        return _MUSIC_SELECTORS
    return {}


def resolve_model_selector(tool: str, args: Mapping[str, Any]) -> str | None:
    """Map a friendly ``model`` argument (``"flux2"``, ``"ChatGPT"``) to a model id."""
    requested = args.get("model")
    if not isinstance(requested, str) or not requested.strip():
        return None
    table = _selector_table(tool, args)
    if requested in table:
        return table[requested]
    key = _SEP.sub("-", requested.strip().lower())
    return table.get(key, requested)


def _worker_count(model: Mapping[str, Any]) -> float:
    count = model.get("worker_count", model.get("workerCount"))
    return count if _finite_number(count) else 0


def select_model(
    models: Iterable[Mapping[str, Any]],
    media_type: str,
    *,
    requested: str | None = None,
    workflows: Sequence[str] | None = None,
    filter: Callable[[str], bool] | None = None,
    preferred: Sequence[str] = (),
) -> str:
    """Pick the media model for a tool call (``selectBackboneModel``).

    ``models`` are ``{"id", "media", "worker_count"}`` mappings (the online media models).
    A requested model that is offline or incompatible is silently ignored, as in the reference.
    """
    by_media = [m for m in models if m.get("media") == media_type]
    if not by_media:
        raise ValidationError(f"No {media_type} models currently available on the network")
    compatible = [
        m
        for m in by_media
        if (filter is None or filter(str(m["id"])))
        and (workflows is None or compatible_workflows(str(m["id"])) & set(workflows))
    ]
    ids = [str(m["id"]) for m in compatible]
    if requested and requested in ids:
        return requested
    if not compatible:
        if workflows:
            raise ValidationError(
                f"No compatible {media_type} models available for workflows: {', '.join(workflows)}"
            )
        raise ValidationError(
            f"No compatible {media_type} models currently available on the network"
        )
    for model_id in preferred:
        if model_id in ids:
            return model_id
    best = sorted(compatible, key=lambda m: -_worker_count(m))[0]  # stable: ties keep list order
    return str(best["id"])
