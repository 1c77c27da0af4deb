"""The 5.54 families end to end against the emulator: uploads, wire keys and result kinds."""

from __future__ import annotations

import base64
import json
import pathlib
import struct
from typing import Any

import attrs
import pytest

from sogni_sync.catalog._options import ModelOptions
from sogni_sync.errors import ValidationError
from sogni_sync.projects import ImageParams
from sogni_sync.projects._prepare import prepare_request
from sogni_sync.testing._media import image_size, render_image

from .media import MP3, MP4, PNG, WAV, kind_of


def _run(client: Any, **params: Any) -> Any:
    project = client.projects.create(**params)
    assert project.wait(timeout=20), "no result URLs"
    assert project.status == "completed"
    return project


def test_pixal3d_multiview_returns_a_glb(client: Any, net: Any, tmp_path: pathlib.Path) -> None:
    project = _run(client, type="image", model_id="pixal3d_multiview_int8_i23d",
                   positive_prompt="", starting_image=PNG, back_view_image=PNG,
                   texture_size=2048, number_of_previews=3)
    request = net.received("jobRequest")[-1]
    kf = request["keyFrames"][0]
    assert request["outputFormat"] == "glb" and request["previews"] == 0
    assert kf["hasContextImage2"] is True and kf["hasContextImage1"] is False
    assert kf["textureSize"] == 2048
    uploads = [c.query["type"] for c in net.rest_calls if c.path == "/v1/image/uploadUrl"]
    assert uploads == ["startingImage", "contextImage2"]
    job = project.jobs[0]
    data = job.get_result_data()
    magic, version, length = struct.unpack("<4sII", data[:12])
    assert (magic, version, length) == (b"glTF", 2, len(data))
    chunk_length, chunk_type = struct.unpack("<I4s", data[12:20])
    assert chunk_type == b"JSON"
    assert json.loads(data[20:20 + chunk_length])["asset"]["version"] == "2.0"
    downloads = [c for c in net.rest_calls if c.path == "/v1/media/downloadUrl"]
    assert downloads and downloads[-1].query["contentType"] == "model/gltf-binary"
    assert job.download(tmp_path).suffix == ".glb"


def test_voice_clone_uploads_the_reference_audio(client: Any, net: Any) -> None:
    project = _run(client, type="audio", model_id="qwen3_tts_1.7b_voice_clone_bf16",
                   positive_prompt="Hello there.", reference_audio=WAV,
                   reference_text="This is my voice.", language="en")
    kf = net.received("jobRequest")[-1]["keyFrames"][0]
    assert kf["hasReferenceAudio"] is True and kf["referenceAudioContentType"] == "audio/wav"
    assert kf["referenceText"] == "This is my voice." and "negativePrompt" not in kf
    uploads = [c.query for c in net.rest_calls if c.path == "/v1/media/uploadUrl"]
    assert [(q["type"], q["contentType"]) for q in uploads] == [("referenceAudio", "audio/wav")]
    assert kind_of(project.jobs[0].get_result_data()) == "audio"


def test_minimax_h3_r2v_numbers_its_references(client: Any, net: Any) -> None:
    project = _run(client, type="video", model_id="minimax-h3-ref2va-fp8_r2v",
                   positive_prompt="a paper boat", reference_image=PNG, context_images=[PNG],
                   reference_videos=[MP4], reference_audios=[MP3],
                   reference_video_durations=[3])
    kf = net.received("jobRequest")[-1]["keyFrames"][0]
    assert kf["hasReferenceImage"] and kf["hasContextImage2"] and "hasContextImage1" not in kf
    assert kf["hasReferenceVideo1"] and kf["referenceVideo1DurationSeconds"] == 3
    assert kf["referenceVideo1ContentType"] == "video/mp4"
    assert kf["hasReferenceAudio1"] and kf["referenceAudio1ContentType"] == "audio/mpeg"
    assert kf["fps"] == 24 and "negativePrompt" not in kf
    media = {(c.query["type"], c.query.get("id")) for c in net.rest_calls
             if c.path == "/v1/media/uploadUrl"}
    assert media == {("referenceVideo", "referenceVideo1"), ("referenceAudio", "referenceAudio1")}
    images = [c.query["type"] for c in net.rest_calls if c.path == "/v1/image/uploadUrl"]
    assert images == ["referenceImage", "contextImage2"]
    assert kind_of(project.jobs[0].get_result_data()) == "video"


def test_wan3_and_seedance25_options_reach_the_wire(client: Any, net: Any) -> None:
    client.projects.create_video("wan3.0-video", "a lighthouse", duration=4, ratio="1:1",
                                 prompt_extend=False, watermark=True).wait(timeout=20)
    kf = net.received("jobRequest")[-1]["keyFrames"][0]
    assert (kf["fps"], kf["frames"], kf["ratio"]) == (30, 121, "1:1")
    assert kf["promptExtend"] is False and kf["watermark"] is True
    client.projects.create_video("seedance-2-5", "a lighthouse", duration=5,
                                 output_format="mov", return_last_frame=True).wait(timeout=20)
    request = net.received("jobRequest")[-1]
    assert request["outputFormat"] == "mov" and request["keyFrames"][0]["returnLastFrame"]


