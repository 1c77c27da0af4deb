"""Queue start estimates and worker-ETA intervals: ``estimatedStartSeconds``/``queueStatus``/
``waitingReason`` of the ``queued`` frame while a project waits, ``etaMin``/``etaMax`` of a
job's progress while it renders."""

from __future__ import annotations

import time
from typing import Any

from sogni_sync import SogniClient
from sogni_sync.projects import ProjectQueuedEvent
from sogni_sync.testing import LocalSupernet

from .frames import IMAGE, push, until


def test_queue_estimate_until_a_worker_starts(client: SogniClient, net: LocalSupernet) -> None:
    net.faults.forget_next("jobRequest")
    project = client.projects.create(**IMAGE, positive_prompt="waiting")
    queued: list[Any] = []
    client.projects.on("project", lambda e: queued.append(e)
                       if isinstance(e, ProjectQueuedEvent) else None)
    before = time.time()
    push(client, net, "jobState", {
        "jobID": project.id, "type": "queued", "queuePosition": 3,
        "estimatedStartSeconds": 120, "queueStatus": "waiting",
        "waitingReason": {"reason": "concurrency_limit", "message": "2 of 2 renders running",
                          "paymentModel": "subscription"}})
    until(lambda: project.queue_status == "waiting")
    assert project.estimated_start_at is not None
    assert before + 119 <= project.estimated_start_at <= time.time() + 121
    assert project.waiting_reason is not None
    assert project.waiting_reason.reason == "concurrency_limit"
    until(lambda: bool(queued))
    assert (queued[0].queue_position, queued[0].estimated_start_seconds,
            queued[0].queue_status) == (3, 120.0, "waiting")
    push(client, net, "jobState", {"jobID": project.id, "type": "queued", "queuePosition": 0,
                                    "estimatedStartSeconds": None, "queueStatus": "no-workers"})
    until(lambda: project.queue_status == "no-workers")
    assert project.estimated_start_at is None and project.waiting_reason is None
    push(client, net, "jobState", {"jobID": project.id, "imgID": "J1", "type": "jobStarted",
                                    "workerName": "w", "jobIndex": 0})
    until(lambda: bool(project.jobs))
    assert (project.queue_status, project.estimated_start_at) == (None, None)
    client.projects.cancel(project.id)


def test_bad_queue_estimates_are_ignored(client: SogniClient, net: LocalSupernet) -> None:
    net.faults.forget_next("jobRequest")
    project = client.projects.create(**IMAGE, positive_prompt="odd")
    push(client, net, "jobState", {"jobID": project.id, "type": "queued", "queuePosition": 1,
                                    "estimatedStartSeconds": -5, "queueStatus": "sleeping",
                                    "waitingReason": {"reason": "bored", "message": "x"}})
    until(lambda: project.queue_position == 1)
    assert (project.estimated_start_at, project.queue_status, project.waiting_reason) == (
        None, None, None)
    client.projects.cancel(project.id)


def test_eta_interval_of_a_rendering_job(client: SogniClient, net: LocalSupernet) -> None:
    net.faults.forget_next("jobRequest")
    project = client.projects.create(**IMAGE, positive_prompt="eta")
    base = {"jobID": project.id, "imgID": "J1"}
    push(client, net, "jobProgress", {**base, "step": 1, "stepCount": 4, "etaMin": 8,
                                       "etaMax": 14})
    until(lambda: bool(project.jobs) and project.jobs[0].eta_range is not None)
    assert project.jobs[0].eta_range == (8.0, 14.0)
    push(client, net, "jobProgress", {**base, "step": 2, "stepCount": 4, "etaMin": 0,
                                       "etaMax": 0})  # no interval this step: keep the last
    until(lambda: project.jobs[0].step == 2)
    assert project.jobs[0].eta_range == (8.0, 14.0)
    client.projects.cancel(project.id)


def test_emulated_video_reports_an_interval(client: SogniClient, net: LocalSupernet) -> None:
    net.options.step_delay = 0.02
    project = client.projects.create_video(
        model_id="wan_v2.2-14b-fp8_t2v_lightx2v", positive_prompt="a wave", duration=1,
        width=480, height=480)
    until(lambda: bool(project.jobs) and project.jobs[0].eta_range is not None)
    low, high = project.jobs[0].eta_range
    assert 0 <= low <= high
    project.wait(timeout=60)
