"""A local Sogni Supernet emulator for tests, demos and benchmarks.

::

    from sogni_sync.testing import LocalSupernet

    with LocalSupernet(step_delay=0) as net:      # REST + socket host on 127.0.0.1, own thread
        net.rest_url, net.socket_url, net.api_key, net.username, net.password, net.address
        client = SogniClient(app_id="x", api_key=net.api_key, rest_endpoint=net.rest_url,
                             socket_endpoint=net.socket_url)
        ...
        net.received("jobRequest")   # decoded client payloads, exactly as sent (parsed JSON)
        net.sent("jobResult")        # decoded payloads the emulator sent
        net.frames                   # Frame(direction, type, data, app_id, connection, time)
        net.rest_calls               # RestCall(method, path, query, headers, json, status, host,
                                     #          body, time); secrets redacted
        net.reset()                  # records, faults, projects, storage, balances

Options (see :class:`LocalSupernet`): ``step_delay``, ``token_delay``, ``catalog``,
``balances``, ``accounts``, ``faults``, ``workers``, ``url_ttl``, ``media_max_side``,
``video_max_side``, ``max_frames``, ``max_seconds``, ``api_key``,
``host``/``rest_port``/``socket_port``/``allow_remote``, ``record_limit``.

Control: ``net.faults`` (fault injection, documented in :mod:`._faults`: ``[[fail]]`` prompt
marker, ``rest_error``, ``drop_after``, ``close_after``, ``close_at``, ``delay``,
``duplicate``, ``reorder``, ``malformed``, ``forget_next``, ``refuse_connects``,
``fail_next_jobs``, ``no_workers``), ``net.disconnect(code=0, app_id=None)``,
``net.send(type, payload)``, ``net.toast(message)``, ``net.push_swarm_models()``,
``net.set_balance(token, amount)``, ``net.add_account(username, password)``,
``net.expire_tokens()``, ``net.active_projects()``, ``net.app_ids``, ``net.call(fn)`` (run
``fn(state)`` on the emulator loop), ``net.env`` / ``net.patched_env()`` (``SOGNI_*``
variables for code that builds its own client).

pytest: fixtures ``sogni_supernet`` / ``sogni_client`` / ``sogni_env`` and marker
``@pytest.mark.sogni(...)`` (:mod:`.pytest_plugin`). Standalone: ``python -m sogni_sync.testing``
(or ``sogni-sync emulator``, the same entry): :func:`main` parses a command line and runs the
emulator until SIGINT/SIGTERM; :func:`add_arguments` + :func:`serve` are its two halves, for a
program that embeds the options in its own parser.

Module map: ``_server`` (LocalSupernet, extension hooks for ``_llm``/``_hosted``/``_workflows``),
``_socket`` (WebSocket endpoint), ``_jobs`` (media scheduler, job error codes), ``_auth``
(wallet/EIP-712/JWT), ``_rest`` (REST host routes, storage), ``_api`` (socket-host ``/api``
routes), ``_catalog`` (catalogue, price formula), ``_media`` (result files: PNG/JPEG/WebP via
``_images``, H.264 MP4 via ``_video``, MP3/WAV/FLAC via ``_audio``, drawn by ``_raster``),
``_faults``, ``_recorder``, ``_main`` (command line), ``_state`` (shared state and helpers),
``_wire`` (envelope codec).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sogni_sync.testing._faults import Faults
from sogni_sync.testing._main import add_arguments, main, serve
from sogni_sync.testing._recorder import Frame, RestCall

if TYPE_CHECKING:
    from sogni_sync.testing._server import LocalSupernet

__all__ = ["Faults", "Frame", "LocalSupernet", "RestCall", "add_arguments", "main", "serve"]


def __getattr__(name: str) -> Any:
    # Lazy: the server needs aiohttp (extra "emulator"), and this package is imported by the
    # pytest plugin in every test run of a project that merely has sogni-sync installed.
    if name == "LocalSupernet":
        from sogni_sync.testing._server import LocalSupernet

        return LocalSupernet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
