"""``python -m tests.conformance.capture.check [VECTORS]`` (``make check-vectors-554``).

Runs every case of ``vectors_554.jsonl`` through *our* ``SogniClient.projects.create()``
against :class:`LocalSupernet` serving the same merged catalogue the capture used, the way the
shared ``check_vectors.py`` does for the seed vectors: an ``expected`` case must put exactly
that ``jobRequest`` on the socket (parsed JSON, project id replaced), an ``error`` case must
raise with the captured text contained in the exception's text. Prints the differing cases
(``--verbose``: all of them), then matched/total per family and overall. Exit 0 only when every
case matched. ``tests/conformance/test_vectors_554.py`` keeps the matched families matched in
``make test``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from . import VECTORS, asset_dirs, merged_catalog, swap_id

__all__ = ["check", "diff_paths", "main", "snake"]


def snake(name: str) -> str:
    """The shared naming rule: ``modelId`` -> ``model_id``, ``disableNSFWFilter`` ->
    ``disable_nsfw_filter`` (a run of capitals is one word)."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _asset(name: str) -> bytes:
    for folder in asset_dirs():
        if (folder / name).is_file():
            return (folder / name).read_bytes()
    raise FileNotFoundError(name)


def to_python(value: Any) -> Any:
    """camelCase params -> our keyword arguments; ``{"$asset": NAME}`` -> the file's bytes."""
    if isinstance(value, dict):
        if set(value) == {"$asset"}:
            return _asset(value["$asset"])
        return {snake(k): to_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_python(v) for v in value]
    return value


def diff_paths(got: Any, want: Any, path: str = "") -> list[str]:
    """Where ``got`` (received) and ``want`` (expected) differ, e.g. ``keyFrames[0].frames``."""
    if isinstance(got, dict) and isinstance(want, dict):
        out: list[str] = []
        for key in sorted(set(got) | set(want)):
            if key not in got or key not in want:
                out.append(f"{path}.{key}"[1:] + (" (missing)" if key not in got else " (extra)"))
            else:
                out += diff_paths(got[key], want[key], f"{path}.{key}")
        return out
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        pairs = enumerate(zip(got, want, strict=True))
        return [d for i, (a, b) in pairs for d in diff_paths(a, b, f"{path}[{i}]")]
    if got != want or (type(got) is bool) != (type(want) is bool):
        return [f"{path[1:] or '.'}: got {json.dumps(got)[:40]} want {json.dumps(want)[:40]}"]
    return []


def _run_case(client: Any, net: Any, case: dict[str, Any]) -> str | None:
    """``None`` when the case matched, else a one-line reason."""
    before = len(net.received("jobRequest"))
    try:
        project = client.projects.create(**to_python(case["params"]))
    except Exception as exc:
        if "error" in case and case["error"]["message"] in str(exc):
            return None
        return f"raised {type(exc).__name__}: {str(exc)[:100]}"
    if "error" in case:
        return f"expected error {case['error']['message'][:70]!r}"
    deadline = time.monotonic() + 5  # the frame may still be on its way when create() returns
    while len(net.received("jobRequest")) <= before and time.monotonic() < deadline:
        time.sleep(0.002)
    got = net.received("jobRequest")[before:]
    if not got:
        return "no jobRequest received"
    diff = diff_paths(json.loads(json.dumps(swap_id(got[-1], project.id))), case["expected"])
    return f"differs in {diff[:5]}" if diff else None


def check(cases: list[dict[str, Any]]) -> tuple[Counter[str], Counter[str], list[str]]:
    """(matched by family, total by family, reasons of the cases that did not match)."""
    from sogni_sync import SogniClient
    from sogni_sync.testing import LocalSupernet

    matched: Counter[str] = Counter()
    total: Counter[str] = Counter()
    bad: list[str] = []
    # A long step delay: the projects only have to be admitted, never rendered.
    with LocalSupernet(step_delay=30.0, catalog=merged_catalog()) as net, \
            SogniClient(app_id="vector-check-554", api_key=net.api_key,
                        rest_endpoint=net.rest_url, socket_endpoint=net.socket_url) as client:
        for case in cases:
            family = case.get("family", "?")
            total[family] += 1
            reason = _run_case(client, net, case)
            if reason is None:
                matched[family] += 1
            else:
                bad.append(f"{case['name']}: {reason}")
    return matched, total, bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.capture.check")
    parser.add_argument("vectors", nargs="?", default=str(VECTORS))
    parser.add_argument("--verbose", "-v", action="store_true", help="list every failed case")
    args = parser.parse_args(argv)
    text = Path(args.vectors).read_text("utf-8")
    cases = [json.loads(line) for line in text.splitlines() if line.strip()]
    matched, total, bad = check(cases)
    for line in bad if args.verbose else bad[:15]:
        sys.stdout.write(line + "\n")
    if len(bad) > 15 and not args.verbose:
        sys.stdout.write(f"... {len(bad) - 15} more (--verbose lists all)\n")
    for family in sorted(total):
        sys.stdout.write(f"{family:14} {matched[family]:4}/{total[family]}\n")
    sys.stdout.write(f"vectors matched {sum(matched.values())}/{sum(total.values())}\n")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
