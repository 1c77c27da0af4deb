"""``sogni-sync batch`` (run a JSONL/CSV file of items into a directory, resumable) and
``sogni-sync estimate`` (the price of one project, or of a whole batch file, before running)."""

from __future__ import annotations

import argparse
import json
import pathlib
from typing import Any

from sogni_sync.cli._common import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    add_common,
    api_key_of,
    guarded,
    non_negative_int,
    open_client,
    positive_int,
    say,
    show,
)

__all__ = ["configure_batch", "configure_estimate", "run_batch", "run_estimate"]

_KINDS = {"image": "image", "video": "video", "music": "audio", "audio": "audio"}
_DEFAULT_MODELS = {"image": "flux1-schnell-fp8", "video": "wan_v2.2-14b-fp8_t2v_lightx2v",
                   "audio": "ace_step_1.5_turbo"}


def configure_batch(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("items", metavar="ITEMS", help="a .jsonl file (one JSON object of "
                        "project parameters a line) or a .csv file with a header row")
    parser.add_argument("-o", "--out", required=True, metavar="DIR",
                        help="directory for the results and manifest.jsonl")
    parser.add_argument("--concurrency", type=positive_int, default=8, metavar="N",
                        help="projects in flight at most (default: 8)")
    parser.add_argument("--retries", type=non_negative_int, default=2, metavar="N",
                        help="retries of a failed item (default: 2)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the batch recorded in DIR/manifest.jsonl")
    parser.add_argument("--manifest", default=None, metavar="PATH",
                        help="manifest file (default: DIR/manifest.jsonl)")
    add_common(parser)


def configure_estimate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="PROMPT|ITEMS",
                        help="a prompt (one project) or a .jsonl/.csv batch file")
    parser.add_argument("--kind", choices=sorted(_KINDS), default="image",
                        help="project type of a prompt (default: image)")
    parser.add_argument("--model", default=None, help="model id (default: the kind's)")
    parser.add_argument("-n", "--count", type=positive_int, default=1, metavar="N",
                        help="how many results (default: 1)")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="inference steps (default: the model's)")
    add_common(parser)


def _header_app_id(path: pathlib.Path) -> str | None:
    """The app id a manifest's projects belong to (their events go to it only)."""
    try:
        with open(path, encoding="utf-8") as fh:
            header = json.loads(fh.readline() or "{}")
    except (OSError, ValueError):
        return None
    app_id = header.get("app_id") if isinstance(header, dict) else None
    return app_id if isinstance(app_id, str) and app_id else None


@guarded
def run_batch(args: argparse.Namespace) -> int:
    from sogni_sync.batch import ItemSource

    source = ItemSource(args.items)  # a missing or misnamed file: exit 2 before connecting
    for _ in source:  # and so is a bad item (read lazily, checked again by the runner)
        pass
    out = pathlib.Path(args.out)
    manifest = pathlib.Path(args.manifest) if args.manifest else out / "manifest.jsonl"
    if manifest.exists() and not args.resume:
        raise UsageError(f"{manifest} exists: pass --resume to continue that batch, or "
                         "choose another --out")
    api_key_of(args)
    app_id = _header_app_id(manifest) if args.resume else None
    with open_client(args, app_id=app_id) as client:
        summary = client.batch.run(source.path or args.items, concurrency=args.concurrency,
                                   output_dir=out, manifest=manifest, resume=args.resume,
                                   retries=args.retries, progress=not args.quiet)
    say(f"sogni-sync: {summary.completed} completed, {summary.skipped} already done, "
        f"{summary.recovered} recovered, {summary.failed} failed in {summary.elapsed:.1f}s "
        f"({summary.items_per_second:.1f} items/s); cost {summary.cost} tokens")
    for failure in summary.failures[:10]:
        say(f"  item {failure.index}: {failure.error}")
    show(summary.manifest)
    return EXIT_OK if summary.failed == 0 else EXIT_FAILURE


@guarded
def run_estimate(args: argparse.Namespace) -> int:
    from sogni_sync.batch import ItemSource

    path = pathlib.Path(args.target)
    if path.suffix.lower() in (".jsonl", ".csv", ".ndjson"):
        items: Any = ItemSource(path)
        for _ in items:  # every item checked before connecting
            pass
        items = path
    else:
        kind = _KINDS[args.kind]
        given = {"type": kind, "model_id": args.model or _DEFAULT_MODELS[kind],
                 "positive_prompt": args.target, "number_of_media": args.count}
        if args.steps is not None:
            given["steps"] = args.steps
        items = [given]
    api_key_of(args)
    with open_client(args) as client:
        quote = client.batch.estimate(items)
    show(f"{quote.tokens} tokens")
    label = ", ".join(f"{n} {k}" for k, n in quote.kinds) or "nothing"
    notes = [f"{quote.unquoted} without a quote"] if quote.unquoted else []
    if quote.chats:
        notes.append(f"{quote.chats} chat item(s) priced by the tokens they use")
    say(f"sogni-sync: estimate for {label}" + (f" ({'; '.join(notes)})" if notes else ""))
    return EXIT_OK
