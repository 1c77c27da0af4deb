"""The 5.54 capture harness, its case list, the committed vectors and their checker."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from tests.conformance.capture import (
    CASES,
    FIXED_ID,
    SHARED,
    VECTORS,
    CaptureError,
    capture,
    load_cases,
    merged_catalog,
    render,
    swap_id,
)
from tests.conformance.capture.check import diff_paths, snake, to_python

if not (SHARED / "protocol" / "catalog.json").exists():  # pragma: no cover - dev setup
    pytest.skip("shared referee tree not available", allow_module_level=True)

VECTOR_LINES = VECTORS.read_text("utf-8").splitlines()


def _vectors() -> list[dict[str, Any]]:
    return [json.loads(line) for line in VECTOR_LINES]


def test_vectors_follow_the_case_list() -> None:
    cases, vectors = load_cases(), _vectors()
    assert [v["name"] for v in vectors] == [c["name"] for c in cases]
    for case, vector in zip(cases, vectors, strict=True):
        assert vector["params"] == case["params"] and vector["family"] == case["family"]
        assert ("error" in vector) != ("expected" in vector)


def test_enough_ok_and_error_cases_over_the_new_families() -> None:
    vectors = _vectors()
    errors = [v for v in vectors if "error" in v]
    assert len(vectors) >= 80 and len(errors) >= 20 and len(vectors) - len(errors) >= 20
    # the naming convention of the case list: err_* and only err_* cases are refusals
    assert all(v["name"].startswith("err_") == ("error" in v) for v in vectors)
    families = {v["family"] for v in vectors}
    assert {"minimax_h3", "wan3", "seedance25", "happyhorse", "ltx25", "krea2", "gpt_image_25",
            "rtx_vsr", "flashvsr", "sam3", "birefnet", "pixal3d", "speech"} <= families


def test_every_case_model_is_in_the_merged_catalogue() -> None:
    catalog = merged_catalog()
    ids = {m["id"] for m in catalog["models"]}
    by_name = {v["name"]: v for v in _vectors()}
    for case in load_cases():
        absent = "error" in by_name[case["name"]] and \
            by_name[case["name"]]["error"]["message"].endswith("not supported")
        assert (case["params"]["modelId"] in ids) != absent, case["name"]
    assert all(m["tier"] in catalog["tiers"] for m in catalog["models"])
    # the seed catalogue is kept, the additions only add
    seed = json.loads((SHARED / "protocol" / "catalog.json").read_text("utf-8"))
    assert [m["id"] for m in catalog["models"][:len(seed["models"])]] == \
        [m["id"] for m in seed["models"]]


def test_project_ids_are_normalised() -> None:
    for vector in _vectors():
        if "expected" in vector:
            assert vector["expected"]["jobID"] == FIXED_ID
    assert swap_id({"a": ["ABC-1"], "b": "abc-1", "c": "x"}, "abc-1") == \
        {"a": [FIXED_ID], "b": FIXED_ID, "c": "x"}


def test_the_file_is_what_render_writes() -> None:
    assert render(_vectors()) == VECTORS.read_text("utf-8")


def test_checker_conversion_and_diff_can_fail() -> None:
    assert snake("disableNSFWFilter") == "disable_nsfw_filter"
    assert snake("referenceVideoDurations") == "reference_video_durations"
    assert snake("sam3Prompt") == "sam3_prompt"
    params = to_python({"sam3Prompt": {"maxInstances": 2}, "startingImage": {"$asset": "mask.png"}})
    assert params["sam3_prompt"] == {"max_instances": 2}
    assert params["starting_image"][:4] == b"\x89PNG"
    assert diff_paths({"a": [1, {"b": True}]}, {"a": [1, {"b": True}]}) == []
    assert diff_paths({"a": [1, {"b": 1}]}, {"a": [1, {"b": True}]}) == \
        ["a[1].b: got 1 want true"]
    assert diff_paths({"x": 1}, {"y": 1}) == ["x (extra)", "y (missing)"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                    reason="node/npm not installed")
def test_recapture_reproduces_the_committed_vectors() -> None:
    try:
        text = render(capture(load_cases()))
    except CaptureError as exc:  # pragma: no cover - e.g. no registry for the first install
        pytest.skip(f"capture unavailable: {exc}")
    assert text == VECTORS.read_text("utf-8")
    assert CASES.exists()


def test_client_comparison_reports_disagreement(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conformance.capture.__main__ import compare

    ref = [{"name": "a", "family": "f", "expected": {"x": 1}},
           {"name": "err_b", "family": "f", "error": {"message": "too big"}}]
    assert compare([{"name": "a", "expected": {"x": 1}},
                    {"name": "err_b", "error": {"message": "Error: too big!"}}], ref) == 0
    assert compare([{"name": "a", "expected": {"x": 2}},
                    {"name": "err_b", "expected": {}}], ref) == 1
    out = capsys.readouterr().out
    assert "a: differs in ['x: got 2 want 1']" in out and "err_b: sent a jobRequest" in out
    assert "agree with the JS vectors 0/2" in out
