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


def test_sogni_env(sogni_env: LocalSupernet) -> None:
    import os

    assert os.environ["SOGNI_REST_ENDPOINT"] == sogni_env.rest_url
    assert os.environ["SOGNI_API_KEY"] == sogni_env.api_key


def test_patched_env_restores(sogni_supernet: LocalSupernet, monkeypatch) -> None:
    import os

    monkeypatch.setenv("SOGNI_API_KEY", "before")
    monkeypatch.delenv("SOGNI_USERNAME", raising=False)
    with sogni_supernet.patched_env():
        assert os.environ["SOGNI_API_KEY"] == sogni_supernet.api_key
        assert os.environ["SOGNI_USERNAME"] == sogni_supernet.username
    assert os.environ["SOGNI_API_KEY"] == "before" and "SOGNI_USERNAME" not in os.environ
