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
from collections.abc import Mapping
from typing import Any

from sogni_sync.catalog._families import (
    calculate_video_frames,
    is_comfy_model,
    is_seedance_model,
    is_video_model_id,
    max_video_duration,
    min_video_duration,
)
from sogni_sync.catalog._options import ModelOptions
from sogni_sync.errors import ValidationError
from sogni_sync.projects._validate import (
    js_to_number,
    truthy,
    validate_custom_image_size,
    validate_number,
    validate_sampler,
    validate_scheduler,
    validate_teacache,
    validate_video_assets,
    validate_video_size,
)

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
        raw["controlStrength"] = validate_number(
            cn["strength"], name="strength", minimum=0, maximum=1
        )
    mode = cn.get("mode")
    if truthy(mode):
        if not isinstance(mode, str) or mode not in _CONTROL_MODES:
            raise ValidationError(f"Invalid control mode {mode}")
        raw["controlMode"] = _CONTROL_MODES[mode]
    if cn.get("guidance_start") is not None:
        raw["controlGuidanceStart"] = validate_number(
            cn["guidance_start"], name="guidanceStart", minimum=0, maximum=1
        )
    if cn.get("guidance_end") is not None:
        raw["controlGuidanceEnd"] = validate_number(
            cn["guidance_end"], name="guidanceEnd", minimum=0, maximum=1
        )
    return [raw]


def _video_control_net(cn: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw: dict[str, Any] = {"name": cn.get("name")}
    if cn.get("strength") is not None:
        raw["controlStrength"] = validate_number(
            cn["strength"], name="strength", minimum=0, maximum=1
        )
    return [raw]


def _apply_image(kf: dict[str, Any], p: Mapping[str, Any], options: ModelOptions) -> None:
    model_id = str(p["model_id"])
    kf["sizePreset"] = p.get("size_preset")  # first assignment fixes the key's position
    context = p.get("context_images") or []
    for index in range(16):
        kf[f"hasContextImage{index + 1}"] = index < len(context) and truthy(context[index])
    sampler = validate_sampler(p.get("sampler"), options)
    scheduler = validate_scheduler(p.get("scheduler"), options)
    if is_comfy_model(model_id):
        kf["comfySampler"], kf["comfyScheduler"] = sampler, scheduler
    else:  # legacy Forge naming: the sampler travels as "scheduler"
        kf["scheduler"], kf["timeStepSpacing"] = sampler, scheduler
    if truthy(p.get("starting_image")):
        kf["hasStartingImage"] = True
        kf["strengthIsEnabled"] = True
        strength = js_to_number(p.get("starting_image_strength"))
        kf["strength"] = 1 - (strength if truthy(strength) else 0.5)
    if truthy(p.get("control_net")):
        kf["currentControlNetsJob"] = _image_control_net(p["control_net"])
    width, height, preset = p.get("width"), p.get("height"), p.get("size_preset")
    if truthy(width) and truthy(height) and not truthy(preset):
        preset = "custom"
    kf["sizePreset"] = preset
    if preset == "custom" and truthy(width) and truthy(height):
        kf["width"] = validate_custom_image_size(width, model_id=model_id, name="Width")
        kf["height"] = validate_custom_image_size(height, model_id=model_id, name="Height")
    if p.get("gpt_image_quality") is not None:
        kf["gptImageQuality"] = p["gpt_image_quality"]
    if p.get("gpt_image_background") is not None:
        kf["gptImageBackground"] = p["gpt_image_background"]


def _urls(value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)):
        return []
    return [u for u in value if isinstance(u, str) and u.strip()]


def _apply_video(kf: dict[str, Any], p: Mapping[str, Any], options: ModelOptions) -> None:
    model_id = str(p["model_id"])
    if not is_video_model_id(model_id):
        raise ValidationError("Video generation is only supported for video models.")
    validate_video_assets(p)
    seedance = is_seedance_model(model_id)
    flags = (
        ("reference_image", "hasReferenceImage", "reference_image_urls", "referenceImageURLs"),
        ("reference_image_end", "hasReferenceImageEnd", None, None),
        ("reference_audio", "hasReferenceAudio", "reference_audio_urls", "referenceAudioURLs"),
        ("reference_video", "hasReferenceVideo", "reference_video_urls", "referenceVideoURLs"),
        ("reference_audio_identity", "hasReferenceAudioIdentity", None, None),
    )
    for param, flag, url_param, url_key in flags:
        if truthy(p.get(param)):
            kf[flag] = True
        if url_param and url_key:
            urls = _urls(p.get(url_param))
            if urls:
                kf[url_key] = urls
    if p.get("generate_audio") is not None:
        kf["generateAudio"] = p["generate_audio"]
    if p.get("audio_identity_strength") is not None:
        kf["identityGuidanceScale"] = p["audio_identity_strength"]
    fps = p.get("fps")
    if fps is not None:
        kf["fps"] = fps
    elif seedance:
        kf["fps"] = 24
    if p.get("frames") is not None:
        kf["frames"] = p["frames"]
    if p.get("duration") is not None:
        duration = validate_number(
            p["duration"], name="Video duration",
            minimum=min_video_duration(model_id), maximum=max_video_duration(model_id),
        )
        frame_rate = 24.0 if fps is None else js_to_number(fps)
        kf["frames"] = calculate_video_frames(model_id, duration, frame_rate)
    if p.get("shift") is not None:
        kf["shift"] = p["shift"]
    if p.get("teacache_threshold") is not None:
        kf["teacacheThreshold"] = validate_teacache(p["teacache_threshold"])
    for param, key in (
        ("audio_start", "audioStart"),
        ("audio_duration", "audioDuration"),
        ("video_start", "videoStart"),
    ):
        if p.get(param) is not None:
            kf[key] = p[param]
    if p.get("sam2_coordinates") is not None:
        kf["sam2Coordinates"] = to_wire_json(p["sam2_coordinates"])
    if truthy(p.get("trim_end_frame")):
        kf["trimEndFrame"] = True
    for param, key in (
        ("first_frame_strength", "firstFrameStrength"),
        ("last_frame_strength", "lastFrameStrength"),
    ):
        if p.get(param) is not None:
            kf[key] = p[param]
    if truthy(p.get("control_net")):
        kf["currentControlNetsJob"] = _video_control_net(p["control_net"])
    if p.get("detailer_strength") is not None:
        kf["detailerStrength"] = p["detailer_strength"]
    if truthy(p.get("width")) and truthy(p.get("height")):
        kf["width"] = validate_video_size(p["width"], "width")
        kf["height"] = validate_video_size(p["height"], "height")
    kf["comfySampler"] = validate_sampler(p.get("sampler"), options)
    kf["comfyScheduler"] = validate_scheduler(p.get("scheduler"), options)


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
)


