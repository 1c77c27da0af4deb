"""Sogni tool definitions, argument validation, routing and project parameters (chat.md §6-7)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from sogni_sync.chat import (
    SogniTools,
    ToolCall,
    build_sogni_tools,
    hosted_tools_manifest,
    is_sogni_tool_call,
    parse_tool_call_arguments,
)
from sogni_sync.chat import _routing as routing
from sogni_sync.chat._job import ChatJob, chunk_from_wire
from sogni_sync.chat._tools import build_project_params, serialize_error, validate_tool_arguments
from sogni_sync.errors import ValidationError

from .conftest import data_uri, png_bytes

MODELS: list[dict[str, Any]] = [
    {"id": "flux1-schnell-fp8", "media": "image", "worker_count": 3},
    {"id": "z_image_turbo_bf16", "media": "image", "worker_count": 9},
    {"id": "qwen_image_edit_2511_fp8", "media": "image", "worker_count": 2},
    {"id": "flux1-dev-kontext_fp8_scaled", "media": "image", "worker_count": 5},
    {"id": "wan_v2.2-14b-fp8_t2v_lightx2v", "media": "video", "worker_count": 8},
    {"id": "ltx23-22b-fp8_t2v_distilled", "media": "video", "worker_count": 1},
    {"id": "ltx23-22b-fp8_i2v_distilled", "media": "video", "worker_count": 1},
    {"id": "ltx23-22b-fp8_v2v_distilled", "media": "video", "worker_count": 1},
    {"id": "wan_v2.2-14b-fp8_animate-move_lightx2v", "media": "video", "worker_count": 1},
    {"id": "seedance-2-0", "media": "video", "worker_count": 2},
    {"id": "ace_step_1.5_sft", "media": "audio", "worker_count": 4},
    {"id": "ace_step_1.5_turbo", "media": "audio", "worker_count": 1},
]


def call(name: str, args: Any) -> ToolCall:
    text = args if isinstance(args, str) else json.dumps(args)
    return ToolCall.from_dict({"id": "c1", "function": {"name": name, "arguments": text}})


def test_definitions_match_the_reference_bytes() -> None:
    blob = json.dumps(SogniTools.all, separators=(",", ":"), ensure_ascii=False).encode()
    assert len(blob) == 20487
    assert hashlib.sha256(blob).hexdigest() == (
        "e1389ef288a2ab6d893a917bdfcbe226c731685e9ed9479f57283af5bd437f04")
    assert [t["function"]["name"] for t in SogniTools.all] == list(SogniTools.names)
    manifest = hosted_tools_manifest()
    assert manifest["version"] == "2026-04-30.1" and manifest["tools"] == SogniTools.all
    tools = SogniTools.all
    tools[0]["function"]["name"] = "mutated"
    assert SogniTools.generate_image["function"]["name"] == "sogni_generate_image"


def test_build_sogni_tools_narrows_model_enums() -> None:
    assert build_sogni_tools([]) == SogniTools.all
    tools = {t["function"]["name"]: t for t in build_sogni_tools(MODELS)}
    image = tools["sogni_generate_image"]["function"]["parameters"]["properties"]
    assert image["model"] == {"type": "string", "description": "Image generation model to use.",
                              "enum": ["flux1-schnell-fp8", "z_image_turbo_bf16",
                                       "qwen_image_edit_2511_fp8",
                                       "flux1-dev-kontext_fp8_scaled"]}
    assert list(image)[4] == "model"  # same key position
    edit = tools["sogni_edit_image"]["function"]["parameters"]["properties"]["model"]
    assert edit["enum"] == ["qwen_image_edit_2511_fp8", "flux1-dev-kontext_fp8_scaled"]
    video = tools["sogni_generate_video"]["function"]["parameters"]["properties"]["model"]
    assert video["enum"] == ["wan_v2.2-14b-fp8_t2v_lightx2v", "ltx23-22b-fp8_t2v_distilled",
                             "ltx23-22b-fp8_i2v_distilled", "seedance-2-0"]


def test_helpers() -> None:
    assert is_sogni_tool_call({"function": {"name": "sogni_anything"}})
    assert not is_sogni_tool_call(call("get_weather", {}))
    assert parse_tool_call_arguments(call("x", "{bad")) == {}
    assert parse_tool_call_arguments(call("x", "[1]")) == [1]
    assert parse_tool_call_arguments(call("x", "null")) is None


@pytest.mark.parametrize("name, args, message", [
    ("sogni_generate_music", {"prompt": "p", "timesignature": 4},
     'Invalid sogni_generate_music arguments: Argument "timesignature" must be string'),
    ("sogni_generate_music", {"prompt": "p", "timesignature": "5"},
     'Invalid sogni_generate_music arguments: Argument "timesignature" must be one of "4", "3", '
     '"2", "6"'),
    ("sogni_generate_image", [1], "Invalid sogni_generate_image arguments: Tool arguments must "
                                  "be a JSON object"),
    ("sogni_unknown", {}, 'Invalid sogni_unknown arguments: Unknown hosted Sogni tool '
                          '"sogni_unknown"'),
    ("sogni_generate_image", {"prompt": None, "width": "big"},
     'Invalid sogni_generate_image arguments: Missing required argument "prompt"; Argument '
     '"width" must be number'),
    ("sogni_edit_image", {"prompt": "p", "reference_image_urls": ["a", 2]},
     'Invalid sogni_edit_image arguments: Argument "reference_image_urls[1]" must be string'),
    ("sogni_generate_image", {"prompt": "p", "output_format": "gif", "model": "anything"},
     'Invalid sogni_generate_image arguments: Argument "output_format" must be one of "png", '
     '"jpg", "jpeg", "webp"'),
])
def test_argument_validation_texts(name: str, args: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_tool_arguments(name, args)
    assert str(info.value) == message


def test_serialize_error() -> None:
    assert serialize_error(ValueError("boom")) == "boom"
    assert serialize_error(ValueError("")) == "ValueError"
    assert serialize_error({"error": {"reason": "deep"}}) == "deep"
    assert serialize_error({"code": 1}) == '{"code":1}'
    assert serialize_error(None) == "Unknown error"


def test_routing_basics() -> None:
    assert routing.clamp_variation_count({"number_of_variations": 2.5}) == 3
    assert routing.clamp_variation_count({"number_of_variations": "x"}, 4) == 1
    assert routing.clamp_variation_count({}, 40) == 16
    assert routing.video_workflow("ltx23-22b-fp8_ia2v_distilled") == "ia2v"
    assert routing.video_workflow("wan_v2.2-14b-fp8_animate-move_lightx2v") == "animate-move"
    assert routing.video_workflow("flux1-schnell-fp8") is None
    assert routing.compatible_workflows("seedance-2-0") == {"t2v", "i2v", "ia2v", "v2v"}
    assert routing.video_defaults("wan_v2.2-14b-fp8_s2v_lightx2v") == (832, 480, 16)
    assert routing.video_defaults("seedance-2-0-fast") == (1280, 720, 24)
    assert routing.video_defaults("ltx23-22b-fp8_t2v_distilled") == (1920, 1088, 24)
    assert routing.video_defaults("wan_v2.2-14b-fp8_t2v_lightx2v") == (848, 480, 16)
    assert routing.max_context_images("flux2_dev_fp8") == 6
    assert routing.resolve_model_selector("sogni_generate_image", {"model": "Chat GPT"}) == \
        "gpt-image-2"
    assert routing.resolve_model_selector("sogni_generate_video", {
        "model": "ltx23", "reference_image_url": "x"}) == "ltx23-22b-fp8_i2v_distilled"
    assert routing.resolve_model_selector("sogni_generate_music", {"model": "  "}) is None
    assert routing.resolve_model_selector("sogni_generate_music", {"model": "mine"}) == "mine"


def test_model_selection() -> None:
    sel = routing.select_model
    assert sel(MODELS, "image") == "z_image_turbo_bf16"  # most workers, no preference
    assert sel(MODELS, "image", requested="flux1-schnell-fp8") == "flux1-schnell-fp8"
    assert sel(MODELS, "image", requested="offline", filter=routing.is_edit_image_model) == \
        "flux1-dev-kontext_fp8_scaled"
    assert sel(MODELS, "video", workflows=["t2v"],
               preferred=["ltx23-22b-fp8_t2v_distilled"]) == "ltx23-22b-fp8_t2v_distilled"
    assert sel(MODELS, "audio", preferred=["ace_step_1.5_turbo"]) == "ace_step_1.5_turbo"
    with pytest.raises(ValidationError, match=r"No compatible video models available for "
                                              "workflows: s2v"):
        sel(MODELS, "video", workflows=["s2v"])
    with pytest.raises(ValidationError, match=r"No audio models currently available"):
        sel(MODELS[:2], "audio")


def test_project_params() -> None:
    media, model, params = build_project_params(
        "sogni_generate_image", {"prompt": "fox", "width": 512, "height": 768, "seed": 7,
                                 "output_format": "JPEG", "model": "flux1-schnell"}, MODELS,
        token_type="spark")
    assert (media, model) == ("image", "z_image_turbo_bf16")
    assert params == {"type": "image", "model_id": "z_image_turbo_bf16",
                      "positive_prompt": "fox", "number_of_media": 1, "width": 512,
                      "height": 768, "size_preset": "custom", "seed": 7,
                      "output_format": "jpg", "token_type": "spark"}
    _, model, params = build_project_params(
        "sogni_generate_music", {"prompt": "jazz", "timesignature": "3", "composer_mode": 1,
                                 "creativity": 0.5, "number_of_variations": 2}, MODELS)
    assert model == "ace_step_1.5_turbo"
    assert params["timesignature"] == "3" and "composer_mode" not in params
    assert params["creativity"] == 0.5 and params["number_of_media"] == 2
    _, model, params = build_project_params(
        "sogni_generate_video", {"prompt": "waves", "negative_prompt": "blur"}, MODELS)
    assert model == "ltx23-22b-fp8_t2v_distilled"
    assert (params["width"], params["height"], params["fps"]) == (1920, 1088, 24)
    assert params["negative_prompt"] == "blur" and "duration" not in params
    _, model, params = build_project_params(
        "sogni_edit_image", {"prompt": "hat", "source_image_url": data_uri(png_bytes())}, MODELS)
    assert model == "flux1-dev-kontext_fp8_scaled"
    assert params["context_images"] == [png_bytes()]


def test_project_param_errors() -> None:
    with pytest.raises(ValidationError, match=r"sogni_edit_image requires source_image_url or "
                                              "reference_image_urls"):
        build_project_params("sogni_edit_image", {"prompt": "x"}, MODELS)
    with pytest.raises(ValidationError, match=r"^animate-move requires reference_image_url$"):
        build_project_params("sogni_video_to_video",
                             {"prompt": "x", "reference_video_url": "data:video/mp4;base64,AA=="},
                             MODELS)
    with pytest.raises(ValidationError, match=r"remote URLs are not allowed"):
        build_project_params("sogni_generate_video",
                             {"prompt": "x", "reference_image_url": "https://a/b.png"}, MODELS)
    mp4 = data_uri(b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", "video/mp4")
    _, model, params = build_project_params(
        "sogni_video_to_video", {"prompt": "x", "reference_video_url": mp4,
                                 "control_mode": "seedance-v2v"}, MODELS[:8])
    assert model == "ltx23-22b-fp8_v2v_distilled"
    assert params["control_net"] == {"name": "seedance-v2v", "strength": 0.85}


def test_tool_call_folding_vector() -> None:
    import threading

    job = ChatJob("J", LLM_ID, threading.RLock(), keep_chunks=True)
    frames: list[dict[str, Any]] = [
        {"jobID": "J", "role": "assistant", "content": ""},
        {"jobID": "J", "content": "", "tool_calls": [{"index": 0, "id": "call_1", "type":
         "function", "function": {"name": "sogni_generate_image", "arguments": ""}}]},
        {"jobID": "J", "content": "", "tool_calls": [{"index": 0, "function": {"arguments":
                                                       "{\"prompt\":"}}]},
        {"jobID": "J", "content": "", "tool_calls": [{"index": 0, "function": {"arguments":
                                                       "\"a red fox\"}"}}]},
        {"jobID": "J", "content": "", "finishReason": "tool_calls", "usage": {
            "prompt_tokens": 812, "completion_tokens": 14, "total_tokens": 826}},
        {"jobID": "J", "content": "", "finishReason": None},
    ]
    with job.cond:
        for frame in frames:
            job.fold(chunk_from_wire(frame))
        final = job.complete({"jobID": "J", "usage": {"prompt_tokens": 812,
                              "completion_tokens": 14, "total_tokens": 826},
                              "timeTaken": 0.4, "workerName": "llm-w1"})
    assert final is not None
    assert (final.content, final.role, final.finish_reason) == ("", "assistant", "tool_calls")
    assert (final.usage.prompt_tokens, final.usage.total_tokens) == (812, 826)
    assert final.time_taken == 0.4 and final.worker_name == "llm-w1" and final.cost is None
    assert [tc.to_dict() for tc in final.tool_calls] == [{
        "id": "call_1", "type": "function", "function": {
            "name": "sogni_generate_image", "arguments": "{\"prompt\":\"a red fox\"}"}}]
    assert final.to_message() == {"role": "assistant", "content": None,
                                  "tool_calls": [final.tool_calls[0].to_dict()]}
    assert final.choices[0].message.tool_calls == final.tool_calls


LLM_ID = "qwen3.6-35b-a3b-gguf-iq4xs"
