"""The pytest plugin (entry point ``sogni_sync``, loaded automatically): emulator fixture."""

from __future__ import annotations

import pytest

from sogni_sync.testing import LocalSupernet

from .helpers import api


def test_sogni_supernet_fixture(sogni_supernet: LocalSupernet) -> None:
    assert sogni_supernet.options.step_delay == 0
    assert sogni_supernet.rest_url.startswith("http://127.0.0.1:")
    assert sogni_supernet.received() == []


@pytest.mark.sogni(step_delay=0.01, faults={"rest_error": {"route": "/v1/account/me",
                                                           "status": 503}})
def test_sogni_marker(sogni_supernet: LocalSupernet) -> None:
    assert sogni_supernet.options.step_delay == 0.01
    assert api(sogni_supernet, "/v1/account/me").status_code == 503


def test_marker_settings_do_not_leak(sogni_supernet: LocalSupernet) -> None:
    assert sogni_supernet.options.step_delay == 0
    assert api(sogni_supernet, "/v1/account/me").status_code == 200
