"""The 15 official-client conformance scenarios, driven through OUR synchronous client.

``shared/conformance`` referees the official clients (``js/scenarios.mjs`` and
``py/scenarios.py``) with 15 scenarios; this module runs the same scenarios, with the same
assertions, through :class:`sogni_sync.SogniClient` against :class:`LocalSupernet`, so that we
can say "ours pass the same scenarios". One test per scenario, ``test_<scenario>``.

Mapping to our API where it deliberately differs from the official (async, dict-based) clients:

* results are frozen attrs objects, not dicts (``Balances.spark.net``, ``CostEstimate.token``,
  ``ModelOptions.steps.max``, ``ChatCompletion.usage.prompt_tokens``); amounts are decimal
  strings exactly as the server wrote them, which the official runner's ``num()`` accepts too;
* ``project.wait()`` replaces ``waitForCompletion()``; it raises ``ProjectFailedError`` (with
  ``.error: ErrorData``) and, after ``cancel()``, ``ProjectCanceledError`` — the official clients'
  promise rejects (or never settles) instead;
* project/job events are typed attrs classes from ``project.events()``/``project.on()``
  instead of ``{"type": ...}`` dicts on ``projects.on("project"|"job")``:
  ``queued`` → ``ProjectQueuedEvent``, ``initiating``/``started`` → ``JobStartedEvent``,
  ``progress`` → ``JobProgressEvent``, ``preview`` → ``JobPreviewEvent``, job ``completed`` →
  ``JobCompletedEvent``, ``error`` → ``JobFailedEvent``/``ProjectFailedEvent``;
* chat: ``chat.complete()``/``chat.stream()`` instead of ``chat.completions.create()``;
  ``stream.final`` is ``finalResult``.

The ``login`` scenario, which the bar skips for lack of credentials, always runs here with the
emulator's ready account (``net.username``/``net.password``).
"""

from __future__ import annotations

import json
import math
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from sogni_sync import SogniClient
from sogni_sync.errors import ProjectCanceledError, ProjectFailedError
from sogni_sync.projects import (
    ErrorData,
    JobCompletedEvent,
    JobFailedEvent,
    JobPreviewEvent,
    JobProgressEvent,
    JobStartedEvent,
    ProjectCompletedEvent,
    ProjectFailedEvent,
    ProjectQueuedEvent,
)
from sogni_sync.testing import LocalSupernet

# Same ids as ``MODELS`` at the top of the official runners.
MODELS = {
    "image": "flux1-schnell-fp8",
    "video": "wan_v2.2-14b-fp8_t2v_lightx2v",
    "audio": "ace_step_1.5_turbo",
    "llm": "qwen3.6-35b-a3b-gguf-iq4xs",
}
FAIL_MARKER = "[[fail]]"
TIMEOUT = 30.0  # per wait; the runners' scenario timeout is 60 s
#: the official runners' step delay (``make conformance``, :mod:`tests.conformance.run`)
CANCEL_STEP_DELAY = 0.005


# --- helpers (the runners' own) -------------------------------------------------------------


def num(value: object) -> float:
    """The runners' ``num()``: numbers and numeric strings, anything else NaN."""
    if isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def finite(value: object) -> bool:
    return math.isfinite(num(value))


def make_png(w: int = 64, h: int = 64) -> bytes:
    """A small RGB gradient PNG made in code (the img2img starting image)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            raw += bytes(((x * 4) & 0xFF, (y * 4) & 0xFF, 128))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw)))
            + chunk(b"IEND", b""))


def image_kind(b: bytes) -> str | None:
    if b[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if b[:3] == b"\xff\xd8\xff":
        return "jpeg"
    return None


def video_kind(b: bytes) -> str | None:
    return "mp4" if len(b) >= 12 and b[4:8] == b"ftyp" else None


def audio_kind(b: bytes) -> str | None:
    if len(b) >= 12 and b[:4] == b"RIFF" and b[8:12] == b"WAVE":
        return "wav"
    if b[:3] == b"ID3":
        return "mp3(id3)"
    if len(b) >= 2 and b[0] == 0xFF and (b[1] & 0xE0) == 0xE0:
        return "mpeg"
    if b[:4] == b"fLaC":
        return "flac"
    if b[:4] == b"OggS":
        return "ogg"
    if len(b) >= 12 and b[4:8] == b"ftyp":
        return "mp4-audio"
    return None


def download(url: str) -> bytes:
    """Plain GET without auth, as the runners do: the URLs must be absolute and public."""
    assert isinstance(url, str) and url.startswith(("http://", "https://")), url
    res = requests.get(url, timeout=TIMEOUT)
    assert res.status_code < 300, f"GET {url} -> HTTP {res.status_code}"
    assert res.content, f"GET {url} returned an empty body"
    return res.content


def image_params(**extra: Any) -> dict[str, Any]:
    """The runners' ``image_params()`` in snake_case."""
    params: dict[str, Any] = {
        "type": "image",
        "model_id": MODELS["image"],
        "positive_prompt": "A lighthouse on a cliff at dawn, conformance test",
        "negative_prompt": "",
        "style_prompt": "",
        "steps": 4,
        "guidance": 1,
        "number_of_media": 1,
        "network": "fast",
        "token_type": "spark",
        "output_format": "png",
    }
    params.update(extra)
    return params


