"""Each web example under a real server on loopback, with a burst of concurrent requests.

Flask under gunicorn (2 workers x 8 gthreads; with and without ``--preload``), Django under
gunicorn, FastAPI under uvicorn (2 workers). Every answer is checked (result URLs fetched, chat
text as the emulator echoes it, SSE chunks joined into the full answer); bad bodies get 400;
chats the network fails get 502 (an ``error`` event in a stream); streams the HTTP client leaves
early are dropped quietly. The emulator's record of socket connections shows that no socket was
taken over (4015), that each process had its own app id, and that every client closed its socket
cleanly (1000) when its server stopped.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.web.load import check_bad_input, check_failed_chats, fire, leave_streams_early
from tests.web.servers import Emulator, free_port, gunicorn_argv, serve, uvicorn_argv

REQUESTS = 48
CONCURRENCY = 32
WORKERS = 2


def _check_connections(conns: list[dict[str, Any]], processes: int,
                       app_id: str | None) -> None:
    taken_over = [c for c in conns if c["server_close"] == 4015]
    assert not taken_over, f"sockets taken over (4015): {taken_over}"
    by_app: dict[str, list[dict[str, Any]]] = {}
    for conn in conns:
        by_app.setdefault(conn["app_id"], []).append(conn)
    shared = {app: len(cs) for app, cs in by_app.items() if len(cs) > 1}
    assert not shared, f"app ids used by more than one socket: {shared}"
    assert len(by_app) >= processes, f"{len(by_app)} app id(s) for {processes} processes"
    if app_id is not None:  # each process's id is derived from the configured one
        foreign = [app for app in by_app if not app.startswith(app_id)]
        assert not foreign, f"app ids not derived from SOGNI_APP_ID={app_id}: {foreign}"
    still_open = [c for c in conns if c["open"]]
    assert not still_open, f"sockets left open after the server stopped: {still_open}"
    unclean = [c for c in conns if c["client_close"] != 1000]
    assert not unclean, f"sockets not closed by client.close() at exit: {unclean}"


def _run(name: str, argv: list[str], port: int, emu: Emulator, tmp_path: pathlib.Path,
         capsys: pytest.CaptureFixture[str], processes: int = WORKERS,
         app_id: str | None = None, load: tuple[int, int] = (REQUESTS, CONCURRENCY)) -> None:
    known = {c["id"] for c in emu.connections()}
    env = {"SOGNI_APP_ID": app_id} if app_id else None
    with serve(name, argv, port, emu, tmp_path, env) as server:
        report = fire(name, server.url, *load)
        with capsys.disabled():
            print(f"\n{report.summary()}")
        assert not report.failures, "\n".join(report.failures) + "\n" + server.output()[-3000:]
        check_bad_input(server.url)
        check_failed_chats(server.url)
        leave_streams_early(server.url)
        after = fire(f"{name} (after streams left early)", server.url, 6, 6)
        assert not after.failures, "\n".join(after.failures)
        code = server.stop()
    conns = [c for c in emu.connections() if c["id"] not in known]
    with capsys.disabled():
        served = sorted((c["requests"] for c in conns if c["requests"]), reverse=True)
        print(f"  {len(conns)} sockets, image+chat requests per socket {served}")
    output = server.output()
    assert "ConnectionTakenOver" not in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert code == 0, f"{name} exited with {code}:\n{output[-3000:]}"
    _check_connections(conns, processes, app_id)


def test_flask_under_gunicorn(web_emulator: Emulator, tmp_path: pathlib.Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("flask", reason="flask is in the 'web' extra: pip install -e '.[web]'")
    pytest.importorskip("gunicorn", reason="gunicorn is in the 'web' extra")
    port = free_port()
    _run("flask-gunicorn", gunicorn_argv("flask_app:app", port, preload=False), port,
         web_emulator, tmp_path, capsys)


@pytest.mark.parametrize("app_id", [None, "shop-frontend"], ids=["default-app-id", "SOGNI_APP_ID"])
def test_flask_under_gunicorn_preload(web_emulator: Emulator, tmp_path: pathlib.Path,
                                      capsys: pytest.CaptureFixture[str],
                                      app_id: str | None) -> None:
    """The client is built in the master before the fork; with a configured SOGNI_APP_ID too,
    each worker must still get its own app id (derived from it), never take another's socket."""
    pytest.importorskip("flask", reason="flask is in the 'web' extra: pip install -e '.[web]'")
    pytest.importorskip("gunicorn", reason="gunicorn is in the 'web' extra")
    port = free_port()
    # the master builds the client at import (it connects too): workers + 1 app ids
    _run(f"flask-gunicorn-preload{'-app-id' if app_id else ''}",
         gunicorn_argv("flask_app:app", port, preload=True), port, web_emulator, tmp_path,
         capsys, processes=WORKERS + 1, app_id=app_id)


def test_django_under_gunicorn(web_emulator: Emulator, tmp_path: pathlib.Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("django", reason="django is in the 'web' extra: pip install -e '.[web]'")
    pytest.importorskip("gunicorn", reason="gunicorn is in the 'web' extra")
    port = free_port()
    _run("django-gunicorn", gunicorn_argv("django_app.wsgi:application", port, preload=False),
         port, web_emulator, tmp_path, capsys)


def test_fastapi_under_uvicorn(web_emulator: Emulator, tmp_path: pathlib.Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("fastapi", reason="fastapi is in the 'web' extra: pip install -e '.[web]'")
    pytest.importorskip("uvicorn", reason="uvicorn is in the 'web' extra")
    port = free_port()
    _run("fastapi-uvicorn", uvicorn_argv("fastapi_app:app", port, workers=WORKERS), port,
         web_emulator, tmp_path, capsys)


SERVERS: dict[str, tuple[str, Callable[[int], list[str]]]] = {
    "flask-gunicorn": ("flask", lambda port: gunicorn_argv("flask_app:app", port, preload=False)),
    "django-gunicorn": ("django",
                        lambda port: gunicorn_argv("django_app.wsgi:application", port,
                                                   preload=False)),
    "fastapi-uvicorn": ("fastapi", lambda port: uvicorn_argv("fastapi_app:app", port)),
}


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(SERVERS))
def test_sustained_load(name: str, web_emulator: Emulator, tmp_path: pathlib.Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    """Ten times the burst, 64 at a time (more than the 16 server threads): for the note."""
    framework, argv = SERVERS[name]
    pytest.importorskip(framework, reason=f"{framework} is in the 'web' extra")
    port = free_port()
    _run(f"{name}-sustained", argv(port), port, web_emulator, tmp_path, capsys,
         load=(10 * REQUESTS, 64))
