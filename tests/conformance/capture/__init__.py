"""Capture harness: golden ``jobRequest`` vectors from the official JS client 5.54.0.

``python -m tests.conformance.capture`` (``make capture-vectors``) starts :class:`LocalSupernet`
serving ``shared/protocol/catalog.json`` merged with ``catalog_554.json`` (the new model ids),
runs ``driver.mjs`` under Node, which passes every case of ``cases_554.json`` unmodified to the
installed client's own ``projects.create()``, and writes ``tests/conformance/vectors_554.jsonl``
in the format of the shared seed vectors (``shared/conformance/README.md``): the ``jobRequest``
data the emulator received, with the project id replaced by the fixed placeholder, or the text
of the error ``create()`` threw before sending anything. ``--check`` captures again and compares
with the committed file instead of writing it. ``--client py`` sends the same cases through the
official Python client 5.70.0 (``driver_py.py``) and compares its requests with the JS vectors.

The JS client is installed outside the checkout: ``$SOGNI_CAPTURE_JS_DIR`` when set, else the
conformance runner's cache (``<cache>/js-5.54.0``) when it holds the client, else ``npm ci``
of ``shared/conformance/js/package*.json`` into ``<cache>/capture-js-5.54.0`` (``<cache>`` is
``$SOGNI_CONFORMANCE_CACHE`` or ``~/.cache/sogni-conformance``). The Python client runs under
``$SOGNI_CAPTURE_PY``, else ``<cache>/py-5.70.0/bin/python``, else a venv made in
``<cache>/capture-py-5.70.0`` from ``shared/conformance/py/requirements.txt``.

Developer tooling, not part of the package.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "CASES", "FIXED_ID", "VECTORS", "CaptureError", "asset_dirs", "capture", "find_js_client",
    "find_py_client", "load_cases", "merged_catalog", "render", "run_driver", "swap_id",
]

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[2]
SHARED = Path(os.environ.get("SOGNI_SHARED_DIR", CHECKOUT.parent / "shared"))
CASES = HERE / "cases_554.json"
VECTORS = HERE.parent / "vectors_554.jsonl"
ADDITIONS = HERE / "catalog_554.json"
DRIVER = HERE / "driver.mjs"
FIXED_ID = "00000000-0000-4000-8000-000000000001"
CLIENT_VERSION = "5.54.0"
PY_CLIENT_VERSION = "5.70.0"


class CaptureError(RuntimeError):
    """The capture could not run (no Node, no client, driver failure)."""


def merged_catalog() -> dict[str, Any]:
    """The shared seed catalogue with the 5.54 additions merged in."""
    base = json.loads((SHARED / "protocol" / "catalog.json").read_text("utf-8"))
    extra = json.loads(ADDITIONS.read_text("utf-8"))
    known = {m["id"] for m in base["models"]}
    base["models"] = base["models"] + [m for m in extra["models"] if m["id"] not in known]
    base["tiers"] = {**base["tiers"], **extra["tiers"]}
    for network, counts in extra["workers"].items():
        base["workers"][network] = {**base["workers"].get(network, {}), **counts}
    return base


def asset_dirs() -> list[Path]:
    """Where ``{"$asset": NAME}`` files are looked up (the shared referee's assets)."""
    return [SHARED / "conformance" / "assets"]


def _cache_root() -> Path:
    env = os.environ.get("SOGNI_CONFORMANCE_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "sogni-conformance"


def _has_client(folder: Path) -> bool:
    pkg = folder / "node_modules" / "@sogni-ai" / "sogni-client" / "package.json"
    if not pkg.is_file():
        return False
    return bool(json.loads(pkg.read_text("utf-8")).get("version") == CLIENT_VERSION)


def find_js_client(install: bool = True) -> Path:
    """The folder holding ``node_modules/@sogni-ai/sogni-client`` 5.54.0 (installed if asked)."""
    env = os.environ.get("SOGNI_CAPTURE_JS_DIR")
    candidates = [Path(env)] if env else [_cache_root() / "js-5.54.0",
                                          _cache_root() / "capture-js-5.54.0"]
    for folder in candidates:
        if _has_client(folder):
            return folder
    if env or not install:
        raise CaptureError(f"@sogni-ai/sogni-client {CLIENT_VERSION} not found in "
                           + ", ".join(str(c) for c in candidates))
    if shutil.which("npm") is None:
        raise CaptureError("npm not found on PATH")
    target = candidates[-1]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".capture-js.", dir=target.parent))
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(SHARED / "conformance" / "js" / name, tmp / name)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error",
                    "--ignore-scripts"], cwd=tmp, check=True, timeout=300)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target


def swap_id(value: Any, project_id: str) -> Any:
    """Replace every string equal (case-insensitively) to the project id by ``FIXED_ID``."""
    if isinstance(value, dict):
        return {k: swap_id(v, project_id) for k, v in value.items()}
    if isinstance(value, list):
        return [swap_id(v, project_id) for v in value]
    if isinstance(value, str) and value.lower() == project_id.lower():
        return FIXED_ID
    return value


