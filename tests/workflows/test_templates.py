"""Workflow templates (CRUD, fork), template-id runs, resume and reseed with idempotency keys."""

from __future__ import annotations

from typing import Any

import pytest

from sogni_sync.creative_workflows import (
    CreativeWorkflow,
    ReseededWorkflow,
    ResumedWorkflow,
    WorkflowTemplate,
    WorkflowTemplatePage,
)
from sogni_sync.errors import ApiError, NotFoundError, ServerError, ValidationError

MINE = {
    "name": "Poster then song",
    "description": "a poster and a song about a subject",
    "category": "custom",
    "exposeToLLM": True,
    "tags": ["poster"],
    "inputs": [{"name": "subject", "type": "text", "required": True},
               {"name": "seconds", "type": "number", "default": 12}],
    "stages": [{"id": "poster", "toolName": "sogni_generate_image",
                "arguments": {"prompt": "a poster of $inputs.subject"}},
               {"id": "song", "toolName": "sogni_generate_music",
                "arguments": {"prompt": "$inputs.subject", "duration": "$inputs.seconds"}}],
}


def engine(net: Any, fn: Any) -> Any:
    return net.call(lambda state: fn(state.extras["workflows"]))


def calls(net: Any, method: str, suffix: str) -> list[Any]:
    return [c for c in net.rest_calls if c.method == method and c.path.endswith(suffix)]


def test_template_crud_and_fork(client: Any, net: Any) -> None:
    api = client.creative_workflows.templates
    page = api.list(visibility="public", limit=1)
    assert isinstance(page, WorkflowTemplatePage) and len(page.templates) == 1
    assert page.next_cursor == 1 and calls(net, "GET", "/templates")[-1].query == {
        "visibility": "public", "limit": "1"}
    system = page.templates[0]
    assert system.author == "system" and system.required_inputs == ("brief",)

    made = api.create(MINE)
    assert isinstance(made, WorkflowTemplate) and made.id.startswith("tpl_")
    assert made.expose_to_llm is True and made.tags == ("poster",) and made.visibility == "private"
    assert made.input_names == ("subject", "seconds") and len(made.stages) == 2
    assert api.get(made.id) == made
    assert [t.id for t in api.list(visibility="own").templates] == [made.id]

    changed = api.update(made.id, {"description": "changed", "id": "ignored"})
    assert changed.id == made.id and changed.description == "changed"
    assert calls(net, "PATCH", made.id)[-1].json == {"description": "changed", "id": "ignored"}

    fork = api.fork(system.id, new_name="My portrait")
    assert fork.id != system.id and fork.name == "My portrait" and fork.raw["forkedFrom"] == \
        system.id and fork.visibility == "private"
    assert calls(net, "POST", "/fork")[-1].json == {"newName": "My portrait"}
    assert api.fork(made.id).name == "Poster then song (fork)"

    with pytest.raises(ApiError) as refused:
        api.update(system.id, {"name": "mine now"})
    assert refused.value.status == 403
    api.delete(made.id)
    with pytest.raises(NotFoundError, match="Workflow template not found"):
        api.get(made.id)
    assert {t.id for t in api.list().templates} >= {system.id, fork.id}


def test_template_validation_before_network(client: Any, net: Any) -> None:
    api = client.creative_workflows.templates
    before = len(net.rest_calls)
    bad: list[Any] = [
        lambda: api.list(visibility="team"), lambda: api.list(limit=0),
        lambda: api.list(limit=201), lambda: api.list(offset=-1), lambda: api.get(""),
        lambda: api.create({"stages": []}), lambda: api.create({"name": "x", "stages": "s"}),
        lambda: api.update("tpl_x", {}), lambda: api.fork("tpl_x", new_name=" "),
        lambda: client.creative_workflows.run_template(""),
        lambda: client.creative_workflows.run_template("t", ["not", "a", "mapping"]),
        lambda: client.creative_workflows.run_template("t", billing_mode="free"),
        lambda: client.creative_workflows.run_template("t", idempotency_key=""),
        lambda: client.creative_workflows.run_template(
            "t", media_references=[{"url": "data:image/png;base64,AAAA"}]),
        lambda: client.creative_workflows.run_template("t", max_estimated_capacity_units=0),
        lambda: client.creative_workflows.reseed("wf", seed_overrides={"a": "1"}),
        lambda: client.creative_workflows.resume("wf", token_type="gold"),
    ]
    for call in bad:
        with pytest.raises(ValidationError):
            call()
    assert len(net.rest_calls) == before


