"""Fixtures: the private emulator and the client factory of the lower layers' suites."""

from tests.clients import make_client, sogni_supernet  # noqa: F401
