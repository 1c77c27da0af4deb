"""Latency driver for the official async Python client (run by the bench with its own venv).

Runs N sequential one-image projects and M sequential chat completions through one client and
prints one JSON line: the app id and the wall-clock time (time.time()) at which each call returned.
With BENCH_STREAM_CHARS > 0 it then streams one chat of that many answer characters and adds
``stream: {chunks, chars, seconds}``.
The bench pairs these with the emulator's record of when it wrote each final frame.
With BENCH_SOAK_SECONDS > 0 it runs only the soak instead: BENCH_THREADS concurrent asyncio tasks
for that long, each repeating three one-image projects to one chat completion; per call the id,
the return time and the duration, plus the process CPU seconds.
"""

import asyncio
import json
import os
import sys
import time
import uuid
from typing import Any

from sogni_client import SogniClient


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
        if float(env.get("BENCH_SOAK_SECONDS", "0")) > 0:
            await client.chat.wait_for_models(30)
            print(json.dumps({"app_id": app_id, **await soak(client)}), flush=True)
            return
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
        out: dict[str, Any] = {"app_id": app_id, "projects": project_done, "chats": chat_done}
        n_chars = int(env.get("BENCH_STREAM_CHARS", "0"))
        if n_chars:
            out["stream"] = await stream(client, n_chars)
        print(json.dumps(out), flush=True)
    finally:
        await asyncio.wait_for(client.aclose(), 10)


async def soak(client) -> dict:
    env = os.environ
    seconds = float(env["BENCH_SOAK_SECONDS"])
    projects: list = []
    chats: list = []
    errors: list = []
    counter = iter(range(1 << 62))
    cpu0, t0 = time.process_time(), time.perf_counter()
    stop = t0 + seconds

    async def worker() -> None:
        while time.perf_counter() < stop:
            i = next(counter)
            start = time.perf_counter()
            try:
                if i % 4 == 3:
                    res = await asyncio.wait_for(client.chat.completions.create({
                        "model": env["BENCH_LLM_MODEL"], "max_tokens": 16, "think": False,
                        "messages": [{"role": "user", "content": f"soak {i}"}],
                    }), 60)
                    chats.append([res["jobID"], time.time(), time.perf_counter() - start])
                else:
                    p = await client.projects.create({
                        "type": "image", "modelId": env["BENCH_IMAGE_MODEL"], "numberOfMedia": 1,
                        "positivePrompt": f"soak {i}", "steps": 1, "network": "fast",
                        "tokenType": "spark", "outputFormat": "png",
                    })
                    await asyncio.wait_for(p.wait_for_completion(), 60)
                    projects.append([p.id, time.time(), time.perf_counter() - start])
            except Exception as exc:  # reported, and the soak goes on
                what = "chat" if i % 4 == 3 else "image"
                errors.append(f"{what} after {time.perf_counter() - start:.1f} s: "
                              f"{type(exc).__name__}: {exc}"[:200])

    n = int(env.get("BENCH_THREADS", "64"))
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(n))), seconds + 120)
    return {"projects": projects, "chats": chats, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - cpu0, "errors": len(errors),
            "first_errors": errors[:3], "concurrency": n}


async def stream(client, n_chars: int) -> dict:
    """One streamed chat whose answer is n_chars long (the emulator echoes the prompt)."""
    model = os.environ["BENCH_LLM_MODEL"]
    await client.chat.wait_for_models(30)
    await client.chat.completions.create({
        "model": model, "max_tokens": 8, "think": False,
        "messages": [{"role": "user", "content": "warm up"}],
    })
    text = ("abcdefghij" * (n_chars // 10 + 1))[:n_chars]
    t0, cpu0 = time.perf_counter(), time.process_time()
    st = await client.chat.completions.create({
        "model": model, "stream": True, "max_tokens": n_chars, "think": False,
        "messages": [{"role": "user", "content": text}],
    })
    chunks = chars = 0
    async for chunk in st:
        chunks += 1
        chars += len((chunk or {}).get("content") or "")
    return {"chunks": chunks, "chars": chars, "seconds": round(time.perf_counter() - t0, 4),
            "cpu_seconds": round(time.process_time() - cpu0, 4)}


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
