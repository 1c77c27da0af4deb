"""The pure ``jobRequest`` builder: project ID + snake_case params + ModelOptions → wire dict.

No I/O happens here, so the whole parameter-to-wire mapping is testable against the golden
vectors offline. Key order follows the reference (template keys first, appended keys in the
order the reference first assigns them) even though JSON consumers ignore it, so the encoded
frame is byte-identical to the seed client's. ``None`` means JS ``undefined``: the key is left
out; a JSON ``null`` appears only where the reference writes one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sogni_sync._convert import to_camel
from sogni_sync._js import truthy
from sogni_sync.catalog._families import (
    calculate_video_frames,
    is_comfy_model,
    is_external_video_model,
    is_h3_model,
    is_h3_reference_model,
    is_video_upscale_model,
    is_wan3_model,
    sends_vae,
)
from sogni_sync.catalog._options import ModelOptions, check_vae
from sogni_sync.projects._image_rules import (
    BIREFNET_MODEL_ID,
    PIXAL3D_OPTIONS,
    PIXAL3D_VIEWS,
    SAM3_MODEL_ID,
    is_pixal3d_model,
    is_segmentation_model,
    sam3_wire_prompt,
)
from sogni_sync.projects._params import AudioParams, ImageParams, ProjectParams, VideoParams
from sogni_sync.projects._video_rules import drops_negative_prompt, h3_slots

__all__ = ["build_job_request", "content_type_keys", "to_wire_json", "wire_value"]

_CONTROL_MODES = {"balanced": 0, "prompt_priority": 1, "cn_priority": 2}


def _template_keyframe() -> dict[str, Any]:
    # The legacy Mac worker cannot cope with missing fields, hence this fixed scaffold.
    return {
        "stepsIsEnabled": True,
        "siRotation": 0,
        "siDragOffsetIsEnabled": True,
        "strength": 0.5,
        "siZoomScaleIsEnabled": True,
        "isEnabled": True,
        "processing": "CPU, GPU",
        "useLastImageAsGuideImageInAnimation": True,
        "guidanceScaleIsEnabled": True,
        "siImageBackgroundColor": "black",
        "cnDragOffset": [0, 0],
        "scheduler": None,
        "timeStepSpacing": None,
        "steps": 20,
        "cnRotation": 0,
        "guidanceScale": 7.5,
        "siZoomScale": 1,
        "modelID": "",
        "cnRotationIsEnabled": True,
        "negativePrompt": "",
        "startingImageZoomPanIsOn": False,
        "seed": None,
        "siRotationIsEnabled": True,
        "cnImageBackgroundColor": "clear",
        "strengthIsEnabled": True,
        "siDragOffset": [0, 0],
        "useLastImageAsCNImageInAnimation": False,
        "positivePrompt": "",
        "controlNetZoomPanIsOn": False,
        "cnZoomScaleIsEnabled": True,
        "currentControlNets": None,
        "stylePrompt": "",
        "cnDragOffsetIsEnabled": True,
        "frameIndex": 0,
        "startingImage": None,
        "cnZoomScale": 1,
    }


_UNDEFINED = object()  # marks template keys the builder overwrote with JS `undefined`


def _template_request() -> dict[str, Any]:
    return {
        "selectedUpscalingModel": "OFF",
        "cnVideoFramesSketch": [],
        "cnVideoFramesSegmentedSubject": [],
        "cnVideoFramesFace": [],
        "doCanvasBlending": False,
        "animationIsOn": False,
        "cnVideoFramesBoth": [],
        "cnVideoFramesDepth": [],
        "keyFrames": None,
        "previews": 5,
        "frameRate": 24,
        "generatedVideoSeconds": 10,
        "canvasIsOn": False,
        "cnVideoFrames": [],
        "disableSafety": False,
        "cnVideoFramesSegmentedBackground": [],
        "cnVideoFramesSegmented": [],
        "numberOfImages": 1,
        "cnVideoFramesPose": [],
        "jobID": "",
        "siVideoFrames": [],
    }


def wire_value(value: Any) -> Any:
    """A user value as JSON.stringify would print it: integral floats lose ``.0``,
    NaN/Infinity become null, tuples become lists."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, Mapping):
        return {str(k): wire_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # JSON.stringify writes undefined array items as null.
        return [wire_value(v) for v in value]
    return value


def to_wire_json(value: Any) -> str:
    """Compact JSON exactly as ``JSON.stringify`` writes it (raw UTF-8, no spaces)."""
    return json.dumps(wire_value(value), separators=(",", ":"), ensure_ascii=False)


def _image_control_net(cn: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw: dict[str, Any] = {
        "name": cn.get("name"),
        "cnImageState": "original",
        "hasImage": truthy(cn.get("image")),
    }
    if cn.get("strength") is not None:
        raw["controlStrength"] = cn["strength"]
    mode = cn.get("mode")
    if truthy(mode):
        raw["controlMode"] = _CONTROL_MODES[str(mode)]
    if cn.get("guidance_start") is not None:
        raw["controlGuidanceStart"] = cn["guidance_start"]
    if cn.get("guidance_end") is not None:
        raw["controlGuidanceEnd"] = cn["guidance_end"]
    return [raw]


def _video_control_net(cn: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw: dict[str, Any] = {"name": cn.get("name")}
    if cn.get("strength") is not None:
        raw["controlStrength"] = cn["strength"]
    return [raw]


def _sampling_keys(kf: dict[str, Any], p: ProjectParams, options: ModelOptions,
                   legacy: bool) -> None:
    # Forge-era image models take the sampler as "scheduler" and the scheduler as
    # "timeStepSpacing"; ComfyUI models, video and audio use comfySampler/comfyScheduler.
    sampler = p.sampler if options.sampler.allowed and truthy(p.sampler) else None
    scheduler = p.scheduler if options.scheduler.allowed and truthy(p.scheduler) else None
    if legacy:
        kf["scheduler"], kf["timeStepSpacing"] = sampler, scheduler
    else:
        kf["comfySampler"], kf["comfyScheduler"] = sampler, scheduler


def _copy(kf: dict[str, Any], p: Any, keys: Sequence[tuple[str, str]]) -> None:
    for param, key in keys:
        value = getattr(p, param)
        if value is not None:
            kf[key] = value


_PIXAL3D_KEYS = tuple((name, to_camel(name)) for name, _, _ in PIXAL3D_OPTIONS)
_GPT_IMAGE_KEYS = (("gpt_image_mask_url", "gptImageMaskUrl"),
                   ("gpt_image_quality", "gptImageQuality"),
                   ("gpt_image_background", "gptImageBackground"),
                   ("gpt_image_output_compression", "gptImageOutputCompression"))


def _apply_utility_image(kf: dict[str, Any], p: ImageParams) -> None:
    """SAM 3's prompt, BiRefNet's matte option, Pixal3D's views and options."""
    if p.model_id == SAM3_MODEL_ID:
        kf["sam3Prompt"] = sam3_wire_prompt(p.sam3_prompt)
    if p.model_id == BIREFNET_MODEL_ID:
        kf["applyMask"] = p.apply_mask is True
    for view, slot in PIXAL3D_VIEWS:
        if truthy(getattr(p, view)):
            kf[f"hasContextImage{slot}"] = True
    _copy(kf, p, (("template_variant", "templateVariant"), *_PIXAL3D_KEYS))


def _apply_image(kf: dict[str, Any], p: ImageParams, options: ModelOptions) -> None:
    kf["sizePreset"] = p.size_preset  # first assignment fixes the key's position
    context = p.context_images or []
    for index in range(16):
        kf[f"hasContextImage{index + 1}"] = index < len(context) and truthy(context[index])
    _sampling_keys(kf, p, options, legacy=not is_comfy_model(p.model_id))
    if sends_vae(p.model_id):
        kf["vae"] = check_vae(p.vae, options)
    if truthy(p.starting_image):
        kf["hasStartingImage"] = True
        kf["strengthIsEnabled"] = True
        strength = p.starting_image_strength
        kf["strength"] = 1 - (strength if strength else 0.5)
    _apply_utility_image(kf, p)
    if p.control_net:
        kf["currentControlNetsJob"] = _image_control_net(p.control_net)
    width, height, preset = p.width, p.height, p.size_preset
    if truthy(width) and truthy(height) and not truthy(preset):
        preset = "custom"
    kf["sizePreset"] = preset
    if preset == "custom" and truthy(width) and truthy(height):
        kf["width"], kf["height"] = width, height
    if truthy(p.gpt_image_mask):
        kf["hasReferenceMask"] = True
        kf["referenceMaskContentType"] = "image/png"
    _copy(kf, p, _GPT_IMAGE_KEYS)


def _urls(value: Sequence[str] | None) -> list[str]:
    return [u for u in value or () if u.strip()]


#: Optional video values copied as given, in the reference's order, in groups.
_VIDEO_OPTIONS = (("generate_audio", "generateAudio"), ("reference_file_url", "referenceFileURL"),
                  ("reference_link_url", "referenceLinkURL"), ("prompt_extend", "promptExtend"),
                  ("watermark", "watermark"), ("ratio", "ratio"),
                  ("return_last_frame", "returnLastFrame"),
                  ("seedance_task_type", "seedanceTaskType"),
                  ("audio_identity_strength", "identityGuidanceScale"))
_VIDEO_AUDIO = (("shift", "shift"), ("teacache_threshold", "teacacheThreshold"),
                ("audio_start", "audioStart"), ("audio_duration", "audioDuration"),
                ("video_start", "videoStart"))
_VIDEO_FRAME_STRENGTHS = (("first_frame_strength", "firstFrameStrength"),
                          ("last_frame_strength", "lastFrameStrength"))


def _video_references(kf: dict[str, Any], p: VideoParams) -> None:
    given = p.given()
    r2v = is_h3_reference_model(p.model_id)
    if truthy(p.reference_image):
        kf["hasReferenceImage"] = True
    offset = 1 if truthy(p.reference_image) else 0
    for index in range(len(p.context_images or ())):
        kf[f"hasContextImage{offset + index + 1}"] = True
    if _urls(p.reference_image_urls):
        kf["referenceImageURLs"] = _urls(p.reference_image_urls)
    if truthy(p.reference_image_end):
        kf["hasReferenceImageEnd"] = True
    if r2v:
        for slot, _ in h3_slots(given, "reference_audio", "reference_audios"):
            kf[f"hasReferenceAudio{slot}"] = True
    elif truthy(p.reference_audio):
        kf["hasReferenceAudio"] = True
    if _urls(p.reference_audio_urls):
        kf["referenceAudioURLs"] = _urls(p.reference_audio_urls)
    if r2v:
        durations = p.reference_video_durations or ()
        for slot, _ in h3_slots(given, "reference_video", "reference_videos"):
            kf[f"hasReferenceVideo{slot}"] = True
            if slot <= len(durations):
                kf[f"referenceVideo{slot}DurationSeconds"] = durations[slot - 1]
    elif truthy(p.reference_video):
        kf["hasReferenceVideo"] = True
    inpaint = p.control_net is not None and p.control_net.get("name") == "inpaint"
    if truthy(p.reference_mask) and inpaint:
        kf["hasReferenceMask"] = True
    if _urls(p.reference_video_urls):
        kf["referenceVideoURLs"] = _urls(p.reference_video_urls)
    if truthy(p.reference_audio_identity):
        kf["hasReferenceAudioIdentity"] = True


def _apply_video(kf: dict[str, Any], p: VideoParams, options: ModelOptions) -> None:
    model_id = p.model_id
    _video_references(kf, p)
    _copy(kf, p, _VIDEO_OPTIONS)
    if p.fps is not None:
        kf["fps"] = p.fps
    elif is_wan3_model(model_id):
        kf["fps"] = 30
    elif is_external_video_model(model_id) or is_h3_model(model_id):
        kf["fps"] = 24
    _copy(kf, p, (("frames", "frames"),))
    upscale = is_video_upscale_model(model_id)
    if p.duration is not None and not (upscale and p.frames is not None):
        default_fps = 30.0 if is_wan3_model(model_id) else 24.0
        frame_rate = default_fps if p.fps is None else float(p.fps)
        kf["frames"] = calculate_video_frames(model_id, p.duration, frame_rate)
    _copy(kf, p, _VIDEO_AUDIO)
    if p.sam2_coordinates is not None:
        kf["sam2Coordinates"] = to_wire_json(p.sam2_coordinates)
    if p.trim_end_frame:
        kf["trimEndFrame"] = True
    _copy(kf, p, _VIDEO_FRAME_STRENGTHS)
    if p.control_net:
        kf["currentControlNetsJob"] = _video_control_net(p.control_net)
    _copy(kf, p, (("detailer_strength", "detailerStrength"),))
    if truthy(p.width) and truthy(p.height):
        kf["width"], kf["height"] = p.width, p.height
    _copy(kf, p, (("outpaint_position", "outpaintPosition"),))
    _sampling_keys(kf, p, options, legacy=False)
    if upscale:
        resolution = p.upscale_resolution
        if resolution is None and p.width is not None and p.height is not None:
            resolution = min(p.width, p.height)
        kf["upscaleResolution"] = resolution
        kf["steps"] = 1
        kf["seed"] = 0 if p.seed is None else p.seed
        kf["detailPreference"] = p.detail_preference or "stable"
        kf["processingSpeed"] = p.processing_speed or "stable"
        kf["generateAudio"] = True
        kf["interpolation"] = "none"


_AUDIO_KEYS = (
    ("duration", "duration"),
    ("bpm", "bpm"),
    ("timesignature", "timesignature"),
    ("language", "language"),
    ("lyrics", "lyrics"),
    ("keyscale", "keyscale"),
    ("composer_mode", "composerMode"),
    ("prompt_strength", "promptStrength"),
    ("creativity", "creativity"),
    ("shift", "shift"),
    ("speaker", "speaker"),
    ("instruct", "instruct"),
    ("reference_text", "referenceText"),
)


def _apply_audio(kf: dict[str, Any], p: AudioParams, options: ModelOptions) -> None:
    _copy(kf, p, _AUDIO_KEYS)
    if truthy(p.reference_audio):
        kf["hasReferenceAudio"] = True
    _sampling_keys(kf, p, options, legacy=False)


def build_job_request(
    project_id: str,
    params: ProjectParams,
    options: ModelOptions,
    *,
    app_source: str | None = None,
) -> dict[str, Any]:
    """Build the ``jobRequest`` body from checked parameters; it only reads them.

    ``params`` must have passed :func:`~sogni_sync.projects._checks.check_options` against
    ``options`` (``prepare_request`` does both). ``app_source`` is the client's default, used
    when ``params`` has none. Video content-type keys are added later by
    :func:`content_type_keys`, once the uploads have sniffed the media.
    """
    kind = params.type
    no_negative = kind == "video" and drops_negative_prompt(params.model_id)
    kf = _template_keyframe()
    kf["steps"] = _UNDEFINED if params.steps is None else params.steps
    kf["guidanceScale"] = _UNDEFINED if params.guidance is None else params.guidance
    kf["modelID"] = params.model_id
    kf["seed"] = _UNDEFINED if params.seed is None else params.seed
    kf["positivePrompt"] = params.positive_prompt
    if kind in ("image", "video") and not no_negative and truthy(params.negative_prompt):
        kf["negativePrompt"] = params.negative_prompt
    if truthy(params.style_prompt):
        kf["stylePrompt"] = params.style_prompt
    for value, key in ((params.loras, "loras"), (params.lora_strengths, "loraStrengths")):
        if value:
            kf[key] = list(value)
    if kind == "audio" or no_negative:
        del kf["negativePrompt"]

    if isinstance(params, ImageParams):
        _apply_image(kf, params, options)
    elif isinstance(params, VideoParams):
        _apply_video(kf, params, options)
    else:
        _apply_audio(kf, params, options)

    request = _template_request()
    request["keyFrames"] = [kf]
    model_id = params.model_id
    utility = is_segmentation_model(model_id) or is_pixal3d_model(model_id)
    previews = params.number_of_previews if isinstance(params, ImageParams) else None
    request["previews"] = previews if truthy(previews) and not utility else 0
    request["numberOfImages"] = 1 if is_segmentation_model(model_id) else params.number_of_media
    request["jobID"] = project_id
    request["disableSafety"] = bool(params.disable_nsfw_filter)
    request["tokenType"] = _UNDEFINED if params.token_type is None else params.token_type
    default_format = {"audio": "mp3", "video": "mp4"}.get(kind, "png")
    request["outputFormat"] = ("glb" if is_pixal3d_model(model_id) else "png"
                               if is_segmentation_model(model_id) else
                               params.output_format or default_format)
    if params.network:
        request["network"] = params.network
    source = params.app_source or app_source
    if truthy(source):
        request["appSource"] = source
    return _strip_undefined(request)


def _strip_undefined(value: dict[str, Any]) -> dict[str, Any]:
    """Drop keys the builder set to JS ``undefined`` (None for optional inputs) and normalise
    numbers; the template's explicit nulls survive because they are never overwritten."""
    return {
        k: _strip_value(v)
        for k, v in value.items()
        if v is not _UNDEFINED and not (v is None and k in _OPTIONAL_KEYS)
    }


def _strip_value(value: Any) -> Any:
    if isinstance(value, dict):
        return _strip_undefined(value)
    if isinstance(value, list):
        return [_strip_value(v) for v in value]
    return wire_value(value)


# Keys whose None means "not given" (JS undefined); every other None is a JSON null.
_OPTIONAL_KEYS = frozenset(
    {"steps", "guidanceScale", "seed", "positivePrompt", "sizePreset", "tokenType", "modelID"}
)


#: Video media parameter → keyframe content-type key, in the reference's order.
CONTENT_TYPE_KEYS = (
    ("reference_image", "referenceImageContentType"),
    ("reference_image_end", "referenceImageEndContentType"),
    ("reference_audio", "referenceAudioContentType"),
    ("reference_audio_identity", "referenceAudioIdentityContentType"),
    ("reference_video", "referenceVideoContentType"),
)


def content_type_keys(request: dict[str, Any], sniffed: Mapping[str, str | None]) -> None:
    """Annotate a video request with the MIME types of the media actually uploaded.

    ``sniffed`` maps a media parameter to its detected type (None when undetectable, which
    leaves the key out). The identity clip doubles as ``referenceAudioContentType`` when no
    reference audio set one, because both share the worker's audio slot.
    """
    kf = request["keyFrames"][0]
    for param, mime in sniffed.items():  # MiniMax H3 r2v numbered slots
        numbered = re.fullmatch(r"reference_(audio|video)(\d+)", param)
        if numbered and mime is not None:
            kf[f"reference{numbered[1].title()}{numbered[2]}ContentType"] = mime
    for param, key in CONTENT_TYPE_KEYS:
        if param not in sniffed:
            continue
        mime = sniffed[param]
        if mime is not None:
            kf[key] = mime
        if param == "reference_audio_identity" and mime is not None:
            kf.setdefault("referenceAudioContentType", mime)
