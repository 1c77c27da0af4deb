"""``python -m tests.conformance.capture [--check] [--only NAME]... [--out FILE]``."""

from __future__ import annotations

import argparse
import difflib
import sys

from . import VECTORS, CaptureError, capture, load_cases, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.capture",
                                     description="capture jobRequest vectors from the JS client")
    parser.add_argument("--check", action="store_true",
                        help="capture again and compare with the committed vectors")
    parser.add_argument("--only", action="append", default=[], help="capture one case only")
    parser.add_argument("--out", default=str(VECTORS), help="where to write the vectors")
    args = parser.parse_args(argv)
    try:
        text = render(capture(load_cases(args.only)))
    except CaptureError as exc:
        sys.stderr.write(f"capture failed: {exc}\n")
        return 2
    if args.check:
        with open(args.out, encoding="utf-8") as fh:
            old = fh.read()
        if old == text:
            sys.stdout.write(f"vectors reproduced: {text.count(chr(10))} cases\n")
            return 0
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                   args.out, "re-captured", n=0))
        return 1
    if args.only:
        sys.stdout.write(text)
        return 0
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(text)
    sys.stdout.write(f"wrote {text.count(chr(10))} vectors to {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
