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


def test_conformance_driver_parses_runner_output(tmp_path, capsys) -> None:
    from sogni_sync.cli import main

    for client, ok in (("js", "true"), ("py", "false")):
        folder = tmp_path / client
        folder.mkdir()
        (folder / "run.sh").write_text(
            "test -n \"$SOGNI_USERNAME\" && test -n \"$SOGNI_API_KEY\" || exit 3\n"
            f"echo '{{\"client\":\"{client}\",\"scenario\":\"connect\",\"ok\":{ok},"
            "\"seconds\":0.1,\"detail\":\"'\"$*\"'\"}'\n")
    code = main(["conformance", "--runners", str(tmp_path), "--only", "connect"])
    out = capsys.readouterr().out
    assert code == 1
    assert "js     connect        ok" in out and "py     connect        FAIL" in out
    assert "--only connect" in out