def _apply_audio(kf: dict[str, Any], p: Mapping[str, Any], options: ModelOptions) -> None:
    for param, key in _AUDIO_KEYS:
        if p.get(param) is not None:
            kf[key] = p[param]
    kf["comfySampler"] = validate_sampler(p.get("sampler"), options)
    kf["comfyScheduler"] = validate_scheduler(p.get("scheduler"), options)


def _kind_error(kind: str) -> ValidationError:
    return ValidationError(
        f"Invalid model type. Model does not support {kind} generation. "
        "Please use a different model."
    )


def build_job_request(
    project_id: str,
    params: Mapping[str, Any],
    options: ModelOptions,
    *,
    app_source: str | None = None,
) -> dict[str, Any]:
    """Build the ``jobRequest`` body; raises ValidationError with the reference's texts.

    ``app_source`` is the client's default, used when ``params`` has none. Video content-type
    keys are added later by :func:`content_type_keys`, once the uploads have sniffed the media.
    """
    kind = params.get("type")
    model_id = params.get("model_id")
    seedance_video = kind == "video" and isinstance(model_id, str) and is_seedance_model(model_id)
    kf = _template_keyframe()
    kf["steps"] = params.get("steps", _UNDEFINED)
    kf["guidanceScale"] = params.get("guidance", _UNDEFINED)
    kf["modelID"] = model_id
    kf["seed"] = params.get("seed", _UNDEFINED)
    kf["positivePrompt"] = params.get("positive_prompt", _UNDEFINED)
    negative = params.get("negative_prompt")
    if kind in ("image", "video") and not seedance_video and truthy(negative):
        kf["negativePrompt"] = negative
    if truthy(params.get("style_prompt")):
        kf["stylePrompt"] = params["style_prompt"]
    for param, key in (("loras", "loras"), ("lora_strengths", "loraStrengths")):
        value = params.get(param)
        if isinstance(value, (list, tuple)) and len(value) > 0:
            kf[key] = list(value)
    if kind == "audio" or seedance_video:
        del kf["negativePrompt"]

    if kind == "image":
        if options.type != "image":
            raise _kind_error("image")
        _apply_image(kf, params, options)
    elif kind == "video":
        if options.type != "video":
            raise _kind_error("video")
        _apply_video(kf, params, options)
    elif kind == "audio":
        if options.type != "audio":
            raise _kind_error("audio")
        _apply_audio(kf, params, options)
    else:
        raise ValidationError('Invalid project type. Must be "image", "video", or "audio".')

    request = _template_request()
    request["keyFrames"] = [kf]
    previews = params.get("number_of_previews")
    request["previews"] = previews if kind == "image" and truthy(previews) else 0
    count = params.get("number_of_media")
    request["numberOfImages"] = count if truthy(count) else 1
    request["jobID"] = project_id
    request["disableSafety"] = truthy(params.get("disable_nsfw_filter"))
    request["tokenType"] = params.get("token_type", _UNDEFINED)
    default_format = {"audio": "mp3", "video": "mp4"}.get(str(kind), "png")
    output_format = params.get("output_format")
    request["outputFormat"] = output_format if truthy(output_format) else default_format
    if truthy(params.get("network")):
        request["network"] = params["network"]
    source = params.get("app_source") or app_source
    if truthy(source):
        request["appSource"] = source
    return _strip_undefined(request)


def _strip_undefined(value: Any) -> Any:
    """Drop keys the builder set to JS ``undefined`` (None for optional inputs) and normalise
    numbers; the template's explicit nulls survive because they are never overwritten."""
    if isinstance(value, dict):
        return {
            k: _strip_undefined(v)
            for k, v in value.items()
            if v is not _UNDEFINED and not (v is None and k in _OPTIONAL_KEYS)
        }
    if isinstance(value, list):
        return [_strip_undefined(v) for v in value]
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
    for param, key in CONTENT_TYPE_KEYS:
        if param not in sniffed:
            continue
        mime = sniffed[param]
        if mime is not None:
            kf[key] = mime
        if param == "reference_audio_identity" and mime is not None:
            kf.setdefault("referenceAudioContentType", mime)
