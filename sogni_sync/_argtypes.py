"""Value types for command-line options (the CLI's and the emulator's): argparse turns their
``ArgumentTypeError`` into a one-line usage error and exit status 2."""

from __future__ import annotations

import argparse

__all__ = ["non_negative_float", "non_negative_int", "positive_float", "positive_int"]


def _parse_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}")


def positive_int(value: str) -> int:
    number = _parse_int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {number}")
    return number


def non_negative_int(value: str) -> int:
    number = _parse_int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {number}")
    return number


def _parse_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}")
    return number


def positive_float(value: str) -> float:
    number = _parse_float(value)
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {value}")
    return number


def non_negative_float(value: str) -> float:
    number = _parse_float(value)
    if not 0 <= number < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return number
