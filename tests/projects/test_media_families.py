"""Each media family end to end against the local emulator; results checked by magic bytes."""

from __future__ import annotations

import io
import pathlib
from typing import Any

import pytest

from .media import JPEG, MP3, MP4, PNG, WAV, kind_of


def _run(client: Any, **params: Any) -> Any:
    project = client.projects.create(**params)
    urls = project.wait(timeout=20)
    assert urls, "no result URLs"
    assert project.status == "completed" and project.progress == 100
    return project


def test_text_to_image(client: Any, tmp_path: pathlib.Path) -> None:
    project = _run(client, type="image", model_id="flux1-schnell-fp8",
                   positive_prompt="a lighthouse", number_of_media=2, steps=4, seed=123456789,
                   output_format="jpg")
    assert len(project.result_urls) == 2 and len(set(project.result_urls)) == 2
    assert 123456789 in [job.seed for job in project.jobs]
    for job in project.jobs:
        assert job.status == "completed" and job.progress == 100 and job.worker_name
        assert kind_of(job.get_result_data()) == "image"
        path = job.download(tmp_path)
        assert path.parent == tmp_path and path.suffix == ".jpg"
        assert kind_of(path.read_bytes()) == "image"
    assert not list(tmp_path.glob(".sogni-*"))


def test_image_edit_with_context_images_from_path_and_file(client: Any, net: Any,
                                                           tmp_path: pathlib.Path) -> None:
    image = tmp_path / "in.png"
    image.write_bytes(PNG)
    project = _run(client, type="image", model_id="qwen_image_edit_2511_fp8_lightning",
                   positive_prompt="combine", context_images=[image, io.BytesIO(JPEG)], steps=4)
    uploads = [c for c in net.rest_calls if c.path == "/v1/image/uploadUrl"]
    assert sorted(c.query["type"] for c in uploads) == ["contextImage1", "contextImage2"]
    assert sorted(c.query["contentType"] for c in uploads) == ["image/jpeg", "image/png"]
    kf = net.received("jobRequest")[-1]["keyFrames"][0]
    assert kf["hasContextImage1"] and kf["hasContextImage2"] and not kf["hasContextImage3"]
    assert kind_of(project.jobs[0].get_result_data()) == "image"


def test_img2img_upload_order(client: Any, net: Any) -> None:
    _run(client, type="image", model_id="coreml-cyberrealistic_v70_768",
         positive_prompt="a knight", starting_image=PNG, starting_image_strength=0.7,
         control_net={"name": "canny", "image": JPEG, "strength": 0.5}, steps=4)
    types = [c.query["type"] for c in net.rest_calls if c.path == "/v1/image/uploadUrl"]
    assert types == ["startingImage", "cnImage"]
    kf = net.received("jobRequest")[-1]["keyFrames"][0]
    assert kf["strength"] == 0.30000000000000004 and kf["hasStartingImage"] is True


def test_image_to_video(client: Any, net: Any) -> None:
    project = _run(client, type="video", model_id="wan_v2.2-14b-fp8_i2v_lightx2v",
                   positive_prompt="camera pushes in", reference_image=PNG,
                   reference_image_end=JPEG, duration=2, fps=16, steps=4,
                   width=480, height=480)
    kf = net.received("jobRequest")[-1]["keyFrames"][0]
    assert kf["referenceImageContentType"] == "image/png"
    assert kf["referenceImageEndContentType"] == "image/jpeg"
    assert kf["frames"] == 33
    assert kind_of(project.jobs[0].get_result_data()) == "video"


def test_text_to_video(client: Any) -> None:
    project = _run(client, type="video", model_id="wan_v2.2-14b-fp8_t2v_lightx2v",
                   positive_prompt="a fox in snow", frames=33, fps=16, steps=4,
                   width=512, height=512)
    assert kind_of(project.jobs[0].get_result_data()) == "video"


def test_sound_to_video(client: Any, net: Any) -> None:
    project = _run(client, type="video", model_id="wan_v2.2-14b-fp8_s2v_lightx2v",
                   positive_prompt="a singer", reference_image=PNG, reference_audio=WAV,
                   audio_start=0, audio_duration=2, duration=2, steps=4)
    media = [c.query for c in net.rest_calls if c.path == "/v1/media/uploadUrl"]
    assert media == [{"jobId": project.id, "type": "referenceAudio", "contentType": "audio/wav"}]
    assert kind_of(project.jobs[0].get_result_data()) == "video"


