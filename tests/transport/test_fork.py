"""Fork safety: a client used in a forked child rebuilds itself; the parent's connections stay.

The emulator runs in this (parent) process and tells its connections apart: app ids of the
sockets, the client address (``RestCall.peer``) of every REST call.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from sogni_sync import SogniClient

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    # forking a process with threads is what these tests are about (Python 3.12+ warns of it)
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

IMAGE: dict[str, Any] = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}
CHILD_TIMEOUT = 30.0


def _in_child(work: Callable[[], dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """Run ``work`` in a forked child; its exit code and the JSON it reported."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(read_fd)
            report = work()
            os.write(write_fd, json.dumps(report).encode())
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(write_fd)
    status: list[int] = []
    waiter = threading.Thread(target=lambda: status.append(os.waitpid(pid, 0)[1]))
    waiter.start()
    waiter.join(CHILD_TIMEOUT)
    if waiter.is_alive():
        os.kill(pid, signal.SIGKILL)
        waiter.join()
        pytest.fail("the forked child did not finish")
    with os.fdopen(read_fd, "rb") as fh:
        raw = fh.read()
    return os.waitstatus_to_exitcode(status[0]), (json.loads(raw) if raw else {})


def _peers(net: Any, start: int) -> set[str]:
    return {call.peer for call in net.rest_calls[start:] if call.host == "rest"}


def _connection_of(net: Any, app_id: str) -> set[int]:
    return {f.connection for f in net.frames if f.app_id == app_id and f.type == "authenticated"}


def test_parent_and_child_both_work_after_fork(make_client: Any, sogni_supernet: Any,
                                               tmp_path: Any) -> None:
    net = sogni_supernet
    parent = make_client()
    events: list[str] = []
    parent.on("disconnected", lambda payload: events.append(f"disconnected {payload}"))
    authenticated = threading.Semaphore(0)
    parent.on("authenticated", lambda payload: authenticated.release())
    parent.connect(timeout=5)
    assert authenticated.acquire(timeout=5)
    start = len(net.rest_calls)
    parent.account.account_balance()
    parent_peers = _peers(net, start)
    assert len(parent_peers) == 1
    parent_conns = _connection_of(net, parent.app_id)
    assert len(parent_conns) == 1
    child_start = len(net.rest_calls)

    def child() -> dict[str, Any]:
        assert parent.connection_state in ("idle", "connecting")  # nothing of the parent's
        project = parent.projects.create(**IMAGE, positive_prompt="in the child")
        urls = project.wait(timeout=20)
        data = parent._transport.rest.get_bytes(urls[0], timeout=10)
        parent.account.account_balance()
        network = parent.account.switch_network("relaxed", timeout=5)  # account events flow
        assert authenticated.acquire(timeout=5)  # the application's callbacks came along
        report = {"app_id": parent.app_id, "pid": os.getpid(), "urls": len(urls),
                  "bytes": len(data), "state": parent.connection_state, "network": network}
        parent.close()  # must not touch the parent's socket or pool
        return report

    code, report = _in_child(child)
    assert code == 0, report
    assert report["app_id"] == f"{parent.app_id}-{report['pid']}"
    assert report["urls"] == 1 and report["bytes"] > 0 and report["state"] == "connected"
    assert report["network"] == "relaxed" and parent.network == "fast"
    child_peers = _peers(net, child_start)
    assert child_peers and child_peers.isdisjoint(parent_peers)  # never the parent's pool
    assert _connection_of(net, report["app_id"])  # its own socket, with its own app id

    # The parent's connections went on untouched: same socket, same keep-alive connection.
    again = len(net.rest_calls)
    parent.account.account_balance()
    assert _peers(net, again) == parent_peers
    project = parent.projects.create(**IMAGE, positive_prompt="in the parent")
    assert len(project.wait(timeout=20)) == 1
    assert _connection_of(net, parent.app_id) == parent_conns
    jobs = [f for f in net.frames if f.type == "jobRequest" and f.app_id == parent.app_id]
    assert jobs and {f.connection for f in jobs} == parent_conns
    assert events == [] and parent.connection_state == "connected"
    assert parent.app_id in net.app_ids and report["app_id"] not in net.app_ids


def test_child_state_starts_empty_and_grandchild_derives_from_configured_id(
    make_client: Any,
) -> None:
    parent = make_client(disable_socket=True)
    configured = parent.app_id
    parent_projects = parent.projects

    def child() -> dict[str, Any]:
        fresh = parent.projects is not parent_projects
        first = parent.app_id

        def grandchild() -> dict[str, Any]:
            return {"app_id": parent.app_id, "pid": os.getpid()}

        code, nested = _in_child(grandchild)
        return {"fresh": fresh, "app_id": first, "pid": os.getpid(), "nested": nested,
                "code": code}

    code, report = _in_child(child)
    assert code == 0 and report["code"] == 0
    assert report["fresh"] is True
    assert report["app_id"] == f"{configured}-{report['pid']}"
    assert report["nested"]["app_id"] == f"{configured}-{report['nested']['pid']}"
    assert parent.app_id == configured and parent.projects is parent_projects


_POOL_CLIENT: SogniClient | None = None


def _pool_work(i: int) -> tuple[int, str, int]:
    client = _POOL_CLIENT
    assert client is not None
    project = client.projects.create(**IMAGE, positive_prompt=f"pool {i}")
    return os.getpid(), client.app_id, len(project.wait(timeout=20))


def test_fork_pool_with_module_level_client(make_client: Any, sogni_supernet: Any) -> None:
    global _POOL_CLIENT
    client = _POOL_CLIENT = make_client()
    client.connect(timeout=5)  # connected before the fork, like a client made at import
    try:
        with multiprocessing.get_context("fork").Pool(4) as pool:
            results = pool.map_async(_pool_work, range(8)).get(timeout=60)
    finally:
        _POOL_CLIENT = None
    assert [n for _, _, n in results] == [1] * 8
    for pid, app_id, _ in results:
        assert pid != os.getpid() and app_id == f"{client.app_id}-{pid}"
    assert client.connection_state == "connected"
    assert len(client.projects.create(**IMAGE, positive_prompt="parent").wait(timeout=20)) == 1
