"""Project/job state machine against the emulator: events, cancel, failure, timeouts, threads."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from sogni_sync import Retries
from sogni_sync.errors import (
    ClientClosedError,
    ProjectCanceledError,
    ProjectFailedError,
    TimeoutError,
)
from sogni_sync.projects import (
    JobCompletedEvent,
    JobPreviewEvent,
    JobProgressEvent,
    JobStartedEvent,
    ProjectCompletedEvent,
    ProjectFailedEvent,
    ProjectQueuedEvent,
    as_completed,
    wait_all,
)

IMAGE = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}


def _image(client: Any, prompt: str = "a red apple", **extra: Any) -> Any:
    return client.projects.create(**{**IMAGE, "positive_prompt": prompt, **extra})


def _silent(client: Any, net: Any, **extra: Any) -> Any:
    """A project the emulator records but never runs, so the test scripts its events."""
    net.faults.forget_next("jobRequest")
    return _image(client, **extra)


def eventually(predicate: Any, timeout: float = 5.0) -> Any:
    """Wait for the emulator's own bookkeeping (it records frames asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.005)


def _push(client: Any, net: Any, msg_type: str, payload: dict[str, Any]) -> None:
    net.send(msg_type, payload, app_id=client.app_id)


def test_events_in_order_with_previews(client: Any) -> None:
    project = _image(client, number_of_previews=2)
    events = list(project.events(timeout=20))
    kinds = [type(e) for e in events]
    assert kinds[0] is ProjectQueuedEvent and kinds[-1] is ProjectCompletedEvent
    first = {k: kinds.index(k) for k in (JobStartedEvent, JobProgressEvent, JobCompletedEvent)}
    assert first[JobStartedEvent] < first[JobProgressEvent] < first[JobCompletedEvent]
    completed_at = kinds.index(JobCompletedEvent)
    assert JobProgressEvent not in kinds[completed_at:]
    steps = [e.step or 0 for e in events if isinstance(e, JobProgressEvent)]
    assert steps == sorted(steps) and steps[-1] >= 4
    assert any(isinstance(e, JobPreviewEvent) and e.url for e in events)
    assert project.jobs[0].preview_url
    assert events[-1].result_urls == tuple(project.result_urls)
    # events() after the end replays the history and ends at once
    assert [type(e) for e in project.events(timeout=1)][-1] is ProjectCompletedEvent


def test_callbacks_and_done_callbacks_run_on_the_callback_thread(client: Any) -> None:
    seen: list[tuple[str, str]] = []
    done = threading.Event()
    project = _image(client)
    project.on("*", lambda e: seen.append((e.name, threading.current_thread().name)))
    project.add_done_callback(lambda p: done.set())
    project.wait(20)
    assert done.wait(5)
    late = threading.Event()
    project.add_done_callback(lambda p: late.set())  # already done: still called
    assert late.wait(5)
    names = [n for n, _ in seen]
    assert names[0] == "queued" and "completed" in names
    assert {t for _, t in seen} == {"sogni-callbacks"}


def test_failure_marker(client: Any) -> None:
    project = _image(client, prompt="a red apple [[fail]]")
    with pytest.raises(ProjectFailedError) as info:
        project.wait(20)
    assert project.status == "failed" and info.value.error is project.error
    assert isinstance(project.error.code, int) and project.error.message
    assert project.jobs[0].status == "failed"
    assert any(isinstance(e, ProjectFailedEvent) for e in project.events(timeout=1))


def test_one_failed_job_does_not_fail_a_batch(client: Any, net: Any) -> None:
    project = _silent(client, net, number_of_media=2)
    pid = project.id
    _push(client, net, "jobError", {"jobID": pid, "imgID": "J1", "isFromWorker": True,
                                    "error": "workerDisconnected", "error_message": "gone"})
    _push(client, net, "jobResult", {"jobID": pid, "imgID": "J2", "resultUrl": "https://x/2.png",
                                     "lastSeed": "7"})
    _push(client, net, "jobState", {"jobID": pid, "type": "jobCompleted"})
    assert project.wait(10) == ["https://x/2.png"]
    failed = next(j for j in project.jobs if j.id == "J1")
    assert failed.error is not None and failed.error.code == 5002
    assert failed.error.original_code == "workerDisconnected"


