"""The ``sogni-sync`` console script.

Subcommands register themselves in :data:`COMMANDS` (name -> (help, configure parser, run)):

* ``image`` / ``video`` / ``music`` -- generate media, download it into ``--out``, print paths;
* ``batch`` -- run a JSONL/CSV file of items (resumable); ``estimate`` -- price before running;
* ``chat`` -- ask an LLM (streamed by default); ``models`` -- what is online; ``balance``;
* ``emulator`` -- run :class:`sogni_sync.testing.LocalSupernet` in the foreground (the same
  entry as ``python -m sogni_sync.testing``: :func:`sogni_sync.testing.main`).

Network commands take ``--api-key`` (default ``$SOGNI_API_KEY``), ``--rest-endpoint``,
``--socket-endpoint``, ``--network``, ``--timeout``, ``--emulator`` (a throw-away emulator on
127.0.0.1; without it and without an API key a command exits 2), ``-v`` and ``-q``. Results
go to stdout, progress, notes and errors to stderr. Exit codes: 0 ok, 1 failure, 2 invalid
input, 130 interrupted (a running project is canceled first).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sogni_sync import testing
from sogni_sync.cli import _batch, _info, _media

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None],
                          Callable[[argparse.Namespace], int]]] = {
    "image": ("generate images", _media.configure_image, _media.run_image),
    "video": ("generate a video", _media.configure_video, _media.run_video),
    "music": ("generate music", _media.configure_music, _media.run_music),
    "batch": ("run a JSONL/CSV file of projects into a directory (resumable)",
              _batch.configure_batch, _batch.run_batch),
    "estimate": ("price a project or a whole batch file before running it",
                 _batch.configure_estimate, _batch.run_estimate),
    "chat": ("ask an LLM", _info.configure_chat, _info.run_chat),
    "models": ("list the models with online workers", _info.configure_models, _info.run_models),
    "balance": ("show the account balance", _info.configure_balance, _info.run_balance),
    "emulator": ("run a local Sogni Supernet emulator", testing.add_arguments, testing.serve),
}

EPILOG = """\
examples:
  sogni-sync image "a lighthouse at dusk" -n 2 --out shots
  sogni-sync music "lo-fi beat" --duration 30 --format wav
  sogni-sync chat "Write a haiku about GPUs" --max-tokens 200
  sogni-sync models --kind llm
  sogni-sync batch prompts.jsonl --out shots --concurrency 16   # then --resume after a crash
  sogni-sync estimate prompts.jsonl
  sogni-sync image "a fox" --emulator -o shots                 # no account needed

Commands need an API key (--api-key or SOGNI_API_KEY); --emulator runs any of them against
a throw-away local emulator instead.
exit codes: 0 ok, 1 failure, 2 invalid input, 130 interrupted"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sogni-sync", description="Generate images, video and music and chat with LLMs "
                                       "on the Sogni Supernet.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    from sogni_sync._version import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (helptext, configure, _) in COMMANDS.items():
        configure(sub.add_parser(name, help=helptext, description=helptext))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help / --version (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:  # pragma: no cover - reading stdin for `-`
        return 130
    return COMMANDS[args.command][2](args)


if __name__ == "__main__":
    sys.exit(main())
