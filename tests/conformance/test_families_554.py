"""The official JS 5.54 and Python 5.70 clients get a result from the emulator for every model
family of 5.54: each client's own ``create()`` sends one case of ``capture/cases_554.json`` per
family, its own completion call returns the result URLs, and the files behind them download and
are of the family's kind (image, video, audio or a GLB model).

A client already installed (by the capture harness or the conformance runner) is used here;
``SOGNI_RUNS_INSTALL=1`` installs a missing one first (npm / pip, minutes)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
import requests

from sogni_sync.testing import LocalSupernet
from tests.conformance.capture import CaptureError, load_cases, run_driver
from tests.testing.decoders import kind_of

#: family -> (case of cases_554.json, kind of file its result is)
FAMILIES = {
    "minimax_h3": ("h3_t2v_turbo", "video"),
    "minimax_h3 audio guide": ("h3_fast_ia2v", "video"),
    "wan3": ("wan3_i2v", "video"),
    "seedance25": ("seedance25_t2v", "video"),
    "happyhorse": ("happyhorse_i2v", "video"),
    "ltx25": ("ltx25_i2v_distilled", "video"),
    "flashvsr": ("flashvsr_1080", "video"),
    "rtx_vsr": ("rtx_vsr_4k", "image"),
    "krea2": ("krea2_t2i", "image"),
    "gpt_image_25": ("gpt25_sunburst_xhigh", "image"),
    "sam3": ("sam3_points", "image"),
    "birefnet": ("birefnet_matte", "image"),
    "pixal3d": ("pixal3d_multiview", "model"),
    "speech": ("tts_custom_voice", "audio"),
    "speech voice clone": ("tts_voice_clone", "audio"),
    "lora": ("lora_personal_id", "image"),
    "music3": ("music3_song", "audio"),
}


def test_kind_sniffing_can_fail() -> None:
    assert kind_of(b"\x89PNG\r\n\x1a\n....") == "image"
    assert kind_of(b"\x00\x00\x00\x18ftypisom") == "video"
    assert kind_of(b"ID3\x04\x00") == "audio"
    assert kind_of(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "audio"
    assert kind_of(b"glTF\x02\x00\x00\x00") == "model"
    assert kind_of(b"glTF\x01\x00\x00\x00") is None
    assert kind_of(b"{}") is None


def test_one_case_of_every_family_of_the_case_list() -> None:
    cases = {c["name"]: c for c in load_cases()}
    assert {cases[name]["family"] for name, _ in FAMILIES.values()} == \
        {c["family"] for c in cases.values()}


@pytest.fixture(scope="module")
def small_net() -> Iterator[LocalSupernet]:
    # a short step delay lets every job render; small media caps keep the files cheap
    with LocalSupernet(step_delay=0.005, media_max_side=32, video_max_side=64, max_frames=6,
                       max_seconds=0.5) as net:
        yield net


@pytest.mark.parametrize("client", ["js", "py"])
def test_official_client_gets_a_result_for_every_family(client: str,
                                                        small_net: LocalSupernet) -> None:
    if client == "js" and shutil.which("node") is None:
        pytest.skip("node not available")
    by_name = {c["name"]: c for c in load_cases()}
    cases = [by_name[name] for name, _ in FAMILIES.values()]
    try:
        rows = run_driver(cases, small_net, client, wait=60.0, timeout=180.0,
                          install=os.environ.get("SOGNI_RUNS_INSTALL") == "1")
    except CaptureError as exc:
        pytest.skip(f"official {client} client not available: {exc}")
    got = {}
    for family, row in zip(FAMILIES, rows, strict=True):
        assert "error" not in row, f"{family}: {row}"
        urls = row["resultUrls"]
        assert len(urls) == 1, f"{family}: {row}"
        resp = requests.get(urls[0], timeout=30)
        assert resp.status_code == 200, f"{family}: {resp.status_code} {urls[0]}"
        got[family] = kind_of(resp.content)
    assert got == {family: want for family, (_, want) in FAMILIES.items()}
    models = {f["keyFrames"][0]["modelID"] for f in small_net.received("jobRequest")
              if isinstance(f, dict)}
    assert {c["params"]["modelId"] for c in cases} <= models
