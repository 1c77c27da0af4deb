"""The 5.54 video families' own checks, in the reference's order and with its texts.

Each check reads the given parameters as a snake_case mapping (``VideoParams.given()``) and
raises :class:`ValidationError` with the reference's message. Called by
``_checks.check_options`` before anything is uploaded or sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sogni_sync._convert import to_camel
from sogni_sync._js import js_number, truthy
from sogni_sync.catalog._families import (
    H3_BASE_FRAMES,
    H3_FRAME_STEP,
    H3_MAX_FRAMES,
    H3_WORKFLOW_ASSETS,
    VIDEO_WORKFLOW_ASSETS,
    is_external_video_model,
    is_h3_audio_guide_model,
    is_h3_balanced_model,
    is_h3_model,
    is_h3_reference_model,
    is_h3_turbo_model,
    is_happyhorse_model,
    is_seed_era_model,
    is_seedance25_model,
    is_seedance_model,
    is_wan3_enhanced_model,
    is_wan3_model,
    video_workflow,
)
from sogni_sync.errors import ValidationError

__all__ = [
    "check_h3_params", "check_upscale", "check_video_assets", "drops_negative_prompt", "h3_slots",
]

Params = Mapping[str, Any]

_R2V = "the MiniMax H3 r2v workflow (minimax-h3-ref2va-fp8_r2v)"
_URL_PARAMS = ("reference_image_urls", "reference_video_urls", "reference_audio_urls")
_SEEDANCE_LIMITS = {"seedance-2-5": (30, 10, 10, 50)}
_SEEDANCE_20_LIMITS = (9, 3, 3, 12)
_H3_MAX_PIXELS = 1_032_192


def _urls(value: Any) -> list[str]:
    """The non-blank URL strings of a list (the reference's ``asReferenceUrlArray``)."""
    if not isinstance(value, (list, tuple)):
        return []
    return [u for u in value if isinstance(u, str) and u.strip()]


def _has(params: Params, key: str) -> int:
    return 1 if truthy(params.get(key)) else 0


def _check_url_lists(params: Params) -> None:
    for key in _URL_PARAMS:
        value, name = params.get(key), to_camel(key)
        if value is None:
            continue
        if not isinstance(value, (list, tuple)):
            raise ValidationError(f"{name} must be an array of URL strings.")
        if any(not isinstance(u, str) or not u.strip() for u in value):
            raise ValidationError(f"{name} must contain only non-empty URL strings.")


def h3_slots(params: Params, single: str, many: str) -> list[tuple[int, Any]]:
    """MiniMax H3 r2v numbered slots: the single input first, then the list, holes dropped."""
    media = [params.get(single), *(params.get(many) or ())]
    return [(slot, m) for slot, m in enumerate((m for m in media if truthy(m)), start=1)]


def _check_export(params: Params) -> None:
    model, fmt = str(params.get("model_id")), params.get("output_format")
    if fmt == "mov" and not is_seedance25_model(model):
        raise ValidationError("MOV output is supported only by Seedance 2.5.")
    if params.get("return_last_frame") is True and not is_seedance25_model(model):
        raise ValidationError("Last-frame export is supported only by Seedance 2.5.")


def _check_r2v_only_fields(params: Params) -> None:
    r2v = is_h3_reference_model(str(params.get("model_id")))
    context = params.get("context_images")
    if context is not None:
        if not r2v:
            raise ValidationError(f"contextImages is supported only by {_R2V}.")
        if any(not truthy(c) for c in context):
            raise ValidationError(
                "contextImages must not contain empty entries. Reference ordinals follow array "
                "position, so a hole would renumber every later reference.")
    for key in ("reference_videos", "reference_audios"):
        value = params.get(key)
        if value is None:
            continue
        if not r2v:
            raise ValidationError(f"{to_camel(key)} is supported only by {_R2V}.")
        if any(not truthy(v) for v in value):
            raise ValidationError(f"{to_camel(key)} must be an array without empty entries.")
    if params.get("reference_video_durations") is not None and not r2v:
        raise ValidationError(f"referenceVideoDurations is supported only by {_R2V}.")


def _check_happyhorse(params: Params) -> None:
    _check_url_lists(params)
    if _has(params, "reference_video") or _urls(params.get("reference_video_urls")):
        raise ValidationError("HappyHorse models do not support reference video assets.")
    if (_has(params, "reference_audio") or _has(params, "reference_audio_identity")
            or _urls(params.get("reference_audio_urls"))):
        raise ValidationError("HappyHorse models do not support reference audio assets.")
    if _has(params, "reference_image_end"):
        raise ValidationError("HappyHorse models do not support a separate end-frame image "
                              "(referenceImageEnd).")
    workflow = video_workflow(str(params.get("model_id")))
    images = _has(params, "reference_image") + len(_urls(params.get("reference_image_urls")))
    if workflow == "i2v":
        if images != 1:
            raise ValidationError("HappyHorse i2v requires exactly one first-frame reference "
                                  "image.")
    elif workflow == "r2v":
        if not 1 <= images <= 9:
            raise ValidationError("HappyHorse r2v requires between 1 and 9 reference images.")
    elif images:
        raise ValidationError("HappyHorse t2v does not support reference images.")


def _check_https(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} must be a non-empty public HTTPS URL.")
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() != "https" or not parts.netloc:
        raise ValidationError(f"{name} must be a valid public HTTPS URL.")


def _check_wan3(params: Params) -> None:
    enhanced = is_wan3_enhanced_model(str(params.get("model_id")))
    _check_url_lists(params)
    for key in ("reference_file_url", "reference_link_url"):
        if params.get(key) is not None:
            _check_https(to_camel(key), params[key])
    document = truthy(params.get("reference_file_url")) or truthy(params.get("reference_link_url"))
    if truthy(params.get("reference_file_url")) and truthy(params.get("reference_link_url")):
        raise ValidationError(
            "Wan 3 accepts either one reference file or one reference link, not both.")
    if enhanced and document:
        raise ValidationError("Wan 3.0 Enhanced does not accept document or webpage references.")
    if enhanced and params.get("watermark") is not None:
        raise ValidationError("Wan 3.0 Enhanced does not expose a watermark option.")
    if params.get("fps") is not None and params["fps"] != 30:
        raise ValidationError("Wan 3 output is fixed at 30 fps.")
    if _has(params, "reference_audio_identity") or _has(params, "reference_mask"):
        raise ValidationError("Wan 3 does not support audio-identity or mask inputs.")
    seed = params.get("seed")
    if seed is not None and not 0 <= seed <= 2147483647:
        raise ValidationError("Wan 3 seed must be an integer from 0 through 2147483647.")
    images = len(_urls(params.get("reference_image_urls")))
    videos = _has(params, "reference_video") + len(_urls(params.get("reference_video_urls")))
    audios = _has(params, "reference_audio") + len(_urls(params.get("reference_audio_urls")))
    anchors = _has(params, "reference_image") or _has(params, "reference_image_end")
    loose = images > 0 or videos > 0 or audios > 0 or document
    if not enhanced and _has(params, "reference_image_end") and not _has(params, "reference_image"):
        raise ValidationError(
            "Wan 3 last-frame generation requires a first-frame referenceImage.")
    if anchors and loose:
        raise ValidationError("Wan 3 first/last-frame anchors cannot be combined with loose "
                              "media, file, or link references.")
    for count, limit, label in ((images, 10, "reference images"), (videos, 5, "reference videos"),
                                (audios, 5, "reference audio clips")):
        if count > limit:
            raise ValidationError(f"Wan 3 supports at most {limit} {label}.")
    if not str(params.get("positive_prompt") or "").strip() and not anchors and not loose:
        raise ValidationError(
            "Wan 3 requires a prompt or at least one media, file, or link input.")


def _check_seedance_task(params: Params) -> None:
    task = params.get("seedance_task_type")
    seedance25 = is_seedance25_model(str(params.get("model_id")))
    if task is not None and not seedance25:
        raise ValidationError("seedanceTaskType is supported only by Seedance 2.5.")
    if not seedance25:
        return
    frames = _has(params, "reference_image") or _has(params, "reference_image_end")
    video = bool(_has(params, "reference_video") or _urls(params.get("reference_video_urls")))
    loose = bool(_urls(params.get("reference_image_urls")) or video
                 or _has(params, "reference_audio") or _urls(params.get("reference_audio_urls")))
    if task is None and loose:
        raise ValidationError("Seedance 2.5 loose-reference requests require seedanceTaskType.")
    if task is not None and frames:
        raise ValidationError(
            "seedanceTaskType is for Seedance 2.5 loose-reference, edit, or extend requests; "
            "omit it for first/last-frame generation.")
    if task in ("edit", "extend") and not video:
        raise ValidationError(f"Seedance 2.5 {task} requires at least one reference video.")
    if task == "reference" and not loose:
        raise ValidationError(f"Seedance 2.5 {task} requires at least one loose image, video, "
                              "or audio reference.")


def _check_seedance_assets(params: Params) -> None:
    _check_url_lists(params)
    model = str(params.get("model_id"))
    max_images, max_videos, max_audios, max_files = _SEEDANCE_LIMITS.get(
        model, _SEEDANCE_20_LIMITS)
    images = (_has(params, "reference_image") + _has(params, "reference_image_end")
              + len(_urls(params.get("reference_image_urls"))))
    videos = _has(params, "reference_video") + len(_urls(params.get("reference_video_urls")))
    audios = ((1 if _has(params, "reference_audio") or _has(params, "reference_audio_identity")
               else 0) + len(_urls(params.get("reference_audio_urls"))))
    # the seed's Seedance 2.0 texts say "Seedance"; 5.54 names the model
    name = "Seedance" if is_seed_era_model(model) else model
    for count, limit, label in ((images, max_images, "image"), (videos, max_videos, "video"),
                                (audios, max_audios, "audio")):
        if count > limit:
            raise ValidationError(f"{name} supports at most {limit} {label} assets.")
    if images + videos + audios > max_files:
        raise ValidationError(f"{name} supports at most {max_files} total asset files.")
    if not is_seedance25_model(model) and audios and not images and not videos:
        raise ValidationError(
            "Seedance audio references require at least one image or video reference.")


def _check_h3_references(params: Params) -> None:
    for key in _URL_PARAMS:
        if params.get(key) is not None:
            raise ValidationError(f"MiniMax H3 r2v does not accept {to_camel(key)}; pass files "
                                  "through the Sogni asset upload fields instead.")
    images = _has(params, "reference_image") + len(params.get("context_images") or ())
    videos = len(h3_slots(params, "reference_video", "reference_videos"))
    audios = len(h3_slots(params, "reference_audio", "reference_audios"))
    durations: Sequence[float] | None = params.get("reference_video_durations")
    if durations is not None:
        if len(durations) != videos:
            raise ValidationError(
                "MiniMax H3 r2v referenceVideoDurations must contain one entry for each "
                f"uploaded reference video (expected {videos}).")
        for index, seconds in enumerate(durations):
            if not 2 - 0.05 <= seconds <= 15 + 0.05:
                raise ValidationError(f"MiniMax H3 r2v referenceVideoDurations[{index}] must be "
                                      "between 2 and 15 seconds.")
        total = math.fsum(durations)
        if total > 15 + 0.05:
            raise ValidationError("MiniMax H3 r2v reference videos may total at most 15 seconds "
                                  f"(got {js_number(total)}).")
    for count, limit, label in ((images, 9, "reference images"), (videos, 3, "reference videos"),
                                (audios, 3, "reference audios")):
        if count > limit:
            raise ValidationError(
                f"MiniMax H3 r2v supports at most {limit} uploaded {label} (got {count}).")
    total_files = images + videos + audios
    if total_files > 12:
        raise ValidationError(
            f"MiniMax H3 r2v supports at most 12 reference files in total (got {total_files}: "
            f"{images} image, {videos} video, {audios} audio).")
    if images + videos < 1:
        raise ValidationError(
            "MiniMax H3 r2v needs at least one uploaded visual reference. Attach an image "
            "through referenceImage/contextImages or a video through "
            "referenceVideo/referenceVideos. Audio-only requests are not supported; for a "
            "prompt-only render use minimax-h3-fl2va-fp8_t2v.")


def _check_workflow_table(params: Params) -> None:
    model = str(params.get("model_id"))
    workflow = video_workflow(model)
    if workflow is None:
        return
    table = VIDEO_WORKFLOW_ASSETS[workflow]
    if is_h3_model(model):
        table = H3_WORKFLOW_ASSETS.get(workflow, table)
    if workflow == "i2v" and not (_has(params, "reference_image")
                                  or _has(params, "reference_image_end")):
        raise ValidationError("i2v workflow requires at least one of referenceImage or "
                              "referenceImageEnd. Please provide this asset.")
    if truthy(params.get("sam2_coordinates")) and workflow != "animate-replace":
        raise ValidationError("sam2Coordinates is only supported for animate-replace workflows.")
    for asset, rule in table.items():
        present = truthy(params.get(asset))
        if rule == "required" and not present:
            raise ValidationError(
                f"{workflow} workflow requires {to_camel(asset)}. Please provide this asset.")
        if rule == "forbidden" and present:
            raise ValidationError(f"{workflow} workflow does not support {to_camel(asset)}. "
                                  "Please remove this asset.")


_FAMILY_CHECKS: tuple[tuple[Callable[[str], bool], tuple[Callable[[Params], None], ...]], ...] = (
    (is_happyhorse_model, (_check_happyhorse,)),
    (is_wan3_model, (_check_wan3,)),
    (is_seedance_model, (_check_seedance_task, _check_seedance_assets)),
)


def check_video_assets(params: Params) -> None:
    """Export options, reference lists and the workflow's assets, in the reference's order."""
    _check_export(params)
    _check_r2v_only_fields(params)
    model = str(params.get("model_id"))
    for applies, checks in _FAMILY_CHECKS:
        if applies(model):
            for check in checks:
                check(params)
            return
    if is_h3_reference_model(model):
        _check_h3_references(params)
    elif any(truthy(params.get(k)) for k in _URL_PARAMS) or truthy(
            params.get("reference_file_url")) or truthy(params.get("reference_link_url")):
        if is_seed_era_model(model):
            raise ValidationError("referenceImageUrls, referenceVideoUrls, and referenceAudioUrls "
                                  "are supported only by Seedance models.")
        raise ValidationError("External reference URLs are supported only by Seedance, "
                              "HappyHorse, and Wan 3 models.")
    _check_workflow_table(params)


_TIMING = ("Omit the source timing, or supply the source video\u2019s exact frame count and "
           "frame rate.")


def check_upscale(params: Params) -> None:
    """FlashVSR: one promptless source video, 1080p or 1440p, no generation controls."""
    seed = params.get("seed", 0)
    if not -1 <= seed <= 4294967295:
        raise ValidationError("FlashVSR seed must be -1 (random) or an integer from 0 through "
                              "4294967295.")
    resolution = params.get("upscale_resolution")
    if resolution is None:
        width, height = params.get("width"), params.get("height")
        resolution = None if width is None or height is None else min(width, height)
    if resolution not in (1080, 1440):
        raise ValidationError("Choose 1080p or 1440p for video upscaling.")
    if not truthy(params.get("reference_video")):
        raise ValidationError("FlashVSR requires an uploaded referenceVideo.")
    fps, frames = params.get("fps"), params.get("frames")
    if fps is not None and not 1 <= fps <= 60:
        raise ValidationError(_TIMING)
    if frames is None and params.get("duration") is not None:
        if fps is None:
            raise ValidationError(_TIMING)
        frames = round(params["duration"] * fps)
    if frames is not None and frames < 1:
        raise ValidationError(_TIMING)
    if str(params.get("positive_prompt") or "").strip() or str(
            params.get("negative_prompt") or "").strip():
        raise ValidationError("FlashVSR is promptless.")
    controls = (params.get("teacache_threshold") is not None or params.get("trim_end_frame")
                or params.get("control_net") or params.get("video_start") is not None
                or any(_urls(params.get(k)) for k in _URL_PARAMS)
                or params.get("reference_file_url") or params.get("reference_link_url")
                or params.get("generate_audio") is False)
    if controls:
        raise ValidationError("Video upscaling preserves the complete source video and its "
                              "audio; generation controls are unsupported.")
    if params.get("number_of_media", 1) != 1:
        raise ValidationError("Upscale one source video per project.")


def check_h3_params(params: Params) -> None:
    """MiniMax H3's fixed values, frame grid, sizes and audio-guide rules."""
    model = str(params.get("model_id"))
    if params.get("fps") is not None and params["fps"] != 24:
        raise ValidationError("MiniMax H3 fps is fixed at 24. Omit fps or set it to 24.")
    turbo, balanced = is_h3_turbo_model(model), is_h3_balanced_model(model)
    steps = 4 if turbo else 8 if balanced else 20
    if params.get("steps") is not None and params["steps"] != steps:
        kind = " Turbo" if turbo else " Balanced" if balanced else ""
        raise ValidationError(f"MiniMax H3{kind} steps are fixed at {steps}.")
    if params.get("guidance") is not None and params["guidance"] != 1:
        raise ValidationError("MiniMax H3 guidance is fixed at 1.")
    if str(params.get("negative_prompt") or "").strip():
        raise ValidationError("MiniMax H3 has no negative-prompt input. Put requested "
                              "exclusions in positivePrompt.")
    frames = params.get("frames")
    if frames is not None and (not float(frames).is_integer()
                               or not H3_BASE_FRAMES <= frames <= H3_MAX_FRAMES
                               or (frames - H3_BASE_FRAMES) % H3_FRAME_STEP):
        raise ValidationError("MiniMax H3 frames must be 124 + n*17 in the inclusive range "
                              "124-362.")
    width, height = params.get("width"), params.get("height")
    if (width is None) != (height is None):
        raise ValidationError("MiniMax H3 width and height must be provided together.")
    if width is not None and height is not None and not (
            32 <= width <= 1344 and 32 <= height <= 1344 and width % 32 == 0
            and height % 32 == 0 and width * height <= _H3_MAX_PIXELS):
        raise ValidationError(
            "MiniMax H3 dimensions must use a 32px grid, stay at or below 1344px per axis, and "
            "fit within 1,032,192 pixels.")
    if params.get("audio_duration") is not None:
        raise ValidationError(
            "MiniMax H3 has no audioDuration input. Set frames or duration; the uploaded audio "
            "is trimmed to the video length.")
    if is_h3_audio_guide_model(model):
        workflow = video_workflow(model)
        if params.get("generate_audio") is False:
            raise ValidationError(f"MiniMax H3 {workflow} output always carries the uploaded "
                                  "audio. Omit generateAudio or set it to true.")
        start = params.get("audio_start")
        if start is not None and start < 0:
            raise ValidationError(f"MiniMax H3 {workflow} audioStart must be a number of "
                                  "seconds, 0 or greater.")
        if params.get("loras") or params.get("lora_strengths"):
            raise ValidationError(f"MiniMax H3 {workflow} does not support LoRAs. Remove "
                                  "loras and loraStrengths.")
    elif params.get("audio_start") is not None:
        raise ValidationError(
            "audioStart is supported only by the MiniMax H3 FastH3 audio-guide workflows "
            "(minimax-h3-fastvideo-int8_ia2v_turbo, minimax-h3-fastvideo-int8_flfa2v_turbo, "
            "minimax-h3-fastvideo-int8_a2v_turbo and their _2stage ids).")


def drops_negative_prompt(model_id: str) -> bool:
    """External-API video models and MiniMax H3 have no negative prompt on the wire."""
    return is_external_video_model(model_id) or is_h3_model(model_id)
