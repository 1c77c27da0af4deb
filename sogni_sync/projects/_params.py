"""The typed parameters of image, video and audio projects.

Every name is the reference's camelCase ``ProjectParams`` key converted mechanically
(``sogni_sync._convert.to_snake``): ``modelId`` → ``model_id``, ``disableNSFWFilter`` →
``disable_nsfw_filter``, ``controlNet.guidanceStart`` → ``control_net["guidance_start"]``.
``None`` (or leaving a parameter out) means "not given" (JS ``undefined``).

:class:`ImageParams`, :class:`VideoParams` and :class:`AudioParams` are frozen: building one
checks every value's type (``bool`` is not a number, NaN and infinities are refused, closed sets
are closed) and the ranges that do not depend on the model; the model's own ranges (steps,
guidance, sizes, frames, fps, bpm …) are checked against its catalogue options before anything
is uploaded or sent. ``client.projects.create_image(...)`` and friends take exactly these
classes' keyword parameters.

Media inputs (``starting_image``, ``context_images`` items, ``control_net["image"]``,
``reference_*``) accept ``bytes``/``bytearray``/``memoryview``, a ``str`` or ``os.PathLike``
path (streamed, never read whole), a binary file object, or ``True`` meaning "already uploaded
for this project". Their leading bytes must be of the kind the parameter needs (image, audio or
video); empty inputs, directories and missing files are refused by name.
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from typing import (
    Any,
    BinaryIO,
    ClassVar,
    Concatenate,
    Literal,
    ParamSpec,
    TypedDict,
    TypeVar,
    Union,
)

import attrs

from sogni_sync._convert import to_camel, to_snake
from sogni_sync.catalog._families import prompt_optional
from sogni_sync.errors import ValidationError
from sogni_sync.projects._checks import check_fields
from sogni_sync.projects._image_rules import gpt_quality_message

__all__ = [
    "ALL_PARAMS",
    "AUDIO_PARAMS",
    "COMMON_PARAMS",
    "CONTROL_NET_KEYS",
    "IMAGE_PARAMS",
    "MAX_NUMBER_OF_MEDIA",
    "MEDIA_PARAMS",
    "RETIRED_PARAMS",
    "VIDEO_CONTROL_NET_KEYS",
    "VIDEO_PARAMS",
    "AudioOutputFormat",
    "AudioParams",
    "ControlMode",
    "ControlNet",
    "ControlNetName",
    "GptImageBackground",
    "DetailPreference",
    "GptImageQuality",
    "ImageOutputFormat",
    "ImageParams",
    "MediaInput",
    "Network",
    "ProjectParams",
    "ProcessingSpeed",
    "ProjectType",
    "Pixal3dTemplateVariant",
    "Sam2Point",
    "Sam3Box",
    "Sam3Label",
    "Sam3Point",
    "Sam3Prompt",
    "Sampler",
    "Scheduler",
    "SeedanceTaskType",
    "TimeSignature",
    "TokenType",
    "VideoControlNet",
    "VideoControlNetName",
    "VideoOutputFormat",
    "VideoParams",
    "Wan3Ratio",
    "build_params",
    "check_params",
    "params_from",
    "same_parameters_as",
]

ProjectType = Literal["image", "video", "audio"]
TokenType = Literal["sogni", "spark"]
Network = Literal["fast", "relaxed"]
ImageOutputFormat = Literal["png", "jpg", "webp"]
VideoOutputFormat = Literal["mp4", "mov"]
Wan3Ratio = Literal["adaptive", "16:9", "4:3", "1:1", "3:4", "9:16"]
SeedanceTaskType = Literal["reference", "edit", "extend"]
DetailPreference = Literal["stable", "sharper"]
ProcessingSpeed = Literal["stable", "faster"]
AudioOutputFormat = Literal["mp3", "flac", "wav"]
#: ``xhigh`` and ``max`` only on GPT Image 2.5; ``auto`` is refused
GptImageQuality = Literal["low", "medium", "high", "standard", "hd", "xhigh", "max"]
#: ``transparent`` only on GPT Image 2.5 (not with jpg)
GptImageBackground = Literal["opaque", "auto", "transparent"]
Pixal3dTemplateVariant = Literal["i23d-birefnet"]
Sam3Label = Literal["positive", "negative"]
TimeSignature = Literal["2", "3", "4", "6"]
ControlMode = Literal["balanced", "prompt_priority", "cn_priority"]
ControlNetName = Literal[
    "canny", "depth", "inpaint", "instrp2p", "lineart", "lineartanime", "mlsd", "normalbae",
    "openpose", "scribble", "segmentation", "shuffle", "softedge", "tile", "instantid",
]
VideoControlNetName = Literal["canny", "pose", "depth", "detailer", "inpaint"]
#: Sampler aliases the catalogue knows (the model's tier decides which one it accepts).
Sampler = Literal[
    "euler", "euler_a", "euler_ancestral", "heun", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_sde",
    "dpmpp_3m_sde", "uni_pc", "lcm", "lms", "dpm_2", "dpm_2_ancestral", "dpm_fast",
    "dpm_adaptive", "dpmpp_2s_ancestral", "ddpm", "dfs_sd3", "dpm_pp", "pndm_plms",
    "res_multistep", "er_sde",
]
Scheduler = Literal[
    "simple", "normal", "karras", "exponential", "sgm_uniform", "ddim_uniform", "beta",
    "linear_quadratic", "kl_optimal", "ddim", "leading", "linear",
]
#: bytes, a path, a binary file object, or True ("already uploaded for this project").
MediaInput = Union[  # noqa: UP007 - a runtime alias, used inside other annotations
    bytes, bytearray, memoryview, str, os.PathLike[str], BinaryIO, Literal[True]
]

#: The reference's cap on media per project (``clampVariationCount``).
MAX_NUMBER_OF_MEDIA = 16


class _ControlNetName(TypedDict):
    name: ControlNetName


class ControlNet(_ControlNetName, total=False):
    """Image ControlNet (``ControlNetParams``): ``name`` is required; numbers are 0-1."""

    image: MediaInput | None
    strength: float | None
    mode: ControlMode | None
    guidance_start: float | None
    guidance_end: float | None


class _VideoControlNetName(TypedDict):
    name: VideoControlNetName


class VideoControlNet(_VideoControlNetName, total=False):
    """LTX v2v ControlNet (``VideoControlNetParams``): ``name`` is required; ``strength`` 0-1."""

    strength: float | None


class Sam2Point(TypedDict):
    """A point on the subject to replace (normalised 0-1 or pixels)."""

    x: float
    y: float


class _Sam3PointXY(TypedDict):
    x: float
    y: float


class Sam3Point(_Sam3PointXY, total=False):
    """A SAM 3 click, normalised 0-1; ``label`` is required by the model."""

    label: Sam3Label


class Sam3Box(TypedDict, total=False):
    """A SAM 3 box, normalised 0-1 with ``x0 < x1`` and ``y0 < y1``; label default positive."""

    x0: float
    y0: float
    x1: float
    y1: float
    label: Sam3Label


class Sam3Prompt(TypedDict, total=False):
    """What SAM 3 should segment: points (<= 32) or text (1-240 characters), boxes (<= 16)."""

    points: Sequence[Sam3Point]
    boxes: Sequence[Sam3Box]
    text: str
    #: 0-1, default 0.5
    threshold: float
    #: points only; default True with points
    multimask: bool
    #: the source with the mask as alpha instead of the mask alone
    apply_mask: bool
    #: 1-16
    max_instances: int


def _pixal3d_option(name: str, low: int, high: int) -> Any:
    return attrs.field(default=None, metadata={
        "message": f"{to_camel(name)} must be an integer from {low} to {high}"})


@attrs.frozen
class _BaseParams:
    """Fields every project type has (``BaseProjectParams``)."""

    type: ClassVar[ProjectType]

    #: the model ID (``client.catalog.supported_models()``)
    model_id: str = attrs.field(metadata={"text": True})
    #: what to create; must not be empty (Wan 3 with media and the upscaler take ``""``)
    positive_prompt: str = attrs.field(metadata={"text": True, "blank_ok": prompt_optional})
    #: how many images/videos/tracks: 1 … 16
    number_of_media: int = attrs.field(default=1, kw_only=True,
                                       metadata={"min": 1, "max": MAX_NUMBER_OF_MEDIA})
    #: what to avoid (dropped for audio and Seedance, as the reference does)
    negative_prompt: str | None = attrs.field(default=None, kw_only=True)
    style_prompt: str | None = attrs.field(default=None, kw_only=True)
    #: diffusion steps, within the model's range
    steps: int | None = attrs.field(default=None, kw_only=True)
    #: guidance scale, within the model's range (and its decimals)
    guidance: float | None = attrs.field(default=None, kw_only=True)
    #: a uint32 seed for one job (the server picks the others); the model may narrow it
    seed: int | None = attrs.field(default=None, kw_only=True)
    network: Network | None = attrs.field(default=None, kw_only=True)
    disable_nsfw_filter: bool | None = attrs.field(default=None, kw_only=True)
    token_type: TokenType | None = attrs.field(default=None, kw_only=True)
    #: defaults to the client's ``app_source``
    app_source: str | None = attrs.field(default=None, kw_only=True)
    loras: Sequence[str] | None = attrs.field(default=None, kw_only=True)
    #: one strength per LoRA, -100 to 100 (the LoRA loader's limits; many Krea 2 LoRAs are
    #: bipolar, a negative strength inverts them; the catalogue gives each LoRA's own range)
    lora_strengths: Sequence[float] | None = attrs.field(
        default=None, kw_only=True, metadata={"min": -100, "max": 100}
    )
    #: checked against the model tier's allowed samplers
    sampler: Sampler | None = attrs.field(default=None, kw_only=True, metadata={"runtime": str})
    #: checked against the model tier's allowed schedulers
    scheduler: Scheduler | None = attrs.field(default=None, kw_only=True, metadata={"runtime": str})

    def __attrs_post_init__(self) -> None:
        check_fields(self)

    def given(self) -> dict[str, Any]:
        """The given parameters (``type`` included) as a snake_case dict, None left out."""
        values = {"type": self.type, **attrs.asdict(self, recurse=False)}
        return {k: v for k, v in values.items() if v is not None}


@attrs.frozen(kw_only=True)
class ImageParams(_BaseParams):
    """An image project (``ImageProjectParams``)."""

    type: ClassVar[ProjectType] = "image"

    #: previews to stream per image (they cost money)
    number_of_previews: int | None = attrs.field(default=None, metadata={"min": 0, "max": 100})
    #: img2img input (JPEG/PNG/WebP)
    starting_image: MediaInput | None = attrs.field(default=None, metadata={"media": "image"})
    #: 0-1 (1 keeps the original); defaults to 0.5 with a starting image
    starting_image_strength: float | None = attrs.field(default=None, metadata={"min": 0, "max": 1})
    #: reference images for edit models (up to the model's limit)
    context_images: Sequence[MediaInput] | None = attrs.field(
        default=None, metadata={"media": "image"}
    )
    #: a size preset ID or ``"custom"`` (then width and height are used)
    size_preset: str | None = None
    #: custom width/height: 256 … the model's maximum
    width: int | None = attrs.field(default=None, metadata={"reference": "Width"})
    height: int | None = attrs.field(default=None, metadata={"reference": "Height"})
    control_net: ControlNet | None = None
    gpt_image_quality: GptImageQuality | None = attrs.field(
        default=None, metadata={"message": gpt_quality_message})
    gpt_image_background: GptImageBackground | None = None
    #: GPT Image: the edit mask (PNG), needs a first context image
    gpt_image_mask: MediaInput | None = attrs.field(default=None, metadata={"media": "image"})
    #: GPT Image: the edit mask as a URL (instead of ``gpt_image_mask``)
    gpt_image_mask_url: str | None = None
    #: GPT Image: 0-100, jpg or webp only
    gpt_image_output_compression: int | None = attrs.field(default=None, metadata={
        "message": "GPT Image output compression must be an integer from 0 to 100"})
    #: the VAE, from the model tier's list (Comfy image models of 5.54)
    vae: str | None = None
    output_format: ImageOutputFormat | None = None
    #: SAM 3 segmentation: what to segment (required on ``sam3_image_segment_bf16``)
    sam3_prompt: Sam3Prompt | None = attrs.field(default=None, metadata={"loose": True})
    #: BiRefNet: the source with the matte as alpha instead of the matte alone
    apply_mask: bool | None = attrs.field(
        default=None, metadata={"message": "applyMask must be a boolean"})
    #: Pixal3D multi-view: orbit views next to the front view (``starting_image``)
    left_view_image: MediaInput | None = attrs.field(default=None, metadata={"media": "image"})
    back_view_image: MediaInput | None = attrs.field(default=None, metadata={"media": "image"})
    right_view_image: MediaInput | None = attrs.field(default=None, metadata={"media": "image"})
    #: Pixal3D single view: the graph to run
    template_variant: Pixal3dTemplateVariant | None = attrs.field(default=None, metadata={
        "message": "templateVariant must be one of: i23d-birefnet"})
    texture_size: int | None = _pixal3d_option("texture_size", 1024, 4096)
    mesh_target_faces: int | None = _pixal3d_option("mesh_target_faces", 5000, 700000)
    normal_map_size: int | None = _pixal3d_option("normal_map_size", 512, 2048)
    ambient_occlusion_size: int | None = _pixal3d_option("ambient_occlusion_size", 256, 1024)
    shape_resolution: int | None = _pixal3d_option("shape_resolution", 1024, 1536)


@attrs.frozen(kw_only=True)
class VideoParams(_BaseParams):
    """A video project (``VideoProjectParams``): WAN 2.2, LTX-2.3 and Seedance 2.0 models."""

    type: ClassVar[ProjectType] = "video"

    #: seconds; sets ``frames`` with the model family's maths
    duration: float | None = attrs.field(default=None, metadata={"reference": "Video duration"})
    #: one of the model's frame rates
    fps: float | None = None
    #: deprecated; overwritten when ``duration`` is given
    frames: int | None = None
    shift: float | None = None
    #: 0-1 (WAN t2v/i2v); 0 disables
    teacache_threshold: float | None = attrs.field(
        default=None, metadata={"reference": "teacacheThreshold"}
    )
    reference_image: MediaInput | None = attrs.field(default=None, metadata={"media": "image"})
    reference_image_end: MediaInput | None = attrs.field(default=None, metadata={"media": "image"})
    reference_audio: MediaInput | None = attrs.field(default=None, metadata={"media": "audio"})
    reference_audio_identity: MediaInput | None = attrs.field(
        default=None, metadata={"media": "audio"}
    )
    #: 0-10, 0 disables
    audio_identity_strength: float | None = attrs.field(
        default=None, metadata={"min": 0, "max": 10}
    )
    #: MiniMax H3 audio-guide ids only: seconds into the uploaded audio (0 or more)
    audio_start: float | None = None
    audio_duration: float | None = attrs.field(default=None, metadata={"min": 0, "exclusive": True})
    reference_video: MediaInput | None = attrs.field(default=None, metadata={"media": "video"})
    video_start: float | None = attrs.field(default=None, metadata={"min": 0})
    #: animate-replace only
    sam2_coordinates: Sequence[Sam2Point] | None = None
    control_net: VideoControlNet | None = None
    detailer_strength: float | None = attrs.field(default=None, metadata={"min": 0, "max": 1})
    first_frame_strength: float | None = attrs.field(default=None, metadata={"min": 0, "max": 1})
    last_frame_strength: float | None = attrs.field(default=None, metadata={"min": 0, "max": 1})
    trim_end_frame: bool | None = None
    #: output size; the model's range and grid
    width: int | None = attrs.field(default=None, metadata={"reference": "Video width"})
    height: int | None = attrs.field(default=None, metadata={"reference": "Video height"})
    #: Seedance only: HTTPS URLs the vendor fetches
    reference_image_urls: Sequence[str] | None = attrs.field(
        default=None, metadata={"urls": "referenceImageUrls"}
    )
    reference_video_urls: Sequence[str] | None = attrs.field(
        default=None, metadata={"urls": "referenceVideoUrls"}
    )
    reference_audio_urls: Sequence[str] | None = attrs.field(
        default=None, metadata={"urls": "referenceAudioUrls"}
    )
    generate_audio: bool | None = None
    #: ``mov`` only on Seedance 2.5
    output_format: VideoOutputFormat | None = attrs.field(
        default=None, metadata={"message": "Video outputFormat must be mp4 or mov."})
    #: MiniMax H3 r2v: more reference images (slots after ``reference_image``), no holes
    context_images: Sequence[MediaInput] | None = attrs.field(
        default=None, metadata={"media": "image"})
    #: MiniMax H3 r2v: more reference videos / audio clips (up to 3 each, with the single one)
    reference_videos: Sequence[MediaInput] | None = attrs.field(
        default=None, metadata={"media": "video"})
    reference_audios: Sequence[MediaInput] | None = attrs.field(
        default=None, metadata={"media": "audio"})
    #: MiniMax H3 r2v: seconds of each reference video (2-15, total at most 15), optional
    reference_video_durations: Sequence[float] | None = None
    #: Wan 3: output aspect ratio
    ratio: Wan3Ratio | None = attrs.field(default=None, metadata={
        "message": "Wan 3 ratio must be adaptive, 16:9, 4:3, 1:1, 3:4, or 9:16."})
    #: Wan 3: let the vendor rewrite the prompt
    prompt_extend: bool | None = attrs.field(
        default=None, metadata={"message": "Wan 3 promptExtend must be a boolean."})
    #: Wan 3 (not Enhanced): vendor watermark
    watermark: bool | None = attrs.field(
        default=None, metadata={"message": "Wan 3 watermark must be a boolean."})
    #: Wan 3 (not Enhanced): one public HTTPS document or web page as context
    reference_file_url: str | None = None
    reference_link_url: str | None = None
    #: Seedance 2.5 loose references: what to do with them
    seedance_task_type: SeedanceTaskType | None = attrs.field(default=None, metadata={
        "message": "seedanceTaskType must be reference, edit, or extend."})
    #: Seedance 2.5: also deliver the clip's last frame
    return_last_frame: bool | None = attrs.field(
        default=None, metadata={"message": "returnLastFrame must be a boolean."})
    #: FlashVSR: 1080 or 1440 (default: the smaller of width and height)
    upscale_resolution: int | None = None
    detail_preference: DetailPreference | None = attrs.field(default=None, metadata={
        "message": "FlashVSR detailPreference must be stable or sharper."})
    processing_speed: ProcessingSpeed | None = attrs.field(default=None, metadata={
        "message": "FlashVSR processingSpeed must be stable or faster."})
    #: LTX v2v outpaint anchor
    outpaint_position: str | None = None
    #: LTX v2v inpaint mask (with ``control_net={"name": "inpaint"}``)
    reference_mask: MediaInput | None = attrs.field(default=None, metadata={"media": "image"})


@attrs.frozen(kw_only=True)
class AudioParams(_BaseParams):
    """A music project (``AudioProjectParams``, ACE-Step 1.5)."""

    type: ClassVar[ProjectType] = "audio"

    #: seconds, within the model's range
    duration: float | None = None
    bpm: int | None = None
    timesignature: TimeSignature | None = None
    #: one of the model's languages
    language: str | None = None
    #: none = instrumental
    lyrics: str | None = None
    #: one of the model's keys, e.g. ``"C major"``
    keyscale: str | None = None
    composer_mode: bool | None = None
    prompt_strength: float | None = None
    creativity: float | None = None
    shift: float | None = None
    output_format: AudioOutputFormat | None = None
    #: speech (Qwen3 TTS custom voice): one of the tier's voices
    speaker: str | None = None
    #: speech: how to speak (voice design: the voice to create)
    instruct: str | None = None
    #: voice cloning: what the reference audio says
    reference_text: str | None = None
    #: voice cloning: a clip of the voice to clone (mp3/m4a/wav)
    reference_audio: MediaInput | None = attrs.field(default=None, metadata={"media": "audio"})


ProjectParams = ImageParams | VideoParams | AudioParams
PARAM_CLASSES: dict[str, type[ImageParams] | type[VideoParams] | type[AudioParams]] = {
    "image": ImageParams, "video": VideoParams, "audio": AudioParams,
}


def _names(cls: type[Any]) -> frozenset[str]:
    return frozenset(a.name for a in attrs.fields(cls))


COMMON_PARAMS = _names(_BaseParams) | {"type"}
IMAGE_PARAMS = _names(ImageParams) - COMMON_PARAMS
VIDEO_PARAMS = _names(VideoParams) - COMMON_PARAMS
AUDIO_PARAMS = _names(AudioParams) - COMMON_PARAMS
ALL_PARAMS = COMMON_PARAMS | IMAGE_PARAMS | VIDEO_PARAMS | AUDIO_PARAMS

#: Image ControlNet keys (``ControlNetParams``) and the video variant (``{name, strength}``).
CONTROL_NET_KEYS = ControlNet.__required_keys__ | ControlNet.__optional_keys__
VIDEO_CONTROL_NET_KEYS = VideoControlNet.__required_keys__ | VideoControlNet.__optional_keys__

#: Parameters that carry uploadable media, in the reference's upload order per type.
MEDIA_PARAMS = (
    "starting_image", "context_images", "reference_image", "reference_image_end",
    "reference_audio", "reference_audio_identity", "reference_video",
)


def _unknown(names: list[str], known: frozenset[str], where: str) -> ValidationError:
    hints = []
    for name in names:
        snake = to_snake(name)
        close = difflib.get_close_matches(snake, sorted(known), n=1, cutoff=0.8)
        guess = snake if snake in known else (close[0] if close else None)
        hint = f" (did you mean {guess!r}?)" if guess and guess != name else ""
        hints.append(f"{name!r}{hint}")
    return ValidationError(f"Unknown {where}: {', '.join(hints)}")


#: Parameters the reference retired, with the text it refuses them with.
RETIRED_PARAMS = {
    "output_scale": (
        "outputScale is no longer supported. For MiniMax H3 1080p or 2K output use the "
        "two-stage model ids minimax-h3-fastvideo-int8_t2v_turbo_2stage, "
        "minimax-h3-fastvideo-int8_i2v_turbo_2stage or "
        "minimax-h3-fastvideo-int8_flf2v_turbo_2stage."),
    "smart_duration": (
        "Wan 3 smartDuration has been retired. Send an explicit duration between 2 and 30 "
        "seconds instead."),
}


def check_params(params: Mapping[str, Any]) -> None:
    """Reject names that are not parameters of any project type (before any I/O)."""
    for name, message in RETIRED_PARAMS.items():
        if name in params:
            raise ValidationError(message)
    unknown = sorted(k for k in params if k not in ALL_PARAMS)
    if unknown:
        raise _unknown(unknown, ALL_PARAMS, "project parameter(s)")
    control_net = params.get("control_net")
    if isinstance(control_net, Mapping):
        bad = sorted(str(k) for k in control_net if k not in CONTROL_NET_KEYS)
        if bad:
            raise _unknown(bad, CONTROL_NET_KEYS, "control_net key(s)")


def params_from(given: Mapping[str, Any]) -> tuple[ProjectParams, dict[str, Any]]:
    """Typed parameters from a reference-shaped mapping with a ``type`` key.

    Returns the parameters and the names that belong to another project type, which the
    reference accepts and ignores (e.g. ``number_of_previews`` on an audio project).
    """
    check_params(given)
    kind = given.get("type")
    if not isinstance(kind, str) or kind not in PARAM_CLASSES:
        raise ValidationError('Invalid project type. Must be "image", "video", or "audio".')
    cls = PARAM_CLASSES[kind]
    own = _names(cls)
    values = {k: v for k, v in given.items() if k in own and v is not None}
    ignored = {k: v for k, v in given.items() if k not in own and k != "type"}
    return build_params(cls, (), values), ignored


_Params = TypeVar("_Params", bound=_BaseParams)


def build_params(cls: type[_Params], args: Sequence[Any], kwargs: Mapping[str, Any]) -> _Params:
    """``cls(*args, **kwargs)`` with unknown or missing names as ValidationError, not TypeError."""
    own = _names(cls)
    unknown = sorted(k for k in kwargs if k not in own)
    if unknown:
        raise _unknown(unknown, own, f"{cls.type} project parameter(s)")
    if len(args) > 2:
        raise ValidationError(f"only model_id and positive_prompt may be positional, got "
                              f"{len(args)} positional arguments")
    values = dict(zip(("model_id", "positive_prompt"), args, strict=False))
    duplicated = sorted(set(values) & set(kwargs))
    if duplicated:
        raise ValidationError(f"{', '.join(duplicated)} given twice")
    values.update(kwargs)
    for required in ("model_id", "positive_prompt"):
        values.setdefault(required, None)  # refused by name by the field checks
    return cls(**values)


_P = ParamSpec("_P")
_R = TypeVar("_R")
_Self = TypeVar("_Self")


def same_parameters_as(
    spec: Callable[_P, Any],
) -> Callable[[Callable[..., _R]], Callable[Concatenate[_Self, _P], _R]]:
    """Give a ``(self, *args, **kwargs)`` method the typed signature of ``spec``.

    mypy and IDEs see ``spec``'s parameters (one definition per project type, no copies), and
    ``help()``/``inspect.signature`` show them too.
    """

    def decorate(method: Callable[..., _R]) -> Callable[Concatenate[_Self, _P], _R]:
        signature = inspect.signature(spec)
        self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        returns = inspect.signature(method).return_annotation
        method.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[self_param, *signature.parameters.values()], return_annotation=returns)
        return method

    return decorate
