"""Pure helpers: frame maths, sniffing, JS semantics, tier mapping, error data, events queue."""

from __future__ import annotations

import io

import pytest

from sogni_sync._js import js_to_number, truthy
from sogni_sync.catalog._families import calculate_video_frames, video_workflow
from sogni_sync.catalog._options import tier_to_options
from sogni_sync.errors import ValidationError
from sogni_sync.projects._events import (
    EventQueue,
    JobCompletedEvent,
    JobProgressEvent,
    error_from_job_error,
)
from sogni_sync.projects._media import load_media, plan_uploads, sniff_content_type
from sogni_sync.projects._params import ImageParams, VideoParams, check_params
from sogni_sync.projects._validate import validate_number

from .media import JPEG, MOV, MP3, MP4, PNG, WAV


@pytest.mark.parametrize(("model", "duration", "fps", "frames"), [
    ("wan_v2.2-14b-fp8_t2v", 5, 32, 81), ("wan_v2.2-14b-fp8_t2v", 10, 16, 161),
    ("ltx23-x", 5, 24, 121), ("ltx23-x", 4, 24, 97), ("ltx23-x", 5, 25, 129),
    ("ltx23-x", 6, 25, 153), ("ltx23-x", 3, 12, 41), ("ltx23-x", 2.5, 8, 25),
    ("seedance-2-0", 4, 24, 97), ("seedance-2-0", 15, 24, 361),
])
def test_frames(model: str, duration: float, fps: float, frames: int) -> None:
    assert calculate_video_frames(model, duration, fps) == frames


def test_workflows() -> None:
    assert video_workflow("ltx23-22b-fp8_ia2v_distilled") == "ia2v"
    assert video_workflow("ltx23-22b-fp8_a2v_distilled") == "a2v"
    assert video_workflow("wan_v2.2-14b-fp8_animate-replace_lightx2v") == "animate-replace"
    assert video_workflow("seedance-2-0") is None and video_workflow("flux1") is None


def test_sniffing() -> None:
    assert sniff_content_type(PNG[:12]) == "image/png"
    assert sniff_content_type(JPEG[:12]) == "image/jpeg"
    assert sniff_content_type(MP4[:12]) == "video/mp4"
    assert sniff_content_type(MOV[:12]) == "video/quicktime"
    assert sniff_content_type(WAV[:12]) == "audio/wav"
    assert sniff_content_type(MP3[:12]) == "audio/mpeg"
    assert sniff_content_type(b"\xff\xfb") == "audio/mpeg"
    assert sniff_content_type(b"\x00" * 64) is None


def test_media_inputs_read_only_the_head() -> None:
    class OneWay(io.RawIOBase):
        """A non-seekable stream: the sniffed head must be given back to the upload."""

        def __init__(self, data: bytes) -> None:
            self._buf = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            return self._buf.readinto(b)

    source = load_media(OneWay(PNG), "x", "image")
    assert source.content_type == "image/png"
    assert source.body.read() == PNG  # type: ignore[union-attr]
    seekable = io.BytesIO(JPEG)
    seekable.read(3)
    with pytest.raises(ValidationError, match="x must be an image"):
        load_media(seekable, "x", "image")  # read from the current position: no JPEG there
    assert seekable.tell() == 3
    with pytest.raises(ValidationError):
        load_media(12, "starting_image", "image")


def test_upload_plan_order_and_already_uploaded() -> None:
    plan = plan_uploads(VideoParams("wan_v2.2-14b-fp8_s2v", "p", reference_image=True,
                                    reference_audio=WAV, reference_video=MP4))
    assert [(u.endpoint, u.slot) for u in plan] == [("media", "referenceAudio"),
                                                    ("media", "referenceVideo")]
    plan = plan_uploads(ImageParams("gpt-image-2", "p", context_images=[PNG, None, True, JPEG],  # type: ignore[list-item]
                                    control_net={"name": "canny", "image": PNG},
                                    starting_image=JPEG))
    assert [u.slot for u in plan] == ["startingImage", "cnImage", "contextImage1",
                                      "contextImage4"]
    assert plan[-1].failure == "Failed to upload context image 3"


def test_js_semantics() -> None:
    assert truthy(b"") and truthy([]) and not truthy(0) and not truthy("") and not truthy(None)
    assert not truthy(float("nan"))
    assert js_to_number(" 12 ") == 12 and js_to_number("") == 0 and js_to_number("0x10") == 16
    assert js_to_number("five") != js_to_number("five")  # NaN
    assert validate_number(7.0, name="X") == 7 and isinstance(validate_number(7.0, name="X"), int)
    with pytest.raises(ValidationError, match=r"X must greater or equal 1, got 0\.5"):
        validate_number(0.5, name="X", minimum=1)


def test_check_params_hints() -> None:
    with pytest.raises(ValidationError, match="did you mean 'number_of_media'"):
        check_params({"type": "image", "numberOfMedia": 2})
    with pytest.raises(ValidationError, match="control_net key"):
        check_params({"control_net": {"name": "canny", "guidanceStart": 0}})


def test_tier_mapping() -> None:
    options = tier_to_options("t", {
        "steps": {"min": 1, "max": 50, "default": 20},
        "guidance": {"min": 0, "max": 30, "default": 7.5, "decimals": 1},
        "sampler": {"allowed": ["Euler a", "DPM++ 2M", "custom"], "default": "Euler a"},
        "scheduler": {"allowed": ["Karras"], "default": "Karras"},
    })
    assert options.type == "image" and options.guidance is not None
    assert options.guidance.step == pytest.approx(0.1)
    assert options.sampler.allowed == ("euler_a", "dpmpp_2m", "custom")
    assert options.scheduler.default == "karras"
    with pytest.raises(ValidationError, match='Unsupported model tier "odd"'):
        tier_to_options("odd", {"type": "3d"})


def test_error_data() -> None:
    assert error_from_job_error({"error": "4005", "error_message": "m"}).code == 4005
    symbolic = error_from_job_error({"error": "jobTimedOut", "error_message": "t"})
    assert (symbolic.code, symbolic.original_code) == (5003, "jobTimedOut")
    assert error_from_job_error({"error": "weird"}).code == 5000


def test_event_queue_coalesces_and_keeps_terminal() -> None:
    queue = EventQueue(maxlen=2)
    for step in range(5):
        queue.put(JobProgressEvent("P", "J", step, 5))
    assert len(queue) == 1 and queue.snapshot()[0].step == 4  # type: ignore[attr-defined]
    queue.put(JobProgressEvent("P", "K", 1, 5))
    queue.put(JobProgressEvent("P", "J", 5, 5))  # full: dropped
    queue.put(JobCompletedEvent("P", "J", "u"))  # never dropped
    assert [type(e).__name__ for e in queue.snapshot()][-1] == "JobCompletedEvent"
    assert queue.dropped == 1


def test_bad_type_is_refused_before_any_network_io() -> None:
    """Nothing listens on port 9: any I/O would raise ConnectionLostError instead."""
    from sogni_sync import SogniClient, ValidationError

    with SogniClient(api_key="k", rest_endpoint="http://127.0.0.1:9",
                     socket_endpoint="ws://127.0.0.1:9", disable_socket=True) as client, \
            pytest.raises(ValidationError, match="Invalid project type"):
        client.projects.create(type="text", model_id="flux1-schnell-fp8", positive_prompt="p")
