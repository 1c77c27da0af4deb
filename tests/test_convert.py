"""Wire naming and value conversion shared by every concern (``sogni_sync._convert``)."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from sogni_sync._convert import (
    converter,
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


def test_plain_camel_case() -> None:
    assert to_camel("number_of_media") == "numberOfMedia" and to_camel("x") == "x"


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


def test_result_classes_are_built_by_the_converter() -> None:
    from sogni_sync.catalog._types import CostEstimate, SupportedModel
    from sogni_sync.chat import ChatCostEstimate, HostedChatCompletion, LLMJobCost, LLMModel

    assert converter.structure({"id": "m", "SID": 4, "x": 1}, SupportedModel) == SupportedModel(
        id="m", name="m", sid=4, tier="", media="image")
    quote = {"costInToken": "1.5", "costInUSD": 0.1, "costInSpark": "n/a"}
    assert converter.structure({"quote": {"project": quote}}, CostEstimate) == CostEstimate(
        token=Decimal("1.5"), usd=Decimal("0.1"), spark=None, sogni=None)
    assert converter.structure({"quote": quote}, ChatCostEstimate).cost_in_usd == Decimal("0.1")
    cost = converter.structure({"costInUSD": "2", "inputTokens": 3}, LLMJobCost)
    assert cost == LLMJobCost(cost_in_usd=Decimal(2), input_tokens=3)
    models = converter.structure({"a": {"workers": 2, "maxOutputTokens": 5}, "b": 3},
                                 dict[str, LLMModel])
    assert (models["a"].id, models["a"].workers, models["a"].max_output_tokens) == ("a", 2, None)
    assert models["b"].workers == 3
    assert models["b"].raw == {"workers": 3}
    body = {"choices": [{"message": {"content": "hi", "tool_calls": [
        {"id": "c", "function": {"name": "f"}}]}}], "usage": {}}
    answer = converter.structure(body, HostedChatCompletion)
    assert answer.content == "hi" and answer.choices[0].index == 0 and answer.usage is None
    assert answer.message is not None and answer.message.role == "assistant"
    assert answer.tool_calls[0].name == "f" and answer.tool_calls[0].arguments == ""
    assert answer.object == "chat.completion" and answer.raw == body


def test_optional_blocks_and_derived_usage() -> None:
    from sogni_sync._convert import structure_optional
    from sogni_sync.chat import Usage

    assert structure_optional({}, Usage) is None and structure_optional("x", Usage) is None
    assert structure_optional({"prompt_tokens": 2, "completion_tokens": None}, Usage) == Usage(
        2, 0, 2)
    assert structure_optional({"total_tokens": 9}, Usage) == Usage(0, 0, 9)


def test_structure_names_the_path_on_a_bad_answer() -> None:
    from sogni_sync._convert import structure
    from sogni_sync.errors import UnexpectedResponseError

    with pytest.raises(UnexpectedResponseError, match=r"/x.*expected an object"):
        structure([], _Job, "/x")
    with pytest.raises(UnexpectedResponseError, match="_Job fields have the wrong type"):
        structure({"jobID": "A", "stepCount": "many"}, _Job, "/x")


def test_account_times_and_flags() -> None:
    import datetime as dt

    from sogni_sync._convert import structure
    from sogni_sync.account._models import TxHistoryEntry, reward_from_wire

    tx = structure({"id": "t", "createTime": 1_700_000_000_000, "amount": "1.5"},
                   TxHistoryEntry, "/v1/transactions/list")
    assert tx.create_time == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    assert tx.amount == 1.5 and tx.end_time.year == 1970 and tx.token_type == ""
    reward = reward_from_wire({"id": "r", "claimed": "0", "canClaim": 1,
                               "lastClaimTimestamp": 1_700_000_000,
                               "claimResetFrequencySec": 3600}, "base")
    assert reward.claimed is False and reward.can_claim is True and reward.provider == "base"
    assert reward.last_claim is not None and reward.next_claim is not None
    assert reward.next_claim - reward.last_claim == dt.timedelta(hours=1)
    never = reward_from_wire({"id": "r", "lastClaimTimestamp": 5}, "base")
    assert never.last_claim is not None and never.next_claim is None
