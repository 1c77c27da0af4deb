"""``balances_from_wire`` builds balances directly (it runs after every job's result, on the
socket thread); it must read exactly what the converter reads, and refuse what it refuses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sogni_sync._convert import structure
from sogni_sync.account import Balances
from sogni_sync.account._models import balances_from_wire
from sogni_sync.errors import UnexpectedResponseError

PAYLOADS: list[dict[str, Any]] = [
    {"sogni": {"settled": "100.5", "credit": "0", "debit": "0", "net": "100.5"},
     "spark": {"settled": "10", "credit": "1", "debit": "0", "net": "11", "premiumCredit": "2",
               "relaxedUnclaimed": "0.25", "fastUnclaimed": "0"}},
    {"sogni": {"net": 3}, "spark": {"settled": 1.5, "net": None, "unknownKey": "x"}},
    {"sogni": {"settled": "1e2", "premiumCredit": None}, "spark": {"debit": "-0.000001"}},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_direct_build_reads_what_the_converter_reads(payload: dict[str, Any]) -> None:
    assert balances_from_wire(payload) == structure(payload, Balances, "/v4/account/balance")


def test_each_figure_is_exact() -> None:
    got = balances_from_wire(PAYLOADS[0])
    assert got.sogni.settled == Decimal("100.5") and got.spark.relaxed_unclaimed == Decimal("0.25")
    assert got.sogni.premium_credit is None


@pytest.mark.parametrize("payload, match", [
    ({"sogni": {"net": "abc"}, "spark": {"net": "1"}}, "sogni net is not a decimal number"),
    ({"sogni": {"net": "1"}, "spark": {"credit": "", "debit": "NaN"}},
     "spark credit, debit is not a decimal number"),
    ({"sogni": {"premiumCredit": "1"}, "spark": {"net": "1"}}, "expected balances"),
    ({"sogni": {"net": "1"}}, "expected balances"),
    ([], "expected balances"),
])
def test_malformed_balances_raise(payload: Any, match: str) -> None:
    with pytest.raises(UnexpectedResponseError, match=match):
        balances_from_wire(payload)
