"""What the web examples (``flask_app.py``, ``django_app/``, ``fastapi_app.py``) share.

The framework files only route HTTP to these functions, so each app reads in one screen:

* :func:`process_client` -- the ONE process-wide client: ``SogniClient()`` reads ``SOGNI_API_KEY``,
  ``SOGNI_APP_ID``, ``SOGNI_REST_ENDPOINT`` and ``SOGNI_SOCKET_ENDPOINT``. Without an API key it
  starts an in-process emulator (for ``flask run``/``runserver``/``uvicorn`` on a laptop); under
  gunicorn run ``python -m sogni_sync.testing`` once and export the variables it prints instead,
  so every worker talks to the same emulator.
* :func:`make_image`, :func:`answer_chat` -- the JSON endpoints' work (block in the request's
  thread: the client is thread-safe and meant to be shared by every request thread);
* :func:`open_sse` -- a chat stream as ``text/event-stream`` lines, one event per chunk.

Bad input raises :class:`BadRequest` (HTTP 400) before anything is sent; :func:`error_status`
maps the SDK's errors to HTTP statuses.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from sogni_sync import SogniClient
from sogni_sync.chat import ChatStream
from sogni_sync.errors import (
    ChatError,
    InsufficientFundsError,
    ProjectError,
    SogniError,
    TimeoutError,
    ValidationError,
)

CHAT_MODEL = os.environ.get("SOGNI_CHAT_MODEL", "qwen3.6-35b-a3b-gguf-iq4xs")
IMAGE_MODEL = os.environ.get("SOGNI_IMAGE_MODEL", "flux1-schnell-fp8")
#: a web request should not hang for minutes: the image endpoint gives up after this
IMAGE_TIMEOUT = float(os.environ.get("SOGNI_IMAGE_TIMEOUT", "120"))
CHAT_TIMEOUT = float(os.environ.get("SOGNI_CHAT_TIMEOUT", "120"))
MAX_TOKENS = 512
ROLES = frozenset({"system", "user", "assistant", "tool"})


class BadRequest(ValueError):
    """The HTTP body is not what the endpoint takes (answered with 400)."""


def process_client() -> SogniClient:
    """The process-wide client; closed at interpreter exit (``atexit``)."""
    # SogniClient() takes everything from the SOGNI_* variables (a fresh app id per process)
    client = SogniClient() if os.environ.get("SOGNI_API_KEY") else _local_emulator_client()
    atexit.register(client.close)
    return client


def _local_emulator_client() -> SogniClient:
    from sogni_sync.testing import LocalSupernet

    print("SOGNI_API_KEY is not set: using an in-process emulated Supernet", file=sys.stderr)
    net = LocalSupernet(media_max_side=512).start()
    owner = os.getpid()

    def stop() -> None:  # only where it runs: forked workers inherit atexit, not its thread
        if os.getpid() == owner:
            net.stop()

    atexit.register(stop)  # atexit runs in reverse: the client closes first
    return SogniClient(api_key=net.api_key, rest_endpoint=net.rest_url,
                       socket_endpoint=net.socket_url)


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON: {exc}")
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object, e.g. {"prompt": "..."}')
    return body


def _prompt(body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequest('"prompt" must be a non-empty string')
    return prompt


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest('"messages" must be a non-empty list of {"role", "content"} objects')
    for i, message in enumerate(messages):
        # the SDK passes messages through as the official clients do; a web app checks its input
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise BadRequest(f"messages[{i}] must be an object whose role is one of "
                             f"{', '.join(sorted(ROLES))}")
        if not isinstance(message.get("content"), (str, list)):
            raise BadRequest(f"messages[{i}].content must be a string or a list of parts")
    return messages


def make_image(client: SogniClient, body: dict[str, Any]) -> dict[str, Any]:
    """Render one image for ``{"prompt": ...}``; ``{"project_id", "urls"}`` when it is done."""
    project = client.projects.create_image(
        model_id=IMAGE_MODEL, positive_prompt=_prompt(body), number_of_media=1,
        steps=4, guidance=1, token_type="spark")
    urls = project.wait(timeout=IMAGE_TIMEOUT)
    return {"project_id": project.id, "urls": urls}


def answer_chat(client: SogniClient, body: dict[str, Any]) -> dict[str, Any]:
    """Answer ``{"messages": [...]}`` with ``{"content", "finish_reason", "usage"}``."""
    answer = client.chat.complete(CHAT_MODEL, _messages(body), max_tokens=MAX_TOKENS,
                                  think=False, timeout=CHAT_TIMEOUT)
    return {"content": answer.content, "finish_reason": answer.finish_reason,
            "usage": {"prompt_tokens": answer.usage.prompt_tokens,
                      "completion_tokens": answer.usage.completion_tokens}}


def _event(data: dict[str, Any], event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n"


class SseEvents:
    """A chat stream as server-sent events: ``data: {"content": ...}`` per chunk, then
    ``event: done`` (or ``event: error``). The request is sent when this is built, so bad
    input fails before the response starts; ``close()`` (called by the WSGI/ASGI server when the
    browser goes away) stops the chat."""

    def __init__(self, stream: ChatStream) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[str]:
        with self._stream as stream:
            try:
                for chunk in stream:
                    if chunk.content:
                        yield _event({"content": chunk.content})
            except SogniError as exc:
                yield _event({"error": str(exc)}, "error")
                return
            final = stream.final
            yield _event({"finish_reason": final.finish_reason if final else None}, "done")

    def close(self) -> None:
        self._stream.close()


def open_sse(client: SogniClient, body: dict[str, Any]) -> SseEvents:
    stream = client.chat.stream(CHAT_MODEL, _messages(body), max_tokens=MAX_TOKENS,
                                think=False, timeout=CHAT_TIMEOUT)
    return SseEvents(stream)


def error_status(exc: Exception) -> int:
    """The HTTP status for an error an endpoint raised."""
    if isinstance(exc, (BadRequest, ValidationError)):
        return 400
    if isinstance(exc, InsufficientFundsError):
        return 402
    if isinstance(exc, TimeoutError):
        return 504
    if isinstance(exc, (ChatError, ProjectError)):
        return 502  # the network answered, with a failure
    return 503  # not connected, connection lost, client closed


def identity(client: SogniClient) -> dict[str, Any]:
    """``GET /health``: which process answered, with which app id, in which socket state."""
    return {"pid": os.getpid(), "app_id": client.app_id, "state": client.connection_state}
