"""sogni-sync workloads for the bench, one per process (run by ``run_bench.py``).

``python tests/bench/ours.py MODE`` with the emulator's endpoints in ``SOGNI_REST_ENDPOINT``,
``SOGNI_SOCKET_ENDPOINT``, ``SOGNI_API_KEY``; prints one JSON line. Modes:

* ``latency``    — ``BENCH_PROJECTS`` sequential one-image projects, then ``BENCH_CHATS``
  sequential ``chat.complete()`` calls; the wall-clock time each call returned, by job id;
* ``throughput`` — ``BENCH_PROJECTS`` image projects x 4 jobs through one client, created in a
  loop and awaited with ``wait_all`` (``BENCH_MODE=loop``) or created and awaited from
  ``BENCH_THREADS`` threads (``BENCH_MODE=threads``);
* ``memory``     — ``BENCH_PROJECTS`` sequential one-image projects; RSS and tracemalloc's
  current size every ``BENCH_SAMPLE`` projects, sampled once the finished projects are pruned
  and after ``gc.collect()``; ``BENCH_PRUNE_AFTER`` overrides how long finished projects stay
  tracked (``ProjectsApi.prune_after``, default 30 s); ``BENCH_TRACEMALLOC=0`` for RSS only;
* ``stream``     — one ``chat.stream()`` whose answer is ``BENCH_STREAM_CHARS`` characters long
  (the emulator echoes the prompt in 4-character tokens): chunks/s;
* ``soak``       — ``BENCH_THREADS`` threads sharing one client for ``BENCH_SOAK_SECONDS``, each
  repeating mixed work: three one-image projects (``wait()``) to one ``chat.complete()``; per
  call the id, the wall-clock return time and its duration, and the process CPU seconds.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
import tracemalloc
import uuid
from typing import Any

from sogni_sync import SogniClient, wait_all

ENV = os.environ
IMAGE_MODEL = ENV.get("BENCH_IMAGE_MODEL", "flux1-schnell-fp8")
LLM_MODEL = ENV.get("BENCH_LLM_MODEL", "qwen3.6-35b-a3b-gguf-iq4xs")


def _client(tag: str) -> SogniClient:
    client = SogniClient(app_id=f"bench-ours-{tag}-{uuid.uuid4()}", api_key=ENV["SOGNI_API_KEY"],
                         rest_endpoint=ENV["SOGNI_REST_ENDPOINT"],
                         socket_endpoint=ENV["SOGNI_SOCKET_ENDPOINT"])
    client.connect(30)
    client.catalog.wait_for_models(30)
    return client


def _one_image(client: SogniClient, i: int, media: int = 1) -> Any:
    return client.projects.create(type="image", model_id=IMAGE_MODEL,
                                  positive_prompt=f"bench {i}", number_of_media=media,
                                  steps=4 if media > 1 else 1, output_format="png",
                                  network="fast", token_type="spark")


def latency() -> dict[str, Any]:
    n, m = int(ENV.get("BENCH_PROJECTS", "50")), int(ENV.get("BENCH_CHATS", "50"))
    with _client("latency") as client:
        projects = []
        for i in range(n):
            p = _one_image(client, i)
            p.wait(60)
            projects.append([p.id, time.time()])
        chats = []
        if m:
            client.chat.wait_for_models(30)
        for i in range(m):
            res = client.chat.complete(model=LLM_MODEL, max_tokens=16, think=False,
                                       messages=[{"role": "user", "content": f"latency {i}"}],
                                       timeout=60)
            chats.append([res.job_id, time.time()])
        return {"app_id": client.app_id, "projects": projects, "chats": chats}


def throughput() -> dict[str, Any]:
    n = int(ENV.get("BENCH_PROJECTS", "1000"))
    mode = ENV.get("BENCH_MODE", "loop")
    timeout = float(ENV.get("BENCH_TIMEOUT", "600"))
    with _client("throughput") as client:
        t0 = time.perf_counter()
        if mode == "loop":
            projects = [_one_image(client, i, 4) for i in range(n)]
            results = wait_all(projects, timeout)
        else:
            results = [None] * n
            nthreads = int(ENV.get("BENCH_THREADS", "64"))
            counter = iter(range(n))
            lock = threading.Lock()

            def worker() -> None:
                while True:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        return
                    results[i] = _one_image(client, i, 4).wait(timeout)

            threads = [threading.Thread(target=worker) for _ in range(nthreads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout)
        secs = time.perf_counter() - t0
        jobs = sum(len(r) for r in results if r)
        done = sum(1 for r in results if r and len(r) == 4)
        return {"projects": done, "jobs": jobs, "seconds": round(secs, 4), "mode": mode}


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory() -> dict[str, Any]:
    n = int(ENV.get("BENCH_PROJECTS", "10000"))
    every = int(ENV.get("BENCH_SAMPLE", "1000"))
    trace = ENV.get("BENCH_TRACEMALLOC", "1") == "1"
    if trace:
        tracemalloc.start()
    samples = []
    with _client("memory") as client:
        prune = ENV.get("BENCH_PRUNE_AFTER")
        if prune:  # finished projects stay tracked this long (ProjectsApi.prune_after, 30 s)
            client.projects.prune_after = float(prune)
        t0 = time.perf_counter()
        for i in range(1, n + 1):
            _one_image(client, i).wait(60)
            if i % every == 0:
                busy = len(client.projects.tracked_projects)
                # Sample at a quiet point: every finished project pruned, so the figures are
                # the client's steady state, not how many projects happen to be retained.
                quiet = time.monotonic() + 10
                while client.projects.tracked_projects and time.monotonic() < quiet:
                    time.sleep(0.05)
                gc.collect()
                traced = tracemalloc.get_traced_memory()[0] if trace else None
                samples.append([i, _rss(), traced, len(client.projects.tracked_projects),
                                round(time.perf_counter() - t0, 3), busy])
    return {"samples": samples}


def stream() -> dict[str, Any]:
    chars = int(ENV.get("BENCH_STREAM_CHARS", "200000"))
    text = ("abcdefghij" * (chars // 10 + 1))[:chars]
    with _client("stream") as client:
        client.chat.wait_for_models(30)
        client.chat.complete(model=LLM_MODEL, max_tokens=8, think=False,
                             messages=[{"role": "user", "content": "warm up"}])
        t0, cpu0 = time.perf_counter(), time.process_time()
        chunks = 0
        content = 0
        with client.chat.stream(model=LLM_MODEL, think=False, max_tokens=chars,
                                messages=[{"role": "user", "content": text}],
                                timeout=float(ENV.get("BENCH_TIMEOUT", "300"))) as st:
            for chunk in st:
                chunks += 1
                content += len(chunk.content or "")
            final = st.final
        secs, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        usage = final.usage.completion_tokens if final is not None and final.usage else None
        return {"chunks": chunks, "chars": content, "completion_tokens": usage,
                "seconds": round(secs, 4), "cpu_seconds": round(cpu, 4)}


def soak() -> dict[str, Any]:
    seconds = float(ENV.get("BENCH_SOAK_SECONDS", "60"))
    nthreads = int(ENV.get("BENCH_THREADS", "64"))
    projects: list[list[Any]] = []  # [id, returned at (time.time()), seconds in the call]
    chats: list[list[Any]] = []
    errors: list[str] = []
    counter = iter(range(1 << 62))
    with _client("soak") as client:
        client.chat.wait_for_models(30)
        cpu0, t0 = time.process_time(), time.perf_counter()
        stop = t0 + seconds

        def worker() -> None:
            while time.perf_counter() < stop:
                i = next(counter)  # atomic under the GIL
                start = time.perf_counter()
                try:
                    if i % 4 == 3:
                        res = client.chat.complete(
                            model=LLM_MODEL, max_tokens=16, think=False, timeout=60,
                            messages=[{"role": "user", "content": f"soak {i}"}])
                        chats.append([res.job_id, time.time(), time.perf_counter() - start])
                    else:
                        p = _one_image(client, i)
                        p.wait(60)
                        projects.append([p.id, time.time(), time.perf_counter() - start])
                except Exception as exc:  # reported, and the soak goes on
                    what = "chat" if i % 4 == 3 else "image"
                    errors.append(f"{what} after {time.perf_counter() - start:.1f} s: "
                                  f"{type(exc).__name__}: {exc}"[:200])

        threads = [threading.Thread(target=worker) for _ in range(nthreads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 120)
        secs = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    return {"app_id": client.app_id, "projects": projects, "chats": chats, "seconds": secs,
            "cpu_seconds": cpu, "errors": len(errors), "first_errors": errors[:3],
            "concurrency": nthreads}


MODES = {"latency": latency, "throughput": throughput, "memory": memory, "stream": stream,
         "soak": soak}

if __name__ == "__main__":
    out = MODES[sys.argv[1]]()
    print(json.dumps(out), flush=True)
