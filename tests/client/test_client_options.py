"""``SogniClient``'s options: explicit typed keywords and the ``Timeouts``/``Retries``/``Limits``
objects, each bad value refused at construction (before any thread or network I/O) with a
``ValidationError`` naming it; an unknown keyword is Python's own ``TypeError``."""

from __future__ import annotations

import inspect
import pathlib
import threading
from typing import Any

import attrs
import pytest

from sogni_sync import Limits, Retries, SogniClient, Timeouts, ValidationError

OFFLINE: dict[str, Any] = {"app_id": "options-test", "rest_endpoint": "http://127.0.0.1:9",
           "socket_endpoint": "ws://127.0.0.1:9", "disable_socket": True}


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("sogni-")}


@pytest.mark.parametrize(("make", "names"), [
    (lambda: Limits(io_workers="x"), "Limits.io_workers"),  # type: ignore[arg-type]
    (lambda: Limits(io_workers=0), "Limits.io_workers"),
    (lambda: Limits(io_workers=2.0), "Limits.io_workers"),  # type: ignore[arg-type]
    (lambda: Limits(outbox_requests=True), "Limits.outbox_requests"),
    (lambda: Limits(outbox_bytes=-1), "Limits.outbox_bytes"),
    (lambda: Limits(callback_queue=None), "Limits.callback_queue"),  # type: ignore[arg-type]
    (lambda: Timeouts(request=0), "Timeouts.request"),
    (lambda: Timeouts(send="30"), "Timeouts.send"),  # type: ignore[arg-type]
    (lambda: Timeouts(connect=-1.5), "Timeouts.connect"),
    (lambda: Timeouts(ping_interval=None), "Timeouts.ping_interval"),  # type: ignore[arg-type]
    (lambda: Timeouts(pong=False), "Timeouts.pong"),
    (lambda: Timeouts(chat=float("nan")), "Timeouts.chat"),
    (lambda: Retries(attempts=0), "Retries.attempts"),
    (lambda: Retries(max_wait="1"), "Retries.max_wait"),  # type: ignore[arg-type]
    (lambda: Retries(reconnect_base_delay=5, reconnect_max_delay=1),
     "Retries.reconnect_base_delay"),
])
def test_each_config_value_is_checked_by_name(make: Any, names: str) -> None:
    with pytest.raises(ValidationError, match=rf"^{names}\b"):
        make()


@pytest.mark.parametrize(("option", "value"), [
    ("timeouts", 30),
    ("retries", {"attempts": 1}),
    ("limits", "x"),
    ("app_id", 7),
    ("network", 1),
    ("rest_endpoint", b"http://x"),
    ("socket_endpoint", 3.0),
    ("app_source", ["x"]),
    ("proxy", 8080),
    ("disable_socket", "yes"),
    ("testnet", 1),
    ("allow_insecure", None),
    ("api_key", 1234),
])
def test_a_bad_client_option_is_a_validation_error_naming_it(option: str, value: Any) -> None:
    before = _threads()
    with pytest.raises(ValidationError, match=rf"^{option} must be"):
        SogniClient(**{**OFFLINE, option: value})
    assert _threads() <= before  # refused before anything started


def test_an_unknown_keyword_is_pythons_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="io_worker"):
        SogniClient(io_worker=4, **OFFLINE)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="request_timeout"):
        SogniClient(request_timeout=3, **OFFLINE)  # type: ignore[call-arg]


def test_the_signature_is_explicit() -> None:
    params = inspect.signature(SogniClient).parameters
    assert all(p.kind is p.KEYWORD_ONLY for p in params.values())
    assert {"timeouts", "retries", "limits"} <= set(params)


def test_the_config_objects_reach_the_resolved_options() -> None:
    with SogniClient(timeouts=Timeouts(request=4, chat=5, send=6, connect=7, ping_interval=8,
                                       pong=2),
                     retries=Retries(attempts=2, max_wait=9, reconnect_base_delay=0.5,
                                     reconnect_max_delay=3),
                     limits=Limits(outbox_requests=11, outbox_bytes=12, io_workers=2,
                                   callback_queue=13),
                     **OFFLINE) as client:
        got = attrs.asdict(client.options)
    assert {k: got[k] for k in ("request_timeout", "chat_timeout", "send_timeout",
                                "connect_timeout", "ping_interval", "pong_timeout")} == {
        "request_timeout": 4, "chat_timeout": 5, "send_timeout": 6, "connect_timeout": 7,
        "ping_interval": 8, "pong_timeout": 2}
    assert (got["retry_attempts"], got["retry_max_wait"], got["reconnect_base_delay"],
            got["reconnect_max_delay"]) == (2, 9, 0.5, 3)
    assert (got["outbox_limit"], got["outbox_max_bytes"], got["io_workers"],
            got["dispatcher_queue_size"]) == (11, 12, 2, 13)


def test_defaults_and_frozen() -> None:
    assert Timeouts() == Timeouts(request=30, chat=300, send=30, connect=30, ping_interval=15)
    assert Retries().attempts == 3 and Limits().io_workers == 4
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Timeouts().request = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        Timeouts(5)  # type: ignore[call-arg]  # keyword-only: no guessing which timeout 5 is


SCRIPT = '''\
from sogni_sync import Limits, SogniClient, Timeouts

SogniClient(io_workers=4)
SogniClient(timeouts=30)
Limits(io_workers="x")
SogniClient(app_id="a", timeouts=Timeouts(request=5, send=1), limits=Limits(io_workers=8))
'''


def test_mypy_sees_the_options(tmp_path: pathlib.Path) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    root = pathlib.Path(__file__).resolve().parents[2]
    script = tmp_path / "user_options.py"
    script.write_text(SCRIPT)
    stdout, stderr, _ = mypy_api.run([
        str(script), "--strict", "--follow-imports=silent", "--no-error-summary",
        "--config-file", str(root / "pyproject.toml"), "--cache-dir", str(root / ".mypy_cache")])
    errors = [line.split(": error: ", 1)[1] for line in stdout.splitlines() if ": error: " in line]
    assert [(e.split("  [")[-1]) for e in errors] == ["call-arg]", "arg-type]", "arg-type]"], (
        stdout + stderr)
    assert '"io_workers"' in errors[0] and '"timeouts"' in errors[1] and '"io_workers"' in errors[2]
