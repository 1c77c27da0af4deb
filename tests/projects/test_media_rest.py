"""The media REST APIs of the current clients against the emulator: the LoRA catalogue and
personal LoRAs, saved uploads (``/v1/assets``), projects by id and recent history, estimate
timings, and REST error details."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path
from typing import Any

import pytest

from sogni_sync import SogniClient
from sogni_sync.errors import ApiError, NotFoundError, ValidationError
from sogni_sync.projects import (
    LoraCatalog,
    PersonalLora,
    ProjectResult,
    ProjectStatusSnapshot,
    SavedUpload,
)
from sogni_sync.testing import LocalSupernet

from .frames import IMAGE
from .media import PNG


def _calls(net: LocalSupernet, path: str) -> list[Any]:
    return [c for c in net.rest_calls if c.path == path]


# -- LoRA catalogue --------------------------------------------------------------------------


def test_available_loras_filters_by_model_and_is_cached(client: SogniClient,
                                                        net: LocalSupernet) -> None:
    every = client.projects.available_loras()
    assert isinstance(every, LoraCatalog)
    assert {r.lora_id for r in every.loras} == {"detail_tweaker", "warm_light", "z_sketch"}
    assert every.models == ("flux1-krea-dev_fp8_scaled", "flux1-schnell-fp8",
                            "z_image_turbo_bf16")
    assert every.constraints.max_per_request == 8
    assert every.constraints.min_strength == -100
    tweak = next(r for r in every.loras if r.lora_id == "detail_tweaker")
    assert (tweak.ui.min, tweak.ui.max, tweak.ui.default) == (-2, 2, 1)
    assert tweak.ui.range_labels is not None and tweak.ui.range_labels.max == "More detail"
    assert tweak.ui.examples[0].caption == "detail 1.0"
    assert tweak.related_lora_ids == ("warm_light",)

    krea = client.projects.available_loras("flux1-krea-dev_fp8_scaled")
    assert [r.lora_id for r in krea.loras] == ["detail_tweaker", "warm_light"]
    assert krea.models == every.models  # the model list ignores the filter
    assert client.projects.available_loras("no-such-model").loras == ()
    before = len(_calls(net, "/v1/loras/comfy"))
    client.projects.available_loras("flux1-krea-dev_fp8_scaled")
    assert len(_calls(net, "/v1/loras/comfy")) == before  # cached per filter
    client.projects.available_loras("flux1-krea-dev_fp8_scaled", force_refresh=True)
    assert len(_calls(net, "/v1/loras/comfy")) == before + 1
    assert _calls(net, "/v1/loras/comfy")[-1].query.get("modelId") == \
        "flux1-krea-dev_fp8_scaled"


def test_lora_helpers(client: SogniClient) -> None:
    warm = client.projects.get_lora("warm_light")
    assert warm is not None and warm.ui.section is not None and warm.ui.section.label == "Light"
    assert client.projects.get_lora("nope") is None
    assert client.projects.supports_loras("z_image_turbo_bf16")
    assert not client.projects.supports_loras("gpt-image-2")
    assert client.projects.lora_constraints().max_strength == 100
    with pytest.raises(ValidationError):
        client.projects.get_lora("")


def test_catalogue_of_an_older_server_gets_models_and_constraints_derived() -> None:
    from sogni_sync._convert import converter

    rows = [{"loraId": "a", "name": "A", "modelIds": ["m2", "m1"],
             "ui": {"min": 0, "max": 1, "default": 1}}]
    catalog = converter.structure({"loras": rows}, LoraCatalog)
    assert catalog.models == ("m1", "m2")
    assert (catalog.constraints.max_per_request, catalog.constraints.min_strength) == (8, -100)


# -- personal LoRAs --------------------------------------------------------------------------


def test_personal_lora_import_lifecycle(client: SogniClient) -> None:
    personal = client.projects.personal_loras
    library = personal.list()
    assert library.loras == () and "flux1-schnell-fp8" in library.models
    assert library.limits is not None and library.limits.entries == 3
    made = personal.import_(url="https://civitai.com/models/1", name="Mine",
                            model_id="flux1-schnell-fp8", rights_confirmed=True)
    assert isinstance(made, PersonalLora)
    assert made.id.startswith("personal-") and made.status == "queued"
    assert made.source == "civitai" and made.model_ids == ("flux1-schnell-fp8",)
    statuses = [personal.get(made.id).status for _ in range(3)]
    assert statuses == ["validating", "ready", "ready"]
    rows = personal.catalog()
    assert [r.lora_id for r in rows] == [made.id]
    assert personal.catalog("z_image_turbo_bf16") == ()
    assert client.projects.get_lora(made.id) == rows[0]
    mixed = client.projects.available_loras("flux1-schnell-fp8", include_personal=True)
    assert [r.lora_id for r in mixed.loras] == ["detail_tweaker", made.id]
    personal.remove(made.id)
    assert personal.list().loras == ()
    with pytest.raises(NotFoundError):
        personal.get(made.id)


def test_personal_lora_rejections(client: SogniClient, net: LocalSupernet) -> None:
    personal = client.projects.personal_loras
    bad = personal.import_(url="https://huggingface.co/x/reject.safetensors", name="Bad",
                           model_id="flux1-schnell-fp8", rights_confirmed=True)
    personal.get(bad.id)
    rejected = personal.get(bad.id)
    assert (rejected.status, rejected.failure_code) == ("rejected", "invalid_artifact")
    sent = len(net.rest_calls)
    with pytest.raises(ValidationError, match="rights_confirmed"):
        personal.import_(url="https://civitai.com/models/1", name="x",
                         model_id="flux1-schnell-fp8", rights_confirmed=False)
    with pytest.raises(ValidationError, match="url"):
        personal.import_(url="ftp://x", name="x", model_id="m", rights_confirmed=True)
    with pytest.raises(ValidationError):
        personal.get("")
    assert len(net.rest_calls) == sent  # refused before any request
    with pytest.raises(ApiError) as info:
        personal.import_(url="https://civitai.com/models/1", name="x", model_id="gpt-image-2",
                         rights_confirmed=True)
    assert info.value.status == 400


# -- saved uploads ---------------------------------------------------------------------------


def _png() -> bytes:
    return PNG


def test_saved_upload_roundtrip_and_reuse(client: SogniClient, net: LocalSupernet,
                                          tmp_path: Path) -> None:
    assets = client.projects.assets
    assert assets.available() is False  # the emulator's default: not offered
    net.offer_saved_uploads()
    assert assets.available() is True
    data = _png()
    saved = assets.upload(data, "image/png", name="apple")
    assert isinstance(saved, SavedUpload)
    assert (saved.state, saved.bytes, saved.reused, saved.name) == ("ready", len(data), False,
                                                                     "apple")
    prepare = _calls(net, "/v1/assets/prepare")[-1]
    assert prepare.json["sha256"] == hashlib.sha256(data).hexdigest()
    path = tmp_path / "same.png"
    path.write_bytes(data)
    again = assets.upload(path, "image/png", name="apple")
    assert (again.id, again.reused) == (saved.id, True)
    listing = assets.list()
    assert [a.id for a in listing.assets] == [saved.id]
    assert listing.limits is not None and listing.limits.entries == 4
    assets.remove(saved.id)
    assert assets.list().assets == ()


def test_saved_upload_bound_to_a_project_feeds_it(client: SogniClient,
                                                  net: LocalSupernet) -> None:
    net.offer_saved_uploads()
    saved = client.projects.assets.upload(_png(), "image/png")
    project_id = "6F2504E0-4F89-41D3-9A0C-0305E82C3301"
    client.projects.assets.bind(saved.id, project_id=project_id, type="startingImage")
    stored = net.call(lambda s: s.storage.get(f"uploads/{project_id}/startingImage"))
    assert stored is not None and stored[0] == _png()
    project = client.projects.create(**IMAGE, positive_prompt="from a saved upload",
                                     project_id=project_id, starting_image=True)
    assert project.wait(timeout=30)


def test_saved_upload_refusals(client: SogniClient, net: LocalSupernet) -> None:
    assets = client.projects.assets
    sent = len(net.rest_calls)
    with pytest.raises(ValidationError, match="content_type"):
        assets.upload(b"x", "image/gif")
    with pytest.raises(ValidationError, match="100 MiB"):
        assets.upload(b"", "image/png")
    assert len(net.rest_calls) == sent
    for i in range(4):
        assets.upload(_png() + bytes([i]), "image/png")
    with pytest.raises(ApiError) as info:
        assets.upload(_png() + b"full", "image/png")
    assert info.value.status == 409
    assert info.value.message.startswith("Your saved upload library is full.")


def test_busy_saved_upload_is_retried(client: SogniClient, net: LocalSupernet) -> None:
    net.faults.rest_error("/v1/assets/prepare", status=423, times=2)
    saved = client.projects.assets.upload(_png(), "image/png")
    assert saved.state == "ready"
    assert len(_calls(net, "/v1/assets/prepare")) == 3


# -- projects by id, recent history ----------------------------------------------------------


def test_get_status_while_running_and_after(client: SogniClient, net: LocalSupernet) -> None:
    net.options.step_delay = 0.2
    running = client.projects.create(**IMAGE, positive_prompt="slow")
    snap = client.projects.get_status(running.id)
    assert isinstance(snap, ProjectStatusSnapshot)
    assert snap.status in ("queued", "processing") and snap.finished is False
    assert snap.model_id == "flux1-schnell-fp8"
    client.projects.cancel(running.id)
    net.options.step_delay = 0.0
    done = client.projects.create(**IMAGE, positive_prompt="done", number_of_media=2)
    done.wait(timeout=30)
    snap = client.projects.get_status(done.id)
    assert (snap.status, snap.finished, snap.waiting_reason) == ("completed", True, None)
    assert len(snap.worker_jobs) == 2 and snap.raw["id"] == done.id
    with pytest.raises(NotFoundError):
        client.projects.get_status("00000000-0000-4000-8000-000000000000")


def test_waiting_reason_is_read_only_in_its_known_shape() -> None:
    from sogni_sync.projects._queue import waiting_reason

    known = waiting_reason({"reason": "concurrency_limit", "message": "Your plan runs 2 at once",
                            "paymentModel": "subscription"})
    assert known is not None and known.payment_model == "subscription"
    assert waiting_reason({"reason": "mystery", "message": "x"}) is None
    assert waiting_reason({"reason": "queued", "message": "  "}) is None
    assert waiting_reason("queued") is None


def test_get_result_gives_fresh_urls(client: SogniClient, net: LocalSupernet) -> None:
    project = client.projects.create(**IMAGE, positive_prompt="kept", number_of_media=2,
                                     seed=7)
    urls = project.wait(timeout=30)
    result = client.projects.get_result(project.id)
    assert isinstance(result, ProjectResult)
    assert (result.status, result.finished) == ("completed", True)
    assert sorted(j.id for j in result.jobs) == sorted(j.id for j in project.jobs)
    assert all(j.status == "completed" and j.url for j in result.jobs)
    assert {j.seed for j in result.jobs} == {j.seed for j in project.jobs}
    assert len(urls) == 2


def test_list_recent_groups_renders_newest_first(client: SogniClient,
                                                 net: LocalSupernet) -> None:
    first = client.projects.create(**IMAGE, positive_prompt="one")
    first.wait(timeout=30)
    second = client.projects.create(**IMAGE, positive_prompt="two", number_of_media=2)
    second.wait(timeout=30)
    recent = client.projects.list_recent()
    assert [p.id for p in recent[:2]] == [second.id, first.id]
    assert len(recent[0].jobs) == 2 and recent[0].model_id == "flux1-schnell-fp8"
    assert recent[0].finished_at is not None and recent[0].jobs[0].finished_at is not None
    assert not recent[0].jobs[0].sensitive_content_withheld
    call = _calls(net, "/v1/jobs/list")[-1]
    assert call.query["role"] == "artist" and call.query["state"] == "completed"
    assert call.query["limit"] == "50"
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    assert client.projects.list_recent(since=later) == ()
    assert len(client.projects.list_recent(limit=1)) == 1
    with pytest.raises(ValidationError):
        client.projects.list_recent(limit=101)
    with pytest.raises(ValidationError):
        client.projects.list_recent(since=dt.datetime(2026, 1, 1))  # naive


# -- estimates and errors --------------------------------------------------------------------


def test_estimates_carry_the_timings(client: SogniClient) -> None:
    fast = client.projects.estimate_image_cost(model_id="flux1-schnell-fp8", steps=4,
                                               positive_prompt="a cat")
    assert fast.estimated_render_seconds is not None and fast.estimated_render_seconds > 0
    assert fast.estimated_total_seconds == fast.estimated_render_seconds
    assert fast.daily_fair_use_pct is None
    slow = client.projects.estimate_image_cost(model_id="flux1-schnell-fp8", steps=4,
                                               positive_prompt="a cat", network="relaxed")
    assert slow.estimated_total_seconds is not None and slow.estimated_render_seconds is not None
    assert slow.estimated_total_seconds > slow.estimated_render_seconds


def test_estimate_wire_fields() -> None:
    from sogni_sync._convert import converter
    from sogni_sync.catalog import CostEstimate

    body = {"quote": {"project": {"costInToken": "1"}},
            "benchmark": {"estimatedRenderTimeSec": 12.5, "estimatedTotalTimeSec": 40},
            "dailyFairUse": {"pct": 3.25}}
    quote = converter.structure(body, CostEstimate)
    assert (quote.estimated_render_seconds, quote.estimated_total_seconds,
            quote.daily_fair_use_pct) == (12.5, 40.0, 3.25)
    bare = converter.structure({"quote": {"project": {}}, "benchmark": {
        "estimatedRenderTimeSec": "soon"}}, CostEstimate)
    assert bare.estimated_render_seconds is None and bare.daily_fair_use_pct is None


def test_create_binds_saved_uploads_when_offered(client: SogniClient, net: LocalSupernet,
                                                 emulator_client: Any) -> None:
    image = _png() + b"create"
    plain = client.projects.create(**IMAGE, positive_prompt="classic", starting_image=image)
    plain.wait(timeout=30)
    assert len(_calls(net, "/v1/image/uploadUrl")) == 1  # not offered: the classic upload
    net.offer_saved_uploads()
    client = emulator_client("saved")  # a client that has not remembered "not offered"
    first = client.projects.create(**IMAGE, positive_prompt="saved", starting_image=image)
    first.wait(timeout=30)
    second = client.projects.create(**IMAGE, positive_prompt="again", starting_image=image)
    second.wait(timeout=30)
    assert len(_calls(net, "/v1/image/uploadUrl")) == 1  # no classic upload since
    binds = [c for c in net.rest_calls if c.path.endswith("/bind")]
    assert [b.json for b in binds] == [{"projectId": first.id, "type": "startingImage"},
                                       {"projectId": second.id, "type": "startingImage"}]
    assert len(client.projects.assets.list().assets) == 1  # stored once, bound twice
    assert len(_calls(net, "/v1/assets/capabilities")) == 2  # remembered for a minute


def test_create_falls_back_when_the_library_is_full(client: SogniClient,
                                                    net: LocalSupernet) -> None:
    net.offer_saved_uploads()
    for i in range(4):
        client.projects.assets.upload(_png() + bytes([i]), "image/png")
    project = client.projects.create(**IMAGE, positive_prompt="full",
                                     starting_image=_png() + b"more")
    project.wait(timeout=30)
    assert len(_calls(net, "/v1/image/uploadUrl")) == 1
    prepares = len(_calls(net, "/v1/assets/prepare"))
    client.projects.create(**IMAGE, positive_prompt="still full",
                           starting_image=_png() + b"more2").wait(timeout=30)
    assert len(_calls(net, "/v1/assets/prepare")) == prepares  # not asked again for a while


def test_projects_elsewhere_are_those_of_other_app_ids(client: SogniClient, net: LocalSupernet,
                                                       emulator_client: Any) -> None:
    net.options.step_delay = 0.2
    other = emulator_client("other-app")
    theirs = other.projects.create(**IMAGE, positive_prompt="over there")
    mine = client.projects.create(**IMAGE, positive_prompt="here")
    found: tuple[Any, ...] = ()
    deadline = time.monotonic() + 10
    while not found and time.monotonic() < deadline:
        found = client.projects.list_projects_elsewhere()
    assert [p.id for p in found] == [theirs.id]
    assert found[0].app_id == other.app_id and found[0].model_id == "flux1-schnell-fp8"
    assert found[0].created_at is not None
    assert mine.id in [p.id for p in other.projects.list_projects_elsewhere()]
    client.projects.cancel(mine.id)
    other.projects.cancel(theirs.id)


class _Rest:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer

    def request(self, method: str, path: str, **kw: Any) -> Any:
        return self.answer


class _Transport:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.rest = _Rest(answer)


class _Follow:
    def __init__(self, fail: set[str], record: Any = None) -> None:
        self.fail = fail
        self.record = record
        self.minted: list[tuple[str, str, str, Any, str | None]] = []

    def status_answer(self, project_id: str) -> Any:
        return self.record

    def mint_url(self, project_id: str, job_id: str, model_id: str, output_format: Any,
                 kind: str | None = None) -> str:
        self.minted.append((project_id, job_id, model_id, output_format, kind))
        if job_id in self.fail:
            raise ApiError("no", status=500)
        return f"https://signed/{job_id}"


def test_get_result_mints_urls_the_record_lacks() -> None:
    from sogni_sync.projects._lookup import ProjectLookup

    jobs = [{"imgID": "A", "status": "jobCompleted", "seedUsed": 5},
            {"imgID": "B", "status": "jobCompleted", "outputFormat": "jpg"},
            {"imgID": "C", "status": "jobCompleted", "triggeredNSFWFilter": True},
            {"imgID": "D", "status": "jobError", "reason": "genfailure"},
            {"imgID": "E", "status": "jobCompleted", "resultUrl": "https://given/E"},
            {"imgID": "A", "status": "jobCompleted"}]
    record = {"project": {"id": "P", "status": "completed", "finished": True,
                          "model": {"id": "m"}, "outputFormat": "png",
                          "completedWorkerJobs": jobs, "workerJobs": []}}
    follow = _Follow(fail={"B"}, record=record)
    transport: Any = _Transport(record)
    lookup = ProjectLookup(transport, follow)  # type: ignore[arg-type]
    result = lookup.result("P")
    by_id = {j.id: j for j in result.jobs}
    assert list(by_id) == ["A", "B", "C", "D", "E"]  # one entry per render
    assert (by_id["A"].url, by_id["A"].seed) == ("https://signed/A", 5)
    assert (by_id["B"].url, by_id["B"].url_unavailable) == (None, "downloadUrlFailed")
    assert by_id["C"].url_unavailable == "sensitiveContent"
    assert (by_id["D"].status, by_id["D"].reason, by_id["D"].url) == ("failed", "genfailure",
                                                                    None)
    assert by_id["E"].url == "https://given/E"
    assert follow.minted == [("P", "A", "m", "png", None), ("P", "B", "m", "jpg", None)]
    lookup.result("P", kind="video")
    assert follow.minted[-1] == ("P", "B", "m", "jpg", "video")
    with pytest.raises(ValidationError):
        lookup.result("P", kind="model")
