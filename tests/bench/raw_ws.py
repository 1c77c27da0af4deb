"""The raw limit for ``chat.stream()``: a bare websocket-client loop, no SDK (run by the bench).

``python tests/bench/raw_ws.py`` with the emulator's endpoints in ``SOGNI_SOCKET_ENDPOINT`` and
``SOGNI_API_KEY``. It opens one connection with ``websocket.create_connection``, sends the same
streamed ``llmJobRequest`` as ``ours.py stream`` (``BENCH_STREAM_CHARS`` characters, after one
small warm-up request), and then does nothing per frame but ``recv()`` and decode it:
``json.loads`` of the envelope, then of its base64 ``data`` (the least any client must do to see
a token). It stops at the job's ``llmJobResult`` and prints one JSON line
``{"chunks", "chars", "seconds"}`` — timed like ``ours.py stream``, from just before the send.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import websocket

ENV = os.environ
LLM_MODEL = ENV.get("BENCH_LLM_MODEL", "qwen3.6-35b-a3b-gguf-iq4xs")


def _frame(msg_type: str, data: Any) -> str:
    payload = base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()
    return json.dumps({"type": msg_type, "data": payload}, separators=(",", ":"))


def _request(ws: websocket.WebSocket, content: str, max_tokens: int) -> str:
    job_id = str(uuid.uuid4()).upper()
    ws.send(_frame("llmJobRequest", {
        "jobID": job_id, "type": "llm", "model": LLM_MODEL, "max_tokens": max_tokens,
        "stream": True, "messages": [{"role": "user", "content": content}],
        "chat_template_kwargs": {"enable_thinking": False}}))
    return job_id


def _drain(ws: websocket.WebSocket, job_id: str) -> tuple[int, int]:
    """Receive until this job's result; (token frames, characters of content)."""
    loads, b64 = json.loads, base64.b64decode
    chunks = chars = 0
    while True:
        outer = loads(ws.recv())
        msg_type = outer["type"]
        payload = loads(b64(outer["data"]))
        if msg_type == "jobTokens":
            chunks += 1
            chars += len(payload.get("content") or "")
        elif msg_type in ("llmJobResult", "llmJobError") and payload.get("jobID") == job_id:
            if msg_type == "llmJobError":
                raise RuntimeError(f"llmJobError: {payload}")
            return chunks, chars


def main() -> int:
    chars = int(ENV.get("BENCH_STREAM_CHARS", "200000"))
    text = ("abcdefghij" * (chars // 10 + 1))[:chars]
    base = ENV["SOGNI_SOCKET_ENDPOINT"].rstrip("/")
    query = urlencode({"appId": f"bench-raw-{uuid.uuid4()}", "clientName": "bench-raw",
                       "clientType": "artist", "forceWorkerId": "fast"})
    ws = websocket.create_connection(f"{base}/?{query}",
                                     header=[f"api-key: {ENV['SOGNI_API_KEY']}"],
                                     timeout=float(ENV.get("BENCH_TIMEOUT", "300")))
    try:
        _drain(ws, _request(ws, "warm up", 8))
        t0, cpu0 = time.perf_counter(), time.process_time()
        chunks, got = _drain(ws, _request(ws, text, chars))
        secs, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        ws.close()
    print(json.dumps({"chunks": chunks, "chars": got, "seconds": round(secs, 4),
                      "cpu_seconds": round(cpu, 4)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
