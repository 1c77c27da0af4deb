"""Durable project ids and ``projects.recover()``: a project created by a client that is gone
is picked up by a new client of the same app id while running, after it finished, and an id the
server does not know is reported clearly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from sogni_sync import SogniClient
from sogni_sync.errors import ProjectError, ProjectNotFoundError, ValidationError
from sogni_sync.testing import LocalSupernet
from tests.batch.helpers import MODEL


def _pair(net: LocalSupernet) -> tuple[str, Callable[[], SogniClient]]:
    app_id = f"recover-{uuid.uuid4()}"
    return app_id, lambda: SogniClient(app_id=app_id, api_key=net.api_key,
                                       rest_endpoint=net.rest_url,
                                       socket_endpoint=net.socket_url)


_DIE = """
import os, signal, sys
from sogni_sync import SogniClient
app_id, key, rest, sock, pid = sys.argv[1:]
client = SogniClient(app_id=app_id, api_key=key, rest_endpoint=rest, socket_endpoint=sock)
client.projects.create_image("{model}", "a lighthouse", steps=4, number_of_media=2,
                             project_id=pid)
client.connect()
os.kill(os.getpid(), signal.SIGKILL)  # dies with the project running, nothing canceled
"""


def _submit_and_die(net: LocalSupernet, app_id: str, pid: str) -> None:
    """A separate process creates the project and is SIGKILLed right after."""
    proc = subprocess.run([sys.executable, "-c", _DIE.format(model=MODEL), app_id, net.api_key,
                           net.rest_url, net.socket_url, pid], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert [r["jobID"] for r in net.received("jobRequest")] == [pid]


def test_project_id_is_used_on_the_wire(client: SogniClient, net: LocalSupernet) -> None:
    pid = str(uuid.uuid4())
    before = len(net.received("jobRequest"))  # the emulator is shared with earlier tests
    project = client.projects.create_image(MODEL, "a cat", steps=2, project_id=pid)
    assert project.id == pid.upper()
    assert len(project.wait(10)) == 1
    assert [r["jobID"] for r in net.received("jobRequest")][before:] == [pid.upper()]


@pytest.mark.parametrize("bad", ["", "abc", "12345678-1234-1234-1234-1234567890", 42,
                                 "../../etc/passwd"])
def test_bad_project_ids_are_refused_before_io(client: SogniClient, net: LocalSupernet,
                                               bad: Any) -> None:
    with pytest.raises(ValidationError, match="project_id"):
        client.projects.create(type="image", model_id=MODEL, positive_prompt="x",
                               project_id=bad)
    with pytest.raises(ValidationError, match="project_id"):
        client.projects.recover(bad)
    assert net.received("jobRequest") == []


def test_recover_while_running(net: LocalSupernet) -> None:
    net.options.step_delay = 0.5  # 2 s a project: still running when the new process looks
    app_id, make = _pair(net)
    pid = str(uuid.uuid4()).upper()
    _submit_and_die(net, app_id, pid)
    with make() as second:
        project = second.projects.recover(pid)
        assert not project.done()
        urls = project.wait(20)
        assert len(urls) == 2
        assert all(len(job.read(10)) > 100 for job in project.jobs)
    assert len(net.received("jobRequest")) == 1


def test_recover_after_it_finished(net: LocalSupernet) -> None:
    app_id, make = _pair(net)
    pid = str(uuid.uuid4()).upper()
    _submit_and_die(net, app_id, pid)
    deadline = time.monotonic() + 10
    while net.active_projects() and time.monotonic() < deadline:
        time.sleep(0.02)
    with make() as second:
        project = second.projects.recover(pid)
        assert project.status == "completed"
        assert len(project.wait(5)) == 2
        assert project.jobs[0].read(10)[:4] in (b"\x89PNG", b"RIFF", b"\xff\xd8\xff\xe0")
    # a third process (a new session: the unclaimed list was delivered once) still finds it
    with make() as third:
        assert len(third.projects.recover(pid).wait(5)) == 2


def test_recover_unknown_id(client: SogniClient) -> None:
    with pytest.raises(ProjectNotFoundError, match="no project"):
        client.projects.recover(str(uuid.uuid4()))


def test_recover_running_under_another_app_id(net: LocalSupernet,
                                              client: SogniClient) -> None:
    net.options.step_delay = 0.5
    pid = str(uuid.uuid4()).upper()
    _submit_and_die(net, _pair(net)[0], pid)
    with pytest.raises(ProjectError, match="another app id"):
        client.projects.recover(pid)


def test_recover_a_tracked_project_returns_its_handle(client: SogniClient) -> None:
    project = client.projects.create_image(MODEL, "a dog", steps=2)
    assert client.projects.recover(project.id) is project
