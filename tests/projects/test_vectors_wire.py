"""The golden vectors through the real client and the emulator: what arrives on the wire.

Every vector is its own test (by its name): the ``jobRequest`` the emulator received, with the
project's id put back to the vector's fixed one, must equal the vector's ``expected`` document
(parsed comparison, the referee's rule); an error vector must raise its ``ValidationError``
before anything is sent. A mismatch fails; nothing here is expected to fail.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sogni_sync import SogniClient
from sogni_sync.errors import ValidationError
from sogni_sync.testing import LocalSupernet

from .test_vectors import CASES, FIXED_ID, to_python

#: Vectors that cannot apply to the wire path, by name, with the reason (none today).
NOT_ON_THE_WIRE: dict[str, str] = {}


def _swap_id(value: Any, pid: str) -> Any:
    if isinstance(value, dict):
        return {k: _swap_id(v, pid) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap_id(v, pid) for v in value]
    if isinstance(value, str) and value.lower() == pid.lower():
        return FIXED_ID
    return value


@pytest.fixture(scope="module")
def wire_client(supernet: LocalSupernet) -> Iterator[SogniClient]:
    """One connected client for all the vectors (a project each, cancelled after)."""
    with SogniClient(app_id=f"vectors-{uuid.uuid4()}", api_key=supernet.api_key,
                     rest_endpoint=supernet.rest_url,
                     socket_endpoint=supernet.socket_url) as client:
        yield client


def _job_request(net: LocalSupernet, project_id: str, timeout: float = 5) -> Any:
    """The ``jobRequest`` payload of ``project_id`` (the emulator records frames asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        for payload in net.received("jobRequest"):
            if str(payload.get("jobID", "")).lower() == project_id.lower():
                return payload
        if time.monotonic() > deadline:
            raise AssertionError(f"no jobRequest for project {project_id} reached the emulator")
        time.sleep(0.002)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector_on_the_wire(case: dict[str, Any], wire_client: SogniClient,
                            supernet: LocalSupernet) -> None:
    if case["name"] in NOT_ON_THE_WIRE:
        pytest.skip(NOT_ON_THE_WIRE[case["name"]])
    params = to_python(case["params"])
    if "error" in case:
        before = len(supernet.received("jobRequest"))
        with pytest.raises(ValidationError) as info:
            wire_client.projects.create(**params)
        assert case["error"]["message"] in str(info.value)
        assert len(supernet.received("jobRequest")) == before
        return
    project = wire_client.projects.create(**params)
    try:
        got = _swap_id(_job_request(supernet, project.id), project.id)
    finally:
        project.cancel()
    assert got == case["expected"]


def test_skips_name_real_vectors() -> None:
    assert set(NOT_ON_THE_WIRE) <= {c["name"] for c in CASES}