def load_cases(names: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The case list, or only the named cases."""
    cases: list[dict[str, Any]] = json.loads(CASES.read_text("utf-8"))
    wanted = set(names)
    return [c for c in cases if not wanted or c["name"] in wanted]


def find_py_client(install: bool = True) -> Path:
    """An interpreter whose venv holds ``sogni-client`` 5.70.0 (created if asked)."""
    env = os.environ.get("SOGNI_CAPTURE_PY")
    candidates = [Path(env)] if env else [_cache_root() / "py-5.70.0" / "bin" / "python",
                                          _cache_root() / "capture-py-5.70.0" / "bin" / "python"]
    probe = "import importlib.metadata as m; print(m.version('sogni-client'))"
    for python in candidates:
        if python.is_file():
            out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                                 check=False, timeout=60)
            if out.stdout.strip() == PY_CLIENT_VERSION:
                return python
    if env or not install:
        raise CaptureError(f"sogni-client {PY_CLIENT_VERSION} not found for "
                           + ", ".join(str(c) for c in candidates))
    venv = candidates[-1].parents[1]
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
    subprocess.run([str(candidates[-1]), "-m", "pip", "install", "-q", "-r",
                    str(SHARED / "conformance" / "py" / "requirements.txt")],
                   check=True, timeout=600)
    return candidates[-1]


def _driver_command(client: str, install: bool) -> tuple[list[str], dict[str, str]]:
    if client == "js":
        if shutil.which("node") is None:
            raise CaptureError("node not found on PATH")
        return ["node", str(DRIVER)], {"SOGNI_CAPTURE_JS_DIR": str(find_js_client(install))}
    if client == "py":
        return [str(find_py_client(install)), str(HERE / "driver_py.py")], {}
    raise CaptureError(f"unknown client {client!r} (js or py)")


def run_driver(cases: list[dict[str, Any]], net: Any, client: str = "js", *,
               wait: float = 0.0, install: bool = True, timeout: float = 600.0
               ) -> list[dict[str, Any]]:
    """Run the cases through an official client's own ``create()`` against the emulator ``net``
    and return the driver's rows in case order: ``{"name", "projectId"}`` or ``{"name",
    "error"}``. With ``wait`` (seconds) each project made is then awaited through the client's
    own completion call and its row carries the ``resultUrls`` it returned (or the failure as
    ``error``). ``install=False`` raises :class:`CaptureError` when the client is missing."""
    command, extra_env = _driver_command(client, install)
    with tempfile.TemporaryDirectory(prefix="sogni-capture-") as tmp:
        case_file = Path(tmp) / "cases.json"
        case_file.write_text(json.dumps([{"name": c["name"], "params": c["params"]}
                                         for c in cases]), "utf-8")
        env = dict(os.environ, **extra_env, SOGNI_CAPTURE_CASES=str(case_file),
                   SOGNI_CAPTURE_ASSETS=os.pathsep.join(str(d) for d in asset_dirs()),
                   SOGNI_REST_ENDPOINT=net.rest_url, SOGNI_SOCKET_ENDPOINT=net.socket_url,
                   SOGNI_API_KEY=net.api_key)
        if wait:
            env["SOGNI_CAPTURE_WAIT"] = str(wait)
        proc = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    if proc.returncode != 0:
        raise CaptureError(f"driver exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if [r["name"] for r in results] != [c["name"] for c in cases]:
        raise CaptureError("driver did not report every case in order")
    return results


def capture(cases: list[dict[str, Any]], client: str = "js",
            timeout: float = 600.0) -> list[dict[str, Any]]:
    """Run the cases through an official client and return one vector per case, in order."""
    from sogni_sync.testing import LocalSupernet

    # Jobs must not finish while the capture runs: a long step delay keeps the emulator idle.
    with LocalSupernet(step_delay=30.0, catalog=merged_catalog()) as net:
        results = run_driver(cases, net, client, timeout=timeout)
        frames = [r for r in net.received("jobRequest") if isinstance(r, dict)]
    # one frame per accepted case: an error case must not have sent anything
    if len(frames) != sum("projectId" in r for r in results):
        raise CaptureError(f"{len(frames)} jobRequest frames for "
                           f"{sum('projectId' in r for r in results)} accepted cases")
    received = {r.get("jobID"): r for r in frames}
    vectors = []
    for case, result in zip(cases, results, strict=True):
        vector: dict[str, Any] = {"name": case["name"], "family": case["family"],
                                  "params": case["params"]}
        if "error" in result:
            vector["error"] = {"message": result["error"]}
        else:
            pid = result["projectId"]
            frame = received.get(pid)
            if frame is None:
                raise CaptureError(f"{case['name']}: no jobRequest with jobID {pid} arrived")
            vector["expected"] = swap_id(frame, pid)
        vectors.append(vector)
    return vectors


def render(vectors: list[dict[str, Any]]) -> str:
    """The JSONL text: one compact object per line, key order as received."""
    return "".join(json.dumps(v, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for v in vectors)
