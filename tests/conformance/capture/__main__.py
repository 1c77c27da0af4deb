"""``python -m tests.conformance.capture [--client js|py] [--check] [--only NAME]... [--out FILE]``.

``--client js`` (default) writes the vectors; ``--client py`` runs the same cases through the
official Python client 5.70.0 and, unless ``--out`` is given, compares its requests and errors
with the committed JS vectors (a report of where the two official clients agree, by family).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections import Counter
from typing import Any

from . import VECTORS, CaptureError, capture, load_cases, render
from .check import diff_paths


def compare(ours: list[dict[str, Any]], reference: list[dict[str, Any]]) -> int:
    """Print where ``ours`` differs from ``reference`` and the agreement by family."""
    by_name = {v["name"]: v for v in reference}
    same: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for vector in ours:
        ref = by_name[vector["name"]]
        total[ref["family"]] += 1
        if "error" in ref or "error" in vector:
            want = ref.get("error", {}).get("message")
            got = vector.get("error", {}).get("message")
            agree = want is not None and got is not None and want in got
            detail = f"error {got!r}" if got else "sent a jobRequest"
        else:
            diff = diff_paths(vector["expected"], ref["expected"])
            agree, detail = not diff, f"differs in {diff[:4]}"
        if agree:
            same[ref["family"]] += 1
        else:
            sys.stdout.write(f"{vector['name']}: {detail[:300]}\n")
    for family in sorted(total):
        sys.stdout.write(f"{family:14} {same[family]:4}/{total[family]}\n")
    sys.stdout.write(f"agree with the JS vectors {sum(same.values())}/{sum(total.values())}\n")
    return 0 if same == total else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.capture",
                                     description="capture jobRequest vectors from an official "
                                                 "client")
    parser.add_argument("--client", choices=("js", "py"), default="js")
    parser.add_argument("--check", action="store_true",
                        help="capture again and compare with the committed vectors")
    parser.add_argument("--only", action="append", default=[], help="capture one case only")
    parser.add_argument("--out", help=f"where to write the vectors (js default: {VECTORS})")
    args = parser.parse_args(argv)
    try:
        vectors = capture(load_cases(args.only), client=args.client)
    except CaptureError as exc:
        sys.stderr.write(f"capture failed: {exc}\n")
        return 2
    text = render(vectors)
    if args.client == "py" and not args.out:
        import json

        reference = [json.loads(line) for line in VECTORS.read_text("utf-8").splitlines()]
        return compare(vectors, reference)
    out = args.out or str(VECTORS)
    if args.check:
        with open(out, encoding="utf-8") as fh:
            old = fh.read()
        if old == text:
            sys.stdout.write(f"vectors reproduced: {text.count(chr(10))} cases\n")
            return 0
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                   out, "re-captured", n=0))
        return 1
    if args.only and not args.out:
        sys.stdout.write(text)
        return 0
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(text)
    sys.stdout.write(f"wrote {text.count(chr(10))} vectors to {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
