"""Sogni platform tool definitions and the pure half of executing them.

The six ``sogni_*`` definitions ship as package data (``sogni_sync/data/sogni_tools.json``),
byte-identical to the reference's generated manifest, so a model sees exactly the schema the
Supernet's own clients offer. Turning a call into ``projects.create`` parameters is pure and
lives here; running the project lives in ``_executor``.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, NamedTuple

from sogni_sync._js import js_round
from sogni_sync.chat import _routing as routing
from sogni_sync.chat._hosted_tools import current_tool_names
from sogni_sync.chat._media import parse_data_uri
from sogni_sync.chat._types import ToolCall, coerce_tool_call
from sogni_sync.errors import ValidationError

__all__ = [
    "SOGNI_TOOL_NAMES",
    "SogniTools",
    "build_project_params",
    "as_model_mapping",
    "build_sogni_tools",
    "hosted_tools_manifest",
    "is_sogni_tool_call",
    "parse_tool_call_arguments",
    "serialize_error",
    "validate_tool_arguments",
]

SOGNI_TOOL_NAMES = (
    "sogni_generate_image",
    "sogni_edit_image",
    "sogni_generate_video",
    "sogni_sound_to_video",
    "sogni_video_to_video",
    "sogni_generate_music",
)
MAX_INPUT_BYTES = {"image": 20 * 1024 * 1024, "audio": 50 * 1024 * 1024, "video": 100 * 1024 * 1024}


@functools.cache
def _load(name: str) -> Any:
    text = resources.files("sogni_sync").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def hosted_tools_manifest() -> dict[str, Any]:
    """The reference's hosted-tool manifest ``{version, source, tools}`` (a fresh copy)."""
    manifest: dict[str, Any] = copy.deepcopy(_load("hosted_tools.json"))
    return manifest


def _definitions() -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = _load("sogni_tools.json")
    return tools


def _definition(name: str) -> dict[str, Any] | None:
    return next((t for t in _definitions() if t["function"]["name"] == name), None)