def pick_llm(client: SogniClient) -> str:
    models = client.chat.wait_for_models(TIMEOUT)
    assert models, "no LLM models available"
    assert MODELS["llm"] in models, f"{MODELS['llm']} not among {sorted(models)}"
    return MODELS["llm"]


def first(seq: list[Any], pred: Callable[[Any], bool]) -> int:
    return next((i for i, e in enumerate(seq) if pred(e)), -1)


def last(seq: list[Any], pred: Callable[[Any], bool]) -> int:
    return max((i for i, e in enumerate(seq) if pred(e)), default=-1)


@pytest.fixture
def client(emulator_client: Callable[..., SogniClient]) -> SogniClient:
    """The runners' shared API-key client (app source ``sogni-conformance``, network fast)."""
    return emulator_client("sogni-conformance-sync-main", app_source="sogni-conformance",
                           network="fast")


@pytest.fixture
def slow_steps(net: LocalSupernet) -> Iterator[LocalSupernet]:
    """A small per-step delay so a cancel lands while the project runs (``net`` resets it)."""
    net.options.step_delay = CANCEL_STEP_DELAY
    yield net


# --- scenarios -------------------------------------------------------------------------------


def test_connect(emulator_client: Callable[..., SogniClient]) -> None:
    # disable_socket: connect only on demand, so the listener is in place before the
    # ``authenticated`` frame (an API-key client otherwise connects right away)
    client = emulator_client("sogni-conformance-sync-main", app_source="sogni-conformance",
                             network="fast", disable_socket=True)
    authenticated = threading.Event()
    client.on("authenticated", lambda _payload: authenticated.set())
    client.connect(TIMEOUT)
    assert client._transport.is_ready and client._transport.authenticated_payload is not None
    assert authenticated.wait(TIMEOUT), "no authenticated event"
    assert client.is_authenticated
    balance = client.account.refresh_balance()
    for token in ("sogni", "spark"):
        b = getattr(balance, token)
        for field in ("settled", "credit", "debit", "net"):
            assert finite(getattr(b, field)), f"balance.{token}.{field} = {getattr(b, field)!r}"
    # TokenBalance defaults an absent field to "0": check the wire carries all four, as the
    # runners (which read the raw dict) do
    raw = client._transport.rest.get("/v4/account/balance")
    for token in ("sogni", "spark"):
        for field in ("settled", "credit", "debit", "net"):
            assert finite(raw[token][field]), (token, field, raw)


def test_login(net: LocalSupernet) -> None:
    # A second client with token auth only: api_key="" keeps SOGNI_API_KEY out of it.
    sogni = SogniClient(app_id=f"sogni-conformance-sync-login-{uuid.uuid4()}", api_key="",
                        app_source="sogni-conformance", network="fast",
                        rest_endpoint=net.rest_url, socket_endpoint=net.socket_url)
    try:
        authenticated = threading.Event()
        sogni.on("authenticated", lambda _payload: authenticated.set())
        res = sogni.account.login(net.username, net.password)
        assert isinstance(res.token, str) and len(res.token.split(".")) == 3, res.token
        sogni.connect(TIMEOUT)
        assert authenticated.wait(TIMEOUT), "the socket never sent authenticated"
        assert sogni.is_authenticated
        username = sogni.account.current_account.username or res.username
        assert (username or "").lower() == net.username.lower()
        assert finite(sogni.account.refresh_balance().spark.net)
        sogni.account.logout()
        assert not sogni.is_authenticated
    finally:
        sogni.close()


