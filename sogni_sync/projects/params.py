"""The parameters ``projects.create()`` accepts, in snake_case.

Every name is the reference's camelCase ``ProjectParams`` key converted mechanically
(``sogni_sync._convert.to_snake``): ``modelId`` → ``model_id``, ``disableNSFWFilter`` →
``disable_nsfw_filter``, ``controlNet.guidanceStart`` → ``control_net["guidance_start"]``.
Values are JS-like: ``None`` (or leaving a parameter out) means "not given" (JS ``undefined``).

Media inputs (``starting_image``, ``context_images`` items, ``control_net["image"]``,
``reference_*``) accept ``bytes``/``bytearray``/``memoryview``, a ``str`` or ``os.PathLike``
path (streamed, never read whole), a binary file object, or ``True`` meaning "already uploaded
for this project".

Parameters that belong to another project type are accepted and ignored, as the reference
does (e.g. ``number_of_previews`` on an audio project); names nobody knows are a
:class:`~sogni_sync.errors.ValidationError` before anything is fetched or sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sogni_sync._convert import to_snake
from sogni_sync.errors import ValidationError

__all__ = [
    "ALL_PARAMS",
    "AUDIO_PARAMS",
    "COMMON_PARAMS",
    "CONTROL_NET_KEYS",
    "IMAGE_PARAMS",
    "MEDIA_PARAMS",
    "VIDEO_CONTROL_NET_KEYS",
    "VIDEO_PARAMS",
    "check_params",
]

COMMON_PARAMS = frozenset(
    {
        "type", "model_id", "number_of_media", "positive_prompt", "negative_prompt",
        "style_prompt", "steps", "guidance", "seed", "network", "disable_nsfw_filter",
        "token_type", "app_source", "loras", "lora_strengths", "output_format",
        "sampler", "scheduler",
    }
)
IMAGE_PARAMS = frozenset(
    {
        "number_of_previews", "starting_image", "starting_image_strength", "context_images",
        "size_preset", "width", "height", "control_net", "gpt_image_quality",
        "gpt_image_background",
    }
)
VIDEO_PARAMS = frozenset(
    {
        "duration", "fps", "frames", "shift", "teacache_threshold", "reference_image",
        "reference_image_end", "reference_audio", "reference_audio_identity",
        "audio_identity_strength", "audio_start", "audio_duration", "reference_video",
        "video_start", "sam2_coordinates", "control_net", "detailer_strength",
        "first_frame_strength", "last_frame_strength", "trim_end_frame", "width", "height",
        "reference_image_urls", "reference_video_urls", "reference_audio_urls",
        "generate_audio",
    }
)
AUDIO_PARAMS = frozenset(
    {
        "duration", "bpm", "timesignature", "language", "lyrics", "keyscale", "composer_mode",
        "prompt_strength", "creativity", "shift",
    }
)
ALL_PARAMS = COMMON_PARAMS | IMAGE_PARAMS | VIDEO_PARAMS | AUDIO_PARAMS

#: Image ControlNet keys (``ControlNetParams``) and the video variant (``{name, strength}``).
CONTROL_NET_KEYS = frozenset(
    {"name", "image", "strength", "mode", "guidance_start", "guidance_end"}
)
VIDEO_CONTROL_NET_KEYS = frozenset({"name", "strength"})

#: Parameters that carry uploadable media, in the reference's upload order per type.
MEDIA_PARAMS = (
    "starting_image", "context_images", "reference_image", "reference_image_end",
    "reference_audio", "reference_audio_identity", "reference_video",
)


def _unknown(names: list[str], known: frozenset[str], where: str) -> ValidationError:
    hints = []
    for name in names:
        snake = to_snake(name)
        hint = f" (did you mean {snake!r}?)" if snake != name and snake in known else ""
        hints.append(f"{name!r}{hint}")
    return ValidationError(f"Unknown {where}: {', '.join(hints)}")


def check_params(params: Mapping[str, Any]) -> None:
    """Reject names that are not parameters of any project type (before any I/O)."""
    unknown = sorted(k for k in params if k not in ALL_PARAMS)
    if unknown:
        raise _unknown(unknown, ALL_PARAMS, "project parameter(s)")
    control_net = params.get("control_net")
    if control_net is not None:
        if not isinstance(control_net, Mapping):
            raise ValidationError("control_net must be a mapping with at least a 'name'")
        bad = sorted(str(k) for k in control_net if k not in CONTROL_NET_KEYS)
        if bad:
            raise _unknown(bad, CONTROL_NET_KEYS, "control_net key(s)")