class _ToolDefinition:
    """A read-only ``SogniTools`` attribute: a fresh deep copy of one tool's definition."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> dict[str, Any]:
        return copy.deepcopy(_definition(self.name) or {})

    def __set__(self, instance: object, value: Any) -> None:
        raise AttributeError(f"SogniTools.{self.name.removeprefix('sogni_')} is read-only")


class _SogniTools:
    """``SogniTools.all`` and one attribute per tool; every access returns a fresh deep copy."""

    generate_image = _ToolDefinition("sogni_generate_image")
    edit_image = _ToolDefinition("sogni_edit_image")
    generate_video = _ToolDefinition("sogni_generate_video")
    sound_to_video = _ToolDefinition("sogni_sound_to_video")
    video_to_video = _ToolDefinition("sogni_video_to_video")
    generate_music = _ToolDefinition("sogni_generate_music")

    @property
    def all(self) -> list[dict[str, Any]]:
        return copy.deepcopy(_definitions())

    @property
    def names(self) -> tuple[str, ...]:
        return SOGNI_TOOL_NAMES

    def __repr__(self) -> str:
        return f"SogniTools({', '.join(SOGNI_TOOL_NAMES)})"


SogniTools = _SogniTools()

_MODEL_DESCRIPTIONS = {
    "sogni_generate_image": "Image generation model to use.",
    "sogni_edit_image": (
        "Image editing model to use. These models support reference-guided editing."
    ),
    "sogni_generate_video": (
        "Video generation model to use. Prefer t2v models for text-only generation and i2v "
        "models when reference images are supplied."
    ),
    "sogni_sound_to_video": "Audio-driven video model to use.",
    "sogni_video_to_video": "Video-to-video model to use.",
    "sogni_generate_music": "Music generation model to use.",
}


def _model_ids(tool: str, models: Sequence[Mapping[str, Any]]) -> list[str]:
    def video(workflows: set[str]) -> list[str]:
        return [
            str(m["id"])
            for m in models
            if m.get("media") == "video" and routing.compatible_workflows(str(m["id"])) & workflows
        ]

    if tool == "sogni_generate_image":
        return [str(m["id"]) for m in models if m.get("media") == "image"]
    if tool == "sogni_edit_image":
        return [
            str(m["id"])
            for m in models
            if m.get("media") == "image" and routing.is_edit_image_model(str(m["id"]))
        ]
    if tool == "sogni_generate_video":
        return video({"t2v", "i2v"})
    if tool == "sogni_sound_to_video":
        return video({"s2v", "ia2v", "a2v"})
    if tool == "sogni_video_to_video":
        return video({"animate-move", "animate-replace", "v2v"})
    return [str(m["id"]) for m in models if m.get("media") == "audio"]


def build_sogni_tools(available_models: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """The six tools with each ``model`` enum narrowed to the models online now.

    ``available_models`` are mappings or objects with ``id`` and ``media`` (e.g.
    ``client.projects`` available models). Empty → ``SogniTools.all`` unchanged.
    """
    if not available_models:
        return SogniTools.all
    models = [as_model_mapping(m) for m in available_models]
    tools = SogniTools.all
    for tool in tools:
        name = tool["function"]["name"]
        ids = _model_ids(name, models)
        props = tool["function"]["parameters"]["properties"]
        if ids and "model" in props:
            props["model"] = {
                "type": "string", "description": _MODEL_DESCRIPTIONS[name], "enum": ids
            }
    return tools


def as_model_mapping(model: Any) -> dict[str, Any]:
    if isinstance(model, Mapping):
        return dict(model)
    return {
        "id": getattr(model, "id", None),
        "media": getattr(model, "media", None),
        "worker_count": getattr(model, "worker_count", None),
    }


def _name_of(tool_call: Any) -> str:
    if isinstance(tool_call, ToolCall):
        return tool_call.function.name
    fn = tool_call.get("function") if isinstance(tool_call, Mapping) else None
    return str((fn or {}).get("name") or "")


def is_sogni_tool_call(tool_call: ToolCall | Mapping[str, Any]) -> bool:
    """True when the call's function name starts with ``sogni_`` (the seed set) or is a tool
    of the current set (``generate_image``, ``image_to_3d``...)."""
    name = _name_of(tool_call)
    return name.startswith("sogni_") or name in current_tool_names()


def parse_tool_call_arguments(tool_call: ToolCall | Mapping[str, Any]) -> Any:
    """``json.loads`` of the call's arguments, ``{}`` when unparseable (no type check)."""
    return coerce_tool_call(tool_call).parsed_arguments()


# --- argument validation (the reference's messages) ------------------------------------------


def _matches(value: Any, kind: str) -> bool:
    is_num = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "integer":
        return is_num and math.isfinite(value) and float(value).is_integer()
    if kind == "number":
        return is_num and math.isfinite(value)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "string":
        return isinstance(value, str)
    if kind == "null":
        return value is None
    return True


def _types(kind: Any) -> list[str]:
    if not kind:
        return []
    return list(kind) if isinstance(kind, list) else [kind]


def _label(kind: Any) -> str:
    if isinstance(kind, list):
        return " or ".join(kind)
    return str(kind) if kind else "valid value"


