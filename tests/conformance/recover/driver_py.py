"""Chat-recovery driver for the official async Python client (sogni-client 5.70.0).

Run with the interpreter of a scratch venv that has the client (never this project's venv).
Env: SOGNI_REST_ENDPOINT, SOGNI_SOCKET_ENDPOINT, SOGNI_API_KEY, SOGNI_RECOVER_APP_ID,
SOGNI_RECOVER_MODEL, SOGNI_RECOVER_PROMPT. Streams one chat; after its first chunk prints
``{"first": jobID}`` (the test then breaks the socket), then one JSON report: the job id, the
text streamed, the chunk count, or the error the stream raised.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any

logging.basicConfig(stream=sys.stderr, level=logging.ERROR)


def say(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


async def scenario(client: Any) -> dict[str, Any]:
    stream = await client.chat.completions.create(
        model=os.environ["SOGNI_RECOVER_MODEL"], stream=True,
        messages=[{"role": "user", "content": os.environ["SOGNI_RECOVER_PROMPT"]}])
    text, chunks = "", 0
    try:
        async for chunk in stream:
            if chunks == 0:
                say({"first": stream.job_id})
            chunks += 1
            text += chunk.get("content") or ""
    except Exception as exc:
        return {"jobID": stream.job_id, "content": text, "error": str(exc),
                "errorType": getattr(exc, "error_type", None)}
    return {"jobID": stream.job_id, "content": text, "chunks": chunks}


async def main() -> None:
    from sogni_client import SogniClient

    client = await SogniClient.create(
        app_id=os.environ["SOGNI_RECOVER_APP_ID"], network="fast",
        api_key=os.environ["SOGNI_API_KEY"], rest_endpoint=os.environ["SOGNI_REST_ENDPOINT"],
        socket_endpoint=os.environ["SOGNI_SOCKET_ENDPOINT"])
    try:
        say(await asyncio.wait_for(scenario(client), 60))
    finally:
        close = getattr(client, "disconnect", None) or getattr(client, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result


if __name__ == "__main__":
    asyncio.run(main())
