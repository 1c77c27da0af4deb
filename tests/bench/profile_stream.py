"""Where the time goes in ``chat.stream()``: cProfile of every thread of one streamed chat.

``python tests/bench/profile_stream.py [--chars N] [--top K] [--out DIR]`` starts the bench's
emulator process, streams one chat of N answer characters through sogni-sync with a profiler
enabled in each thread of this process, and prints the top K functions by own time of the
``sogni-socket`` thread and of the consuming (main) thread. The raw stats are written to
``DIR/stream-<thread>.prof`` (default ``out/profile``, ignored by git) for ``python -m pstats``.

``--split`` streams without a profiler instead and prints where the client's CPU goes per 1,000
tokens: the whole process, the socket thread, the consuming thread, and the socket reads'
frames (the per-read cost — poll, recv, a reader wake-up — weighs in when reads are small).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_bench import LLM_MODEL, Emulator  # noqa: E402

_profiles: dict[str, cProfile.Profile] = {}
_guard = threading.Lock()


def _start_thread_profile(*_: Any) -> None:
    """``threading.setprofile`` hook: the first call in a new thread swaps in a cProfile."""
    prof = cProfile.Profile()
    with _guard:
        _profiles[threading.current_thread().name + f"-{threading.get_ident()}"] = prof
    prof.enable()


def _report(name: str, prof: cProfile.Profile, top: int, out: Path) -> str:
    prof.dump_stats(str(out / f"stream-{name}.prof"))
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    total = next((ln.strip() for ln in lines if "function calls" in ln), "")
    return "\n".join([f"== {name}: {total}", *lines[start:]])


def _thread_cpu(thread: threading.Thread | None) -> float:
    """CPU seconds a live thread has used so far (0 where the platform cannot tell)."""
    if thread is None or thread.ident is None or not hasattr(time, "pthread_getcpuclockid"):
        return 0.0
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def split(chars: int) -> int:
    """One unprofiled stream: CPU per 1,000 tokens by thread, and frames per socket read."""
    from sogni_sync._transport.transport import Transport

    reads = [0, 0]  # on_frames calls, frames
    orig = Transport.on_frames

    def counting(self: Any, gen: int, frames: Any) -> None:
        reads[0] += 1
        reads[1] += len(frames)
        orig(self, gen, frames)

    Transport.on_frames = counting  # type: ignore[method-assign]
    with Emulator() as emu:
        os.environ.update(emu.env())
        from sogni_sync import SogniClient

        client = SogniClient(app_id=f"bench-split-{os.getpid()}", api_key=emu.api_key,
                             rest_endpoint=emu.rest, socket_endpoint=emu.socket)
        try:
            client.connect(30)
            client.chat.wait_for_models(30)
            client.chat.complete(model=LLM_MODEL, max_tokens=8, think=False,
                                 messages=[{"role": "user", "content": "warm up"}])
            text = ("abcdefghij" * (chars // 10 + 1))[:chars]
            sock = client.transport.socket_thread
            reads[:] = [0, 0]
            chunks = 0
            t0, p0, m0, s0 = (time.perf_counter(), time.process_time(), time.thread_time(),
                              _thread_cpu(sock))
            with client.chat.stream(model=LLM_MODEL, think=False, max_tokens=chars,
                                    messages=[{"role": "user", "content": text}],
                                    timeout=300) as st:
                for _ in st:
                    chunks += 1
            t1, p1, m1, s1 = (time.perf_counter(), time.process_time(), time.thread_time(),
                              _thread_cpu(sock))
        finally:
            client.close()
    per = 1e6 / max(chunks, 1)  # seconds -> ms per 1,000 tokens
    print(f"{chunks} chunks in {t1 - t0:.2f} s ({chunks / (t1 - t0):,.0f}/s), "
          f"{reads[1] / max(reads[0], 1):.1f} frames per read; CPU ms per 1,000 tokens: "
          f"process {(p1 - p0) * per:.2f}, socket thread {(s1 - s0) * per:.2f}, "
          f"consumer {(m1 - m0) * per:.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=200000)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--out", default="out/profile")
    parser.add_argument("--split", action="store_true",
                        help="no profiler: CPU per 1,000 tokens by thread, frames per read")
    args = parser.parse_args()
    if args.split:
        return split(args.chars)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with Emulator() as emu:
        os.environ.update(emu.env())
        from sogni_sync import SogniClient

        threading.setprofile(_start_thread_profile)
        main_prof = cProfile.Profile()
        client = SogniClient(app_id=f"bench-profile-{os.getpid()}", api_key=emu.api_key,
                             rest_endpoint=emu.rest, socket_endpoint=emu.socket)
        try:
            client.connect(30)
            client.chat.wait_for_models(30)
            text = ("abcdefghij" * (args.chars // 10 + 1))[: args.chars]
            chunks = 0
            t0 = time.perf_counter()
            main_prof.enable()
            with client.chat.stream(model=LLM_MODEL, think=False, max_tokens=args.chars,
                                    messages=[{"role": "user", "content": text}],
                                    timeout=300) as st:
                for _ in st:
                    chunks += 1
            main_prof.disable()
            secs = time.perf_counter() - t0
        finally:
            threading.setprofile(None)  # type: ignore[arg-type]
            client.close()
    print(f"{chunks} chunks in {secs:.2f} s under the profiler ({chunks / secs:,.0f}/s)")
    with _guard:
        profiles = dict(_profiles)
    for name, prof in profiles.items():
        if name.rsplit("-", 1)[0] == "sogni-socket":
            print(_report("socket", prof, args.top, out))
    print(_report("consumer", main_prof, args.top, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