def test_nsfw_and_user_canceled_results(client: Any, net: Any) -> None:
    project = _silent(client, net, number_of_media=2)
    pid = project.id
    _push(client, net, "jobResult", {"jobID": pid, "imgID": "A", "triggeredNSFWFilter": True,
                                     "lastSeed": "1"})
    _push(client, net, "jobResult", {"jobID": pid, "imgID": "B", "userCanceled": True})
    _push(client, net, "jobState", {"jobID": pid, "type": "jobCompleted"})
    assert project.wait(10) == []
    jobs = {j.id: j for j in project.jobs}
    assert jobs["A"].is_nsfw and jobs["A"].result_url is None and jobs["A"].status == "completed"
    assert jobs["B"].status == "canceled" and jobs["B"].user_canceled
    # no URL was minted for either
    assert not [c for c in net.rest_calls if c.path == "/v1/image/downloadUrl"]


def test_cancel(client: Any, net: Any) -> None:
    project = _silent(client, net, number_of_media=4)
    _push(client, net, "jobProgress", {"jobID": project.id, "imgID": "J", "step": 1,
                                       "stepCount": 4})
    assert project.cancel() is True
    assert project.status == "canceled" and project.done()
    assert all(j.status == "canceled" for j in project.jobs)
    with pytest.raises(ProjectCanceledError):
        project.wait(1)
    cancel = eventually(lambda: [m for m in net.received("jobError")
                                 if m["jobID"] == project.id])
    assert cancel == [{"jobID": project.id, "error": "artistCanceled",
                       "error_message": "artistCanceled", "isFromWorker": False}]
    assert project not in client.projects.tracked_projects


def test_cancel_after_completion_is_refused_locally(client: Any, net: Any) -> None:
    project = client.projects.create(**IMAGE, positive_prompt="done", number_of_media=1)
    project.wait(10)
    assert project.cancel() is False  # like Future.cancel(): too late, nothing is sent
    assert project.status == "completed"
    assert not [m for m in net.received("jobError") if m["jobID"] == project.id]


def test_wait_timeout(client: Any, net: Any) -> None:
    project = _silent(client, net)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        project.wait(0.2)
    assert time.monotonic() - started < 2
    with pytest.raises(TimeoutError):
        list(project.events(timeout=0.2))
    assert not project.done()


def test_inactivity_sync_fails_silent_project(client: Any, net: Any) -> None:
    api = client.projects
    api.inactivity_timeout = 0.1
    project = _silent(client, net)
    with pytest.raises(ProjectFailedError) as info:
        project.wait(10)
    assert info.value.error.message == "Project timed out. Please try again or contact support."
    syncs = [c for c in net.rest_calls if c.path == f"/v1/projects/{project.id}"]
    assert len(syncs) == api.max_failed_syncs
    assert eventually(lambda: any(m["jobID"] == project.id for m in net.received("jobError")))


def test_single_job_project_fails_when_its_job_fails(client: Any, net: Any) -> None:
    project = _silent(client, net)
    _push(client, net, "jobError", {"jobID": project.id, "imgID": "J", "isFromWorker": True,
                                    "error": 42, "error_message": "boom"})
    with pytest.raises(ProjectFailedError) as info:
        project.wait(10)
    assert info.value.error.code == 42 and info.value.error.message == "boom"


def test_reconnect_keeps_projects_running(client: Any, net: Any) -> None:
    project = _silent(client, net)
    eventually(lambda: net.received("jobRequest"))
    net.disconnect(code=0)  # abrupt drop; the client reconnects
    client.connect(timeout=10)
    # The unacknowledged request is reconciled (re-sent once) or scripted here; either way
    # the project must not fail because of the recoverable drop.
    _push(client, net, "jobResult", {"jobID": project.id, "imgID": "J",
                                     "resultUrl": "https://x/1.png"})
    _push(client, net, "jobState", {"jobID": project.id, "type": "jobCompleted"})
    urls = project.wait(10)
    assert project.status == "completed" and len(urls) >= 1


def test_terminal_disconnect_fails_projects(client: Any, net: Any) -> None:
    project = _silent(client, net)
    net.disconnect(code=4015, reason="taken over")
    with pytest.raises(ProjectFailedError) as info:
        project.wait(10)
    assert info.value.error.code == 0 and info.value.error.message == "Server disconnected"


def test_close_wakes_every_waiter(net: Any, emulator_client: Any) -> None:
    client = emulator_client("projects-test")
    project = _silent(client, net)
    errors: list[BaseException] = []

    def waiter() -> None:
        try:
            project.wait()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=waiter) for _ in range(4)]
    for t in threads:
        t.start()
    # Whether a waiter is already blocked or only about to wait, it must end the same way.
    client.close()
    for t in threads:
        t.join(5)
    assert len(errors) == 4 and all(isinstance(e, ClientClosedError) for e in errors)


