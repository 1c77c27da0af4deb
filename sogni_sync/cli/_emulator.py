"""``sogni-sync emulator``: run :class:`sogni_sync.testing.LocalSupernet` in the foreground
until SIGINT/SIGTERM and print its endpoints and credentials."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from sogni_sync.cli._common import non_negative_float, non_negative_int

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to bind (loopback only unless --allow-remote)")
    parser.add_argument("--port", type=int, default=0,
                        help="REST host port (0 = ephemeral); the socket host then defaults to "
                             "PORT+1")
    parser.add_argument("--socket-port", type=int, default=None,
                        help="socket host port (default: PORT+1, or ephemeral when PORT is 0)")
    parser.add_argument("--step-delay", type=float, default=0.05,
                        help="seconds per diffusion step (0 = as fast as possible)")
    parser.add_argument("--token-delay", type=float, default=0.02,
                        help="seconds per streamed LLM chunk")
    parser.add_argument("--catalog", default=None, help="catalogue JSON (default: packaged)")
    parser.add_argument("--api-key", default=None, help="API key of the ready account")
    parser.add_argument("--username", default=None, help="username of the ready account")
    parser.add_argument("--password", default=None, help="password of the ready account")
    parser.add_argument("--balance", type=float, default=1000.0,
                        help="starting sogni and spark balance of the ready account")
    parser.add_argument("--workers", type=int, default=None, help="simulated worker slots")
    parser.add_argument("--media-max-side", type=non_negative_int, default=2048, metavar="PX",
                        help="longest side of result images; larger requests are scaled down "
                             "(0 = always the requested size; default 2048)")
    parser.add_argument("--video-max-side", type=non_negative_int, default=1280, metavar="PX",
                        help="longest side of result videos (0 = no cap; default 1280)")
    parser.add_argument("--max-frames", type=non_negative_int, default=481, metavar="N",
                        help="frames of a result video at most (0 = no cap; default 481)")
    parser.add_argument("--max-seconds", type=non_negative_float, default=600.0, metavar="S",
                        help="duration of result audio at most (0 = no cap; default 600)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host (exposes the emulator to the network)")


def run(args: argparse.Namespace) -> int:
    from sogni_sync.testing import LocalSupernet
    from sogni_sync.testing._server import DEFAULT_PASSWORD, DEFAULT_USERNAME, _is_loopback

    if not _is_loopback(args.host) and not args.allow_remote:
        print(f"error: refusing to listen on {args.host}; pass --allow-remote to allow it",
              file=sys.stderr)
        return 2
    accounts = [(args.username or DEFAULT_USERNAME, args.password or DEFAULT_PASSWORD)]
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    net = LocalSupernet(step_delay=args.step_delay, token_delay=args.token_delay,
                        catalog=args.catalog, api_key=args.api_key, accounts=accounts,
                        balances={"sogni": args.balance, "spark": args.balance},
                        workers=args.workers, media_max_side=args.media_max_side,
                        video_max_side=args.video_max_side, max_frames=args.max_frames,
                        max_seconds=args.max_seconds, host=args.host, rest_port=args.port,
                        socket_port=args.socket_port if args.socket_port is not None
                        else (args.port + 1 if args.port else 0),
                        allow_remote=args.allow_remote,
                        record_limit=10_000)
    with net:
        for key, value in net.env.items():
            print(f"{key}={value}")
        sys.stdout.flush()
        while not stop.wait(3600):
            pass
    return 0
