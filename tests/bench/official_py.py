"""Latency driver for the official async Python client (run by the bench with its own venv).

Runs N sequential one-image projects and M sequential chat completions through one client and
prints one JSON line: the app id and the wall-clock time (time.time()) at which each call returned.
The bench pairs these with the emulator's record of when it wrote each final frame.
"""

import asyncio
import json
import os
import sys
import time
import uuid

from sogni_client import SogniClient  # type: ignore[import-not-found]


async def main() -> None:
    env = os.environ
    n_projects = int(env.get("BENCH_PROJECTS", "50"))
    n_chats = int(env.get("BENCH_CHATS", "50"))
    app_id = f"bench-official-py-{uuid.uuid4()}"
    client = await SogniClient.create(
        app_id=app_id, network="fast", api_key=env["SOGNI_API_KEY"],
        rest_endpoint=env["SOGNI_REST_ENDPOINT"], socket_endpoint=env["SOGNI_SOCKET_ENDPOINT"],
    )
    try:
        await client.projects.wait_for_models(30)
        project_done: list[float] = []
        for i in range(n_projects):
            p = await client.projects.create({
                "type": "image", "modelId": env["BENCH_IMAGE_MODEL"], "numberOfMedia": 1,
                "positivePrompt": f"latency {i}", "steps": 1, "network": "fast",
                "tokenType": "spark", "outputFormat": "png",
            })
            await p.wait_for_completion()
            project_done.append(time.time())
        chat_done: list[float] = []
        if n_chats:
            await client.chat.wait_for_models(30)
        for i in range(n_chats):
            await client.chat.completions.create({
                "model": env["BENCH_LLM_MODEL"], "max_tokens": 16, "think": False,
                "messages": [{"role": "user", "content": f"latency {i}"}],
            })
            chat_done.append(time.time())
        print(json.dumps({"app_id": app_id, "projects": project_done, "chats": chat_done}))
    finally:
        close = getattr(client, "close", None) or getattr(client, "disconnect", None)
        if close is not None:
            res = close()
            if asyncio.iscoroutine(res):
                await res


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