def test_32_threads_share_one_client(client: Any, run_threads: Any) -> None:
    results: dict[int, list[str]] = {}

    def worker(n: int) -> None:
        projects = [_image(client, prompt=f"thread {n} #{i}") for i in range(2)]
        urls: list[str] = []
        for p in projects:
            urls += p.wait(30)
        results[n] = urls

    failures = run_threads(worker, 32)
    assert not failures
    assert len(results) == 32 and all(len(u) == 2 for u in results.values())
    assert len({u for urls in results.values() for u in urls}) == 64


def test_as_completed_and_wait_all(client: Any) -> None:
    projects = [_image(client, prompt=f"p{i}") for i in range(5)]
    seen = list(as_completed(projects, timeout=20))
    assert sorted(p.id for p in seen) == sorted(p.id for p in projects)
    results = wait_all(projects, timeout=20)
    assert [len(r) for r in results] == [1] * 5
    failing = _image(client, prompt="x [[fail]]")
    mixed = wait_all([projects[0], failing], timeout=20, return_exceptions=True)
    assert isinstance(mixed[1], ProjectFailedError)
    with pytest.raises(ProjectFailedError):
        wait_all([failing], timeout=20)


def test_as_completed_timeout(client: Any, net: Any) -> None:
    project = _silent(client, net)
    with pytest.raises(TimeoutError):
        list(as_completed([project], timeout=0.2))


def test_result_url_refresh(client: Any, net: Any) -> None:
    project = _image(client)
    project.wait(20)
    job = project.jobs[0]
    first = job.get_result_url()
    assert job.get_result_url() == first  # cached, not re-minted

    def mints() -> int:
        return len([c for c in net.rest_calls if c.path == "/v1/image/downloadUrl"])

    before = eventually(mints)
    fresh = job.get_result_url(refresh=True)
    assert fresh.startswith("http") and job.result_url == fresh
    assert eventually(lambda: mints() == before + 1)


def test_finished_projects_are_pruned(client: Any) -> None:
    client.projects.prune_after = 0.1
    project = _image(client)
    project.wait(20)
    deadline = time.monotonic() + 5
    while project in client.projects.tracked_projects and time.monotonic() < deadline:
        time.sleep(0.02)
    assert project not in client.projects.tracked_projects
    assert project.result_urls  # the handle keeps working


def test_enhance(client: Any, net: Any) -> None:
    project = _image(client, prompt="a castle", size_preset="square_hd", seed=5)
    project.wait(20)
    url = project.jobs[0].enhance("light", timeout=20)
    assert url.startswith("http")
    request = net.received("jobRequest")[-1]
    kf = request["keyFrames"][0]
    assert kf["modelID"] == "flux1-schnell-fp8" and kf["steps"] == 5 and kf["guidanceScale"] == 1
    assert kf["strength"] == 0.15000000000000002 and kf["hasStartingImage"] is True
    assert kf["positivePrompt"] == "a castle" and kf["sizePreset"] == "square_hd"
    assert request["network"] == "fast"
    uploads = [c.query for c in net.rest_calls if c.path == "/v1/image/uploadUrl"]
    assert uploads[-1]["type"] == "startingImage"


def test_lost_request_fails_the_wait_with_its_error(client: Any, net: Any) -> None:
    from sogni_sync.errors import RequestLostError

    project = _silent(client, net)
    # the transport's notification when a written request's fate is unknown after a drop
    client._transport._emit_connection("request_lost", {
        "request_id": project.id, "type": "jobRequest", "error": RequestLostError("lost")})
    with pytest.raises(RequestLostError):
        project.wait(5)


def test_project_finished_while_disconnected_completes_on_reconnect(
        net: Any, emulator_client: Any) -> None:
    """The server reports it in ``authenticated.unclaimedCompletedProjects``: no 2-minute wait."""
    client = emulator_client("recovery", retries=Retries(reconnect_base_delay=0.01,
                                                         reconnect_max_delay=0.05))
    client.connect(timeout=10)
    # The connection dies just before the first result goes out; the project finishes unseen.
    net.faults.close_at("jobResult", code=0, app_id=client.app_id)
    project = client.projects.create(**IMAGE, positive_prompt="while away", number_of_media=2)
    urls = project.wait(10)
    assert project.status == "completed" and len(urls) == 2
    assert all(job.result_url for job in project.jobs)
