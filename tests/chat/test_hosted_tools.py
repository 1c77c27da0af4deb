"""Hosted tool execution, the two shipped tool sets and how the current set runs locally."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from sogni_sync.chat import HostedToolResult, ToolCall, is_sogni_tool_call, sogni_tool_set
from sogni_sync.chat._hosted_tools import (
    DIRECT_DISPATCH,
    resolve_media_indices,
    seed_arguments,
    tool_set_manifest,
)
from sogni_sync.errors import ApiError, ValidationError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "protocol"


def tool_call(name: str, args: Any) -> ToolCall:
    return ToolCall.from_dict({"id": "call_1", "type": "function",
                               "function": {"name": name, "arguments": json.dumps(args)}})


def test_tool_sets() -> None:
    current = sogni_tool_set()
    names = [t["function"]["name"] for t in current]
    assert len(names) == 30 and len(set(names)) == 30
    assert {"image_to_3d", "remove_background", "segment_image", "compose_workflow_template",
            "generate_image", "apply_style"} <= set(names)
    assert not any(n.startswith("sogni_") for n in names)
    seed = [t["function"]["name"] for t in sogni_tool_set("seed")]
    assert seed == ["sogni_generate_image", "sogni_edit_image", "sogni_generate_video",
                    "sogni_sound_to_video", "sogni_video_to_video", "sogni_generate_music"]
    assert tool_set_manifest()["version"] == "2026-08-24.1"
    current[0]["function"]["name"] = "changed"  # a fresh copy every time
    assert sogni_tool_set()[0]["function"]["name"] == "generate_image"
    with pytest.raises(ValidationError):
        sogni_tool_set("newest")  # type: ignore[arg-type]
    assert set(DIRECT_DISPATCH) <= set(names)


def test_seed_data_matches_the_shared_protocol_files() -> None:
    data = resources.files("sogni_sync").joinpath("data")
    for name in ("sogni_tools.json", "hosted_tools.json"):
        if (SHARED / name).exists():
            assert data.joinpath(name).read_bytes() == (SHARED / name).read_bytes()
    # the current set is the published 5.70 manifest, byte for byte
    digest = hashlib.sha256(data.joinpath("hosted_tools_current.json").read_bytes()).hexdigest()
    assert digest == CURRENT_SHA256


CURRENT_SHA256 = "f97a87f1df69a18012ea3fee8cea7a59d44fd3d1eb0a4a42f441e9c2efe5aa52"


def test_is_sogni_tool_call_knows_both_sets() -> None:
    assert is_sogni_tool_call(tool_call("sogni_generate_image", {}))
    assert is_sogni_tool_call(tool_call("segment_image", {}))
    assert not is_sogni_tool_call(tool_call("get_weather", {}))


def test_seed_arguments() -> None:
    name, args = seed_arguments("generate_video", {
        "prompt": "p", "videoModel": "wan", "negativePrompt": "n", "numberOfVariations": 2,
        "referenceImageIndices": [0]}, {"images": ["data:image/png;base64,AA=="]})
    assert name == "sogni_generate_video"
    assert args == {"prompt": "p", "model": "wan", "negative_prompt": "n",
                    "number_of_variations": 2, "referenceImageIndices": [0],
                    "reference_image_url": "data:image/png;base64,AA=="}
    assert seed_arguments("generate_music", {"prompt": "x", "timesig": "4"})[1] == {
        "prompt": "x", "timesignature": "4"}


def test_execute_tool(client: Any, net: Any) -> None:
    result = client.chat.hosted.execute_tool(
        "compose_workflow", {"brief": "a teaser", "scene_count": 3}, token_type="auto",
        safe_content_filter=False)
    assert isinstance(result, HostedToolResult) and result.tool == "compose_workflow"
    assert result.tool_call_id.startswith("call_") and len(result.result["steps"]) == 3
    sent = [c for c in net.rest_calls if c.path.endswith("/tools/execute")][-1]
    assert sent.json == {"tool": "compose_workflow",
                         "arguments": {"brief": "a teaser", "scene_count": 3},
                         "token_type": "auto", "safe_content_filter": False}
    # its steps run as a durable workflow
    wf = client.creative_workflows.start_hosted_tool_sequence(list(result.result["steps"]))
    frames = list(client.creative_workflows.stream_events(wf.workflow_id))
    assert frames[-1].data["status"] == "completed"

    enhanced = client.chat.hosted.execute_tool(
        "enhance_prompt", {"prompt": "a fox", "target_output": "image",
                           "destination_model": "flux2"})
    assert enhanced.result["prompt"].startswith("a fox")
    with pytest.raises(ApiError, match='Missing required argument "brief"'):
        client.chat.hosted.execute_tool("compose_script", {})
    with pytest.raises(ApiError, match="not a synchronous hosted tool"):
        client.chat.hosted.execute_tool("generate_image", {"prompt": "x"})
    before = len(net.rest_calls)
    for bad in (lambda: client.chat.hosted.execute_tool("", {}),
                lambda: client.chat.hosted.execute_tool("x", []),
                lambda: client.chat.hosted.execute_tool("x", {}, token_type="gold"),
                lambda: client.chat.hosted.execute_tool("x", {}, safe_content_filter="no")):
        with pytest.raises(ValidationError):
            bad()
    assert len(net.rest_calls) == before


def test_current_set_runs_locally_like_the_reference(client: Any, net: Any) -> None:
    done = client.chat.tools.execute(tool_call("generate_image", {
        "prompt": "a red fox", "numberOfVariations": 1}), token_type="spark")
    assert done.success and done.tool_name == "generate_image" and len(done.result_urls) == 1
    assert net.received("jobRequest")[-1]["tokenType"] == "spark"
    hosted_only = client.chat.tools.execute(tool_call("apply_style", {"prompt": "ink"}))
    assert not hosted_only.success
    assert "must be executed via chat.hosted.create() or chat.runs.create()" in \
        str(hosted_only.error)


def test_only_project_tools_count_towards_the_round_limit(client: Any, net: Any) -> None:
    hosted_only = [tool_call("apply_style", {"prompt": "ink"}) for _ in range(9)]
    results = client.chat.tools.execute_all(hosted_only)
    assert len(results) == 9 and not any(r.success for r in results)
    before = len(net.received("jobRequest"))
    with pytest.raises(ValidationError, match="Too many Sogni tool calls"):
        client.chat.tools.execute_all([tool_call("generate_image", {"prompt": "x"})] * 9)
    assert len(net.received("jobRequest")) == before


def test_media_indices_pick_from_the_media_context() -> None:
    context = {"images": ["gen-0", "gen-1"], "uploaded_images": ["up-0"], "audio": ["a-0"],
               "uploadedVideos": ["v-up-0"]}
    assert resolve_media_indices([1, -1], "image", context) == ["gen-1", "up-0"]
    assert resolve_media_indices([-1], "video", context) == ["v-up-0"]
    with pytest.raises(ValidationError, match="image media index 2 is unavailable"):
        resolve_media_indices([2], "image", context)
    with pytest.raises(ValidationError, match="require media_context"):
        resolve_media_indices([0], "image", None)
    name, args = seed_arguments("sound_to_video", {
        "prompt": "p", "referenceAudioIndices": [0], "referenceImageIndices": [-1]}, context)
    assert name == "sogni_sound_to_video"
    assert args["reference_audio_url"] == "a-0" and args["reference_image_url"] == "up-0"
    _, both = seed_arguments("generate_video", {"prompt": "p", "referenceImageIndices": [0, 1]},
                             context)
    assert (both["reference_image_url"], both["reference_image_end_url"]) == ("gen-0", "gen-1")
    with pytest.raises(ValidationError, match="not both"):
        seed_arguments("generate_video", {"prompt": "p", "referenceImageIndices": [0],
                                          "reference_image_url": "x"}, context)
    with pytest.raises(ValidationError, match="integer media indices"):
        seed_arguments("generate_video", {"prompt": "p", "referenceImageIndices": ["0"]}, {})
    # edit_image keeps its inline arguments, as in the reference
    assert seed_arguments("edit_image", {"prompt": "p", "sourceImageIndex": 0}, context)[1] == {
        "prompt": "p", "sourceImageIndex": 0}


def test_indexed_media_run_locally(client: Any, net: Any) -> None:
    from .conftest import data_uri, png_bytes

    image = data_uri(png_bytes(), "image/png")
    done = client.chat.tools.execute(
        tool_call("generate_video", {"prompt": "waves", "duration": 2, "width": 512,
                                     "height": 512, "referenceImageIndices": [-1]}),
        media_context={"uploaded_images": [image]})
    assert done.success, done.error
    keyframe = net.received("jobRequest")[-1]["keyFrames"][0]
    assert keyframe["hasReferenceImage"] is True  # the uploaded image became the first frame
    assert keyframe["referenceImageContentType"] == "image/png"
    missing = client.chat.tools.execute(
        tool_call("generate_video", {"prompt": "waves", "referenceImageIndices": [0]}))
    assert not missing.success and "require media_context" in str(missing.error)


def test_definitions_of_either_set(client: Any) -> None:
    assert [t["function"]["name"] for t in client.chat.tools.definitions("current")] == [
        t["function"]["name"] for t in sogni_tool_set("current")]
    assert len(client.chat.tools.definitions()) == 6
    with pytest.raises(ValidationError):
        client.chat.tools.definitions("other")