def test_models(client: SogniClient) -> None:
    available = client.catalog.wait_for_models(TIMEOUT)
    assert available, "no available models"
    ids = [m.id for m in available]
    missing = [mid for kind, mid in MODELS.items() if kind != "llm" and mid not in ids]
    assert not missing, f"available models lack {missing}"
    image = next(m for m in available if m.id == MODELS["image"])
    assert isinstance(image.worker_count, (int, float)) and image.worker_count > 0
    supported = client.catalog.supported_models(True)
    assert supported, "supported model list is empty"
    sup = next((m for m in supported if m.id == MODELS["image"]), None)
    assert sup is not None and isinstance(sup.name, str) and sup.name and sup.tier
    opts = client.catalog.model_options(MODELS["image"])
    assert opts.type == "image"
    assert opts.steps is not None
    assert all(finite(getattr(opts.steps, k)) for k in ("min", "max", "default")), opts.steps
    assert opts.sampler.allowed, "no samplers in model options"
    assert opts.scheduler.allowed, "no schedulers in model options"
    presets = client.catalog.size_presets("fast", MODELS["image"], True)
    assert presets, "no size presets"
    for p in presets:
        assert isinstance(p.id, str) and p.id, p
        assert finite(p.width) and finite(p.height) and num(p.width) > 0 and num(p.height) > 0, p
    assert client.chat.wait_for_models(TIMEOUT)


def test_estimate(client: SogniClient) -> None:
    def positive(estimate: Any, what: str) -> None:
        assert num(estimate.token) > 0, f"{what}: token {estimate.token!r}"
        assert num(estimate.usd) > 0, f"{what}: usd {estimate.usd!r}"

    # ours: the estimates take create()'s parameter names
    base: dict[str, Any] = dict(network="fast", token_type="spark", model_id=MODELS["image"],
                                positive_prompt="a lighthouse", steps=4, number_of_previews=0,
                                guidance=1, width=1024, height=1024)
    img = client.projects.estimate_image_cost(**base, number_of_media=2)
    positive(img, "image")
    img4 = client.projects.estimate_image_cost(**base, number_of_media=4)
    positive(img4, "image x4")
    assert num(img4.token) >= num(img.token), (img4, img)
    vid = client.projects.estimate_video_cost(MODELS["video"], "a fox", token_type="spark",
                                              width=512, height=512, duration=5, fps=16,
                                              steps=4, number_of_media=1)
    positive(vid, "video")
    aud = client.projects.estimate_audio_cost(MODELS["audio"], "synth pop", token_type="spark",
                                              duration=10, steps=8, number_of_media=1)
    positive(aud, "audio")


def test_image(client: SogniClient) -> None:
    seed = 123456789
    project = client.projects.create(**image_params(number_of_media=2, seed=seed))
    urls = project.wait(TIMEOUT)
    assert project.status == "completed"
    assert isinstance(urls, list) and len(urls) == 2, urls
    assert len(set(urls)) == 2, "the 2 result URLs are identical"
    for url in urls:
        data = download(url)
        assert image_kind(data), f"result is not PNG/JPEG (first bytes {data[:8].hex()})"
    assert len(project.jobs) == 2, project.jobs
    seeds = [j.seed for j in project.jobs]
    assert seed in seeds, f"explicit seed {seed} not among job seeds {seeds}"
    # ours: the same bytes through the SDK's own download helper
    assert image_kind(project.jobs[0].get_result_data(TIMEOUT))