def test_video_to_video(client: Any, net: Any) -> None:
    project = _run(client, type="video", model_id="ltx23-22b-fp8_v2v_distilled",
                   positive_prompt="a fox", reference_video=MP4,
                   control_net={"name": "canny", "strength": 0.8}, duration=2, steps=4)
    kf = net.received("jobRequest")[-1]["keyFrames"][0]
    assert kf["referenceVideoContentType"] == "video/mp4"
    assert kf["currentControlNetsJob"] == [{"name": "canny", "controlStrength": 0.8}]
    assert kind_of(project.jobs[0].get_result_data()) == "video"


def test_text_to_music(client: Any, net: Any, tmp_path: pathlib.Path) -> None:
    project = _run(client, type="audio", model_id="ace_step_1.5_turbo",
                   positive_prompt="synthwave", duration=10, bpm=120, keyscale="C major",
                   timesignature="4", steps=8, output_format="mp3")
    minted = [c.query for c in net.rest_calls if c.path == "/v1/media/downloadUrl"]
    assert minted and minted[0]["contentType"] == "audio/mpeg"
    path = project.jobs[0].download(tmp_path / "song.mp3")
    assert path == tmp_path / "song.mp3" and kind_of(path.read_bytes()) == "audio"


def test_audio_reference_identity_uses_audio_slot(client: Any, net: Any) -> None:
    _run(client, type="video", model_id="ltx23-22b-fp8_t2v_distilled", positive_prompt="hi",
         reference_audio_identity=MP3, duration=1, steps=4)
    kf = net.received("jobRequest")[-1]["keyFrames"][0]
    assert kf["referenceAudioIdentityContentType"] == "audio/mpeg"
    assert kf["referenceAudioContentType"] == "audio/mpeg"
    media = [c.query["type"] for c in net.rest_calls if c.path == "/v1/media/uploadUrl"]
    assert media == ["referenceAudio"]


@pytest.mark.parametrize("bad", [{"modelId": "x"}, {"number_of_imgs": 2}])
def test_unknown_parameter_before_any_io(client: Any, net: Any, bad: dict[str, Any]) -> None:
    from sogni_sync.errors import ValidationError

    net.reset()
    with pytest.raises(ValidationError, match="Unknown project parameter"):
        client.projects.create(type="image", model_id="flux1-schnell-fp8",
                               positive_prompt="x", **bad)
    assert net.rest_calls == [] and net.received("jobRequest") == []


def test_validation_errors_send_nothing(client: Any, net: Any) -> None:
    from sogni_sync.errors import ValidationError

    with pytest.raises(ValidationError, match="Up to 2 context images"):
        client.projects.create(type="image", model_id="flux1-dev-kontext_fp8_scaled",
                               positive_prompt="x", starting_image=PNG,
                               context_images=[PNG, PNG, PNG])
    with pytest.raises(ValidationError, match="Video duration must be less or equal 10, got 11"):
        client.projects.create(type="video", model_id="wan_v2.2-14b-fp8_t2v_lightx2v",
                               positive_prompt="x", duration=11)
    uploads = [c for c in net.rest_calls if "uploadUrl" in c.path]
    assert uploads == [] and net.received("jobRequest") == []


def test_missing_file_path_is_validation_error(client: Any, tmp_path: pathlib.Path) -> None:
    from sogni_sync.errors import ValidationError

    with pytest.raises(ValidationError, match="file not found"):
        client.projects.create(type="image", model_id="flux1-schnell-fp8", positive_prompt="x",
                               starting_image=tmp_path / "nope.png")


def test_upload_failure_has_the_reference_text(client: Any, net: Any) -> None:
    from sogni_sync.errors import ApiError

    net.faults.rest_error("/storage/*", status=500, method="PUT")
    with pytest.raises(ApiError) as info:
        client.projects.create(type="image", model_id="coreml-cyberrealistic_v70_768",
                               positive_prompt="x", starting_image=PNG)
    assert str(info.value) == "Failed to upload guide image" and info.value.status == 500
    assert net.received("jobRequest") == []
    assert client.projects.tracked_projects == []
