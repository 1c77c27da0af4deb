"""A FastAPI app with plain ``def`` endpoints and ONE process-wide Sogni client.

FastAPI runs ``def`` endpoints in its thread pool, so the blocking client fits as it is: every
request thread shares the one client. Run it with::

    uvicorn --app-dir examples fastapi_app:app            # (no key: an in-process emulator)

Endpoints: ``POST /image {"prompt"}`` -> ``{"project_id", "urls"}``; ``POST /chat {"messages"}``
-> ``{"content", ...}``; ``POST /chat/stream {"messages"}`` -> ``text/event-stream``;
``GET /health``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio.to_thread
from _web import (
    BadRequest,
    answer_chat,
    error_status,
    identity,
    make_image,
    open_sse,
    process_client,
)
from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from sogni_sync.errors import SogniError

JsonBody = Annotated[dict[str, Any], Body()]
client = process_client()  # one per process; closed at shutdown (and atexit, as a backstop)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await anyio.to_thread.run_sync(client.close)  # close() blocks briefly: not on the loop


app = FastAPI(lifespan=lifespan)


@app.exception_handler(BadRequest)
@app.exception_handler(SogniError)
async def on_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc), "type": type(exc).__name__},
                        status_code=error_status(exc))


@app.post("/image")
def image(body: JsonBody) -> dict[str, Any]:
    return make_image(client, body)


@app.post("/chat")
def chat(body: JsonBody) -> dict[str, Any]:
    return answer_chat(client, body)


@app.post("/chat/stream")
def chat_stream(body: JsonBody) -> StreamingResponse:
    events = open_sse(client, body)  # sent (and checked) before the response starts
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


@app.get("/health")
def health() -> dict[str, Any]:
    return identity(client)
