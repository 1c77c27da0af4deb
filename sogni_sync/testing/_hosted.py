"""Emulated hosted chat: ``POST /v1/chat/completions`` on the REST host.

Answers with the **bare** OpenAI ``chat.completion`` object (no envelope), using the same
deterministic reply as the socket LLM (``_llm.plan_reply``). ``sogni_tools`` injects the hosted
tool family (flat names: the six Sogni tools without their ``sogni_`` prefix); with
``sogni_tool_execution: true`` the chosen tool runs as a creative workflow (``_workflows``) and
the answer lists it in ``creative_workflows`` plus ``sogni_tool_results``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from decimal import Decimal
from importlib import resources
from typing import Any

from aiohttp import web

from sogni_sync.testing._llm import plan_reply
from sogni_sync.testing._state import State

__all__ = ["hosted_tools", "register"]

PATH = "/v1/chat/completions"
MODES = (True, "creative-tools", "creative-agent", "rich")


def _error(status: int, message: str, code: int = 0) -> web.Response:
    return web.json_response({"status": "error", "message": message, "errorCode": code},
                             status=status)


def hosted_tools() -> list[dict[str, Any]]:
    """The server-side family: the manifest's tools under their flat names."""
    text = resources.files("sogni_sync").joinpath("data/hosted_tools.json").read_text("utf-8")
    tools: list[dict[str, Any]] = json.loads(text)["tools"]
    for tool in tools:
        tool["function"]["name"] = tool["function"]["name"].removeprefix("sogni_")
    return tools


def _check(body: Any, state: State) -> str | None:
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    if body.get("stream"):
        return "Streaming is not supported on this endpoint"
    if body.get("model") not in state.catalog.llm_models:
        return f"Model {body.get('model')} is not available"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    mode = body.get("sogni_tools")
    if mode not in (None, False, *MODES):
        return f"Unsupported sogni_tools mode {mode!r}"
    return None


async def _execute(state: State, account: Any, name: str, arguments: str,
                   token_type: str | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    engine = state.extras.get("workflows")
    if engine is None:
        return None
    record = engine.create(account, "hosted_tool_sequence", {
        "title": f"Hosted {name}",
        "steps": [{"id": "step-1", "toolName": f"sogni_{name}",
                   "arguments": json.loads(arguments)}],
    }, token_type)
    await engine.wait_done(record["workflowId"], timeout=60.0)
    urls = [a["url"] for a in record.get("artifacts", [])]
    wid = record["workflowId"]
    base = f"/v1/creative-agent/workflows/{wid}"
    workflow = {"workflowId": wid, "status": record["status"], "url": base,
                "eventsUrl": f"{base}/events", "streamUrl": f"{base}/events/stream"}
    result = {"tool": name, "success": record["status"] == "completed", "urls": urls,
              "startIndex": 0, "indices": list(range(len(urls)))}
    return workflow, result


def register(rest: web.Application, socket: web.Application, state: State) -> None:
    """Emulator extension hook: the hosted chat route (un-enveloped)."""

    async def completions(request: web.Request) -> web.Response:
        account = request.get("account") or state.authenticate(request)
        if account is None:
            return _error(401, "Unauthorized", 401)
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "Invalid JSON body", 400)
        problem = _check(body, state)
        if problem:
            return _error(400, problem, 400)
        request_body = dict(body)
        mode = body.get("sogni_tools")
        if mode in MODES:
            request_body["tools"] = [*(body.get("tools") or []), *hosted_tools()]
        plan = plan_reply(request_body)
        await asyncio.sleep(state.options.token_delay or 0)
        message: dict[str, Any] = {"role": "assistant", "content": plan["content"]}
        extra: dict[str, Any] = {}
        finish = plan["finish_reason"]
        call = plan["tool_call"]
        if call is not None:
            is_hosted = mode in MODES and call["name"] in {t["function"]["name"]
                                                           for t in hosted_tools()}
            if is_hosted and body.get("sogni_tool_execution") is True:
                done = await _execute(state, account, call["name"], call["arguments"],
                                      body.get("token_type"))
                if done is not None:
                    extra = {"creative_workflows": [done[0]], "sogni_tool_results": [done[1]]}
                    urls = ", ".join(done[1]["urls"]) or "no media"
                    message["content"] = f"Done: {call['name']} produced {urls}"
                    finish = "stop"
                    call = None
            if call is not None:
                message["content"] = None
                message["tool_calls"] = [{
                    "id": f"call_{secrets.token_hex(8)}", "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]}}]
        completion_tokens = max(1, len(plan["pieces"]) or 1)
        usage = {"prompt_tokens": plan["prompt_tokens"], "completion_tokens": completion_tokens,
                 "total_tokens": plan["prompt_tokens"] + completion_tokens}
        token_type = body.get("token_type") if body.get("token_type") in ("sogni", "spark") \
            else "sogni"
        quote = state.catalog.llm_quote(token_type, body["model"], plan["prompt_tokens"],
                                        completion_tokens)
        state.charge(account, token_type, Decimal(str(quote["costInToken"])), "Hosted chat")
        return web.json_response({
            "id": f"chatcmpl-{secrets.token_hex(12)}", "object": "chat.completion",
            "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage, **extra,
        })

    rest.router.add_post(PATH, completions)
