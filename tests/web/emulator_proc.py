"""The web tests' emulator process: ``LocalSupernet`` plus a record of every socket connection.

Run as ``python tests/web/emulator_proc.py [--step-delay S] [--token-delay S]``. It prints one
JSON line ``{"env": {SOGNI_*...}, "pid": ...}`` once the emulator listens (the same variables
``python -m sogni_sync.testing`` prints), then answers one JSON line per command on stdin:

* ``connections`` -> ``{"connections": [{"id", "app_id", "server_close", "client_close",
  "open"}, ...]}``: every socket accepted so far; ``server_close`` is the code the emulator
  closed it with (4015 = taken over by a newer socket with the same app id), ``client_close`` the
  code of the client's close frame (1006 = the link broke without one), ``requests`` how many
  image and chat requests it sent (``jobRequest``/``llmJobRequest``);
* ``quit`` or end of stdin -> stop the emulator and exit.

The emulator's files are not edited: ``Connection.__init__``/``close`` are wrapped at runtime,
on the emulator's own event-loop thread.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections import Counter
from typing import Any

from sogni_sync.testing import LocalSupernet, _socket

REQUESTS = frozenset({"jobRequest", "llmJobRequest"})
_lock = threading.Lock()
_conns: list[Any] = []            # every Connection ever accepted, in order
_server_close: dict[int, int] = {}  # connection id -> code the emulator closed it with


def _install_hooks() -> None:
    orig_init = _socket.Connection.__init__
    orig_close = _socket.Connection.close

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        orig_init(self, *args, **kwargs)
        with _lock:
            _conns.append(self)

    def close(self: Any, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            with _lock:
                _server_close[self.id] = code
        orig_close(self, code, reason)

    _socket.Connection.__init__ = init  # type: ignore[method-assign]
    _socket.Connection.close = close  # type: ignore[method-assign]


def _connections(net: LocalSupernet) -> list[dict[str, Any]]:
    with _lock:
        conns = list(_conns)
        closes = dict(_server_close)
    served = Counter(f.connection for f in net.frames
                     if f.direction == "in" and f.type in REQUESTS)
    return [{"id": c.id, "app_id": c.app_id, "server_close": closes.get(c.id),
             "client_close": c.ws.close_code, "open": not c.closed, "requests": served[c.id]}
            for c in conns]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step-delay", type=float, default=0.0)
    parser.add_argument("--token-delay", type=float, default=0.0)
    args = parser.parse_args()
    _install_hooks()
    net = LocalSupernet(step_delay=args.step_delay, token_delay=args.token_delay,
                        balances={"sogni": 10**9, "spark": 10**9}, record_limit=20_000)
    net._recorder.record_sent = False
    with net:
        print(json.dumps({"env": net.env, "pid": os.getpid()}), flush=True)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "connections":
                print(json.dumps({"connections": net.call(lambda s: _connections(net))}),
                      flush=True)
            elif cmd == "quit":
                break
            else:
                print(json.dumps({"error": f"unknown command {cmd!r}"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
