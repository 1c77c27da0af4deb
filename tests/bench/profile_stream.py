"""Where the time goes in ``chat.stream()``: cProfile of every thread of one streamed chat.

``python tests/bench/profile_stream.py [--chars N] [--top K] [--out DIR]`` starts the bench's
emulator process, streams one chat of N answer characters through sogni-sync with a profiler
enabled in each thread of this process, and prints the top K functions by own time of the
``sogni-socket`` thread and of the consuming (main) thread. The raw stats are written to
``DIR/stream-<thread>.prof`` (default ``out/profile``, ignored by git) for ``python -m pstats``.

``--split`` streams without a profiler instead and prints where the client's CPU goes per 1,000
tokens: the whole process, the socket thread, the consuming thread, and the socket reads'
frames (the per-read cost — poll, recv, a reader wake-up — weighs in when reads are small).

``--offline`` needs no emulator or socket: it hands N prebuilt token frames to
``Transport.on_frames`` in reads of 1,700 (one 256 KiB recv) and then drains a ``ChatStream``, and
prints the best-of-7 CPU per frame of each side — the per-frame cost alone, steady under load.
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

    def counting(self: Any, gen: int, frames: Any) -> bool:
        reads[0] += 1
        reads[1] += len(frames)
        return orig(self, gen, frames)

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
            sock = client._transport.socket_thread
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


def offline(n: int) -> int:
    """Per-frame CPU of the socket side (decode, route, fold) and of the reader, no I/O."""
    from sogni_sync._config import resolve_options
    from sogni_sync._transport import Transport
    from sogni_sync._transport.envelope import encode_frame
    from sogni_sync.chat._api import ChatApi
    from sogni_sync.chat._job import ChatJob
    from sogni_sync.chat._stream import ChatStream

    job_id = "0B1C2D3E-4F50-4617-8283-94A5B6C7D8E9"
    frames = [encode_frame("jobTokens", {"jobID": job_id, "content": "abcd"}).encode()] * n
    frames.append(encode_frame("llmJobResult", {"jobID": job_id}).encode())
    transport = Transport(resolve_options(app_id="bench-offline", disable_socket=True))
    chat = ChatApi(transport)
    runs = []
    try:
        for _ in range(7):
            job = ChatJob(job_id, LLM_MODEL, transport.lock, keep_chunks=True)
            chat._jobs[job_id] = job
            stream = ChatStream(job, timeout=60, on_close=lambda _job: None)
            t0 = time.thread_time()
            for i in range(0, len(frames), 1700):
                transport.on_frames(0, frames[i:i + 1700])
            t1 = time.thread_time()
            chars = sum(len(chunk.content) for chunk in stream)
            t2 = time.thread_time()
            if chars != 4 * n:
                raise RuntimeError(f"{chars} characters streamed, not {4 * n}")
            runs.append(((t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6))
    finally:
        transport.close()
    print(f"{n} token frames, best of 7: socket side {min(r[0] for r in runs):.2f} us/frame, "
          f"reader {min(r[1] for r in runs):.2f} us/chunk")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=200000)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--out", default="out/profile")
    parser.add_argument("--split", action="store_true",
                        help="no profiler: CPU per 1,000 tokens by thread, frames per read")
    parser.add_argument("--offline", action="store_true",
                        help="no emulator: per-frame CPU of on_frames and of the reader")
    args = parser.parse_args()
    if args.offline:
        return offline(args.chars // 4)
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
            threading.setprofile(None)
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
