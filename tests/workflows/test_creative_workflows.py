"""Creative workflows: REST calls and the resumable SSE event stream."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sogni_sync.creative_workflows import CreativeWorkflow
from sogni_sync.errors import ApiError, NotFoundError, ValidationError


def engine(net: Any, fn: Any) -> Any:
    return net.call(lambda state: fn(state.extras["workflows"]))


def test_image_to_video_lifecycle(client: Any, net: Any) -> None:
    wf = client.creative_workflows.start_image_to_video(
        "a fox in snow", video_prompt="the fox runs", image_model="flux2", token_type="spark")
    assert isinstance(wf, CreativeWorkflow) and wf.workflow_id and wf.kind == "image_to_video"
    start = [c for c in net.rest_calls if c.method == "POST"][-1]
    assert start.json == {"kind": "image_to_video", "input": {
        "prompt": "a fox in snow", "videoPrompt": "the fox runs", "imageModel": "flux2"},
        "token_type": "spark"}
    frames = list(client.creative_workflows.stream_events(wf.workflow_id))
    assert [f.id for f in frames] == [str(i) for i in range(1, 8)]
    assert frames[-1].data["status"] == "completed"
    done = client.creative_workflows.get(wf.workflow_id)
    assert done.done and len(done.artifact_urls) == 2
    assert requests.get(done.artifact_urls[0], timeout=10).content.startswith(b"\x89PNG")
    events = client.creative_workflows.events(wf.workflow_id)
    assert [e.type for e in events][-1] == "workflow_completed"
    listed = client.creative_workflows.list(limit=5)
    assert listed[0].workflow_id == wf.workflow_id


def test_stream_resumes_after_a_drop(client: Any, net: Any) -> None:
    engine(net, lambda e: setattr(e, "drop_streams_after", 2))
    wf = client.creative_workflows.start_hosted_tool_sequence(
        [{"id": "one", "toolName": "sogni_generate_image", "arguments": {"prompt": "a"}},
         {"id": "two", "toolName": "sogni_generate_music", "arguments": {"prompt": "b"}}],
        title="two steps")
    assert wf.title == "two steps" and len(wf.steps) == 2
    ids = [f.id for f in client.creative_workflows.stream_events(wf.workflow_id)]
    assert ids == [str(i) for i in range(1, 8)]  # nothing lost, nothing repeated
    assert engine(net, lambda e: list(e.stream_requests)) == [(None, None), ("2", "2")]


def test_stream_from_a_given_event(client: Any) -> None:
    wf = client.creative_workflows.start_image_to_video("x")
    list(client.creative_workflows.stream_events(wf.workflow_id))
    frames = list(client.creative_workflows.stream_events(wf.workflow_id, last_event_id=5))
    assert [f.id for f in frames] == ["6", "7"]


def test_cancel(client: Any, net: Any) -> None:
    engine(net, lambda e: setattr(e, "hold", True))
    wf = client.creative_workflows.start_image_to_video("held")
    cancelled = client.creative_workflows.cancel(wf.workflow_id)
    assert cancelled.status == "cancelled" and cancelled.done
    frames = list(client.creative_workflows.stream_events(wf.workflow_id))
    assert frames[-1].data["status"] == "cancelled"
    assert client.creative_workflows.cancel(wf.workflow_id).status == "cancelled"


def test_errors(client: Any) -> None:
    with pytest.raises(NotFoundError, match=r"Workflow not found"):
        client.creative_workflows.get("wf_missing")
    with pytest.raises(ApiError) as info:
        client.creative_workflows.start_hosted_tool_sequence(
            [{"toolName": "sogni_generate_music", "arguments": {"prompt": "x",
                                                                "timesignature": 4}}])
    assert info.value.status == 400 and "timesignature" in info.value.message
    with pytest.raises(ValidationError):
        client.creative_workflows.start("", {})
    with pytest.raises(ValidationError):
        client.creative_workflows.start_hosted_tool_sequence([])
