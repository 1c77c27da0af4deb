"""Wire naming and value conversion shared by every concern (``sogni_sync._convert``)."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from sogni_sync._convert import (
    camel_keys,
    converter,
    snake_keys,
    to_camel,
    to_decimal,
    to_snake,
)


@pytest.mark.parametrize(("camel", "snake"), [
    ("modelId", "model_id"), ("numberOfMedia", "number_of_media"),
    ("disableNSFWFilter", "disable_nsfw_filter"), ("sam2Coordinates", "sam2_coordinates"),
    ("referenceImageUrls", "reference_image_urls"), ("x", "x"),
])
def test_mechanical_snake_case(camel: str, snake: str) -> None:
    assert to_snake(camel) == snake


def test_nested_keys_round_trip() -> None:
    wire = {"controlNet": {"guidanceStart": 0.1, "items": [{"imageUrl": "u"}]}}
    snake = {"control_net": {"guidance_start": 0.1, "items": [{"image_url": "u"}]}}
    assert snake_keys(wire) == snake
    assert camel_keys(snake_keys(wire)) == wire
    assert to_camel("number_of_media") == "numberOfMedia"


def test_money_is_exact() -> None:
    assert to_decimal("0.000001") == Decimal("0.000001")
    assert to_decimal(0.1) == Decimal("0.1")  # a JSON number through its shortest repr
    assert to_decimal(None) is None and to_decimal("") is None and to_decimal("n/a") is None
    assert to_decimal(True) is None and to_decimal("NaN") is None


@attrs.frozen
class _Job:
    job_id: str
    step_count: int = 0
    cost: Decimal = Decimal(0)
    preview_url: str | None = None


def test_converter_keeps_wire_names_at_the_edge() -> None:
    job = converter.structure({"jobID": "A", "stepCount": 3, "cost": "1.50", "extra": 1}, _Job)
    assert job == _Job("A", 3, Decimal("1.50"))
    assert converter.unstructure(job) == {"jobID": "A", "stepCount": 3, "cost": "1.50"}
