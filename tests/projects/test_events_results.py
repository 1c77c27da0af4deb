"""The event and result surface: client-wide ``projects.on``, job-level ``on``/``events``,
``updated`` with the changed keys, ETA-only progress, ``job(id)``, ``to_dict``, saving to disk,
enhancement followed like a project, and ``timeout`` checked before anything waits."""

from __future__ import annotations

import json
import pathlib
import threading
import time
from typing import Any

import pytest

from sogni_sync import Limits
from sogni_sync.errors import ValidationError
from sogni_sync.projects import (
    JobCompletedEvent,
    JobProgressEvent,
    Project,
    ProjectCompletedEvent,
    ProjectEvent,
    ProjectUpdatedEvent,
    as_completed,
    wait_all,
)

IMAGE: dict[str, Any] = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}


def _silent(client: Any, net: Any, **extra: Any) -> Project:
    net.faults.forget_next("jobRequest")
    return client.projects.create(**{**IMAGE, "positive_prompt": "scripted", **extra})


def _push(client: Any, net: Any, msg_type: str, payload: Any) -> None:
    net.send(msg_type, payload, app_id=client.app_id)


def _until(predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    return predicate()


def test_client_wide_listeners_and_unsubscribe(client: Any) -> None:
    projects: list[Any] = []
    jobs: list[Any] = []
    done = threading.Event()

    def on_project(event: Any) -> None:
        projects.append(event)
        if event.name == "completed":
            done.set()

    stop_projects = client.projects.on("project", on_project)
    stop_jobs = client.projects.on("job", jobs.append)
    project = client.projects.create(**IMAGE, positive_prompt="followed")
    project.wait(20)
    assert done.wait(5)
    names = [e.name for e in projects if e.project_id == project.id]
    assert names[0] in ("queued", "updated") and "completed" in names
    assert all(getattr(e, "job_id", None) is None for e in projects)
    assert _until(lambda: any(isinstance(e, JobCompletedEvent) for e in jobs))
    assert all(e.job_id for e in jobs)
    stop_projects()
    stop_jobs()
    seen = len(projects) + len(jobs)
    client.projects.create(**IMAGE, positive_prompt="unheard").wait(20)
    time.sleep(0.2)
    assert len(projects) + len(jobs) == seen
    with pytest.raises(ValidationError):
        client.projects.on("availableModels", print)


def test_models_listener(client: Any, net: Any) -> None:
    lists: list[Any] = []
    stop = client.projects.on("models", lists.append)
    client.catalog.wait_for_models(10)
    assert _until(lambda: lists and lists[-1])
    assert {m.id for m in lists[-1]} == {m.id for m in client.catalog.available_models}
    stop()


def test_updated_events_name_the_changed_keys(client: Any, net: Any) -> None:
    project = _silent(client, net)
    updates: list[ProjectUpdatedEvent] = []
    everything: list[Any] = []

    def on_updated(event: ProjectEvent) -> None:
        assert isinstance(event, ProjectUpdatedEvent)
        updates.append(event)

    project.on("updated", on_updated)
    project.on("*", everything.append)
    _push(client, net, "jobState", {"jobID": project.id, "type": "queued", "queuePosition": 3})
    _push(client, net, "jobProgress", {"jobID": project.id, "imgID": "J", "step": 1,
                                       "stepCount": 4})
    assert _until(lambda: any(u.job_id == "J" and "step" in u.keys for u in updates))
    project_keys = {k for u in updates if u.job_id is None for k in u.keys}
    assert {"status", "queue_position", "jobs"} <= project_keys
    job_keys = {k for u in updates if u.job_id == "J" for k in u.keys}
    assert {"status", "step"} <= job_keys
    # "*" stays the readable story: no updates in it
    assert _until(lambda: any(e.name == "progress" for e in everything))
    assert not any(isinstance(e, ProjectUpdatedEvent) for e in everything)
    client.projects.cancel(project.id)


def test_job_level_on_events_and_wait(client: Any, net: Any) -> None:
    project = _silent(client, net, number_of_media=2)
    for job_id in ("A", "B"):
        _push(client, net, "jobProgress", {"jobID": project.id, "imgID": job_id, "step": 1,
                                           "stepCount": 4})
    assert _until(lambda: project.job("A") is not None and project.job("B") is not None)
    job = project.job("A")
    assert job is not None and project.job("nope") is None
    heard: list[Any] = []
    job.on("*", heard.append)
    _push(client, net, "jobResult", {"jobID": project.id, "imgID": "A",
                                     "resultUrl": "https://x/a.png", "lastSeed": "5"})
    events = list(job.events(timeout=5))
    assert events[-1].name == "job_completed" and {getattr(e, "job_id", "A") for e in events} \
        == {"A"}
    assert job.wait(5) == "https://x/a.png" and job.seed == 5
    assert _until(lambda: heard and heard[-1].name == "job_completed")
    assert all(e.job_id == "A" for e in heard)
    _push(client, net, "jobResult", {"jobID": project.id, "imgID": "B",
                                     "resultUrl": "https://x/b.png"})
    _push(client, net, "jobState", {"jobID": project.id, "type": "jobCompleted"})
    assert sorted(project.wait(5)) == ["https://x/a.png", "https://x/b.png"]


def test_eta_only_jobs_report_progress(client: Any, net: Any) -> None:
    project = _silent(client, net, type="video", model_id="wan_v2.2-14b-fp8_t2v_lightx2v",
                      steps=None)
    progress: list[JobProgressEvent] = []

    def on_progress(event: ProjectEvent) -> None:
        assert isinstance(event, JobProgressEvent)
        progress.append(event)

    project.on("progress", on_progress)
    _push(client, net, "jobState", {"jobID": project.id, "type": "jobStarted", "imgID": "V"})
    _push(client, net, "jobETA", {"jobID": project.id, "imgID": "V", "etaSeconds": 0.5})
    assert _until(lambda: getattr(project.job("V"), "eta", None) is not None)
    time.sleep(0.3)
    job = project.job("V")
    assert job is not None and 1 <= job.progress <= 95 and project.progress >= 1
    assert _until(lambda: progress and progress[-1].job_id == "V")
    _push(client, net, "jobETA", {"jobID": project.id, "imgID": "V", "etaSeconds": 0.01})
    time.sleep(0.2)
    assert job.progress == 95  # the reference caps ETA progress at 95 until the result
    client.projects.cancel(project.id)


def test_to_dict_is_json_ready(client: Any) -> None:
    project = client.projects.create(**IMAGE, positive_prompt="as json")
    project.wait(20)
    data = json.loads(json.dumps(project.to_dict(), allow_nan=False))
    assert data["id"] == project.id and data["status"] == "completed"
    assert data["progress"] == 100 and data["result_urls"] == project.result_urls
    assert data["params"]["positive_prompt"] == "as json"
    job = data["jobs"][0]
    assert job["id"] == project.jobs[0].id and job["status"] == "completed"
    assert project.jobs[0].to_dict() == job
    assert json.dumps(ProjectCompletedEvent(project.id, ("u",)).to_dict())


def test_prompt_to_file_in_two_lines(client: Any, tmp_path: pathlib.Path) -> None:
    project = client.projects.create(**IMAGE, positive_prompt="to disk", number_of_media=2)
    files = project.save(tmp_path / "out", timeout=20)
    assert len(files) == 2 and all(f.parent == tmp_path / "out" for f in files)
    assert all(f.read_bytes()[:4] == b"\x89PNG" for f in files)
    data = project.jobs[0].read(timeout=10)
    assert data in {f.read_bytes() for f in files}


@pytest.mark.parametrize("bad", ["5", True, float("nan"), -1, [1], b"5"])
def test_bad_timeouts_are_refused_before_waiting(client: Any, net: Any, bad: Any) -> None:
    project = _silent(client, net)
    calls: list[Any] = [project.wait, project.events, project.save,
                        lambda timeout: list(as_completed([project], timeout)),
                        lambda timeout: wait_all([project], timeout)]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(ValidationError, match="timeout"):
            call(timeout=bad)
        assert time.monotonic() - started < 1
    client.projects.cancel(project.id)


def test_enhancement_is_followed_like_a_project(client: Any) -> None:
    project = client.projects.create(**IMAGE, positive_prompt="a castle", seed=5)
    project.wait(20)
    job = project.jobs[0]
    assert job.enhancement is None
    enhanced = job.start_enhancement("heavy")
    assert isinstance(enhanced, Project) and job.enhancement is enhanced
    names = [e.name for e in enhanced.events(timeout=20)]
    assert names[-1] == "completed" and "job_completed" in names
    assert enhanced.result_urls and enhanced.jobs[0].result_url


def test_a_full_callback_queue_sheds_progress_but_never_results(
    emulator_client: Any, net: Any
) -> None:
    """``Limits.callback_queue`` bounds what a slow listener can pile up: past it, progress,
    ETA and update notifications are shed (and counted); started, completed and failed ones are
    still delivered, in order."""
    client = emulator_client("shed", limits=Limits(callback_queue=1))
    gate = threading.Event()
    jobs: list[Any] = []

    def slow(event: Any) -> None:
        gate.wait(10)  # the callback thread is stuck until the project finished
        jobs.append(event)

    stop = client.projects.on("job", slow)
    project = client.projects.create(**IMAGE, positive_prompt="slow listener")
    project.wait(20)
    assert client._transport.dispatcher.dropped > 0
    gate.set()
    assert _until(lambda: any(isinstance(e, JobCompletedEvent) for e in jobs))
    kept = [type(e).__name__ for e in jobs]
    assert kept.count("JobProgressEvent") < IMAGE["steps"]  # some progress went
    assert kept[-1] == "JobCompletedEvent" and "JobStartedEvent" in kept  # no result did
    stop()
