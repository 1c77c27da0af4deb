"""The bench's emulator process: ``LocalSupernet`` plus wall-clock stamps of final frames.

Run as ``python tests/bench/emulator_proc.py [--step-delay S] [--token-delay S]``. It prints one
JSON line ``{"rest": ..., "socket": ..., "api_key": ...}`` once the emulator listens, then
serves a line protocol on stdin/stdout (one JSON line answers each command):

* ``stamps`` -> ``{"stamps": [[app_id, type, job_id, t_send, t_wire], ...]}`` and forgets them;
* ``rss``    -> ``{"rss": bytes}`` of this process;
* ``quit`` or end of stdin -> stop the emulator and exit.

A *final frame* is ``jobState`` with ``type: "jobCompleted"`` (a media project is done) or
``llmJobResult`` (a chat is done). ``t_send`` is ``time.time()`` when the emulator queued the
frame (``Connection.send``); ``t_wire`` is ``time.time()`` right after the socket write that
carried it, or ``None`` when the writer path could not be observed (then the bench falls back to
``t_send``). The emulator's files are not edited: this module wraps ``Connection.send``,
``_socket.encode_frame``, ``_socket._ws_frame`` and the asyncio socket transport's ``write`` at
runtime, all on the emulator's single event-loop thread. Recording of sent frames is turned off
and the recorder is bounded, so a long run does not make the emulator grow.
"""

from __future__ import annotations

import argparse
import asyncio.selector_events as selector_events
import json
import os
import sys
import threading
import time
from typing import Any

from sogni_sync.testing import LocalSupernet, _socket

_lock = threading.Lock()
_done: list[list[Any]] = []          # finished stamps, handed out by the `stamps` command
_pending: dict[int, list[Any]] = {}  # id(encoded frame) -> record (queued, not yet framed)
_framed: list[list[Any]] = []        # framed for the wire, stamped by the next socket write
_want: list[list[Any] | None] = [None]


def _final(msg_type: str, payload: Any) -> bool:
    if msg_type == "llmJobResult":
        return True
    return (msg_type == "jobState" and isinstance(payload, dict)
            and payload.get("type") == "jobCompleted")


def _install_hooks() -> None:
    orig_send = _socket.Connection.send
    orig_encode = vars(_socket)["encode_frame"]  # the name the socket module calls
    orig_ws_frame = getattr(_socket, "_ws_frame", None)
    # The plain asyncio transport (no uvloop here); patched on the class: it has __slots__.
    transport_cls: Any = selector_events._SelectorSocketTransport  # type: ignore[attr-defined]
    orig_write = transport_cls.write
    orig_writelines = transport_cls.writelines

    def send(self: Any, msg_type: str, payload: Any) -> None:
        if not _final(msg_type, payload):
            orig_send(self, msg_type, payload)
            return
        job_id = payload.get("jobID") if isinstance(payload, dict) else None
        rec: list[Any] = [self.app_id, msg_type, job_id, time.time(), None, None]
        _want[0] = rec
        try:
            orig_send(self, msg_type, payload)
        finally:
            _want[0] = None
        if rec[5] is None:  # the frame was never encoded through the hook: keep t_send only
            with _lock:
                _done.append(rec[:5])

    def encode_frame(msg_type: str, payload: Any) -> Any:
        frame = orig_encode(msg_type, payload)
        rec = _want[0]
        if rec is not None and rec[5] is None:
            rec[5] = frame
            _pending[id(frame)] = rec
        return frame

    def ws_frame(payload: bytes) -> bytes:
        if _pending:
            rec = _pending.get(id(payload))
            if rec is not None and rec[5] is payload:
                del _pending[id(payload)]
                _framed.append(rec)
        return orig_ws_frame(payload)  # type: ignore[misc]

    def stamp_written() -> None:
        now = time.time()
        with _lock:
            for rec in _framed:
                rec[4] = now
                _done.append(rec[:5])
        _framed.clear()

    def write(self: Any, data: Any) -> None:
        orig_write(self, data)
        if _framed:
            stamp_written()

    def writelines(self: Any, lines: Any) -> None:
        orig_writelines(self, lines)
        if _framed:
            stamp_written()

    _socket.Connection.send = send  # type: ignore[method-assign]
    vars(_socket)["encode_frame"] = encode_frame
    if orig_ws_frame is not None:
        _socket._ws_frame = ws_frame
    transport_cls.write = write
    transport_cls.writelines = writelines


def _flush_unframed() -> None:
    """Frames queued but never seen by the framing hook (writer path changed): t_send only."""
    with _lock:
        for key, rec in list(_pending.items()):
            if time.time() - rec[3] > 1.0:
                _done.append(rec[:5])
                del _pending[key]


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step-delay", type=float, default=0.0)
    parser.add_argument("--token-delay", type=float, default=0.0)
    parser.add_argument("--record-limit", type=int, default=200)
    args = parser.parse_args()
    _install_hooks()
    net = LocalSupernet(step_delay=args.step_delay, token_delay=args.token_delay,
                        balances={"sogni": 10**12, "spark": 10**12},
                        record_limit=args.record_limit)
    net._recorder.record_sent = False
    with net:
        print(json.dumps({"rest": net.rest_url, "socket": net.socket_url,
                          "api_key": net.api_key, "pid": os.getpid()}), flush=True)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "stamps":
                # Let the loop finish writing what it queued before handing stamps out.
                net.call(lambda s: _flush_unframed())
                with _lock:
                    out = list(_done)
                    _done.clear()
                print(json.dumps({"stamps": out}), flush=True)
            elif cmd == "rss":
                print(json.dumps({"rss": _rss()}), flush=True)
            elif cmd == "quit":
                break
            else:
                print(json.dumps({"error": f"unknown command {cmd!r}"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
