"""JavaScript's value rules, where the SDK must agree with the JavaScript reference client.

The reference client is JavaScript, and some of what it computes is observable: a frame count
rounded with ``Math.round``, a number printed into an error message with ``String(n)``, an option
that counts as given when it is truthy. These helpers give Python the same answers, so that
requests and messages match the reference byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["js_number", "js_round", "js_str", "js_to_number", "truthy"]


def js_round(value: float) -> int:
    """JavaScript ``Math.round``: the nearest integer, halves towards +∞.

    ``2.5`` → 3, ``-2.5`` → -2, ``-0.5`` → 0 (Python's ``round`` sends halves to the even
    neighbour instead). The obvious ``floor(value + 0.5)`` is wrong in two places, as the
    ECMAScript specification itself warns: the addition rounds, so ``0.49999999999999994``
    would give 1 and an odd integer above 2**52 would move up by one. Comparing the fraction
    with one half is exact for every finite double. Non-finite values have no integer form and
    raise ``ValueError``/``OverflowError``; callers clamp them first.
    """
    floor = math.floor(value)
    return floor + 1 if value - floor >= 0.5 else floor


def js_number(value: float | int) -> str:
    """Format a number as JavaScript's ``String(n)`` does for the values the wire uses.

    Integral floats lose their ``.0`` (``7.0`` → ``"7"``); others use the shortest round-trip
    form, which Python's ``repr`` shares with JS for ordinary magnitudes.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:  # JS writes 1e-7 as "1e-7" and 1e+21 as "1e+21"
        mantissa, exp = text.split("e")
        sign = "-" if exp.startswith("-") else "+"
        text = f"{mantissa}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"
    return text


def js_str(value: Any) -> str:
    """JavaScript ``String(value)`` for messages."""
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        return js_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None else js_str(v) for v in value)
    return str(value)


def truthy(value: Any) -> bool:
    """JavaScript truthiness: containers, byte buffers, paths and files are always truthy."""
    if value is None or value is False:
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def js_to_number(value: Any) -> float:
    """JavaScript ``Number(value)`` for the value kinds a caller can pass."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        if text in ("Infinity", "+Infinity", "-Infinity"):
            return -math.inf if text.startswith("-") else math.inf
        lowered = text.lower()
        try:
            if lowered.startswith(("0x", "0o", "0b")):
                return float(int(text, 0))
            if "inf" in lowered or "nan" in lowered or "_" in text:
                return math.nan
            return float(text)
        except ValueError:
            return math.nan
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        if len(value) == 0:
            return 0.0
        if len(value) == 1:
            return js_to_number(js_str(value[0]))
    return math.nan
