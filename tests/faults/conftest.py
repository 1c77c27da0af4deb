"""Fixtures of the outside-fault suites: the emulator behind :class:`tests.faultproxy.FaultProxy`.

* ``proxied`` -- ``proxied(**options)`` starts a proxy in front of the emulator's socket host and
  one in front of its REST host, builds a client that talks only through them (fast reconnects)
  and returns ``(client, socket_proxy, rest_proxy)``; all are stopped after the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sogni_sync import Retries, SogniClient
from sogni_sync.testing import LocalSupernet
from tests.faultproxy import FaultProxy

FAST = {"retries": Retries(reconnect_base_delay=0.02, reconnect_max_delay=0.2)}

Proxied = tuple[SogniClient, FaultProxy, FaultProxy]


@pytest.fixture
def proxied(net: LocalSupernet) -> Iterator[Callable[..., Proxied]]:
    made: list[SogniClient] = []
    proxies: list[FaultProxy] = []

    def make(**options: Any) -> Proxied:
        sock = FaultProxy(net.socket_url).start()
        rest = FaultProxy(net.rest_url).start()
        proxies.extend((sock, rest))
        client = SogniClient(app_id=f"faults-{uuid.uuid4()}", api_key=net.api_key,
                             rest_endpoint=rest.url, socket_endpoint=sock.url,
                             **{**FAST, **options})
        made.append(client)
        return client, sock, rest

    try:
        yield make
    finally:
        for client in made:
            client.close()
        for proxy in proxies:
            proxy.stop()
