"""The console script, the standalone module and the loopback guard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests

from sogni_sync.cli import main
from sogni_sync.testing import LocalSupernet


def test_non_loopback_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    with pytest.raises(ValueError):
        LocalSupernet(host="0.0.0.0")


def test_module_runs_until_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "sogni_sync.testing", "--step-delay", "0"],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        env = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(5))
        assert env["SOGNI_REST_ENDPOINT"].startswith("http://127.0.0.1:")
        assert env["SOGNI_SOCKET_ENDPOINT"].startswith("ws://127.0.0.1:")
        r = requests.get(env["SOGNI_REST_ENDPOINT"] + "/v1/account/me", timeout=5,
                         headers={"api-key": env["SOGNI_API_KEY"]})
        assert r.json()["data"]["username"] == env["SOGNI_USERNAME"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


def test_custom_accounts_and_catalog(tmp_path) -> None:
    import json

    from sogni_sync.testing._catalog import load_catalog

    data = load_catalog(None)
    data["models"] = data["models"][:3]
    path = tmp_path / "cat.json"
    path.write_text(json.dumps(data))
    with LocalSupernet(catalog=str(path), accounts=[{"username": "Bob", "password": "pw",
                                                      "api_key": "k1"}],
                       balances={"spark": 5}) as net:
        assert net.api_key == "k1" and net.username == "Bob"
        r = requests.get(net.socket_url.replace("ws", "http") + "/api/v1/models/list",
                         headers={"api-key": "k1"}, timeout=5)
        assert len(r.json()) == 3
        assert net.account().balances["spark"] == 5


def _free_pair() -> int:
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            with socket.socket() as second:
                second.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise AssertionError("no free port pair")


def test_fixed_ports() -> None:
    for _ in range(3):  # a port may be taken between probing and binding; try again then
        port = _free_pair()
        proc = subprocess.Popen([sys.executable, "-m", "sogni_sync.testing", "--port", str(port)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline().strip() for _ in range(5)]
            if not all("=" in line for line in lines):
                continue
            env = dict(line.split("=", 1) for line in lines)
            assert env["SOGNI_REST_ENDPOINT"] == f"http://127.0.0.1:{port}"
            assert env["SOGNI_SOCKET_ENDPOINT"] == f"ws://127.0.0.1:{port + 1}"
            return
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
    raise AssertionError("emulator did not start on fixed ports")


def test_console_command_is_the_module_entry(capsys: pytest.CaptureFixture[str]) -> None:
    from sogni_sync import testing
    from sogni_sync.cli import COMMANDS

    assert COMMANDS["emulator"][1:] == (testing.add_arguments, testing.serve)
    assert testing.main(["--help"], prog="x") == 0
    assert capsys.readouterr().out.startswith("usage: x [-h] [--host HOST]")
    assert testing.main(["--port", "-1"]) == 2
    assert "must be 0 or more" in capsys.readouterr().err


def test_the_console_script_uses_only_public_emulator_names() -> None:
    import ast
    import pathlib

    import sogni_sync.cli

    private = []
    for path in pathlib.Path(sogni_sync.cli.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "sogni_sync.testing"):
                private += [f"{path.name}: {node.module}.{a.name}" for a in node.names
                            if "._" in f"{node.module}.{a.name}"]
    assert not private
