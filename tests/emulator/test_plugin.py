"""The pytest plugin (entry point `sogni_sync`, loaded automatically): emulator fixture."""

from __future__ import annotations

from sogni_sync.testing import LocalSupernet


def test_sogni_supernet_fixture(sogni_supernet: LocalSupernet) -> None:
    assert sogni_supernet.options.step_delay == 0
    assert sogni_supernet.rest_url.startswith("http://127.0.0.1:")
    assert sogni_supernet.received() == []
