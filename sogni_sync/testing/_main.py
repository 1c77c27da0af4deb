"""The emulator's command line: ``python -m sogni_sync.testing`` and ``sogni-sync emulator``.

Runs :class:`~sogni_sync.testing.LocalSupernet` in the foreground until SIGINT/SIGTERM and
prints its ``SOGNI_*`` endpoints and credentials, one ``KEY=value`` line each, on stdout.
:func:`add_arguments` and :func:`serve` are the two halves the console script registers as
its ``emulator`` command; :func:`main` joins them for the standalone module.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from sogni_sync._argtypes import non_negative_float, non_negative_int

__all__ = ["add_arguments", "main", "serve"]

DESCRIPTION = "run a local Sogni Supernet emulator"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options (``--host``, ``--port``, delays, account, caps) to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to bind (loopback only unless --allow-remote)")
    parser.add_argument("--port", type=non_negative_int, default=0,
                        help="REST host port (0 = ephemeral); the socket host then defaults to "
                             "PORT+1")
    parser.add_argument("--socket-port", type=non_negative_int, default=None,
                        help="socket host port (default: PORT+1, or ephemeral when PORT is 0)")
    parser.add_argument("--step-delay", type=non_negative_float, default=0.05,
                        help="seconds per diffusion step (0 = as fast as possible)")
    parser.add_argument("--token-delay", type=non_negative_float, default=0.02,
                        help="seconds per streamed LLM chunk")
    parser.add_argument("--catalog", default=None, help="catalogue JSON (default: packaged)")
    parser.add_argument("--api-key", default=None, help="API key of the ready account")
    parser.add_argument("--username", default=None, help="username of the ready account")
    parser.add_argument("--password", default=None, help="password of the ready account")
    parser.add_argument("--balance", type=non_negative_float, default=1000.0, metavar="AMOUNT",
                        help="starting sogni and spark balance of the ready account")
    parser.add_argument("--workers", type=non_negative_int, default=None,
                        help="simulated worker slots")
    parser.add_argument("--media-max-side", type=non_negative_int, default=2048, metavar="PX",
                        help="longest side of result images; larger requests are scaled down "
                             "(0 = always the requested size; default 2048)")
    parser.add_argument("--video-max-side", type=non_negative_int, default=1280, metavar="PX",
                        help="longest side of result videos (0 = no cap; default 1280)")
    parser.add_argument("--max-frames", type=non_negative_int, default=481, metavar="N",
                        help="frames of a result video at most (0 = no cap; default 481)")
    parser.add_argument("--max-seconds", type=non_negative_float, default=600.0, metavar="S",
                        help="duration of result audio at most (0 = no cap; default 600)")
    parser.add_argument("--testnet", action="store_true",
                        help="emulate the testnet: logins must be signed for its EIP-712 domain")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host (exposes the emulator to the network)")


def serve(args: argparse.Namespace) -> int:
    """Run the emulator that ``args`` (parsed with :func:`add_arguments`) describe until
    SIGINT/SIGTERM; 0 on a normal stop, 2 when ``--host`` is not loopback without
    ``--allow-remote``."""
    from sogni_sync.testing._server import (
        DEFAULT_PASSWORD,
        DEFAULT_USERNAME,
        LocalSupernet,
        _is_loopback,
    )

    if not _is_loopback(args.host) and not args.allow_remote:
        # a usage error of this command line: said to its user, like argparse's own
        sys.stderr.write(f"error: refusing to listen on {args.host}; "
                         "pass --allow-remote to allow it\n")
        return 2
    accounts = [(args.username or DEFAULT_USERNAME, args.password or DEFAULT_PASSWORD)]
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    socket_port = args.socket_port if args.socket_port is not None else (
        args.port + 1 if args.port else 0)
    net = LocalSupernet(step_delay=args.step_delay, token_delay=args.token_delay,
                        catalog=args.catalog, api_key=args.api_key, accounts=accounts,
                        balances={"sogni": args.balance, "spark": args.balance},
                        workers=args.workers, media_max_side=args.media_max_side,
                        video_max_side=args.video_max_side, max_frames=args.max_frames,
                        max_seconds=args.max_seconds, host=args.host, rest_port=args.port,
                        socket_port=socket_port, allow_remote=args.allow_remote,
                        record_limit=10_000, testnet=args.testnet)
    with net:
        # the program's output: the settings a client needs, as KEY=value lines
        sys.stdout.write("".join(f"{key}={value}\n" for key, value in net.env.items()))
        sys.stdout.flush()
        while not stop.wait(3600):
            pass
    return 0


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and :func:`serve`; the exit status.

    ``--help`` exits 0 and a usage error 2, returned rather than raised."""
    parser = argparse.ArgumentParser(prog=prog or "python -m sogni_sync.testing",
                                     description=DESCRIPTION)
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    return serve(args)
