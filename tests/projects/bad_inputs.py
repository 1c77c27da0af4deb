"""A table of bad inputs across image, video, audio, estimates and chat.

Each row is refused with a ValidationError naming the parameter, before anything reaches the
server. ``$TEXT``, ``$EMPTY``, ``$DIR`` and ``$MISSING`` stand for local paths a test creates
(a text file, an empty file, a directory and a path that does not exist).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .media import MP3, MP4, PNG, WAV

GIF = b"GIF89a" + b"\x00" * 58
TEXT = b"hello, this is plain text, not an image"

IMAGE = {"model_id": "flux1-schnell-fp8", "positive_prompt": "a lighthouse"}
KONTEXT = {"model_id": "flux1-dev-kontext_fp8_scaled", "positive_prompt": "merge them"}
SD = {"model_id": "coreml-cyberrealistic_v70_768", "positive_prompt": "a lighthouse"}
GPT = {"model_id": "gpt-image-2", "positive_prompt": "a bottle"}
WAN = {"model_id": "wan_v2.2-14b-fp8_t2v_lightx2v", "positive_prompt": "a fox"}
WAN_I2V = {"model_id": "wan_v2.2-14b-fp8_i2v_lightx2v", "positive_prompt": "a fox"}
WAN_S2V = {"model_id": "wan_v2.2-14b-fp8_s2v_lightx2v", "positive_prompt": "a fox",
           "reference_image": PNG}
LTX = {"model_id": "ltx23-22b-fp8_t2v_distilled", "positive_prompt": "a fox"}
LTX_V2V = {"model_id": "ltx23-22b-fp8_v2v_distilled", "positive_prompt": "a fox"}
SEEDANCE = {"model_id": "seedance-2-0", "positive_prompt": "a fox"}
ACE = {"model_id": "ace_step_1.5_turbo", "positive_prompt": "synth pop"}
LLM = "qwen3.6-35b-a3b-gguf-iq4xs"
HELLO = [{"role": "user", "content": "hello"}]


class Bad(NamedTuple):
    call: str  # image | video | audio (projects.create), estimate, chat
    params: dict[str, Any]
    param: str  # the parameter given a bad value
    named: str = ""  # what the message names, when not ``param`` (a reference text's word)


def _image(param: str, value: Any, base: dict[str, Any] = IMAGE, named: str = "",
           **extra: Any) -> Bad:
    return Bad("image", {**base, param: value, **extra}, param, named)


def _video(param: str, value: Any, base: dict[str, Any] = WAN, **extra: Any) -> Bad:
    return Bad("video", {**base, param: value, **extra}, param)


def _audio(param: str, value: Any, **extra: Any) -> Bad:
    return Bad("audio", {**ACE, param: value, **extra}, param)


def _estimate(kind: str, param: str, value: Any, base: dict[str, Any]) -> Bad:
    return Bad("estimate", {"type": kind, **base, param: value}, param)


def _chat(param: str, **params: Any) -> Bad:
    return Bad("chat", {"model": LLM, "messages": HELLO, **params}, param)


BAD_INPUTS: list[Bad] = [
    # -- image: numbers --------------------------------------------------------------------
    _image("steps", 1000),
    _image("steps", 0),
    _image("steps", "four"),
    _image("steps", 4.5),
    _image("steps", True),
    _image("guidance", float("nan")),
    _image("guidance", float("inf")),
    _image("guidance", 11),
    _image("guidance", "high"),
    _image("guidance", 1.25),  # the tier's guidance has one decimal
    _image("seed", "abc"),
    _image("seed", -1),
    _image("seed", 2**32),
    _image("seed", 1.5),
    _image("number_of_media", 0),
    _image("number_of_media", -1),
    _image("number_of_media", 2.5),
    _image("number_of_media", 10000),
    _image("number_of_media", True),
    _image("number_of_previews", -1),
    _image("number_of_previews", "5"),
    _image("width", "wide", height=512),
    _image("width", 100, height=512),
    _image("height", 4096, SD, width=512),
    _image("starting_image_strength", 1.5, starting_image=PNG),
    _image("starting_image_strength", "0.5", starting_image=PNG),
    _image("lora_strengths", [300.0], loras=["detail"]),
    _image("lora_strengths", ["a"], loras=["detail"]),
    _image("loras", "detail"),
    # -- image: text and closed sets ----------------------------------------------------------
    _image("positive_prompt", 123),
    _image("positive_prompt", ""),
    _image("positive_prompt", "   "),
    _image("negative_prompt", 5),
    _image("style_prompt", ["x"]),
    _image("model_id", ""),
    _image("model_id", 5),
    _image("output_format", "gif"),
    _image("token_type", "usd"),
    _image("network", "slow"),
    _image("sampler", "Euler"),
    _image("scheduler", "nope"),
    _image("sampler", 7),
    _image("disable_nsfw_filter", "yes"),
    _image("size_preset", 5),
    _image("app_source", 5),
    _image("gpt_image_quality", "ultra", GPT, named="quality"),
    _image("gpt_image_background", "transparent", GPT, named="background"),
    _image("negativ_prompt", "blurry"),
    # -- image: media ---------------------------------------------------------------------
    _image("starting_image", b"hello"),
    _image("starting_image", b""),
    _image("starting_image", GIF),
    _image("starting_image", MP3),
    _image("starting_image", "$TEXT"),
    _image("starting_image", "$EMPTY"),
    _image("starting_image", "$DIR"),
    _image("starting_image", "$MISSING"),
    _image("starting_image", 123),
    _image("starting_image", False),
    _image("context_images", [PNG, TEXT], KONTEXT),
    _image("context_images", "a.png", KONTEXT),
    _image("context_images", [PNG, PNG, PNG], KONTEXT),
    # -- image: ControlNet ------------------------------------------------------------------
    _image("control_net", "canny", SD),
    _image("control_net", {"name": "cany"}, SD),
    _image("control_net", {"strength": 0.5}, SD),
    _image("control_net", {"name": "canny", "strength": 1.5}, SD, named="strength"),
    _image("control_net", {"name": "canny", "mode": "strong"}, SD, named="mode"),
    _image("control_net", {"name": "canny", "image": TEXT}, SD),
    _image("control_net", {"name": "canny", "guidance_start": float("nan")}, SD,
           named="guidance_start"),
    # -- video ------------------------------------------------------------------------------
    _video("duration", 9999),
    _video("duration", float("nan")),
    _video("duration", "five", LTX),
    _video("duration", True),
    _video("fps", 24),
    _video("fps", "16"),
    _video("frames", 5),
    _video("frames", 2.5),
    _video("frames", 1000, LTX),
    _video("duration", 20, LTX, fps=60),  # 1201 frames, the tier allows 481
    _video("shift", 20),
    _video("steps", 100),
    _video("guidance", 5),
    _video("width", 2000, height=480),
    _video("width", 481, height=480),
    _video("width", 320, height=480),
    _video("teacache_threshold", 2, {**WAN, "model_id": "wan_v2.2-14b-fp8_t2v"}),
    _video("reference_image", b"hello", WAN_I2V),
    _video("reference_image", MP3, WAN_I2V),
    _video("reference_image_end", "$DIR", WAN_I2V),
    _video("reference_audio", PNG, WAN_S2V),
    _video("reference_audio", b"", WAN_S2V),
    _video("reference_video", PNG, LTX_V2V),
    _video("reference_video", WAV, LTX_V2V),
    _video("trim_end_frame", "yes"),
    _video("generate_audio", "no", SEEDANCE),
    _video("audio_start", -1, WAN_S2V, reference_audio=WAV),
    _video("audio_duration", "long", WAN_S2V, reference_audio=WAV),
    _video("video_start", -1, LTX_V2V, reference_video=MP4),
    _video("first_frame_strength", 2),
    _video("detailer_strength", -0.5, LTX_V2V, reference_video=MP4),
    _video("audio_identity_strength", 20, LTX),
    _video("control_net", {"name": "bogus"}, LTX_V2V, reference_video=MP4),
    _video("control_net", {"name": "canny", "image": PNG}, LTX_V2V, reference_video=MP4),
    _video("reference_image_urls", [5], SEEDANCE),
    _video("output_format", "webm"),
    _video("sam2_coordinates", "center"),
    _video("number_of_media", 0),
    _video("positive_prompt", None),
    # -- audio ------------------------------------------------------------------------------
    _audio("duration", 5),
    _audio("duration", 9999),
    _audio("bpm", 10),
    _audio("bpm", "fast"),
    _audio("timesignature", "5"),
    _audio("timesignature", 4),
    _audio("language", "xx"),
    _audio("keyscale", "H major"),
    _audio("composer_mode", "yes"),
    _audio("prompt_strength", 20),
    _audio("creativity", -1),
    _audio("shift", 9),
    _audio("steps", 0),
    _audio("output_format", "ogg"),
    _audio("lyrics", 5),
    _audio("sampler", "euler_a"),
    _audio("number_of_media", 17),
    # -- estimates: the same names and rules as creating ------------------------------------
    _estimate("image", "steps", 1000, IMAGE),
    _estimate("image", "number_of_media", 0, IMAGE),
    _estimate("image", "token_type", "usd", IMAGE),
    _estimate("image", "width", "wide", {**IMAGE, "height": 512}),
    _estimate("image", "sampler", "Euler", IMAGE),
    _estimate("image", "negativ_prompt", "x", IMAGE),
    _estimate("video", "duration", 9999, WAN),
    _estimate("video", "fps", 24, WAN),
    _estimate("video", "number_of_media", -1, WAN),
    _estimate("video", "width", 2000, {**WAN, "height": 480}),
    _estimate("audio", "duration", 5, ACE),
    _estimate("audio", "steps", "x", ACE),
    _estimate("audio", "number_of_media", 2.5, ACE),
    # -- chat -------------------------------------------------------------------------------
    _chat("model", model=""),
    _chat("messages", messages=[]),
    _chat("messages", messages="hello"),
    _chat("max_tokens", max_tokens=0),
    _chat("temperature", temperature="hot"),
    _chat("token_type", token_type="usd"),
]
