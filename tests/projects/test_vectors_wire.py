"""The golden vectors through the real client and the emulator: what arrives on the wire."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from sogni_sync._transport.envelope import encode_frame

from .test_vectors import CASES, FIXED_ID, to_python


def _swap_id(value: Any, pid: str) -> Any:
    if isinstance(value, dict):
        return {k: _swap_id(v, pid) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap_id(v, pid) for v in value]
    if isinstance(value, str) and value.lower() == pid.lower():
        return FIXED_ID
    return value


def _transport_keeps_nulls() -> bool:
    import base64

    frame = json.loads(encode_frame("t", {"a": None}))
    return json.loads(base64.b64decode(frame["data"])) == {"a": None}


def test_vectors_on_the_wire(client: Any, net: Any) -> None:
    if not _transport_keeps_nulls():
        pytest.xfail("the transport's encode_frame drops JSON nulls the reference sends "
                     "(sogni_sync/_transport/envelope.py encode_frame)")
    from sogni_sync.errors import ValidationError

    mismatches = []
    for case in CASES:
        params = to_python(case["params"])
        before = len(net.received("jobRequest"))
        if "error" in case:
            with pytest.raises(ValidationError) as info:
                client.projects.create(**params)
            assert case["error"]["message"] in str(info.value)
            assert len(net.received("jobRequest")) == before
            continue
        project = client.projects.create(**params)
        deadline = time.monotonic() + 5
        while len(net.received("jobRequest")) <= before and time.monotonic() < deadline:
            time.sleep(0.002)  # the emulator records frames asynchronously
        got = _swap_id(net.received("jobRequest")[-1], project.id)
        if got != case["expected"]:
            mismatches.append(case["name"])
        project.cancel()
    assert mismatches == []
