"""Emulated LLM workers: ``llmJobRequest`` → ``jobState`` / ``jobTokens`` / ``llmJobResult``.

Replies are a deterministic function of the request, so tests can assert on
text, usage and tool calls:

* text: ``"Echo: <last user text>"`` (``"I see N image(s). "`` first when images were sent,
  a ``<think>…</think>`` prefix with ``enable_thinking: true``, a JSON object for
  ``response_format`` ``json_object``/``json_schema``, ``"Tool results: …"`` after a tool
  message), streamed in 4-character pieces; completion tokens = pieces, capped by
  ``max_tokens`` (then ``finishReason: "length"``);
* prompt tokens = ceil(UTF-16 length of the compact message JSON, image URLs as ``[image]``, / 4);
* tool calls when ``tools`` are offered (and ``tool_choice`` is not ``"none"``): the forced
  function, else the tool whose name words best match the user's words, else (``required``) the
  first tool; arguments fill every required property;
* ``[[fail]]`` in the last user text → ``llmJobError``; ``[[hang]]`` → the job never finishes;
  an unknown model, a bad body or a non-``data:`` image URL → ``llmJobError``.

Across a dropped socket the job runs on, as on the real server: its frames go to the app id's
*current* connection, are held while it has none (up to ``RECLAIM_GRACE`` seconds) and follow
the next ``authenticated``, which lists the job in ``activeLLMJobIDs``. Nothing is re-sent:
frames written into a link that then broke are gone (the clients see the gap or fail).
:meth:`LlmEngine.forget` drops an app's running jobs (a socket restart: the server no longer
knows them, so the next ``authenticated`` does not list them).

``token_delay`` (seconds) is awaited between chunks; 0 only yields. Written from the protocol
docs, independently of the client code, so a bug is not silently shared by both sides.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import re
import time
from decimal import Decimal
from typing import Any

from sogni_sync.testing._state import State

__all__ = ["LlmEngine", "plan_reply", "prompt_tokens", "register"]

WORKER = "llm-w1"
PIECE = 4
RECLAIM_GRACE = 30.0
_WORD = re.compile(r"[a-z0-9]+")
_PLACE = re.compile(r"\b(?:in|at|for|near)\s+([A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)*)")
_STOP_WORDS = frozenset({"sogni", "get", "the", "and", "for", "use", "tool", "with", "a", "to"})


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text") or "")
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _images(messages: list[Any]) -> list[str]:
    urls = []
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    urls.append(str((part.get("image_url") or {}).get("url") or ""))
    return urls


def prompt_tokens(messages: list[Any]) -> int:
    """The estimate formula applied to the received messages."""

    def scrub(message: Any) -> Any:
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            return message
        parts = []
        for part in message["content"]:
            if isinstance(part, dict) and part.get("type") == "image_url":
                inner = dict(part.get("image_url") or {})
                inner["url"] = "[image]"
                part = {**part, "image_url": inner}
            parts.append(part)
        return {**message, "content": parts}

    text = _dumps([scrub(m) for m in messages])
    return max(1, math.ceil(len(text.encode("utf-16-le")) / 2 / 4))


def _last_user_text(messages: list[Any]) -> str:
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            return _text_of(m.get("content")).strip()
    return ""


def _value_for(name: str, prop: dict[str, Any], text: str) -> Any:
    enum = prop.get("enum")
    if enum:
        return enum[0]
    kind = prop.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    if kind in ("number", "integer"):
        return prop.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    if name in ("location", "city", "place"):
        match = _PLACE.search(text)
        if match:
            return match.group(1)
    if name == "prompt" and " of " in text:
        return text.split(" of ", 1)[1].strip().rstrip(".!?") or text
    return text or name


def _arguments(tool: dict[str, Any], text: str) -> dict[str, Any]:
    params = (tool.get("function") or {}).get("parameters") or {}
    props = params.get("properties") or {}
    required = params.get("required") or ()
    return {key: _value_for(key, props.get(key) or {}, text) for key in required}


def _pick_tool(tools: list[Any], choice: Any, text: str) -> dict[str, Any] | None:
    valid = [t for t in tools if isinstance(t, dict) and (t.get("function") or {}).get("name")]
    if not valid or choice == "none":
        return None
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        return next((t for t in valid if t["function"]["name"] == wanted), None)
    words = set(_WORD.findall(text.lower()))
    best, score = None, 0
    for tool in valid:
        name = tool["function"]["name"]
        keys = set(_WORD.findall(name.lower().replace("_", " "))) - _STOP_WORDS
        hits = len(keys & words) + (5 if name.lower() in text.lower() else 0)
        if hits > score:
            best, score = tool, hits
    if best is None and choice == "required":
        best = valid[0]
    return best


def _json_reply(fmt: dict[str, Any], text: str) -> str:
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {}
        props = schema.get("properties") or {}
        required = schema.get("required") or list(props)
        return _dumps({k: _value_for(k, props.get(k) or {}, text) for k in required})
    return _dumps({"answer": f"Echo: {text}"})


def plan_reply(body: dict[str, Any]) -> dict[str, Any]:
    """``{content, tool_call, finish_reason, prompt_tokens, pieces}`` for a request body."""
    messages = body.get("messages") or []
    text = _last_user_text(messages)
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    tools = body.get("tools") or []
    tool = None
    if tools and last.get("role") != "tool":
        tool = _pick_tool(tools, body.get("tool_choice", "auto"), text)
    result: dict[str, Any] = {"prompt_tokens": prompt_tokens(messages), "tool_call": None}
    if tool is not None:
        result["tool_call"] = {
            "name": tool["function"]["name"],
            "arguments": _dumps(_arguments(tool, text)),
        }
        result.update(content="", pieces=[], finish_reason="tool_calls")
        return result
    fmt = body.get("response_format")
    if last.get("role") == "tool":
        summaries = [
            _text_of(m.get("content"))[:1000]
            for m in messages
            if isinstance(m, dict) and m.get("role") == "tool"
        ]
        content = "Tool results: " + " | ".join(summaries[-4:])
    elif isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
        content = _json_reply(fmt, text)
    else:
        images = _images(messages)
        seen = f"I see {len(images)} image(s). " if images else ""
        content = f"{seen}Echo: {text}" if text else f"{seen}Hello! How can I help?"
    kwargs = body.get("chat_template_kwargs") or {}
    if isinstance(kwargs, dict) and kwargs.get("enable_thinking") is True and not fmt:
        content = "<think>Thinking about the request.</think>\n" + content
    pieces = [content[i : i + PIECE] for i in range(0, len(content), PIECE)] or [""]
    finish = "stop"
    limit = body.get("max_tokens")
    if isinstance(limit, (int, float)) and not isinstance(limit, bool) and 0 < limit < len(pieces):
        pieces = pieces[: int(limit)]
        finish = "length"
    result.update(content="".join(pieces), pieces=pieces, finish_reason=finish)
    return result


def _reject(body: Any, state: State) -> tuple[str, str] | None:
    if not isinstance(body, dict) or body.get("type") != "llm":
        return "invalidRequest", "llmJobRequest must be an object with type 'llm'"
    if body.get("model") not in state.catalog.llm_models:
        return "modelNotFound", f"Model {body.get('model')} is not available"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "invalidRequest", "messages must be a non-empty array"
    for url in _images(messages):
        if not url.startswith("data:image/"):
            return "invalidImage", "Only inline base64 image data URIs are supported"
    return None


def _money(value: float) -> str:
    return format(Decimal(str(value)).quantize(Decimal("0.00000001")).normalize(), "f")


class LlmEngine:
    """Runs emulated LLM jobs on the emulator loop; one task per request."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.tasks: set[asyncio.Task[None]] = set()
        self.active: dict[str, str] = {}  # jobID -> appId
        self._by_job: dict[str, asyncio.Task[None]] = {}

    async def on_request(self, state: State, conn: Any, data: Any) -> None:
        job_id = data.get("jobID") if isinstance(data, dict) else None
        if not isinstance(job_id, str) or not job_id:
            return
        task = asyncio.get_running_loop().create_task(self._run(conn, data, job_id))
        self.tasks.add(task)
        self._by_job[job_id] = task

        def done(t: asyncio.Task[None]) -> None:
            self.tasks.discard(t)
            if self._by_job.get(job_id) is t:
                del self._by_job[job_id]

        task.add_done_callback(done)

    def forget(self, app_id: str | None = None) -> list[str]:
        """Stop the running jobs (of one app id, or all) without a word to the client, as a
        socket restart does; returns their ids."""
        gone = [job for job, app in self.active.items() if app_id is None or app == app_id]
        for job_id in gone:
            self.active.pop(job_id, None)
            task = self._by_job.pop(job_id, None)
            if task is not None:
                task.cancel()
        return gone

    async def _send(self, conn: Any, msg_type: str, payload: dict[str, Any]) -> None:
        """Send to the app's *current* connection; while it is down, hold the frame for up to
        ``RECLAIM_GRACE`` seconds so a reconnecting client still gets its answer (like the
        real server's reclaim of active jobs)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECLAIM_GRACE
        target = self.state.connections.get(conn.app_id) or conn
        while getattr(target, "closed", False) and loop.time() < deadline:
            await asyncio.sleep(0.02)
            target = self.state.connections.get(conn.app_id) or conn
        target.send(msg_type, payload)

    async def _pause(self) -> None:
        await asyncio.sleep(self.state.options.token_delay or 0)

    async def _run(self, conn: Any, body: dict[str, Any], job_id: str) -> None:
        started = time.monotonic()
        emit = functools.partial(self._send, conn)
        rejected = _reject(body, self.state)
        if rejected:
            await emit(
                "llmJobError", {"jobID": job_id, "error": rejected[0], "error_message": rejected[1]}
            )
            return
        model = body["model"]
        plan = plan_reply(body)
        token_type = (
            str(body["tokenType"]) if body.get("tokenType") in ("sogni", "spark") else "sogni"
        )
        out_tokens = max(1, len(plan["pieces"]) or 1)
        quote = self.state.catalog.llm_quote(token_type, model, plan["prompt_tokens"], out_tokens)
        estimate = self.state.catalog.llm_quote(
            token_type, model, plan["prompt_tokens"], body.get("max_tokens") or 4096
        )
        self.active[job_id] = conn.app_id
        try:
            await emit(
                "jobState",
                {
                    "jobID": job_id,
                    "type": "pending",
                    "modelId": model,
                    "estimatedCost": _money(estimate["costInToken"]),
                },
            )
            if conn.account.available(token_type) < Decimal(str(quote["costInToken"])):
                await emit(
                    "llmJobError",
                    {
                        "jobID": job_id,
                        "error": "insufficientFunds",
                        "error_message": "Insufficient funds",
                    },
                )
                return
            await emit(
                "jobState",
                {
                    "jobID": job_id,
                    "type": "queued",
                    "queuePosition": 0,
                    "modelId": model,
                    "estimatedCost": _money(estimate["costInToken"]),
                },
            )
            await self._pause()
            await emit("jobState", {"jobID": job_id, "type": "assigned", "workerName": WORKER})
            await emit("jobState", {"jobID": job_id, "type": "jobStarted", "workerName": WORKER})
            text = _last_user_text(body["messages"])
            if self.state.faults.prompt_fails(text):
                await self._pause()
                await emit(
                    "llmJobError",
                    {
                        "jobID": job_id,
                        "error": "workerError",
                        "error_message": "The LLM worker failed to generate a response",
                        "workerName": WORKER,
                    },
                )
                return
            if "[[hang]]" in text:
                return
            await self._stream(conn, job_id, plan)
            usage = {
                "prompt_tokens": plan["prompt_tokens"],
                "completion_tokens": out_tokens,
                "total_tokens": plan["prompt_tokens"] + out_tokens,
            }
            await emit(
                "jobTokens",
                {
                    "jobID": job_id,
                    "content": "",
                    "finishReason": plan["finish_reason"],
                    "usage": usage,
                },
            )
            cost = {
                "costInUSD": _money(quote["costInUSD"]),
                "costInToken": _money(quote["costInToken"]),
                "costInSogni": _money(quote["costInSogni"]),
                "costInSpark": _money(quote["costInSpark"]),
                "inputTokens": plan["prompt_tokens"],
                "outputTokens": out_tokens,
            }
            await emit(
                "llmJobResult",
                {
                    "jobID": job_id,
                    "usage": usage,
                    "timeTaken": round(max(time.monotonic() - started, 0.001), 3),
                    "cost": cost,
                    "workerName": WORKER,
                },
            )
            self.state.charge(conn.account, token_type, Decimal(cost["costInToken"]))
        finally:
            self.active.pop(job_id, None)

    async def _stream(self, conn: Any, job_id: str, plan: dict[str, Any]) -> None:
        emit = functools.partial(self._send, conn)
        call = plan["tool_call"]
        if call is not None:
            await emit("jobTokens", {"jobID": job_id, "role": "assistant", "content": ""})
            await self._pause()
            await emit(
                "jobTokens",
                {
                    "jobID": job_id,
                    "content": "",
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": f"call_{job_id.replace('-', '')[:24].lower()}",
                            "type": "function",
                            "function": {"name": call["name"], "arguments": ""},
                        }
                    ],
                },
            )
            args = call["arguments"]
            half = max(1, len(args) // 2)
            for piece in (args[:half], args[half:]):
                if piece:
                    await self._pause()
                    await emit(
                        "jobTokens",
                        {
                            "jobID": job_id,
                            "content": "",
                            "tool_calls": [{"index": 0, "function": {"arguments": piece}}],
                        },
                    )
            return
        for i, piece in enumerate(plan["pieces"]):
            frame: dict[str, Any] = {"jobID": job_id, "content": piece}
            if i == 0:
                frame = {"jobID": job_id, "role": "assistant", "content": piece}
            await emit("jobTokens", frame)
            await self._pause()

    def reset(self, state: State | None = None) -> None:
        for task in list(self.tasks):
            task.cancel()
        self.tasks.clear()
        self.active.clear()
        self._by_job.clear()


def register(rest: Any, socket: Any, state: State) -> None:
    """Emulator extension hook (see ``_server``): serve ``llmJobRequest``."""
    engine = LlmEngine(state)
    state.extras["llm"] = engine
    state.socket_handlers["llmJobRequest"] = engine.on_request
    state.extras.setdefault("reset_hooks", []).append(engine.reset)
