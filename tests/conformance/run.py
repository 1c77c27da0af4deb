"""The official clients against this emulator: ``make conformance``
(``python -m tests.conformance.run`` from the checkout).

Starts :class:`LocalSupernet` (small non-zero step delay so ``cancel`` can land), runs the JS
and Python runners of the shared conformance folder with ``SOGNI_USERNAME``/``SOGNI_PASSWORD``
set (so ``login`` runs), prints one table row per (client, scenario) and exits non-zero when
any scenario failed. Options: ``--only NAME[,NAME]`` (repeatable), ``--client js|py``
(repeatable), ``--runners DIR`` (default ``$SOGNI_CONFORMANCE_DIR`` or ``shared/conformance``
beside the checkout), ``--step-delay``, ``--timeout`` (seconds for each runner).

This is developer tooling, not part of the package: the referee's runners live outside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sogni_sync.testing import LocalSupernet

__all__ = ["main", "run_client"]

CHECKOUT = Path(__file__).resolve().parents[2]
#: the referee's tree beside the project checkout
DEFAULT_DIR = Path(os.environ.get("SOGNI_CONFORMANCE_DIR",
                                  CHECKOUT.parent / "shared" / "conformance"))


def run_client(net: LocalSupernet, runners: Path, client: str, only: Sequence[str],
               timeout: float) -> list[dict[str, Any]]:
    """Run one official runner and return its parsed result lines (one per scenario, or one
    ``(runner)`` row with the last line of stderr when it printed none)."""
    env = dict(os.environ, SOGNI_REST_ENDPOINT=net.rest_url,
               SOGNI_SOCKET_ENDPOINT=net.socket_url, SOGNI_API_KEY=net.api_key,
               SOGNI_USERNAME=net.username, SOGNI_PASSWORD=net.password)
    cmd = ["bash", str(runners / client / "run.sh")]
    for name in only:
        cmd += ["--only", name]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
        out, err = proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = f"runner timed out after {timeout} s"
    rows: list[dict[str, Any]] = []
    for line in out.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "scenario" in row:
            rows.append(row)
    if not rows:
        rows.append({"client": client, "scenario": "(runner)", "ok": False, "seconds": 0,
                     "detail": (err.strip().splitlines() or ["no output"])[-1][:200]})
    return rows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.run",
                                     description="the official clients' scenarios against a "
                                                 "local emulator")
    parser.add_argument("--only", action="append", default=[], help="scenario names")
    parser.add_argument("--client", action="append", choices=["js", "py"], default=[])
    parser.add_argument("--runners", type=Path, default=DEFAULT_DIR,
                        help="the shared conformance folder (runners js/ and py/)")
    parser.add_argument("--step-delay", type=float, default=0.005)
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds for each runner")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenarios; 0 when all passed, 1 otherwise."""
    args = _parser().parse_args(argv)
    only = [n for item in args.only for n in item.split(",") if n]
    clients = args.client or ["js", "py"]
    failed = 0
    with LocalSupernet(step_delay=args.step_delay) as net:
        print(f"emulator: {net.rest_url} {net.socket_url}", flush=True)
        print(f"{'client':6} {'scenario':14} {'result':7} {'seconds':>8}  detail")
        for client in clients:
            for row in run_client(net, args.runners, client, only, args.timeout):
                ok = bool(row.get("ok"))
                failed += not ok
                result = "skip" if row.get("skipped") else ("ok" if ok else "FAIL")
                print(f"{client:6} {row.get('scenario', '?'):14} {result:7} "
                      f"{float(row.get('seconds') or 0):8.2f}  {str(row.get('detail', ''))[:110]}",
                      flush=True)
                net.reset()
    print(f"{'all scenarios passed' if not failed else f'{failed} scenario(s) failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