def _strict_equal(a: Any, b: Any) -> bool:
    """JavaScript ``===`` for JSON scalars (``True`` is not ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and bool(a == b)


def validate_tool_arguments(name: str, args: Any) -> None:
    """Check ``args`` against the tool's JSON schema as the reference does: required
    arguments, JSON types, enums (except ``model``) and list items. Every problem is listed in
    one ``ValidationError('Invalid <name> arguments: ...')``, in the reference's words."""
    errors: list[str] = []
    definition = _definition(name)
    if not isinstance(args, dict):
        errors.append("Tool arguments must be a JSON object")
    elif definition is None:
        errors.append(f'Unknown hosted Sogni tool "{name}"')
    else:
        schema = definition["function"].get("parameters") or {}
        props = schema.get("properties") or {}
        for key in schema.get("required") or ():
            if args.get(key) is None:
                errors.append(f'Missing required argument "{key}"')
        for key, value in args.items():
            prop = props.get(key)
            if value is None or not prop:
                continue
            kinds = _types(prop.get("type"))
            if kinds and not any(_matches(value, k) for k in kinds):
                errors.append(f'Argument "{key}" must be {_label(prop.get("type"))}')
                continue
            enum = prop.get("enum")
            if enum and key != "model" and not any(_strict_equal(c, value) for c in enum):
                values = ", ".join(json.dumps(c, ensure_ascii=False) for c in enum)
                errors.append(f'Argument "{key}" must be one of {values}')
            items = prop.get("items") or {}
            if isinstance(value, list) and items.get("type"):
                for i, item in enumerate(value):
                    if not any(_matches(item, k) for k in _types(items["type"])):
                        errors.append(f'Argument "{key}[{i}]" must be {_label(items["type"])}')
    if errors:
        raise ValidationError(f"Invalid {name} arguments: {'; '.join(errors)}")