def test_image_events(client: SogniClient) -> None:
    project = client.projects.create(**image_params(number_of_media=1, steps=4,
                                                    number_of_previews=2))
    # ours: the typed event stream from creation to the terminal event (see module docstring)
    events = list(project.events(timeout=TIMEOUT))
    urls = project.wait(TIMEOUT)
    assert len(urls) == 1, urls
    seq = " ".join(e.name for e in events)

    queued = first(events, lambda e: isinstance(e, ProjectQueuedEvent))
    started = first(events, lambda e: isinstance(e, JobStartedEvent))
    first_progress = first(events, lambda e: isinstance(e, JobProgressEvent))
    last_progress = last(events, lambda e: isinstance(e, JobProgressEvent))
    completed = first(events, lambda e: isinstance(e, JobCompletedEvent))
    previews = [e for e in events if isinstance(e, JobPreviewEvent)]
    assert queued >= 0, f"no queued event (saw: {seq})"
    assert started >= 0, f"no started/initiating event (saw: {seq})"
    assert first_progress >= 0, f"no progress event (saw: {seq})"
    assert completed >= 0, f"no job completed event (saw: {seq})"
    assert queued < started < first_progress and last_progress < completed, seq
    progress = [e for e in events if isinstance(e, JobProgressEvent)]
    # ours always carries step/step_count, so the runners' "project progress 100" fallback
    # for step-less progress events is not needed
    pairs = [(e.step, e.step_count) for e in progress
             if e.step is not None and e.step_count is not None]
    assert len(pairs) == len(progress), progress
    assert any(step >= count for step, count in pairs), pairs
    steps = [step for step, _count in pairs]
    assert steps == sorted(steps), f"progress steps went backwards: {steps}"
    assert project.progress == 100, project.progress
    assert previews, f"no preview event although number_of_previews=2 (saw: {seq})"
    assert all(isinstance(p.url, str) and p.url for p in previews)
    assert isinstance(events[-1], ProjectCompletedEvent)


def test_img2img(client: SogniClient, net: LocalSupernet) -> None:
    png = make_png(64, 64)
    project = client.projects.create(**image_params(number_of_media=1, starting_image=png,
                                                    starting_image_strength=0.5))
    # the upload path ran before create() returned: an upload URL, then the PUT of our bytes
    calls = [c for c in net.rest_calls if project.id.lower() in json.dumps(c.query).lower()
             or project.id.lower() in c.path.lower()]
    assert any(c.method == "GET" and c.path.endswith("/uploadUrl") for c in calls), calls
    puts = [c for c in calls if c.method == "PUT" and c.path.endswith("/startingImage")]
    assert len(puts) == 1 and puts[0].status < 300, puts
    assert puts[0].headers.get("Content-Length") == str(len(png)), puts[0].headers
    urls = project.wait(TIMEOUT)
    assert len(urls) == 1, urls
    data = download(urls[0])
    assert image_kind(data), f"result is not PNG/JPEG (first bytes {data[:8].hex()})"


def test_cancel(client: SogniClient, slow_steps: LocalSupernet) -> None:
    # 4 images x the model's maximum steps, cancelled as soon as create() returned; the step
    # delay (0.005 s, as the official runners get) keeps the project running meanwhile.
    opts = client.catalog.model_options(MODELS["image"])
    smax = opts.steps.max if opts.steps is not None else None
    steps = int(min(smax, 50)) if smax is not None and finite(smax) else 8
    confirmed: list[Any] = []
    confirmation = threading.Event()

    def on_confirmation(payload: Any) -> None:
        confirmed.append(payload)
        confirmation.set()

    client.on("artistCancelConfirmation", on_confirmation)
    project = client.projects.create(**image_params(number_of_media=4, steps=steps,
                                                    positive_prompt="cancel me, conformance test"))
    before = project.status
    project.cancel()
    assert project.status == "canceled", f"status after cancel is {project.status} (was {before})"
    # ours: wait() raises ProjectCanceledError (the official clients' waitForCompletion rejects)
    with pytest.raises(ProjectCanceledError):
        project.wait(5)
    statuses = [j.status for j in project.jobs]
    assert not statuses or not all(s == "completed" for s in statuses), statuses
    # the server confirmed it (what the official clients wait for before cancel() returns)
    assert confirmation.wait(TIMEOUT), "no artistCancelConfirmation"
    assert confirmed[0].get("jobID", "").upper() == project.id
    assert confirmed[0].get("didCancel") is True, confirmed[0]


def test_failure(client: SogniClient) -> None:
    project = client.projects.create(**image_params(
        number_of_media=1, positive_prompt=f"a red apple {FAIL_MARKER}"))
    events = list(project.events(timeout=TIMEOUT))
    with pytest.raises(ProjectFailedError) as failed:
        project.wait(TIMEOUT)
    assert project.status == "failed"
    job_err = next((j.error for j in project.jobs if j.error), None)
    err = project.error or job_err
    assert isinstance(err, ErrorData), err
    assert isinstance(err.message, str)
    assert isinstance(err.code, int) and not isinstance(err.code, bool), err
    assert failed.value.error == project.error
    assert any(isinstance(e, (JobFailedEvent, ProjectFailedEvent)) for e in events), events


