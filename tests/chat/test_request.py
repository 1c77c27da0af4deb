"""Pure request construction: llmJobRequest and hosted bodies, estimates (chat.md §2, §5, §8)."""

from __future__ import annotations

import json

import pytest

from sogni_sync.chat import _request as rq
from sogni_sync.errors import ValidationError

from .conftest import LLM, data_uri, png_bytes

JOB = "0B7C3F1E-2D4A-4E5B-9C6D-7E8F9A0B1C2D"


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_reference_vector() -> None:
    body = rq.build_llm_job_request(JOB, {
        "model": LLM, "messages": [{"role": "user", "content": "Hello!"}],
        "think": False, "task_profile": "general"})
    assert compact(body) == (
        '{"jobID":"0B7C3F1E-2D4A-4E5B-9C6D-7E8F9A0B1C2D","type":"llm",'
        '"model":"qwen3.6-35b-a3b-gguf-iq4xs","messages":[{"role":"user","content":"Hello!"}],'
        '"taskProfile":"general","chat_template_kwargs":{"enable_thinking":false}}'
    )


def test_key_order_and_omission() -> None:
    params = {
        "model": LLM, "messages": [{"role": "user", "content": "x"}], "response_format":
        {"type": "json_object"}, "think": True, "task_profile": "coding", "sogni_tool_execution":
        False, "sogni_tools": " RICH ", "tool_choice": "auto", "tools": [{"type": "function"}],
        "token_type": "spark", "stop": ["\n"], "presence_penalty": 0, "frequency_penalty": 0.5,
        "repetition_penalty": 1.1, "stream": True, "min_p": 0, "top_k": 20, "top_p": 0.9,
        "temperature": 0.7, "max_tokens": 64, "app_source": "mine",
    }
    body = rq.build_llm_job_request(JOB, params)
    assert list(body) == [
        "jobID", "type", "model", "messages", "appSource", "max_tokens", "temperature", "top_p",
        "top_k", "min_p", "stream", "repetition_penalty", "frequency_penalty",
        "presence_penalty", "stop", "tokenType", "tools", "tool_choice", "sogni_tools",
        "sogni_tool_execution", "taskProfile", "chat_template_kwargs", "response_format",
    ]
    assert body["sogni_tools"] == "creative-tools"
    assert body["chat_template_kwargs"] == {"enable_thinking": True}
    assert body["presence_penalty"] == 0 and body["min_p"] == 0  # zero is sent


def test_think_omitted_sends_nothing_and_default_app_source() -> None:
    body = rq.build_llm_job_request(JOB, {"model": LLM, "messages": []},
                                    default_app_source="client-src")
    assert "chat_template_kwargs" not in body
    assert body["appSource"] == "client-src"
    assert "stream" not in body


@pytest.mark.parametrize("value, sent", [
    ("rich", "creative-tools"), ("Rich", "creative-tools"), (True, True), (False, False),
    ("creative-agent", "creative-agent"), ("other", "other")])
def test_sogni_tools_normalisation(value: object, sent: object) -> None:
    assert rq.normalize_sogni_tools(value) == sent


def test_hosted_body_order() -> None:
    body = rq.build_hosted_body({
        "model": LLM, "messages": [{"role": "user", "content": "hi"}], "think": False,
        "task_profile": "reasoning", "token_type": "auto", "sogni_tools": "rich",
        "sogni_tool_execution": True, "media_references": [{"a": 1}], "max_tokens": 5,
    }, default_app_source="app")
    assert list(body) == ["model", "messages", "app_source", "max_tokens", "token_type",
                          "sogni_tools", "sogni_tool_execution", "task_profile",
                          "media_references", "chat_template_kwargs"]
    assert body["sogni_tools"] == "creative-tools"
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    explicit = rq.build_hosted_body({"model": LLM, "messages": [], "think": True,
                                     "chat_template_kwargs": {"x": 1}})
    assert explicit["chat_template_kwargs"] == {"x": 1}


@pytest.mark.parametrize("params, text", [
    ({"model": ""}, "model"),
    ({"messages": "hi"}, "messages"),
    ({"messages": []}, "must not be empty"),
    ({"messages": [{"content": "no role"}]}, r"messages\[0\] must be a mapping"),
    ({"messages": [{"role": "x", "content": "hi"}]}, r"messages\[0\]\.role must be one of"),
    ({"messages": [{"role": "user"}]}, r"messages\[0\]\.content must be a string"),
    ({"messages": [{"role": "user", "content": 5}]}, "not int"),
    ({"messages": [{"role": "assistant", "content": None}]}, "or null when"),
    ({"max_tokens": 0}, "max_tokens must be a positive integer"),
    ({"max_tokens": 1.5}, "max_tokens must be a positive integer"),
    ({"temperature": "hot"}, "temperature"),
    ({"think": "yes"}, "think"),
    ({"task_profile": "poetry"}, "task_profile"),
    ({"token_type": "usd"}, "token_type"),
    ({"tool_choice": "sometimes"}, "tool_choice"),
    ({"tools": {"type": "function"}}, "tools"),
    ({"response_format": {"type": "yaml"}}, "response_format"),
    ({"response_format": {"type": "json_schema"}}, "json_schema"),
    ({"stop": 5}, "stop"),
])
def test_validation(params: dict[str, object], text: str) -> None:
    base: dict[str, object] = {"model": LLM, "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(ValidationError, match=text):
        rq.validate_params({**base, **params})


def test_assistant_tool_calls_may_have_null_content() -> None:
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    rq.validate_params({"model": LLM, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "content": "{}", "tool_call_id": "c1"}]})


def test_input_tokens_formula() -> None:
    assert rq.count_input_tokens([{"role": "user", "content": "Hello!"}]) == 9
    # an emoji is two UTF-16 units: 36 + 2 = 38 units → 10 tokens
    assert rq.count_input_tokens([{"role": "user", "content": "Hello!😀"}]) == 10
    with_image = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": data_uri(png_bytes()), "detail": "low"}}]}]
    text = ('[{"role":"user","content":[{"type":"image_url",'
            '"image_url":{"url":"[image]","detail":"low"}}]}]')
    assert rq.count_input_tokens(with_image) == -(-len(text) // 4)


def test_max_output_tokens_rules() -> None:
    limits = {"default": 4096, "thinkingComplexDefault": 16384}
    f = rq.estimate_max_output_tokens
    assert f(100, think=True, task_profile="coding", model_limits=limits) == 100
    assert f(None, think=True, task_profile="coding", model_limits=limits) == 16384
    assert f(None, think=True, task_profile="reasoning", model_limits=limits) == 16384
    assert f(None, think=True, task_profile="general", model_limits=limits) == 4096
    assert f(None, think=False, task_profile="coding", model_limits=limits) == 4096
    assert f(None, think=None, task_profile=None, model_limits=None) == 4096
    assert f(float("inf"), think=None, task_profile=None, model_limits={"default": 512}) == 512


def test_job_ids_are_upper_case_uuid4() -> None:
    job = rq.new_job_id()
    assert job == job.upper() and len(job) == 36 and job[14] == "4"
