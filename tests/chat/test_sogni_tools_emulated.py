"""Sogni platform tools end to end: a tool call becomes a real media project and its media."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from sogni_sync.chat import SogniTools, ToolCall
from sogni_sync.errors import ValidationError

from .conftest import LLM, data_uri, png_bytes


def tool_call(name: str, args: Any, call_id: str = "call_x") -> ToolCall:
    return ToolCall.from_dict({"id": call_id, "type": "function",
                               "function": {"name": name, "arguments": json.dumps(args)}})


def test_auto_loop_generates_an_image(client: Any, net: Any) -> None:
    progress: list[tuple[str, str, float]] = []
    result = client.chat.complete(
        LLM, [{"role": "user", "content": "Generate an image of a red fox"}],
        tools=SogniTools.all, auto_execute_tools=True, token_type="spark",
        on_tool_progress=lambda call, p: progress.append((call.name, p.status, p.percent)))
    assert result.finish_reason == "stop"
    (round_,) = result.tool_history
    (executed,) = round_.tool_results
    assert executed.success and executed.tool_name == "sogni_generate_image"
    (url,) = executed.result_urls
    assert requests.get(url, timeout=10).content.startswith(b"\x89PNG")
    content = json.loads(executed.content)
    assert list(content) == ["success", "media_type", "urls", "model", "prompt"]
    assert content["media_type"] == "image" and content["prompt"] == "a red fox"
    assert url in result.content  # the model saw the tool message
    job = net.received("jobRequest")[-1]
    assert job["tokenType"] == "spark"
    statuses = [s for _, s, _ in progress]
    assert statuses[:2] == ["creating", "queued"] and statuses[-1] == "completed"
    assert progress[-1][2] == 100


def test_execute_music_and_video(client: Any) -> None:
    music = client.chat.tools.execute(
        tool_call("sogni_generate_music", {"prompt": "calm piano", "duration": 10,
                                           "timesignature": "4"}), number_of_media=2)
    assert music.success and len(music.result_urls) == 2
    assert json.loads(music.content)["model"] == "ace_step_1.5_turbo"
    video = client.chat.tools.execute(
        tool_call("sogni_generate_video", {"prompt": "waves", "duration": 2, "width": 512,
                                           "height": 512}))
    assert video.success, video.error
    body = requests.get(video.result_urls[0], timeout=10).content
    assert body[4:8] == b"ftyp"


def test_edit_image_uploads_the_inline_source(client: Any, net: Any) -> None:
    result = client.chat.tools.execute(tool_call("sogni_edit_image", {
        "prompt": "add a hat", "source_image_url": data_uri(png_bytes(32, 32))}))
    assert result.success, result.error
    assert any(c.method == "PUT" for c in net.rest_calls)


def test_bad_calls_become_error_results(client: Any) -> None:
    bad = client.chat.tools.execute(tool_call("sogni_generate_music",
                                              {"prompt": "x", "timesignature": 4}))
    assert not bad.success and bad.result_urls == ()
    assert bad.error == ('Invalid sogni_generate_music arguments: Argument "timesignature" '
                         'must be string')
    assert json.loads(bad.content) == {"success": False, "error": bad.error}
    remote = client.chat.tools.execute(tool_call("sogni_edit_image", {
        "prompt": "x", "source_image_url": "https://example.com/cat.png"}))
    assert remote.error == ("Only inline base64-encoded data URIs are supported for image "
                            "inputs; remote URLs are not allowed")
    failed = client.chat.tools.execute(tool_call("sogni_generate_image",
                                                 {"prompt": "a red apple [[fail]]"}))
    assert not failed.success and "failed" in failed.error


def test_misuse_raises(client: Any) -> None:
    with pytest.raises(ValidationError, match=r"^Not a Sogni tool call: get_weather"):
        client.chat.tools.execute(tool_call("get_weather", {}))
    calls = [tool_call("sogni_generate_image", {"prompt": "p"}, f"c{i}") for i in range(9)]
    with pytest.raises(ValidationError, match=r"^Too many Sogni tool calls in a single round "
                                              r"\(9\); maximum is 8$"):
        client.chat.tools.execute_all(calls)


def test_execute_all_mixes_sogni_and_custom_tools(client: Any) -> None:
    results = client.chat.tools.execute_all(
        [tool_call("sogni_generate_image", {"prompt": "p"}, "a"),
         tool_call("lookup", {"q": 1}, "b"), tool_call("unknown", {}, "c")],
        tool_handlers={"lookup": lambda args: {"found": args["q"]}})
    assert [r.tool_call_id for r in results] == ["a", "b", "c"]
    assert results[0].success and results[1].content == '{"found":1}'
    assert not results[2].success


def test_definitions_follow_the_online_models(client: Any) -> None:
    client.catalog.wait_for_models(timeout=10)
    tools = {t["function"]["name"]: t for t in client.chat.tools.definitions()}
    enum = tools["sogni_generate_music"]["function"]["parameters"]["properties"]["model"]["enum"]
    assert "ace_step_1.5_turbo" in enum
