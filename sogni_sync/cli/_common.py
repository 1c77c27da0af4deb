"""What the network subcommands share: option types, the common options, the client session
(the real Supernet, or a throw-away emulator on 127.0.0.1 with ``--emulator``), logging and
the mapping of failures to exit codes. Without an API key and without ``--emulator`` a command
that needs the network says so and exits 2: it never falls back to a fake Supernet."""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from sogni_sync._argtypes import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from sogni_sync.errors import MissingDependencyError, SogniError, ValidationError

if TYPE_CHECKING:
    from sogni_sync._client import SogniClient

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "LOCAL_OPTIONS",
    "add_common",
    "api_key_of",
    "guarded",
    "non_negative_float",
    "non_negative_int",
    "open_client",
    "positive_float",
    "positive_int",
    "say",
    "text",
    "UsageError",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Options of the in-process emulator behind ``--emulator`` (tests set the delays to 0).
LOCAL_OPTIONS: dict[str, Any] = {"step_delay": 0.05, "token_delay": 0.02}


class UsageError(Exception):
    """Invalid command-line input found after parsing (exit 2, like argparse's own errors)."""


# -- option types: shared with the emulator's command line -----------------------------------

def text(value: str) -> str:
    """A non-blank string (prompts, messages)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value


def add_common(parser: argparse.ArgumentParser) -> None:
    """The connection and output options every network subcommand takes."""
    group = parser.add_argument_group("connection options")
    group.add_argument("--api-key", default=None, metavar="KEY",
                       help="Sogni API key (default: $SOGNI_API_KEY)")
    group.add_argument("--rest-endpoint", default=None, metavar="URL",
                       help="REST API base URL (default: $SOGNI_REST_ENDPOINT or "
                            "https://api.sogni.ai)")
    group.add_argument("--socket-endpoint", default=None, metavar="URL",
                       help="socket URL (default: $SOGNI_SOCKET_ENDPOINT or "
                            "wss://socket.sogni.ai)")
    group.add_argument("--network", choices=("fast", "relaxed"), default=None,
                       help="worker network (default: $SOGNI_NETWORK or fast)")
    group.add_argument("--timeout", type=positive_float, default=None, metavar="SECONDS",
                       help="give up (and cancel the project) after this many seconds")
    group.add_argument("--emulator", "--local", dest="emulator", action="store_true",
                       help="run against a throw-away local emulator on 127.0.0.1 "
                            "(synthetic results, no API key needed)")
    out = parser.add_argument_group("output options")
    out.add_argument("-v", "--verbose", action="count", default=0,
                     help="log to stderr (-v info, -vv debug; -v also names --emulator's "
                          "emulator)")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def say(message: str) -> None:
    """A note or an error for the user: stderr, never stdout."""
    _write(sys.stderr, message)


def show(message: object) -> None:
    """A command's result, one line or block: stdout, flushed (it may be piped)."""
    _write(sys.stdout, str(message))


def _write(stream: Any, message: str) -> None:
    stream.write(message + "\n")
    stream.flush()


@contextlib.contextmanager
def _local_supernet() -> Iterator[Any]:
    try:
        from sogni_sync.testing import LocalSupernet

        net = LocalSupernet(**LOCAL_OPTIONS)
    except ImportError:
        raise MissingDependencyError(
            "emulator", "aiohttp", "The local emulator (--emulator)") from None
    with net:
        yield net


def api_key_of(args: argparse.Namespace) -> str:
    """The API key to use; UsageError (exit 2) when there is none and no ``--emulator``."""
    key = args.api_key if args.api_key is not None else os.environ.get("SOGNI_API_KEY", "")
    key = key.strip()
    if not key and not args.emulator:
        raise UsageError("no API key: pass --api-key or set SOGNI_API_KEY (or --emulator to "
                         "try it against a local emulator)")
    return key


@contextlib.contextmanager
def open_client(args: argparse.Namespace, app_id: str | None = None) -> Iterator[SogniClient]:
    """A client for the command; closed (and a local emulator stopped) on the way out."""
    from sogni_sync._client import SogniClient

    key = api_key_of(args)
    with contextlib.ExitStack() as stack:
        if args.emulator:
            if args.verbose:  # the option says so already; a normal run keeps stderr empty
                say("sogni-sync: --emulator: using a local emulated Supernet; results are "
                    "synthetic")
            net = stack.enter_context(_local_supernet())
            client = SogniClient(api_key=net.api_key, rest_endpoint=net.rest_url,
                                 socket_endpoint=net.socket_url, network=args.network,
                                 app_id=app_id)
        else:
            client = SogniClient(api_key=key, rest_endpoint=args.rest_endpoint,
                                 socket_endpoint=args.socket_endpoint, network=args.network,
                                 app_id=app_id)
        stack.enter_context(client)
        yield client


@contextlib.contextmanager
def _logging(verbosity: int) -> Iterator[None]:
    if verbosity <= 0:
        yield
        return
    logger = logging.getLogger("sogni_sync")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Exit codes instead of tracebacks: 2 invalid input, 1 failure, 130 Ctrl-C."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        with _logging(args.verbose):
            try:
                return run(args)
            except KeyboardInterrupt:
                say("sogni-sync: interrupted")
                return EXIT_INTERRUPTED
            except BrokenPipeError:  # stdout closed early (`| head`): stop quietly
                _silence_stdout()
                return EXIT_FAILURE
            except (UsageError, ValidationError) as exc:
                say(f"error: {exc}")
                return EXIT_USAGE
            except (SogniError, OSError) as exc:  # OSError: files, sockets, builtin timeouts
                logging.getLogger(__name__).debug("command failed", exc_info=True)
                say(f"error: {exc or type(exc).__name__}")
                return EXIT_FAILURE

    return wrapper
