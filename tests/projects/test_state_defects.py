"""Project state under hostile input and server trouble (issue 11 D2, D3, server restart).

D2: minting the download URL fails → retried, then a clear error; never "completed" without a
result and never ``wait() == []``. D3: frames without ``imgID`` or with absurd values create no
state and never break ``repr``. Restart: a new session that does not list our projects makes
the client ask the server at once, and projects it no longer knows fail saying so.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest

from sogni_sync import Retries, SogniClient
from sogni_sync.errors import ProjectFailedError
from sogni_sync.testing import LocalSupernet

IMAGE: dict[str, Any] = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}
MINT = "/v1/image/downloadUrl"


def _silent(client: Any, net: Any, **extra: Any) -> Any:
    """A project the emulator records but never runs, so the test scripts its events."""
    net.faults.forget_next("jobRequest")
    return client.projects.create(**{**IMAGE, "positive_prompt": "scripted", **extra})


def _push(client: Any, net: Any, msg_type: str, payload: Any) -> None:
    net.send(msg_type, payload, app_id=client.app_id)


def _mints(net: Any) -> int:
    return len([c for c in net.rest_calls if c.path == MINT and c.query.get("type") == "complete"])


# -- D2: minting failures -----------------------------------------------------------------------


@pytest.fixture
def one_shot(emulator_client: Any) -> Any:
    """A client whose REST layer does not retry, so only the minting retries are measured."""
    client = emulator_client("mint", retries=Retries(attempts=1))
    client.projects._follow.mint_backoff = 0.01
    return client


def test_transient_mint_failures_are_retried(one_shot: Any, net: Any) -> None:
    client = one_shot
    net.faults.rest_error(MINT, status=503, times=3)  # fewer than the minting attempts
    project = client.projects.create(**IMAGE, positive_prompt="flaky mint")
    urls = project.wait(30)
    assert len(urls) == 1 and urls[0].startswith("http")
    assert project.jobs[0].status == "completed" and project.jobs[0].result_url == urls[0]


def test_mint_that_keeps_failing_fails_the_project_clearly(one_shot: Any, net: Any) -> None:
    client = one_shot
    net.faults.rest_error(MINT, status=503, times=10_000)
    project = client.projects.create(**IMAGE, positive_prompt="never minted")
    with pytest.raises(ProjectFailedError) as info:
        project.wait(30)
    message = str(info.value)
    assert "could not be fetched" in message and project.id in message
    job = project.jobs[0]
    assert job.status == "failed" and job.result_url is None  # never "completed" without it
    assert job.error is not None and "could not be fetched" in job.error.message
    assert isinstance(info.value.__cause__, Exception)
    assert _mints(net) == client.projects._follow.mint_attempts  # bounded retries
    net.faults.clear()


def test_snapshot_mint_failure_fails_clearly(one_shot: Any, net: Any) -> None:
    """The REST sync path (jobCompleted without jobResult) mints too: same rule."""
    client = one_shot
    project = _silent(client, net)
    net.faults.rest_error(MINT, status=503, times=10_000)
    _push(client, net, "jobState", {"jobID": project.id, "type": "jobCompleted"})
    # the server's record says the job completed; the URL cannot be minted
    raw = {"id": project.id, "status": "completed", "imageCount": 1,
           "completedWorkerJobs": [{"imgID": "J1", "status": "jobCompleted"}]}
    client.projects._follow.apply_snapshot(project._state, raw)
    with pytest.raises(ProjectFailedError, match="could not be fetched"):
        project.wait(10)
    assert project.job("J1") is not None and project.job("J1").status == "failed"
    net.faults.clear()


# -- D3: frames that must not create state ------------------------------------------------------


@pytest.mark.parametrize("frame", [
    ("jobProgress", {"step": 1, "stepCount": 4}),
    ("jobProgress", {"imgID": "", "step": 1, "stepCount": 4}),
    ("jobProgress", {"imgID": None, "step": 1}),
    ("jobProgress", {"imgID": 7, "step": 1}),
    ("jobProgress", {"imgID": {"a": 1}, "step": 1}),
    ("jobProgress", {"imgID": "x" * 10_000, "step": 1}),
    ("jobState", {"type": "initiatingModel"}),
    ("jobState", {"type": "jobStarted", "imgID": ""}),
    ("jobState", {"type": "initiatingModel", "imgID": ["J"]}),
    ("jobETA", {"etaSeconds": 5}),
    ("jobResult", {"resultUrl": "https://x/1.png"}),
    ("jobError", {"imgID": 3, "error": 1, "error_message": "garbage id"}),
])
def test_frames_without_a_job_id_create_no_job(client: Any, net: Any,
                                               frame: tuple[str, dict[str, Any]]) -> None:
    project = _silent(client, net)
    msg_type, payload = frame
    _push(client, net, msg_type, {"jobID": project.id, **payload})
    _push(client, net, "jobResult", {"jobID": project.id, "imgID": "J",
                                     "resultUrl": "https://x/ok.png"})
    _push(client, net, "jobState", {"jobID": project.id, "type": "jobCompleted"})
    assert project.wait(10) == ["https://x/ok.png"]
    assert [j.id for j in project.jobs] == ["J"]  # no phantom job with id ''


@pytest.mark.parametrize("payload", [
    {"step": 1e308, "stepCount": 4},
    {"step": 5, "stepCount": 1e308},
    {"step": float("inf"), "stepCount": float("nan")},
    {"step": -1e308, "stepCount": -5},
    {"step": 10**400, "stepCount": 10**400},
    {"step": "3", "stepCount": [4], "progress": {"x": 1}},
    {"progress": 1e308},
    {"progress": -1e308},
    {"step": True, "stepCount": False},
])
def test_absurd_numbers_never_break_state_or_repr(client: Any, net: Any,
                                                  payload: dict[str, Any]) -> None:
    project = _silent(client, net)
    _push(client, net, "jobProgress", {"jobID": project.id, "imgID": "J", **payload})
    _push(client, net, "jobETA", {"jobID": project.id, "imgID": "J", "etaSeconds": 1e308})
    _push(client, net, "jobState", {"jobID": project.id, "type": "queued",
                                    "queuePosition": 10**400})
    _push(client, net, "jobResult", {"jobID": project.id, "imgID": "J",
                                     "resultUrl": "https://x/ok.png", "lastSeed": 1e308,
                                     "performedStepCount": 1e308})
    _push(client, net, "jobState", {"jobID": project.id, "type": "jobCompleted"})
    assert project.wait(10) == ["https://x/ok.png"]
    assert repr(project) and repr(project.jobs[0])
    assert 0 <= project.jobs[0].progress <= 100
    json.dumps(project.to_dict(), allow_nan=False)


def test_repr_with_absurd_step_while_running(client: Any, net: Any) -> None:
    project = _silent(client, net)
    _push(client, net, "jobProgress", {"jobID": project.id, "imgID": "J", "step": 3,
                                       "stepCount": 4})
    deadline = time.monotonic() + 5
    while not project.jobs and time.monotonic() < deadline:
        time.sleep(0.01)
    _push(client, net, "jobProgress", {"jobID": project.id, "imgID": "J", "step": 1e308})
    _push(client, net, "jobState", {"jobID": project.id, "type": "queued"})
    with project.events(timeout=5) as events:
        for event in events:
            if event.name == "queued":
                break
    assert "%" in repr(project) and "%" in repr(project.jobs[0])
    assert project.jobs[0].step == 3  # the absurd value was ignored


# -- server restart -------------------------------------------------------------------------


def _free_ports() -> tuple[int, int]:
    import socket

    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    return ports[0], ports[1]


@pytest.mark.parametrize("count", [6])
def test_projects_settle_quickly_after_a_server_restart(count: int) -> None:
    """The emulator is stopped and a fresh one (knowing nothing) starts on the same ports.

    Projects the first server had acknowledged are not in the new session's lists and the new
    server has no record of them: each fails at once with an error saying so — not after the
    6-minute inactivity sync. Projects created after the restart complete normally.
    """
    rest_port, socket_port = _free_ports()
    key = f"key-{uuid.uuid4()}"
    first = LocalSupernet(step_delay=5.0, rest_port=rest_port, socket_port=socket_port,
                          api_key=key).start()
    client = SogniClient(app_id=f"restart-{uuid.uuid4()}", api_key=key,
                         rest_endpoint=first.rest_url, socket_endpoint=first.socket_url,
                         retries=Retries(reconnect_base_delay=0.05, reconnect_max_delay=0.2))
    second = None
    before = set(threading.enumerate())
    try:
        projects = [client.projects.create(**IMAGE, positive_prompt=f"p{i}")
                    for i in range(count)]
        deadline = time.monotonic() + 10
        while not all(p.status in ("queued", "processing") for p in projects):
            assert time.monotonic() < deadline, [p.status for p in projects]
            time.sleep(0.01)
        first.stop()
        restarted = time.monotonic()
        second = LocalSupernet(step_delay=0, rest_port=rest_port, socket_port=socket_port,
                               api_key=key).start()
        outcomes = []
        for project in projects:
            with pytest.raises(ProjectFailedError) as info:
                project.wait(30)
            outcomes.append(str(info.value))
        settled = time.monotonic() - restarted
        assert all("no longer knows" in text for text in outcomes), outcomes
        assert settled < 30, settled
        after = client.projects.create(**IMAGE, positive_prompt="after the restart")
        assert len(after.wait(20)) == 1
    finally:
        client.close()
        for net in (first, second):
            if net is not None:
                net.stop()
    for thread in set(threading.enumerate()) - before:
        if thread.name.startswith("sogni-"):
            thread.join(2)
            assert not thread.is_alive(), f"{thread.name} outlived close()"
