"""``jobRetry``: a render the server moves to another worker keeps its place in the project,
starts over and finishes under its new worker's id -- never a job failure."""

from __future__ import annotations

from typing import Any

from sogni_sync import SogniClient
from sogni_sync.projects import JobFailedEvent, JobStartedEvent
from sogni_sync.testing import LocalSupernet

from .frames import IMAGE, push, until


def test_a_moved_render_finishes_on_its_new_worker(client: SogniClient,
                                                   net: LocalSupernet) -> None:
    net.faults.retry_next_jobs(1)
    project = client.projects.create(**IMAGE, positive_prompt="moved")
    urls = project.wait(timeout=30)
    assert len(urls) == 1 and len(project.jobs) == 1
    job = project.jobs[0]
    assert job.status == "completed" and job.worker_name == "emulator-worker-1-b"
    assert job.step == 4 and job.progress == 100
    retry = net.sent("jobRetry")
    assert len(retry) == 1 and retry[0]["imgID"] != job.id  # the abandoned attempt's id
    assert project.job(job.id) is not None


def test_one_of_several_renders_moves(client: SogniClient, net: LocalSupernet) -> None:
    net.faults.retry_next_jobs(1)
    project = client.projects.create(**IMAGE, positive_prompt="three", number_of_media=3)
    assert len(project.wait(timeout=30)) == 3
    assert len(project.jobs) == 3 and all(j.status == "completed" for j in project.jobs)
    assert sorted(j.job_index for j in project.jobs) == [0, 1, 2]


def test_retry_resets_the_attempt_and_reclaims_by_index(client: SogniClient,
                                                        net: LocalSupernet) -> None:
    net.faults.forget_next("jobRequest")  # recorded, never run: the test plays the server
    project = client.projects.create(**IMAGE, positive_prompt="scripted")
    pid = project.id
    seen: list[Any] = []
    client.projects.on("job", seen.append)
    push(client, net, "jobState", {"jobID": pid, "imgID": "A1", "type": "jobStarted",
                          "workerName": "w1", "jobIndex": 0})
    push(client, net, "jobProgress", {"jobID": pid, "imgID": "A1", "step": 3, "stepCount": 4})
    until(lambda: bool(project.jobs) and project.jobs[0].step == 3)
    push(client, net, "jobRetry", {"jobID": pid, "imgID": "A1", "jobIndex": 0, "attempt": 1,
                          "maxAttempts": 3, "isFromWorker": True, "error": 1001,
                          "error_message": "worker lost"})
    until(lambda: project.jobs[0].status == "pending")
    job = project.jobs[0]
    assert (job.step, job.worker_name, job.progress) == (0, None, 0)
    assert project.status != "failed"
    push(client, net, "jobState", {"jobID": pid, "imgID": "B2", "type": "jobStarted",
                          "workerName": "w2", "jobIndex": 0})
    push(client, net, "jobProgress", {"jobID": pid, "imgID": "B2", "step": 1, "stepCount": 4})
    until(lambda: project.jobs[0].id == "B2" and project.jobs[0].step == 1)
    assert len(project.jobs) == 1 and project.jobs[0].worker_name == "w2"
    assert project.job("A1") is None
    client.projects.cancel(pid)
    assert not [e for e in seen if isinstance(e, JobFailedEvent)]
    assert len([e for e in seen if isinstance(e, JobStartedEvent)]) <= 1


def test_a_retry_for_a_finished_or_unknown_job_is_ignored(client: SogniClient,
                                                          net: LocalSupernet) -> None:
    project = client.projects.create(**IMAGE, positive_prompt="done")
    project.wait(timeout=30)
    job = project.jobs[0]
    push(client, net, "jobRetry", {"jobID": project.id, "imgID": job.id, "jobIndex": 0})
    push(client, net, "jobRetry", {"jobID": project.id, "imgID": "nope"})
    client.projects.get_status(project.id)  # a round trip: the frames were read by now
    assert project.jobs[0].status == "completed" and project.status == "completed"
