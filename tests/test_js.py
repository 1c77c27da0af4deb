"""JavaScript's value rules (``sogni_sync._js``), checked against what a JS engine answers."""

from __future__ import annotations

import math

import pytest

from sogni_sync._js import js_number, js_round, js_str, js_to_number, truthy


@pytest.mark.parametrize(("value", "rounded"), [
    # halves go towards +infinity, on both sides of zero (Python's round() goes to even)
    (0.5, 1), (1.5, 2), (2.5, 3), (-0.5, 0), (-1.5, -1), (-2.5, -2), (-0.4, 0), (-0.6, -1),
    (4.4999, 4), (0.0, 0), (-0.0, 0), (7, 7), (-7, -7),
    # floor(x + 0.5) gets these wrong: the addition itself rounds
    (0.49999999999999994, 0), (-0.49999999999999994, 0),
    (4503599627370497.0, 4503599627370497), (-4503599627370497.0, -4503599627370497),
    (2.0**53 + 2, 2**53 + 2),
])
def test_js_round_is_math_round(value: float, rounded: int) -> None:
    assert js_round(value) == rounded
    assert isinstance(js_round(value), int)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_js_round_has_no_integer_for_non_finite_values(value: float) -> None:
    with pytest.raises((ValueError, OverflowError)):
        js_round(value)


@pytest.mark.parametrize(("value", "text"), [
    (7.0, "7"), (0.1 + 0.2, "0.30000000000000004"), (1e-7, "1e-7"), (1e21, "1e+21"),
    (True, "true"), (12, "12"), (float("inf"), "Infinity"), (-math.inf, "-Infinity"),
    (math.nan, "NaN"), (-2.5, "-2.5"),
])
def test_numbers_print_as_javascript_does(value: float, text: str) -> None:
    assert js_number(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (None, "null"), ("a", "a"), ({"a": 1}, "[object Object]"), ([1, None, "x"], "1,,x"),
    (False, "false"), (3.0, "3"),
])
def test_string_conversion(value: object, text: str) -> None:
    assert js_str(value) == text


@pytest.mark.parametrize(("value", "expected"), [
    (None, False), (False, False), (0, False), (0.0, False), (math.nan, False), ("", False),
    (True, True), (-1, True), ("0", True), (" ", True), ([], True), ({}, True), (b"", True),
])
def test_truthiness(value: object, expected: bool) -> None:
    assert truthy(value) is expected


@pytest.mark.parametrize(("value", "number"), [
    (None, 0.0), (True, 1.0), ("", 0.0), (" 12 ", 12.0), ("0x10", 16.0), ("-Infinity", -math.inf),
    ([], 0.0), (["5"], 5.0), ([7], 7.0),
])
def test_number_conversion(value: object, number: float) -> None:
    assert js_to_number(value) == number


@pytest.mark.parametrize("value", ["abc", "inf", "1_000", [1, 2], {}, "nan"])
def test_number_conversion_gives_nan(value: object) -> None:
    assert math.isnan(js_to_number(value))
