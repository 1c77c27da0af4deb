"""``sogni-sync conformance``: the official clients against this emulator.

Starts :class:`LocalSupernet` (small non-zero step delay so ``cancel`` can land), runs the JS
and Python runners of ``shared/conformance`` with ``SOGNI_USERNAME``/``SOGNI_PASSWORD`` set (so
``login`` runs), prints one table row per (client, scenario) and exits non-zero when any
scenario failed. Options: ``--only NAME[,NAME]`` (repeatable), ``--client js|py`` (repeatable),
``--runners DIR`` (default ``$SOGNI_CONFORMANCE_DIR`` or ``../shared/conformance`` from the
current directory),
``--step-delay``, ``--timeout`` (seconds for each runner).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sogni_sync.testing import LocalSupernet

__all__ = ["configure", "run", "run_client"]

DEFAULT_DIR = "../shared/conformance"  # the referee's tree beside the project checkout


def run_client(net: LocalSupernet, runners: Path, client: str, only: list[str],
               timeout: float) -> list[dict[str, Any]]:
    """Run one official runner and return its parsed result lines."""
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
    rows = []
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


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", action="append", default=[], help="scenario names")
    parser.add_argument("--client", action="append", choices=["js", "py"], default=[])
    parser.add_argument("--runners", default=os.environ.get("SOGNI_CONFORMANCE_DIR", DEFAULT_DIR),
                        help="the shared conformance folder (runners js/ and py/)")
    parser.add_argument("--step-delay", type=float, default=0.005)
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds for each runner")


def run(args: argparse.Namespace) -> int:
    from sogni_sync.testing import LocalSupernet

    only = [n for item in args.only for n in item.split(",") if n]
    clients = args.client or ["js", "py"]
    runners = Path(args.runners)
    failed = 0
    with LocalSupernet(step_delay=args.step_delay) as net:
        print(f"emulator: {net.rest_url} {net.socket_url}", flush=True)
        print(f"{'client':6} {'scenario':14} {'result':7} {'seconds':>8}  detail")
        for client in clients:
            for row in run_client(net, runners, client, only, args.timeout):
                ok = bool(row.get("ok"))
                failed += not ok
                result = "skip" if row.get("skipped") else ("ok" if ok else "FAIL")
                print(f"{client:6} {row.get('scenario', '?'):14} {result:7} "
                      f"{float(row.get('seconds') or 0):8.2f}  {str(row.get('detail', ''))[:110]}",
                      flush=True)
                net.reset()
    print(f"{'all scenarios passed' if not failed else f'{failed} scenario(s) failed'}")
    return 1 if failed else 0