def serialize_error(error: Any, fallback: str = "Unknown error") -> str:
    """A one-line message for any failure, as the reference's ``serializeUnknownError``."""
    if isinstance(error, BaseException):
        text = str(error)
        return text if text.strip() else type(error).__name__
    if isinstance(error, str) and error.strip():
        return error
    if not isinstance(error, Mapping):
        return str(error) if error is not None else fallback
    for key in ("message", "errorMessage", "reason", "description"):
        value = error.get(key)
        if isinstance(value, str) and value.strip():
            return value
    for key in ("error", "cause"):
        if error.get(key) is not None:
            nested = serialize_error(error[key], "")
            if nested:
                return nested
    try:
        return json.dumps(error, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return fallback


# --- tool call → projects.create parameters ---------------------------------------------------


def _non_blank(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _decode(uri: str, media: str) -> bytes:
    return parse_data_uri(uri, media, max_bytes=MAX_INPUT_BYTES[media]).data  # type: ignore[arg-type]


def _image_options(params: dict[str, Any], args: Mapping[str, Any]) -> None:
    quality = args.get("gpt_image_quality", args.get("gptImageQuality"))
    if _non_blank(quality):
        params["gpt_image_quality"] = quality.strip().lower()
    fmt = args.get("output_format", args.get("outputFormat"))
    if _non_blank(fmt):
        fmt = fmt.strip().lower()
        fmt = "jpg" if fmt == "jpeg" else fmt
        if fmt in ("png", "jpg", "webp"):
            params["output_format"] = fmt


def _copy_given(params: dict[str, Any], args: Mapping[str, Any], *keys: str) -> None:
    """Pass on the arguments the call has, as they are (even null), in ``keys`` order."""
    for key in keys:
        if key in args:
            params[key] = args[key]


def build_project_params(
    name: str,
    args: Mapping[str, Any],
    models: Sequence[Mapping[str, Any]],
    *,
    number_of_media: Any = None,
    token_type: str | None = None,
    network: str | None = None,
) -> tuple[str, str, dict[str, Any]]:
    """``(media_type, model_id, projects.create kwargs)`` for a validated Sogni tool call.

    ``models`` is the online media model list. Raises ``ValidationError`` with the reference's
    texts (missing inputs, no model, bad inline media).
    """
    count = routing.clamp_variation_count(args, 1 if number_of_media is None else number_of_media)
    requested = routing.resolve_model_selector(name, args)
    media, model, params = _media_params(name, _Call(args, models, count, requested))
    if token_type:
        params["token_type"] = token_type
    if network:
        params["network"] = network
    return media, model, params


class _Call(NamedTuple):
    """What the per-tool builders work from: the call's arguments, the online media models,
    the clamped media count and the model the call asked for (resolved selector)."""

    args: Mapping[str, Any]
    models: Sequence[Mapping[str, Any]]
    number_of_media: int
    requested: str | None


_Built = tuple[str, str, dict[str, Any]]  # (media_type, model_id, projects.create kwargs)


def _media_params(name: str, call: _Call) -> _Built:
    args, models, count, requested = call
    prompt = args.get("prompt")
    if name == "sogni_generate_image":
        model = routing.select_model(models, "image", requested=requested)
        params: dict[str, Any] = {
            "type": "image", "model_id": model, "positive_prompt": prompt, "number_of_media": count
        }
        if args.get("negative_prompt"):
            params["negative_prompt"] = args["negative_prompt"]
        if args.get("width") and args.get("height"):
            params.update(width=args["width"], height=args["height"], size_preset="custom")
        _copy_given(params, args, "steps", "seed")
        _image_options(params, args)
        return "image", model, params
    if name == "sogni_edit_image":
        inputs = [args["source_image_url"]] if _non_blank(args.get("source_image_url")) else []
        refs = args.get("reference_image_urls")
        inputs += [u for u in refs if _non_blank(u)] if isinstance(refs, list) else []
        if not inputs:
            raise ValidationError(
                "sogni_edit_image requires source_image_url or reference_image_urls"
            )
        model = routing.select_model(
            models, "image", requested=requested, filter=routing.is_edit_image_model
        )
        context = [_decode(u, "image") for u in inputs[: routing.max_context_images(model)]]
        params = {
            "type": "image", "model_id": model, "positive_prompt": prompt,
            "number_of_media": count, "context_images": context,
        }
        if args.get("negative_prompt"):
            params["negative_prompt"] = args["negative_prompt"]
        if args.get("width") and args.get("height"):
            params.update(width=args["width"], height=args["height"], size_preset="custom")
        _copy_given(params, args, "seed")
        _image_options(params, args)
        return "image", model, params
    if name == "sogni_generate_music":
        model = routing.select_model(
            models, "audio", requested=requested,
            preferred=(routing.PREFERRED["audio.turbo"], routing.PREFERRED["audio.sft"]),
        )
        params = {
            "type": "audio", "model_id": model, "positive_prompt": prompt, "number_of_media": count
        }
        _copy_given(params, args, "duration", "bpm")
        for key in ("keyscale", "lyrics", "language", "output_format"):
            if args.get(key):
                params[key] = args[key]
        sig = args.get("timesignature")
        if isinstance(sig, str) and sig:
            params["timesignature"] = sig
        elif isinstance(sig, (int, float)) and _finite(sig):
            params["timesignature"] = str(js_round(sig))
        if isinstance(args.get("composer_mode"), bool):
            params["composer_mode"] = args["composer_mode"]
        for key in ("prompt_strength", "creativity"):
            if _finite(args.get(key)):
                params[key] = args[key]
        _copy_given(params, args, "seed")
        return "audio", model, params
    return _video_params(name, call)


def _video_params(name: str, call: _Call) -> _Built:
    args, models, count, requested = call
    prompt = args.get("prompt")
    params: dict[str, Any]
    if name == "sogni_generate_video":
        has_ref = _non_blank(args.get("reference_image_url")) or _non_blank(
            args.get("reference_image_end_url")
        )
        workflow = "i2v" if has_ref else "t2v"
        model = routing.select_model(
            models, "video", requested=requested, workflows=[workflow],
            preferred=[routing.PREFERRED[f"video.{workflow}"]],
        )
        width, height, fps = routing.video_defaults(model)
        params = {
            "type": "video", "model_id": model, "positive_prompt": prompt, "number_of_media": count,
            "width": args.get("width") or width, "height": args.get("height") or height,
            "fps": args.get("fps") or fps,
        }
        if args.get("negative_prompt") and not model.startswith("seedance-2-0"):
            params["negative_prompt"] = args["negative_prompt"]
        _copy_given(params, args, "duration", "seed")
        _video_media(params, args, "reference_image_url", "reference_image", "image")
        _video_media(params, args, "reference_image_end_url", "reference_image_end", "image")
        _video_media(
            params, args, "reference_audio_identity_url", "reference_audio_identity", "audio"
        )
        _copy_given(
            params, args, "audio_identity_strength", "first_frame_strength", "last_frame_strength"
        )
        if "generate_audio" in args:
            params["generate_audio"] = bool(args["generate_audio"])
        return "video", model, params
    if name == "sogni_sound_to_video":
        if not _non_blank(args.get("reference_audio_url")):
            raise ValidationError("sogni_sound_to_video requires reference_audio_url")
        if _non_blank(args.get("reference_image_url")):
            workflows, preferred = ["ia2v", "s2v"], ["video.ia2v", "video.s2v"]
        else:
            workflows, preferred = ["a2v"], ["video.a2v"]
        model = routing.select_model(
            models, "video", requested=requested, workflows=workflows,
            preferred=[routing.PREFERRED[p] for p in preferred],
        )
        width, height, fps = routing.video_defaults(model)
        duration = args["duration"] if _finite(args.get("duration")) else 5
        params = {
            "type": "video", "model_id": model, "positive_prompt": prompt, "number_of_media": count,
            "reference_audio": _decode(args["reference_audio_url"], "audio"),
            "width": args.get("width") or width, "height": args.get("height") or height,
            "fps": fps, "duration": duration, "audio_duration": duration,
        }
        _video_media(params, args, "reference_image_url", "reference_image", "image")
        _copy_given(params, args, "audio_start")
        if "generate_audio" in args:
            params["generate_audio"] = bool(args["generate_audio"])
        _copy_given(params, args, "seed")
        return "video", model, params
    return _v2v_params(call, prompt)


def _video_media(
    params: dict[str, Any], args: Mapping[str, Any], arg: str, key: str, media: str
) -> None:
    if _non_blank(args.get(arg)):
        params[key] = _decode(args[arg], media)


_CONTROL_MODES = ("animate-replace", "seedance-v2v", "canny", "pose", "depth", "detailer")


def _v2v_params(call: _Call, prompt: Any) -> _Built:
    args, models, count, requested = call
    if not _non_blank(args.get("reference_video_url")):
        raise ValidationError("sogni_video_to_video requires reference_video_url")
    mode = args.get("control_mode")
    mode = mode if mode in _CONTROL_MODES else "animate-move"
    animate = mode in ("animate-move", "animate-replace")
    if animate:
        workflows = [mode]
        preferred = [routing.PREFERRED["video.animate_move" if mode == "animate-move"
                                       else "video.animate_replace"]]
    elif mode == "seedance-v2v":
        workflows = ["v2v"]
        preferred = [routing.PREFERRED["video.seedance"], routing.PREFERRED["video.v2v"]]
    else:
        workflows, preferred = ["v2v"], [routing.PREFERRED["video.v2v"]]
    model = routing.select_model(
        models, "video", requested=requested, workflows=workflows, preferred=preferred
    )
    seedance = model.startswith("seedance-2-0")
    if animate and not _non_blank(args.get("reference_image_url")):
        raise ValidationError(f"{mode} requires reference_image_url")
    width, height, fps = routing.video_defaults(model)
    params: dict[str, Any] = {
        "type": "video", "model_id": model, "positive_prompt": prompt, "number_of_media": count,
        "reference_video": _decode(args["reference_video_url"], "video"),
        "width": args.get("width") or width, "height": args.get("height") or height, "fps": fps,
        "duration": args["duration"] if _finite(args.get("duration")) else 5,
    }
    if args.get("negative_prompt") and not seedance:
        params["negative_prompt"] = args["negative_prompt"]
    _copy_given(params, args, "seed")
    _video_media(params, args, "reference_image_url", "reference_image", "image")
    _video_media(params, args, "reference_audio_identity_url", "reference_audio_identity", "audio")
    _copy_given(params, args, "audio_identity_strength", "video_start")
    if "generate_audio" in args:
        params["generate_audio"] = bool(args["generate_audio"])
    if not animate and not seedance:
        params["control_net"] = {"name": mode, "strength": 1 if mode == "detailer" else 0.85}
    if not seedance and "detailer_strength" in args:
        params["detailer_strength"] = args["detailer_strength"]
    return "video", model, params
