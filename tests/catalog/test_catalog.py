"""Catalogue look-ups and price estimates against the emulator (paths as the reference)."""

from __future__ import annotations

from typing import Any

import pytest

from sogni_sync.errors import ValidationError


def _paths(net: Any, prefix: str) -> list[str]:
    return [c.path for c in net.rest_calls if c.path.startswith(prefix)]


def test_models_and_options(client: Any, net: Any) -> None:
    models = {m.id: m for m in client.catalog.supported_models()}
    assert models["flux1-schnell-fp8"].media == "image" and models["flux1-schnell-fp8"].tier
    assert models["ace_step_1.5_turbo"].media == "audio"
    options = client.catalog.model_options("flux1-schnell-fp8")
    assert options.type == "image" and options.steps is not None
    assert options.sampler.allowed and options.scheduler.allowed
    assert client.catalog.model_options("ace_step_1.5_turbo").type == "audio"
    video = client.catalog.model_options("wan_v2.2-14b-fp8_t2v_lightx2v")
    assert video.type == "video"
    with pytest.raises(ValidationError, match="Model nope not supported"):
        client.catalog.model_options("nope")
    # list and tiers are cached: one fetch each
    assert len(_paths(net, "/api/v1/models/list")) == 1
    assert len(_paths(net, "/api/v2/models/tiers")) == 1


def test_size_presets_cached(client: Any, net: Any) -> None:
    presets = client.catalog.size_presets("fast", "flux1-schnell-fp8")
    assert presets and all(p.id and p.width > 0 and p.height > 0 for p in presets)
    assert client.catalog.size_presets("fast", "flux1-schnell-fp8") == presets
    assert len(_paths(net, "/api/v1/size-presets/")) == 1


def test_available_models(client: Any) -> None:
    models = {m.id: m for m in client.catalog.wait_for_models(timeout=10)}
    assert models["flux1-schnell-fp8"].worker_count > 0
    assert models["wan_v2.2-14b-fp8_t2v_lightx2v"].media == "video"
    assert models["ace_step_1.5_turbo"].media == "audio"
    assert client.catalog.available_models
    by_status = client.catalog.fetch_available_models("fast")
    assert any(m.id == "flux1-schnell-fp8" and m.worker_count > 0 for m in by_status)


def test_video_asset_config_and_kinds(client: Any) -> None:
    config = client.catalog.video_asset_config("wan_v2.2-14b-fp8_s2v_lightx2v")
    assert config.workflow_type == "s2v"
    assert config.assets["reference_image"] == "required"
    assert config.assets["reference_audio"] == "required"
    assert client.catalog.video_asset_config("seedance-2-0").workflow_type is None
    with pytest.raises(ValidationError, match="Model flux1-schnell-fp8 is not a video model"):
        client.catalog.video_asset_config("flux1-schnell-fp8")
    assert client.catalog.is_video_model("ltx23-22b-fp8_t2v_distilled")
    assert client.catalog.is_audio_model("ace_step_1.5_sft")
    assert not client.catalog.is_video_model("flux1-schnell-fp8")


def test_estimate_paths(client: Any, net: Any) -> None:
    # the words of create(); the paths are the reference's
    image = client.projects.estimate_image_cost("flux1-schnell-fp8", "a lighthouse",
                                                number_of_media=2, steps=4, width=1024,
                                                height=1024, guidance=1, sampler="euler",
                                                context_images=[])
    assert float(image.token) > 0 and float(image.usd) > 0
    enhance = client.projects.estimate_enhancement_cost("medium")
    assert float(enhance.token) > 0
    video = client.projects.estimate_video_cost("wan_v2.2-14b-fp8_t2v", "a fox", width=640,
                                                height=640, duration=5, fps=16, steps=20)
    audio = client.projects.estimate_audio_cost("ace_step_1.5_turbo", "synth pop", duration=10,
                                                steps=8)
    same = client.projects.estimate_cost(type="audio", model_id="ace_step_1.5_turbo",
                                         positive_prompt="synth pop", duration=10, steps=8)
    assert float(video.usd) > 0 and float(audio.usd) > 0 and same == audio
    paths = _paths(net, "/api/v")
    v3 = "/api/v3/job/estimate/spark/fast/flux1-schnell-fp8/2/4/0/0/0/1024/1024/1/euler/0"
    assert v3 in paths
    assert "/api/v2/job/estimate/spark/fast/flux1-schnell-fp8/1/5/0/0/0.65/0/0" in paths
    assert "/api/v1/job-video/estimate/spark/wan_v2.2-14b-fp8_t2v/640/640/81/16/20/1" in paths
    assert "/api/v1/job-audio/estimate/spark/ace_step_1.5_turbo/10/8/1" in paths


def test_estimate_defaults_come_from_the_model(client: Any, net: Any) -> None:
    # steps, size, fps and duration the request would leave to the server: the tier's defaults
    client.projects.estimate_image_cost("flux1-schnell-fp8", "a lighthouse")
    client.projects.estimate_video_cost("ltx23-22b-fp8_t2v_distilled", "a fox", duration=5,
                                        number_of_media=2)
    client.projects.estimate_audio_cost("ace_step_1.5_sft", "synth pop")
    paths = _paths(net, "/api/v")
    assert "/api/v2/job/estimate/spark/fast/flux1-schnell-fp8/1/4/0/0/0/0/0" in paths
    assert ("/api/v1/job-video/estimate/spark/ltx23-22b-fp8_t2v_distilled/1280/720/121/24/0/2"
            in paths)
    assert "/api/v1/job-audio/estimate/spark/ace_step_1.5_sft/30/50/1" in paths


def test_estimate_with_size_preset(client: Any, net: Any) -> None:
    preset = client.catalog.size_presets("fast", "flux1-schnell-fp8")[0]
    client.projects.estimate_image_cost("flux1-schnell-fp8", "x", steps=4,
                                        size_preset=preset.id, starting_image=True,
                                        starting_image_strength=0.7)
    expected = (f"/api/v2/job/estimate/spark/fast/flux1-schnell-fp8/1/4/0/0/"
                f"0.30000000000000004/{preset.width}/{preset.height}")
    assert expected in _paths(net, "/api/v2/")
    with pytest.raises(ValidationError, match="Invalid size preset"):
        client.projects.estimate_image_cost("flux1-schnell-fp8", "x", steps=4,
                                            size_preset="no-such-preset")
