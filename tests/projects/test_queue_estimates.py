"""Queue start estimates and worker-ETA intervals: ``estimatedStartSeconds``/``queueStatus``/
``waitingReason`` of the ``queued`` frame while a project waits, ``etaMin``/``etaMax`` of a
job's progress while it renders."""

from __future__ import annotations

import time
from typing import Any

from sogni_sync import SogniClient
from sogni_sync.projects import ProjectQueuedEvent
from sogni_sync.testing import LocalSupernet

IMAGE: dict[str, Any] = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}


def _push(client: SogniClient, net: LocalSupernet, msg_type: str,
          payload: dict[str, Any]) -> None:
    net.send(msg_type, payload, app_id=client.app_id)


def _until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_queue_estimate_until_a_worker_starts(client: SogniClient, net: LocalSupernet) -> None:
    net.faults.forget_next("jobRequest")
    project = client.projects.create(**IMAGE, positive_prompt="waiting")
    queued: list[Any] = []
    client.projects.on("project", lambda e: queued.append(e)
                       if isinstance(e, ProjectQueuedEvent) else None)
    before = time.time()
    _push(client, net, "jobState", {
        "jobID": project.id, "type": "queued", "queuePosition": 3,
        "estimatedStartSeconds": 120, "queueStatus": "waiting",
        "waitingReason": {"reason": "concurrency_limit", "message": "2 of 2 renders running",
                          "paymentModel": "subscription"}})
    _until(lambda: project.queue_status == "waiting")
    assert project.estimated_start_at is not None
    assert before + 119 <= project.estimated_start_at <= time.time() + 121
    assert project.waiting_reason is not None
    assert project.waiting_reason.reason == "concurrency_limit"
    _until(lambda: bool(queued))
    assert (queued[0].queue_position, queued[0].estimated_start_seconds,
            queued[0].queue_status) == (3, 120.0, "waiting")
    _push(client, net, "jobState", {"jobID": project.id, "type": "queued", "queuePosition": 0,
                                    "estimatedStartSeconds": None, "queueStatus": "no-workers"})
    _until(lambda: project.queue_status == "no-workers")
    assert project.estimated_start_at is None and project.waiting_reason is None
    _push(client, net, "jobState", {"jobID": project.id, "imgID": "J1", "type": "jobStarted",
                                    "workerName": "w", "jobIndex": 0})
    _until(lambda: bool(project.jobs))
    assert (project.queue_status, project.estimated_start_at) == (None, None)
    client.projects.cancel(project.id)


def test_bad_queue_estimates_are_ignored(client: SogniClient, net: LocalSupernet) -> None:
    net.faults.forget_next("jobRequest")
    project = client.projects.create(**IMAGE, positive_prompt="odd")
    _push(client, net, "jobState", {"jobID": project.id, "type": "queued", "queuePosition": 1,
                                    "estimatedStartSeconds": -5, "queueStatus": "sleeping",
                                    "waitingReason": {"reason": "bored", "message": "x"}})
    _until(lambda: project.queue_position == 1)
    assert (project.estimated_start_at, project.queue_status, project.waiting_reason) == (
        None, None, None)
    client.projects.cancel(project.id)


def test_eta_interval_of_a_rendering_job(client: SogniClient, net: LocalSupernet) -> None:
    net.faults.forget_next("jobRequest")
    project = client.projects.create(**IMAGE, positive_prompt="eta")
    base = {"jobID": project.id, "imgID": "J1"}
    _push(client, net, "jobProgress", {**base, "step": 1, "stepCount": 4, "etaMin": 8,
                                       "etaMax": 14})
    _until(lambda: bool(project.jobs) and project.jobs[0].eta_range is not None)
    assert project.jobs[0].eta_range == (8.0, 14.0)
    _push(client, net, "jobProgress", {**base, "step": 2, "stepCount": 4, "etaMin": 0,
                                       "etaMax": 0})  # no interval this step: keep the last
    _until(lambda: project.jobs[0].step == 2)
    assert project.jobs[0].eta_range == (8.0, 14.0)
    client.projects.cancel(project.id)


def test_emulated_video_reports_an_interval(client: SogniClient, net: LocalSupernet) -> None:
    net.options.step_delay = 0.02
    project = client.projects.create_video(
        model_id="wan_v2.2-14b-fp8_t2v_lightx2v", positive_prompt="a wave", duration=1,
        width=480, height=480)
    _until(lambda: bool(project.jobs) and project.jobs[0].eta_range is not None)
    low, high = project.jobs[0].eta_range
    assert 0 <= low <= high
    project.wait(timeout=60)
