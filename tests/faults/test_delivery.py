"""Exact delivery through the outside proxy: nothing lost, nothing doubled (issue 11 D1, D4).

A batch of projects runs while :class:`~tests.faultproxy.FaultProxy` breaks the socket link from
the outside — cut after every 100 server frames (D1), or one-way stalls the client can only
notice by its missing pongs (D4). Every project must complete with its results, the emulator
must have *accepted* each ``jobRequest`` exactly once, and none may be declared lost. The big
batches (500 projects, two runs each) are ``slow``; small ones run in ``make test``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import pytest

from sogni_sync import SogniClient, Timeouts
from sogni_sync.errors import ConnectionLostError, RequestLostError, SogniError
from sogni_sync.testing import LocalSupernet
from tests.faultproxy import FaultProxy
from tests.faults.conftest import Proxied
from tests.recorded import generated_reply

IMAGE: dict[str, Any] = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}
LLM = "qwen3.6-35b-a3b-gguf-iq4xs"
PING = 0.5  # seconds: a stalled link is noticed within about one second
CREATORS = 8  # threads submitting the batch
CHATS = 24


@attrs.define
class Figures:
    """What one batch came to (the note's before/after table)."""

    projects: int
    completed: int = 0
    lost: int = 0  # RequestLostError
    other_failures: int = 0
    timeouts: int = 0
    empty: int = 0  # "completed" without a result URL
    doubled: int = 0  # ids the emulator accepted more than once
    missing: int = 0  # ids the emulator never accepted
    wall: float = 0.0
    connections: int = 0  # socket connections the proxy accepted
    confirmed: int = 0  # requests in doubt the new session listed, or the lookup found
    lookups: int = 0  # GET /v2/projects/{id} the client made
    errors: list[str] = attrs.field(factory=list)

    def ok(self) -> bool:
        return (self.completed == self.projects and not self.lost and not self.doubled
                and not self.empty and not self.timeouts and not self.other_failures)


def run_batch(client: SogniClient, net: LocalSupernet, count: int, *, timeout: float,
              during: Callable[[threading.Event], None] | None = None,
              pace: float = 0.0) -> Figures:
    """Create ``count`` projects from a few threads (each pausing ``pace`` seconds between
    two) while ``during(stop)`` injects faults, wait for all of them, then count what the
    emulator accepted per id."""
    figures = Figures(count)
    confirmed: list[Any] = []
    client._transport.on_connection(
        lambda kind, info: confirmed.append(info) if kind == "request_confirmed" else None)
    stop = threading.Event()
    injector = threading.Thread(target=during, args=(stop,), daemon=True) if during else None
    started = time.monotonic()
    if injector is not None:
        injector.start()
    try:
        with ThreadPoolExecutor(CREATORS) as pool:
            def create(i: int) -> Any:
                stop.wait(pace)
                return client.projects.create(**IMAGE, positive_prompt=f"delivery {i}")

            projects = list(pool.map(create, range(count)))
        deadline = time.monotonic() + timeout
        for project in projects:
            try:
                urls = project.wait(max(0.01, deadline - time.monotonic()))
            except RequestLostError as exc:
                figures.lost += 1
                figures.errors.append(str(exc))
            except TimeoutError:
                figures.timeouts += 1
            except SogniError as exc:
                figures.other_failures += 1
                figures.errors.append(f"{type(exc).__name__}: {exc}")
            else:
                if len(urls) == 1 and all(urls):
                    figures.completed += 1
                else:
                    figures.empty += 1
    finally:
        stop.set()
        if injector is not None:
            injector.join(10)
    figures.wall = time.monotonic() - started
    accepted = Counter(str(p.get("jobID", "")).upper() for p in net.received("jobRequest"))
    ids = {p.id.upper() for p in projects}
    figures.doubled = sum(1 for i in ids if accepted[i] > 1)
    figures.missing = sum(1 for i in ids if accepted[i] == 0)
    figures.confirmed = len(confirmed)
    figures.lookups = sum(1 for c in net.rest_calls if c.path.startswith("/v2/projects/"))
    return figures


def _report(name: str, figures: Figures) -> None:
    print(f"\n{name}: {figures}")


# -- the faults ---------------------------------------------------------------------------------


def _one_way_stalls(sock: FaultProxy, client: SogniClient) -> Callable[[threading.Event], None]:
    """Cycle through the one-way faults until ``stop``: s2c stall then restore, s2c stall then
    cut, c2s stall then restore, c2s stall then cut. Each stall lasts until the client gave the
    link up (its pongs are missing), so requests written meanwhile are in doubt."""
    plan = [("s2c", "restore"), ("s2c", "cut"), ("c2s", "restore"), ("c2s", "cut")]

    def inject(stop: threading.Event) -> None:
        step = 0
        while not stop.is_set():
            if not client._transport.is_ready:
                stop.wait(0.02)
                continue
            direction, end = plan[step % len(plan)]
            step += 1
            if sock.stall(direction) == 0:  # type: ignore[arg-type]
                continue
            stop.wait(2.5 * PING)  # the client notices within two ping intervals
            if end == "restore":
                sock.restore()
            else:
                sock.cut()
            stop.wait(0.3)

    return inject


def _cut_every(sock: FaultProxy, frames: int) -> Callable[[threading.Event], None]:
    def inject(stop: threading.Event) -> None:
        sock.cut_every(frames)
        stop.wait()
        sock.restore()

    return inject


# -- the proofs ---------------------------------------------------------------------------------


def _cuts_batch(proxied: Callable[..., Proxied], net: LocalSupernet, count: int,
                timeout: float) -> Figures:
    client, sock, _rest = proxied()
    client.connect(timeout=10)
    figures = run_batch(client, net, count, timeout=timeout, during=_cut_every(sock, 100))
    figures.connections = sock.connections
    assert sock.cuts > 0, "the proxy never cut the link"
    return figures


def _stalls_batch(proxied: Callable[..., Proxied], net: LocalSupernet, count: int,
                  timeout: float, pace: float) -> Figures:
    client, sock, _rest = proxied(timeouts=Timeouts(ping_interval=PING))
    client.connect(timeout=10)
    net.options.step_delay = 0.05  # long enough that stalls land while projects run
    figures = run_batch(client, net, count, timeout=timeout,
                        during=_one_way_stalls(sock, client), pace=pace)
    figures.connections = sock.connections
    assert sock.connections > 1, "no stall ended a connection"
    return figures


def test_cuts_every_100_frames_lose_and_double_nothing(
        proxied: Callable[..., Proxied], net: LocalSupernet) -> None:
    figures = _cuts_batch(proxied, net, 40, timeout=25)
    _report("cuts, 40 projects", figures)
    assert figures.ok(), figures


def test_one_way_stalls_lose_and_double_nothing(
        proxied: Callable[..., Proxied], net: LocalSupernet) -> None:
    figures = _stalls_batch(proxied, net, 40, timeout=25, pace=0.3)
    _report("one-way stalls, 40 projects", figures)
    assert figures.ok(), figures


def test_projects_that_finished_behind_a_half_open_link_are_not_sent_again(
        proxied: Callable[..., Proxied], net: LocalSupernet) -> None:
    """D4 exactly: the server->client half of the link goes silent; 20 projects are written
    (the server gets them), run and finish while the server still writes to the dead link, so
    the next session lists them nowhere. Each must be found (``GET /v2/projects/{id}``) and
    caught up at once: complete with its result, never sent twice, never left for the 120 s
    inactivity sync."""
    client, sock, _rest = proxied(timeouts=Timeouts(ping_interval=PING))
    client.connect(timeout=10)
    drops = threading.Event()
    client._transport.on_connection(lambda kind, _: drops.set() if kind == "disconnected" else None)
    assert sock.stall("s2c") == 1
    started = time.monotonic()
    projects = [client.projects.create(**IMAGE, positive_prompt=f"half-open {i}")
                for i in range(20)]
    assert drops.wait(4 * PING), "the half-open link was never noticed"
    sock.restore()
    deadline = started + 15
    urls: list[list[str]] = []
    for project in projects:
        try:
            urls.append(project.wait(max(0.01, deadline - time.monotonic())))
        except SogniError as exc:
            urls.append([f"{type(exc).__name__}"])
    took = time.monotonic() - started
    accepted = Counter(str(p.get("jobID")).upper() for p in net.received("jobRequest"))
    print(f"\nhalf-open, 20 projects: settled in {took:.2f}s, "
          f"doubled={sum(1 for v in accepted.values() if v > 1)}, "
          f"outcomes={Counter('url' if u[0].startswith('http') else u[0] for u in urls)}")
    assert all(len(u) == 1 and u[0].startswith("http") for u in urls)
    assert all(accepted[p.id.upper()] == 1 for p in projects), accepted.most_common(3)
    assert took < 10


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("run", [1, 2])
def test_500_projects_with_cuts_every_100_frames(
        proxied: Callable[..., Proxied], net: LocalSupernet, run: int) -> None:
    figures = _cuts_batch(proxied, net, 500, timeout=180)
    _report(f"cuts, 500 projects, run {run}", figures)
    assert figures.ok(), figures


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("run", [1, 2])
def test_500_projects_with_one_way_stalls(
        proxied: Callable[..., Proxied], net: LocalSupernet, run: int) -> None:
    figures = _stalls_batch(proxied, net, 500, timeout=180, pace=0.15)
    _report(f"one-way stalls, 500 projects, run {run}", figures)
    assert figures.ok(), figures


def test_chat_requests_across_cuts_complete_whole_and_run_once(proxied: Callable[..., Proxied],
                                                              net: LocalSupernet) -> None:
    """Chats across cuts (issue 19): a job the server still runs after the reconnect (listed in
    ``activeLLMJobIDs``) goes on and comes back whole — exactly the text the emulator generated,
    no token lost or repeated. What cannot come back whole fails with a clear error, never
    short: a frame lost in a cut (the wire has no sequence numbers; the frames that arrived do
    not account for every token), a job the server no longer runs (it finished while the link
    was down), a request in doubt it does not list. None is sent twice; none hangs."""
    client, sock, _rest = proxied()
    client.connect(timeout=10)
    prompts = [[{"role": "user", "content": f"count to {i}"}] for i in range(CHATS)]
    net.options.token_delay = 0.002  # a stream spans a few cuts' worth of frames
    sock.cut_every(40)
    outcomes: Counter[str] = Counter()
    errors: list[str] = []

    completed: list[str] = []

    def chat(i: int) -> None:
        try:
            reply = client.chat.complete(LLM, prompts[i], max_tokens=30, timeout=5)
            whole = reply.content == generated_reply(net, reply.job_id) and reply.content
            outcomes["completed" if whole else "short"] += 1
            completed.append(reply.job_id)
        except RequestLostError:
            outcomes["lost"] += 1
        except ConnectionLostError as exc:
            outcomes["incomplete" if "may be incomplete" in str(exc) else "reply_lost"] += 1
            if "may be incomplete" not in str(exc) and "lost in a disconnect" not in str(exc):
                errors.append(str(exc))
        except TimeoutError:
            outcomes["hung"] += 1

    try:
        with ThreadPoolExecutor(CREATORS) as pool:
            list(pool.map(chat, range(CHATS)))
    finally:
        sock.restore()
        net.options.token_delay = 0.0
    accepted = Counter(str(p.get("jobID")) for p in net.received("llmJobRequest"))
    # completed although a reconnect happened under them (the new session listed them)
    relisted = {j for p in net.sent("authenticated") for j in p.get("activeLLMJobIDs") or ()}
    recovered = sum(1 for job_id in completed if job_id in relisted)
    print(f"\nchat across cuts: {dict(outcomes)}, recovered={recovered}, cuts={sock.cuts}")
    assert sock.cuts > 0
    assert sum(outcomes.values()) == CHATS and outcomes["hung"] == 0, outcomes
    assert outcomes["short"] == 0 and not errors, (outcomes, errors)
    # whether a random cut happens to leave some job with no frame lost is chance; the
    # deterministic case is test_a_chat_cut_between_two_tokens_comes_back_whole below
    assert max(accepted.values()) == 1, accepted.most_common(3)


def test_a_chat_cut_between_two_tokens_comes_back_whole(proxied: Callable[..., Proxied],
                                                        net: LocalSupernet) -> None:
    """The proxy breaks the link right after a token frame went through, while the server is
    between two tokens: the new session lists the job in ``activeLLMJobIDs``, the rest of the
    stream arrives on it, and the reply is whole, sent once."""
    client, sock, _rest = proxied()
    client.connect(timeout=10)
    net.options.token_delay = 0.4  # the reconnect fits in the gap between two tokens
    cuts: list[int] = []
    try:
        stream = client.chat.stream(LLM, [{"role": "user", "content": "count to 4"}],
                                    max_tokens=4, timeout=10)
        pieces: list[str] = []
        for chunk in stream:
            pieces.append(chunk.content)
            if not cuts:  # right after the first token went through
                cuts.append(sock.cut("ws"))
        reply = stream.final
    finally:
        net.options.token_delay = 0.0
    relisted = {j for p in net.sent("authenticated") for j in p.get("activeLLMJobIDs") or ()}
    accepted = Counter(str(p.get("jobID")) for p in net.received("llmJobRequest"))
    assert cuts == [1] and reply is not None
    assert reply.job_id in relisted
    assert reply.content == generated_reply(net, reply.job_id) == "".join(pieces)
    assert accepted[reply.job_id] == 1
