"""Hosted chat over REST (POST /v1/chat/completions, not enveloped)."""

from __future__ import annotations

from typing import Any

import pytest

from sogni_sync.chat import HostedChatCompletion
from sogni_sync.errors import ApiError, ValidationError

from .conftest import LLM


def last_body(net: Any) -> Any:
    return [c for c in net.rest_calls if c.path == "/v1/chat/completions"][-1].json


def test_plain_completion(client: Any, net: Any) -> None:
    answer = client.chat.hosted.create(LLM, [{"role": "user", "content": "hello"}],
                                       think=False, task_profile="general", token_type="auto",
                                       max_tokens=50)
    assert isinstance(answer, HostedChatCompletion)
    assert answer.object == "chat.completion" and answer.id.startswith("chatcmpl-")
    assert answer.content == "Echo: hello" and answer.finish_reason == "stop"
    assert answer.usage is not None and answer.usage.prompt_tokens > 0
    body = last_body(net)
    assert body["task_profile"] == "general" and body["token_type"] == "auto"
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert "stream" not in body


def test_hosted_tool_calls_are_returned(client: Any, net: Any) -> None:
    answer = client.chat.hosted.create(
        LLM, [{"role": "user", "content": "Generate an image of a lighthouse"}],
        sogni_tools="rich", sogni_tool_execution=False, media_references=[{"id": "m1"}])
    assert answer.finish_reason == "tool_calls"
    assert answer.tool_calls[0].name == "generate_image"
    body = last_body(net)
    assert body["sogni_tools"] == "creative-tools" and body["media_references"] == [{"id": "m1"}]


def test_server_side_execution_starts_a_workflow(client: Any) -> None:
    answer = client.chat.hosted.create(
        LLM, [{"role": "user", "content": "Generate an image of a lighthouse"}],
        sogni_tools=True, sogni_tool_execution=True)
    assert answer.finish_reason == "stop"
    (workflow,) = answer.creative_workflows
    assert workflow["streamUrl"].endswith("/events/stream")
    assert answer.sogni_tool_results[0]["success"] is True
    record = client.creative_workflows.get(workflow["workflowId"])
    assert record.status == "completed" and record.artifact_urls


def test_errors(client: Any) -> None:
    with pytest.raises(ApiError) as info:
        client.chat.hosted.create("nope", [{"role": "user", "content": "x"}])
    assert info.value.status == 400 and "nope" in info.value.message
    with pytest.raises(ValidationError):
        client.chat.hosted.create(LLM, [], sogni_tools=3)
