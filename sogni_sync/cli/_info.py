"""``chat``, ``models`` and ``balance``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import attrs

from sogni_sync._sync import Deadline
from sogni_sync.cli._common import (
    EXIT_OK,
    UsageError,
    add_common,
    guarded,
    non_negative_float,
    open_client,
    positive_int,
    say,
    show,
    text,
)
from sogni_sync.errors import TimeoutError

__all__ = ["configure_balance", "configure_chat", "configure_models", "run_balance",
           "run_chat", "run_models"]

DEFAULT_CHAT_MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"
CHAT_TIMEOUT = 300.0
MODELS_TIMEOUT = 10.0
KINDS = ("image", "video", "audio", "llm")


# -- chat -----------------------------------------------------------------------------------

def configure_chat(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("message", type=text, metavar="MESSAGE",
                        help='what to ask ("-" reads it from stdin)')
    parser.add_argument("--model", default=DEFAULT_CHAT_MODEL,
                        help=f"LLM model id (default: {DEFAULT_CHAT_MODEL}; see `sogni-sync "
                             "models --kind llm`)")
    parser.add_argument("--system", default=None, metavar="TEXT", help="system prompt")
    parser.add_argument("--stream", action=argparse.BooleanOptionalAction, default=True,
                        help="print the answer as it is written (default: --stream)")
    parser.add_argument("--max-tokens", type=positive_int, default=None, metavar="N",
                        help="cap on the answer's length in tokens")
    parser.add_argument("--temperature", type=non_negative_float, default=None,
                        help="sampling temperature (default: the model's)")
    parser.add_argument("--think", action=argparse.BooleanOptionalAction, default=None,
                        help="let a thinking model reason first (default: the server's)")
    parser.add_argument("--token-type", choices=("spark", "sogni"), default=None,
                        help="token to pay with (default: sogni)")
    add_common(parser)


@guarded
def run_chat(args: argparse.Namespace) -> int:
    message = args.message
    if message == "-":
        message = sys.stdin.read()
        if not message.strip():
            raise UsageError("the message read from stdin is empty")
    messages: list[dict[str, Any]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": message})
    options: dict[str, Any] = {"max_tokens": args.max_tokens, "temperature": args.temperature,
                               "think": args.think, "token_type": args.token_type}
    with open_client(args) as client:
        if not args.stream:
            timeout = args.timeout if args.timeout is not None else CHAT_TIMEOUT
            answer = client.chat.complete(args.model, messages, timeout=timeout, **options)
            show(answer.content)
            return EXIT_OK
        written = ""
        try:
            with client.chat.stream(args.model, messages, timeout=args.timeout,
                                    **options) as stream:
                for chunk in stream:
                    if chunk.content:
                        sys.stdout.write(chunk.content)
                        sys.stdout.flush()
                        written = chunk.content
        finally:
            if written and not written.endswith("\n"):
                sys.stdout.write("\n")
                sys.stdout.flush()
    return EXIT_OK


# -- models ---------------------------------------------------------------------------------

def configure_models(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", choices=KINDS, default=None,
                        help="only this kind of model (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_common(parser)


@guarded
def run_models(args: argparse.Namespace) -> int:
    kinds = (args.kind,) if args.kind else KINDS
    deadline = Deadline(args.timeout if args.timeout is not None else MODELS_TIMEOUT)
    rows: list[dict[str, Any]] = []
    missed: list[str] = []
    with open_client(args) as client:
        if set(kinds) - {"llm"}:
            try:
                for media in client.catalog.wait_for_models(deadline.remaining()):
                    if media.media in kinds:
                        rows.append({"id": media.id, "kind": media.media,
                                     "workers": media.worker_count, "name": media.name})
            except TimeoutError:
                missed.append("media")
        if "llm" in kinds:
            try:
                for model in client.chat.wait_for_models(deadline.remaining()).values():
                    rows.append({"id": model.id, "kind": "llm", "workers": model.workers,
                                 "name": model.id})
            except TimeoutError:
                missed.append("LLM")
    if missed and (args.kind or len(missed) == 2):
        raise TimeoutError(f"no {' or '.join(missed)} models announced in time (is the socket "
                           "endpoint reachable?)")
    for what in missed:
        say(f"sogni-sync: no {what} models announced in time")
    rows.sort(key=lambda r: (KINDS.index(r["kind"]) if r["kind"] in KINDS else 9, r["id"]))
    if args.json:
        show(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        say("sogni-sync: no models with online workers")
        return EXIT_OK
    width = max(len("MODEL"), *(len(r["id"]) for r in rows))
    show(f"{'MODEL':<{width}}  {'KIND':<5}  {'WORKERS':>7}  NAME")
    for r in rows:
        show(f"{r['id']:<{width}}  {r['kind']:<5}  {r['workers']:>7}  {r['name']}")
    return EXIT_OK


# -- balance --------------------------------------------------------------------------------

def configure_balance(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON with every field")
    add_common(parser)


@guarded
def run_balance(args: argparse.Namespace) -> int:
    with open_client(args) as client:
        balances = client.account.refresh_balance()
    if args.json:
        show(json.dumps(attrs.asdict(balances), indent=2, default=str))  # Decimal as text
        return EXIT_OK
    for token in ("spark", "sogni"):
        value = getattr(balances, token)
        extra = ""
        if value.premium_credit:  # None or zero: nothing to add
            extra = f"  (premium credit {value.premium_credit})"
        show(f"{token}: {value.net}{extra}")
    return EXIT_OK
