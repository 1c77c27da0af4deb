"""A Flask app with ONE process-wide Sogni client, shared by every request thread.

Run it on a laptop (no key: an in-process emulator answers)::

    flask --app examples/flask_app.py run

In production, under gunicorn with threads (the client is created at import, so ``--preload``
builds it once in the master; each forked worker then gets its own connection and app id)::

    gunicorn --chdir examples --preload -w 2 --threads 8 -k gthread flask_app:app

Endpoints: ``POST /image {"prompt"}`` -> ``{"project_id", "urls"}``; ``POST /chat {"messages"}``
-> ``{"content", ...}``; ``POST /chat/stream {"messages"}`` -> ``text/event-stream``;
``GET /health``.
"""

from __future__ import annotations

from typing import Any

from _web import (
    BadRequest,
    answer_chat,
    error_status,
    identity,
    make_image,
    open_sse,
    parse_json,
    process_client,
)
from flask import Flask, Response, jsonify, request

from sogni_sync.errors import SogniError

client = process_client()  # one per process; closed at exit (atexit)
app = Flask(__name__)


@app.errorhandler(BadRequest)
@app.errorhandler(SogniError)
def on_error(exc: Exception) -> tuple[Response, int]:
    return jsonify(error=str(exc), type=type(exc).__name__), error_status(exc)


@app.post("/image")
def image() -> Any:
    return jsonify(make_image(client, parse_json(request.get_data())))


@app.post("/chat")
def chat() -> Any:
    return jsonify(answer_chat(client, parse_json(request.get_data())))


@app.post("/chat/stream")
def chat_stream() -> Response:
    events = open_sse(client, parse_json(request.get_data()))  # sent before the response starts
    return Response(events, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@app.get("/health")
def health() -> Any:
    return jsonify(identity(client))