@pytest.mark.parametrize("params, message", [
    ({"type": "video", "model_id": "minimax-h3-fl2va-fp8_t2v", "steps": 4},
     "MiniMax H3 steps are fixed at 20."),
    ({"type": "video", "model_id": "wan3.0-video", "fps": 24}, "Wan 3 output is fixed at 30 fps."),
    ({"type": "image", "model_id": "sam3_image_segment_bf16", "starting_image": PNG,
      "sam3_prompt": {"text": "cat", "points": [{"x": 0.5, "y": 0.5, "label": "positive"}]}},
     "sam3Prompt cannot combine text and point prompts"),
    ({"type": "video", "model_id": "seedance-2-0", "output_format": "mov"},
     "MOV output is supported only by Seedance 2.5."),
])
def test_family_rules_refuse_before_io(client: Any, net: Any, params: dict[str, Any],
                                       message: str) -> None:
    params.setdefault("positive_prompt", "a lighthouse")
    client.catalog.model_options(params["model_id"])  # the catalogue is cached from here on
    calls, frames = len(net.rest_calls), len(net.received("jobRequest"))
    with pytest.raises(ValidationError, match=message.replace(".", r"\.")):
        client.projects.create(**params)
    assert len(net.rest_calls) == calls and len(net.received("jobRequest")) == frames


def test_gpt_image_mask_data_uri_becomes_an_uploaded_mask() -> None:
    mask = base64.b64encode(PNG).decode("ascii")
    params = ImageParams("gpt-image-2.5-flare", "erase the sky", context_images=[True],
                         gpt_image_mask_url=f"data:image/png;base64,{mask}")
    request, plan = prepare_request("P1", params, ModelOptions(type="image"))
    kf = request["keyFrames"][0]
    assert kf["hasReferenceMask"] is True and "gptImageMaskUrl" not in kf
    assert [(u.param, u.slot, u.source.body) for u in plan] == [
        ("gpt_image_mask", "referenceMask", PNG)]
    with pytest.raises(ValidationError, match="PNG data URI smaller than 50 MB"):
        prepare_request("P2", attrs.evolve(params, gpt_image_mask_url="data:image/jpeg;base64,AA"),
                        ModelOptions(type="image"))
    with pytest.raises(ValidationError, match="not both media and URL"):
        prepare_request("P3", attrs.evolve(params, gpt_image_mask=PNG),
                        ModelOptions(type="image"))


def test_minimax_h3_asset_tables(client: Any) -> None:
    r2v = client.catalog.video_asset_config("minimax-h3-ref2va-fp8_r2v")
    assert r2v.workflow_type == "r2v" and r2v.assets["reference_video"] == "optional"
    i2v = client.catalog.video_asset_config("minimax-h3-fl2va-fp8_i2v")
    assert i2v.assets["reference_audio_identity"] == "forbidden"
    assert client.catalog.video_asset_config("wan3.0-video").workflow_type == "t2v"


def test_segmentation_runs_one_png_mask(client: Any, net: Any) -> None:
    project = _run(client, type="image", model_id="birefnet_image_background_removal_fp16",
                   positive_prompt="", starting_image=PNG, number_of_media=3,
                   number_of_previews=2, output_format="jpg", apply_mask=True)
    request = net.received("jobRequest")[-1]
    assert (request["numberOfImages"], request["previews"], request["outputFormat"]) == (
        1, 0, "png")
    assert request["keyFrames"][0]["applyMask"] is True
    assert len(project.jobs) == 1 and project.jobs[0].get_result_data()[:4] == b"\x89PNG"
    # the project's own parameters agree with what was sent: one PNG, no previews
    assert project.jobs[0].default_filename().endswith(".png")
    assert (project.params["number_of_media"], project.params["output_format"]) == (1, "png")


def test_segmentation_mask_has_the_source_size(client: Any) -> None:
    source = render_image("a cat", 7, 48, 30, output_format="jpg")
    project = _run(client, type="image", model_id="sam3_image_segment_bf16", positive_prompt="",
                   starting_image=source, sam3_prompt={"text": "the cat"})
    assert image_size(project.jobs[0].get_result_data()) == image_size(source) == (48, 30)


def test_seedance25_last_frame_is_delivered(client: Any) -> None:
    project = _run(client, type="video", model_id="seedance-2-5", positive_prompt="a lighthouse",
                   return_last_frame=True)
    job = project.jobs[0]
    assert job.last_frame_url and job.to_dict()["last_frame_url"] == job.last_frame_url
    events = [e for e in project.events(timeout=5) if e.name == "job_completed"]
    assert events and events[0].last_frame_url == job.last_frame_url
    plain = _run(client, type="video", model_id="seedance-2-5", positive_prompt="a lighthouse")
    assert plain.jobs[0].last_frame_url is None
