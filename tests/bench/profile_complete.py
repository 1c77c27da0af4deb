"""Where the time goes between ``llmJobResult`` on the wire and ``chat.complete()`` returning.

``python tests/bench/profile_complete.py [--n N]`` starts the bench's emulator process, runs N
sequential ``chat.complete()`` calls through sogni-sync and splits each call's final-frame
latency (as ``make bench`` p1 measures it: the emulator's socket write -> the call returning)
into three stages, timed on the socket thread by wrapping ``Transport.on_frames`` at runtime:

* ``wire+read``  — emulator write -> the socket thread holds the parsed frame (loopback, poll
  wake-up, ``recv``, frame parsing; wall clocks of two processes, so only roughly);
* ``dispatch``   — ``on_frames`` entry -> its return (decode, lock, handlers, notify);
* ``wake``       — ``on_frames`` entry -> ``complete()`` returned in the caller thread.

Prints p50/p90/p99 of each in microseconds. Nothing in the package is edited.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_bench import LLM_MODEL, Emulator, pct  # noqa: E402

from sogni_sync import SogniClient  # noqa: E402
from sogni_sync._transport.transport import Transport  # noqa: E402

_MARK = b'"type":"llmJobResult"'
_seen: dict[str, list[float]] = {"in": [], "out": [], "wall": []}
_guard = threading.Lock()


def _install() -> None:
    orig = Transport.on_frames

    def on_frames(self: Any, gen: int, frames: Any) -> bool:
        final = any(_MARK in f for f in frames if isinstance(f, (bytes, bytearray)))
        if not final:
            return orig(self, gen, frames)
        wall, t_in = time.time(), time.perf_counter()
        holds = orig(self, gen, frames)
        t_out = time.perf_counter()
        with _guard:
            _seen["in"].append(t_in)
            _seen["out"].append(t_out)
            _seen["wall"].append(wall)
        return holds

    Transport.on_frames = on_frames  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    _install()
    returned: list[tuple[str, float, float]] = []  # job id, perf_counter, time.time at return
    with Emulator() as emu:
        client = SogniClient(app_id=f"bench-complete-{os.getpid()}", api_key=emu.api_key,
                             rest_endpoint=emu.rest, socket_endpoint=emu.socket)
        try:
            client.connect(30)
            client.chat.wait_for_models(30)
            for i in range(args.n):
                res = client.chat.complete(model=LLM_MODEL, max_tokens=16, think=False,
                                           messages=[{"role": "user", "content": f"p {i}"}],
                                           timeout=60)
                returned.append((res.job_id, time.perf_counter(), time.time()))
        finally:
            client.close()
        stamps = {str(s[2]).upper(): s for s in emu.ask("stamps")["stamps"]
                  if s[1] == "llmJobResult"}
    if len(_seen["in"]) != len(returned):
        raise SystemExit(f"{len(_seen['in'])} result frames seen for {len(returned)} calls")
    stages: dict[str, list[float]] = {"wire+read": [], "dispatch": [], "wake": [], "total": []}
    rows = zip(returned, _seen["in"], _seen["out"], _seen["wall"], strict=True)
    for (job_id, t_ret, wall_ret), t_in, t_out, wall_in in list(rows)[args.warmup:]:
        stamp = stamps[job_id.upper()]
        written = stamp[4] if stamp[4] is not None else stamp[3]
        stages["wire+read"].append((wall_in - written) * 1e6)
        stages["dispatch"].append((t_out - t_in) * 1e6)
        stages["wake"].append((t_ret - t_in) * 1e6)
        stages["total"].append((wall_ret - written) * 1e6)
    n = len(stages["total"])
    print(f"chat.complete() final frame -> return, {n} calls after {args.warmup} warm-up "
          f"(microseconds; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    for name, values in stages.items():
        print(f"  {name:<10} p50 {pct(values, 50):8.1f}  p90 {pct(values, 90):8.1f}  "
              f"p99 {pct(values, 99):8.1f}  mean {statistics.fmean(values):8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