def test_video(client: SogniClient) -> None:
    project = client.projects.create(
        type="video", network="fast", model_id=MODELS["video"], token_type="spark",
        positive_prompt="A serene ocean wave crashing on a beach at sunset", number_of_media=1,
        fps=16, frames=33, width=512, height=512, steps=4)
    urls = project.wait(TIMEOUT)
    assert len(urls) == 1, urls
    data = download(urls[0])
    assert video_kind(data), f"result is not an MP4 container (first bytes {data[:12].hex()})"


def test_audio(client: SogniClient) -> None:
    project = client.projects.create(
        type="audio", network="fast", model_id=MODELS["audio"], token_type="spark",
        positive_prompt="Upbeat electronic music with synth leads", number_of_media=1,
        duration=10, bpm=120, keyscale="C major", timesignature="4", steps=8,
        output_format="mp3")
    urls = project.wait(TIMEOUT)
    assert len(urls) == 1, urls
    data = download(urls[0])
    assert audio_kind(data), f"not a known audio container (first bytes {data[:12].hex()})"


def test_chat(client: SogniClient) -> None:
    model = pick_llm(client)
    res = client.chat.complete(
        model=model,
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Say hello in one short sentence."},
        ],
        max_tokens=64, think=False, timeout=TIMEOUT)
    assert isinstance(res.content, str) and res.content.strip(), "empty content"
    assert num(res.usage.prompt_tokens) > 0, res.usage
    assert num(res.usage.completion_tokens) > 0, res.usage


def test_chat_stream(client: SogniClient) -> None:
    model = pick_llm(client)
    stream = client.chat.stream(
        model=model, max_tokens=128, think=False, timeout=TIMEOUT,
        messages=[{"role": "user", "content": "Count from one to ten in words."}])
    with stream:
        chunks = list(stream)
    text = "".join(c.content or "" for c in chunks)
    assert len(chunks) >= 2, f"only {len(chunks)} chunk(s)"
    assert text.strip(), "streamed content is empty"
    # ours: the stream ran to its end, so ``final`` (finalResult) is always there
    assert stream.final is not None
    assert stream.final.content == text
    assert stream.content == text


def test_tools(client: SogniClient) -> None:
    model = pick_llm(client)
    tools = [{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get current weather for a location",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string", "description": "City name"}},
                "required": ["location"],
            },
        },
    }]
    res = client.chat.complete(
        model=model, tools=tools, tool_choice="auto", think=False, max_tokens=256,
        timeout=TIMEOUT,
        messages=[{"role": "user",
                   "content": "What's the weather in Austin? Use the get_weather tool."}])
    assert res.tool_calls, f"no tool call (finish {res.finish_reason}, content {res.content!r})"
    call = next((c for c in res.tool_calls if c.function.name == "get_weather"), None)
    assert call is not None, res.tool_calls
    args = json.loads(call.function.arguments)
    assert isinstance(args, dict), call.function.arguments


def _throughput(client: SogniClient, run_threads: Callable[..., list[BaseException]],
                n: int, timeout: float) -> None:
    """n image projects x 4 images through the one shared client, all in flight at once.

    ``create()`` returns as soon as the request is written, so each of the worker threads
    first creates its share and then waits for it: every project is running concurrently.
    """
    threads = min(n, 50)
    jobs = [0] * threads
    t0 = time.perf_counter()

    def work(i: int) -> None:
        mine = [client.projects.create(**image_params(number_of_media=4,
                                                      positive_prompt=f"throughput {k}"))
                for k in range(i, n, threads)]
        for project in mine:
            urls = project.wait(timeout)
            assert len(urls) == 4, f"project {project.id}: {len(urls)} URLs"
            jobs[i] += len(urls)

    errors = run_threads(work, threads, timeout)
    seconds = time.perf_counter() - t0
    assert not errors, f"{len(errors)} worker(s) failed (first: {errors[0]!r})"
    assert sum(jobs) == 4 * n, f"{sum(jobs)} result URLs for {n} projects x 4"
    print(f"throughput: {n} projects x 4 in {seconds:.2f} s ({n / seconds:.2f} projects/s)")


def test_throughput(client: SogniClient, run_threads: Callable[..., list[BaseException]]
                    ) -> None:
    _throughput(client, run_threads, 50, TIMEOUT)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_throughput_1000(client: SogniClient,
                         run_threads: Callable[..., list[BaseException]]) -> None:
    _throughput(client, run_threads, 1000, 300.0)
