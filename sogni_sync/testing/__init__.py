"""A local Sogni Supernet emulator for tests, demos and benchmarks.

::

    from sogni_sync.testing import LocalSupernet

    with LocalSupernet(step_delay=0) as net:
        net.rest_url, net.socket_url, net.api_key, net.username, net.password
        net.faults.rest_error("/v4/account/balance", status=429, retry_after=1)
        ...
        net.received("jobRequest")   # decoded client payloads, exactly as sent
        net.rest_calls               # RestCall(method, path, query, headers, json, status, host)
        net.reset()

Module map: ``_server`` (LocalSupernet, extension hooks), ``_socket`` (WebSocket endpoint),
``_jobs`` (media scheduler), ``_auth`` (wallet/EIP-712/JWT), ``_rest`` (REST host routes,
storage), ``_api`` (socket-host ``/api`` routes), ``_catalog`` (catalogue, prices), ``_media``
(PNG/MP4/WAV/MP3), ``_faults`` (fault injection), ``_recorder``, ``_wire`` (envelope codec).
Standalone: ``sogni-sync emulator`` or ``python -m sogni_sync.testing``.
"""

from sogni_sync.testing._faults import Faults
from sogni_sync.testing._recorder import Frame, RestCall
from sogni_sync.testing._server import LocalSupernet

__all__ = ["Faults", "Frame", "LocalSupernet", "RestCall"]
