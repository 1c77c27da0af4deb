"""Processes for the web tests: the emulator (``emulator_proc.py``) and real HTTP servers.

Both start in their own process group and are stopped (SIGTERM, then SIGKILL) by the context
managers, whatever the test did. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

import requests

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXAMPLES = ROOT / "examples"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[Any], grace: float = 15.0) -> int:
    """SIGTERM the process group, SIGKILL it after ``grace``; the exit code."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    # workers left behind by a master that died first
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode


class Emulator:
    """The emulator process: its ``SOGNI_*`` variables and its record of socket connections."""

    def __init__(self, proc: subprocess.Popen[str], env: dict[str, str]) -> None:
        self.proc = proc
        self.env = env

    def _ask(self, command: str) -> Any:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(command + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError("the emulator process exited")
        return json.loads(line)

    def connections(self) -> list[dict[str, Any]]:
        return list(self._ask("connections")["connections"])


@contextlib.contextmanager
def emulator(step_delay: float = 0.02, token_delay: float = 0.005) -> Iterator[Emulator]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "emulator_proc.py"), "--step-delay", str(step_delay),
         "--token-delay", str(token_delay)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process exited before it listened")
        yield Emulator(proc, json.loads(line)["env"])
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # end of stdin: it stops by itself
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        _stop(proc)


class Server:
    """One HTTP server under test: its base URL and, once stopped, its output."""

    def __init__(self, name: str, proc: subprocess.Popen[bytes], url: str, log: IO[bytes],
                 log_path: pathlib.Path) -> None:
        self.name, self.proc, self.url = name, proc, url
        self._log, self.log_path = log, log_path
        self.exit_code: int | None = None

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.exit_code is None:
            self.exit_code = _stop(self.proc)
            self._log.close()
        return self.exit_code


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n"
                               f"{server.output()[-4000:]}")
        try:
            if requests.get(server.url + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer /health within {START_TIMEOUT} s:\n"
                       f"{server.output()[-4000:]}")


@contextlib.contextmanager
def serve(name: str, argv: Sequence[str], port: int, emu: Emulator, log_dir: pathlib.Path,
          extra_env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Run ``python -m <argv>`` (from ``examples/``) against ``emu`` until the block ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOGNI_")}
    env.update(emu.env)
    env.update(extra_env or {})
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(EXAMPLES)])
    log_path = log_dir / f"{name}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", *argv], cwd=EXAMPLES, env=env,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    server = Server(name, proc, f"http://127.0.0.1:{port}", log, log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        server.stop()


def gunicorn_argv(app: str, port: int, *, preload: bool, workers: int = 2,
                  threads: int = 8) -> list[str]:
    from gunicorn.config import KNOWN_SETTINGS

    argv = ["gunicorn", "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads",
            str(threads), "-k", "gthread", "--graceful-timeout", "10"]
    if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):
        argv.append("--no-control-socket")  # newer gunicorns open a unix socket in $HOME
    if preload:
        argv.append("--preload")
    return [*argv, app]


def uvicorn_argv(app: str, port: int, *, workers: int = 2) -> list[str]:
    return ["uvicorn", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--timeout-graceful-shutdown", "10", app]
