"""Capture driver for the official async Python client (sogni-client 5.70.0).

Run by the capture harness with the interpreter of a scratch venv that has the client (never
this project's venv). Same contract as ``driver.mjs``: env SOGNI_CAPTURE_CASES,
SOGNI_CAPTURE_ASSETS, SOGNI_REST_ENDPOINT, SOGNI_SOCKET_ENDPOINT, SOGNI_API_KEY; one JSON line
per case on stdout, ``{"name", "projectId"}`` or ``{"name", "error"}``. With
SOGNI_CAPTURE_WAIT (seconds) set, every project made is then awaited through its own
``wait_for_completion()`` and its line also carries the ``resultUrls`` it returned (or the
failure as ``error``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

logging.basicConfig(stream=sys.stderr, level=logging.ERROR)
ASSET_DIRS = [Path(p) for p in os.environ.get("SOGNI_CAPTURE_ASSETS", "").split(os.pathsep) if p]


def asset_bytes(name: str) -> bytes:
    for folder in ASSET_DIRS:
        if (folder / name).is_file():
            return (folder / name).read_bytes()
    raise FileNotFoundError(f"capture: asset {name} not found")


def to_py(value: Any) -> Any:
    """JSON params -> the client's params: ``{"$asset": NAME}`` becomes that file's bytes."""
    if isinstance(value, dict):
        if set(value) == {"$asset"}:
            return asset_bytes(value["$asset"])
        return {k: to_py(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_py(v) for v in value]
    return value


def error_text(exc: BaseException) -> str:
    return str(getattr(exc, "message", "") or exc)


def emit(row: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(row) + "\n")
    sys.stdout.flush()


async def settle(row: dict[str, Any], project: Any, wait: float) -> None:
    try:
        row["resultUrls"] = await project.wait_for_completion(timeout=wait)
    except asyncio.TimeoutError:
        row["error"] = f"capture: {row['name']} timed out"
    except Exception as exc:  # the project failed: reported by its text
        row["error"] = error_text(exc)


async def main() -> None:
    from sogni_client import SogniClient

    cases = json.loads(Path(os.environ["SOGNI_CAPTURE_CASES"]).read_text("utf-8"))
    client = await SogniClient.create(
        app_id="sogni-sync-capture", network="fast", api_key=os.environ["SOGNI_API_KEY"],
        rest_endpoint=os.environ["SOGNI_REST_ENDPOINT"],
        socket_endpoint=os.environ["SOGNI_SOCKET_ENDPOINT"])
    try:
        await asyncio.wait_for(client.projects.wait_for_models(15), 20)
        wait = float(os.environ.get("SOGNI_CAPTURE_WAIT") or 0)
        made: list[dict[str, Any]] = []
        waits: list[asyncio.Task[None]] = []
        for case in cases:
            try:
                project = await asyncio.wait_for(client.projects.create(to_py(case["params"])), 30)
                row: dict[str, Any] = {"name": case["name"], "projectId": project.id}
                if wait:  # waited on at once, as an app would; the projects render concurrently
                    waits.append(asyncio.ensure_future(settle(row, project, wait)))
            except asyncio.TimeoutError as exc:
                raise RuntimeError(f"capture: {case['name']} timed out") from exc
            except Exception as exc:  # every refusal is reported by its text
                row = {"name": case["name"], "error": error_text(exc)}
            if wait:
                made.append(row)
            else:
                emit(row)
        await asyncio.gather(*waits)
        for row in made:
            emit(row)
    finally:
        await asyncio.wait_for(client.aclose(), 10)


if __name__ == "__main__":
    asyncio.run(main())
    os._exit(0)  # the client's background tasks must not keep the process alive