def test_template_run_with_inputs_and_idempotency_key(client: Any, net: Any) -> None:
    made = client.creative_workflows.templates.create(MINE)
    run = client.creative_workflows.run_template(
        made.id, {"subject": "a lighthouse"}, billing_mode="tokens", idempotency_key="take-1",
        safe_content_filter=False, media_references=[{"url": "https://example.com/a.png"}])
    assert isinstance(run, CreativeWorkflow) and run.raw["templateId"] == made.id
    sent = calls(net, "POST", "/creative-agent/workflows")[-1]
    assert sent.headers["Idempotency-Key"] == "take-1"
    assert sent.json == {"workflow_id": made.id, "inputs": {"subject": "a lighthouse"},
                         "billing_mode": "tokens", "safe_content_filter": False,
                         "media_references": [{"url": "https://example.com/a.png"}]}
    assert [s["arguments"] for s in run.steps] == [
        {"prompt": "a poster of a lighthouse"}, {"prompt": "a lighthouse", "duration": 12}]
    again = client.creative_workflows.run_template(made.id, {"subject": "a lighthouse"},
                                                   idempotency_key="take-1")
    assert again.workflow_id == run.workflow_id
    frames = list(client.creative_workflows.stream_events(run.workflow_id))
    assert frames[-1].data["status"] == "completed"
    assert len(client.creative_workflows.get(run.workflow_id).artifact_urls) == 2
    other = client.creative_workflows.run_template(made.id, {"subject": "x"},
                                                   idempotency_key="take-2")
    assert other.workflow_id != run.workflow_id

    with pytest.raises(ApiError, match='Missing required input "subject"'):
        client.creative_workflows.run_template(made.id, {"seconds": 3})
    with pytest.raises(ApiError, match='Unknown input "mood"'):
        client.creative_workflows.run_template(made.id, {"subject": "x", "mood": "odd"})
    with pytest.raises(ApiError, match="must be one of happy, calm"):
        client.creative_workflows.run_template("sys_jingle", {"mood": "angry"})
    with pytest.raises(NotFoundError):
        client.creative_workflows.run_template("tpl_nope")


def test_resume_a_run_waiting_for_the_user(client: Any, net: Any) -> None:
    engine(net, lambda e: e.pause_before.add("clip"))
    run = client.creative_workflows.run_template("sys_portrait_to_clip", {"brief": "a cat"})
    seen = []
    for frame in client.creative_workflows.stream_events(run.workflow_id):
        seen.append(frame.event)
        if frame.event == "workflow_waiting_for_user":
            resumed = client.creative_workflows.resume(run.workflow_id, billing_mode="auto")
            assert isinstance(resumed, ResumedWorkflow) and resumed.resumed
            assert calls(net, "POST", "/resume")[-1].json == {"billing_mode": "auto"}
    assert "workflow_resumed" in seen and seen[-1] == "workflow_completed"
    late = client.creative_workflows.resume(run.workflow_id)
    assert late.resumed is False and late.workflow.status == "completed"


def test_reseed_with_overrides_and_idempotency(client: Any, net: Any) -> None:
    first = client.creative_workflows.run_template("sys_jingle", {"mood": "calm"})
    with pytest.raises(ApiError) as early:
        engine(net, lambda e: setattr(e, "hold", True))
        held = client.creative_workflows.run_template("sys_jingle", {"mood": "happy"})
        client.creative_workflows.reseed(held.workflow_id)
    assert early.value.status == 409
    engine(net, lambda e: e.release())
    list(client.creative_workflows.stream_events(first.workflow_id))

    take = client.creative_workflows.reseed(first.workflow_id, seed_overrides={"music": 7},
                                            idempotency_key="reseed-a")
    assert isinstance(take, ReseededWorkflow) and not take.idempotent
    assert take.cloned_from_run_id == first.workflow_id
    assert take.workflow.workflow_id != first.workflow_id
    assert take.steps[0]["arguments"]["seed"] == 7
    assert take.workflow.raw["reseededFrom"] == first.workflow_id
    assert calls(net, "POST", "/reseed")[-1].json == {"seed_overrides": {"music": 7}}
    repeat = client.creative_workflows.reseed(first.workflow_id, idempotency_key="reseed-a")
    assert repeat.idempotent and repeat.workflow.workflow_id == take.workflow.workflow_id
    fresh = client.creative_workflows.reseed(first.workflow_id)
    assert fresh.workflow.workflow_id not in (take.workflow.workflow_id, first.workflow_id)
    assert isinstance(fresh.steps[0]["arguments"]["seed"], int)
    with pytest.raises(ApiError, match="seed_overrides"):
        client.creative_workflows.reseed(first.workflow_id, seed_overrides={"nope": 1})


def test_inline_start_with_an_idempotency_key(client: Any, net: Any) -> None:
    steps = [{"id": "a", "toolName": "generate_image", "arguments": {"prompt": "flat name"}}]
    first = client.creative_workflows.start_hosted_tool_sequence(steps, idempotency_key="k-9")
    again = client.creative_workflows.start_hosted_tool_sequence(steps, idempotency_key="k-9")
    assert again.workflow_id == first.workflow_id
    assert calls(net, "POST", "/creative-agent/workflows")[-1].headers["Idempotency-Key"] == "k-9"
    other = client.creative_workflows.start_hosted_tool_sequence(steps)
    assert other.workflow_id != first.workflow_id


def test_a_keyed_reseed_is_retried_and_an_unkeyed_one_is_not(client: Any, net: Any) -> None:
    first = client.creative_workflows.run_template("sys_jingle", {"mood": "calm"})
    list(client.creative_workflows.stream_events(first.workflow_id))
    net.faults.rest_error("/v1/creative-agent/workflows/*/reseed", status=503, method="POST")
    take = client.creative_workflows.reseed(first.workflow_id, idempotency_key="retry-me")
    assert len(calls(net, "POST", "/reseed")) == 2 and not take.idempotent
    net.faults.rest_error("/v1/creative-agent/workflows/*/reseed", status=503, method="POST")
    with pytest.raises(ServerError):
        client.creative_workflows.reseed(first.workflow_id)
    assert len(calls(net, "POST", "/reseed")) == 3
