"""The server restarts mid-batch: every in-flight project settles within 30 s of the restart.

The emulator dies while projects are queued, running and still being submitted — the socket
proxy in front of it first swallows the client's last requests (a c2s stall), so those are in
doubt — and a fresh one (knowing nothing) starts on the same ports. Each project must then
complete, or fail with an error saying the Supernet no longer knows it — never hang until the
inactivity sync.
Requests in doubt at the stop are asked about (``GET /v2/projects/{id}``): the new server does
not know them, so they are sent again and run there. A server never accepts an id twice.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from sogni_sync import Retries, SogniClient
from sogni_sync.errors import ProjectFailedError
from sogni_sync.testing import LocalSupernet
from tests.faultproxy import FaultProxy

IMAGE: dict[str, Any] = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}
SETTLE = 30.0  # seconds after the restart by which every project must have settled


def _free_ports() -> tuple[int, int]:
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    return ports[0], ports[1]


class Restartable:
    """An emulator on fixed ports that can be stopped and replaced by a fresh one."""

    def __init__(self, **options: Any) -> None:
        self.ports = _free_ports()
        self.key = f"key-{uuid.uuid4()}"
        self.servers: list[LocalSupernet] = []
        self.start(**options)

    @property
    def net(self) -> LocalSupernet:
        return self.servers[-1]

    def start(self, **options: Any) -> LocalSupernet:
        net = LocalSupernet(rest_port=self.ports[0], socket_port=self.ports[1], api_key=self.key,
                            **options).start()
        self.servers.append(net)
        return net

    def restart(self, proxy: FaultProxy, downtime: float, **options: Any) -> float:
        """Kill the current server with requests still on their way (``proxy`` holds them),
        wait ``downtime``, start a fresh one; returns when it is up."""
        proxy.stall("c2s")
        time.sleep(0.3)  # requests written now never reach the dying server
        self.net.stop()
        proxy.cut()
        proxy.restore()
        time.sleep(downtime)
        self.start(**options)
        return time.monotonic()

    def stop(self) -> None:
        for net in self.servers:
            net.stop()


@contextmanager
def restartable(**options: Any) -> Iterator[Restartable]:
    servers = Restartable(**options)
    try:
        yield servers
    finally:
        servers.stop()


def _batch_across_a_restart(count: int, *, pace: float) -> dict[str, Any]:
    """Submit ``count`` projects (8 threads, ``pace`` s apart each); the restart begins once
    half of them were submitted, so the rest are written into the dying link or after."""
    with restartable(step_delay=0.5, workers=4) as servers:
        first = servers.net
        proxy = FaultProxy(first.socket_url).start()
        client = SogniClient(app_id=f"restart-{uuid.uuid4()}", api_key=servers.key,
                             rest_endpoint=first.rest_url, socket_endpoint=proxy.url,
                             retries=Retries(reconnect_base_delay=0.05, reconnect_max_delay=0.2))
        try:
            client.connect(timeout=10)
            restarted: list[float] = []
            half = threading.Event()

            def restart() -> None:
                half.wait(30)
                restarted.append(servers.restart(proxy, 0.5, step_delay=0.05, workers=4))

            restarter = threading.Thread(target=restart)
            restarter.start()

            def create(i: int) -> Any:
                time.sleep(pace)
                if i == count // 2:
                    half.set()
                return client.projects.create(**IMAGE, positive_prompt=f"restart {i}")

            with ThreadPoolExecutor(8) as pool:
                projects = list(pool.map(create, range(count)))
            restarter.join(30)
            assert restarted, "the server was not restarted"
            deadline = restarted[0] + SETTLE
            figures: dict[str, Any] = {"completed": 0, "forgotten": 0, "other": [],
                                       "unsettled": 0}
            for project in projects:
                try:
                    urls = project.wait(max(0.01, deadline - time.monotonic()))
                except ProjectFailedError as exc:
                    if "no longer knows" in str(exc):
                        figures["forgotten"] += 1
                    else:
                        figures["other"].append(str(exc))
                except TimeoutError:
                    figures["unsettled"] += 1
                else:
                    if len(urls) == 1 and all(urls):
                        figures["completed"] += 1
                    else:
                        figures["other"].append(f"completed with {urls!r}")
            figures["settled_after"] = time.monotonic() - restarted[0]
            for n, net in enumerate(servers.servers):
                seen = Counter(p["jobID"] for p in net.received("jobRequest"))
                figures[f"doubled_on_server_{n + 1}"] = sum(1 for v in seen.values() if v > 1)
            ids = [{p["jobID"] for p in net.received("jobRequest")} for net in servers.servers]
            figures["on_both_servers"] = len(ids[0] & ids[1])
            figures["sent_to_server_2"] = len(servers.net.received("jobRequest"))
            figures["asked_server_2"] = sum(1 for c in servers.net.rest_calls
                                            if c.path.startswith("/v2/projects/"))
            return figures
        finally:
            client.close()
            proxy.stop()


def _check(figures: dict[str, Any], count: int) -> None:
    print(f"\nrestart, {count} projects: {figures}")
    assert figures["unsettled"] == 0, figures
    assert figures["other"] == [], figures
    assert figures["completed"] + figures["forgotten"] == count
    assert figures["doubled_on_server_1"] == figures["doubled_on_server_2"] == 0
    assert figures["completed"] > 0  # what the new server received ran there


def test_projects_settle_within_30s_of_a_restart_mid_batch() -> None:
    figures = _batch_across_a_restart(24, pace=0.1)
    _check(figures, 24)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_200_projects_settle_within_30s_of_a_restart_mid_batch() -> None:
    figures = _batch_across_a_restart(200, pace=0.05)
    _check(figures, 200)
