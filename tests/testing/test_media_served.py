"""What the emulator serves for a finished job is the requested format and size."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from sogni_sync.testing import LocalSupernet

from .decoders import probe
from .helpers import api, job_request, run_project


def _fetch(net: LocalSupernet, connect, req: dict, endpoint: str,
           **query: str) -> requests.Response:
    frames = run_project(connect(), req)
    job = next(d for t, d in frames if t == "jobResult")
    key = "imageId" if endpoint == "image" else "id"
    url = api(net, f"/v1/{endpoint}/downloadUrl", params={
        "jobId": req["jobID"], key: job["imgID"], "type": "complete", **query}).json()
    got = requests.get(url["data"]["downloadUrl"], timeout=10)
    assert got.status_code == 200
    return got


@pytest.fixture
def full_size(net: LocalSupernet):
    saved = (net.options.media_max_side, net.options.video_max_side)
    net.options.media_max_side = net.options.video_max_side = 0
    try:
        yield net
    finally:
        net.options.media_max_side, net.options.video_max_side = saved


@pytest.mark.parametrize(("fmt", "ctype", "magic"), [
    ("webp", "image/webp", b"RIFF"), ("jpg", "image/jpeg", b"\xff\xd8\xff"),
    ("png", "image/png", b"\x89PNG")])
def test_image_format_and_size(full_size: LocalSupernet, connect, tmp_path: Path, fmt: str,
                               ctype: str, magic: bytes) -> None:
    req = job_request(width=768, height=512)
    req["outputFormat"] = fmt
    got = _fetch(full_size, connect, req, "image", contentType=ctype)
    assert got.headers["Content-Type"] == ctype and got.content.startswith(magic)
    path = tmp_path / f"r.{fmt}"
    path.write_bytes(got.content)
    stream = probe(path)["stream"]
    assert (stream["width"], stream["height"]) == (768, 512)


@pytest.mark.parametrize(("fmt", "ctype", "magic", "codec"), [
    ("flac", "audio/flac", b"fLaC", "flac"), ("wav", "audio/wav", b"RIFF", "pcm_s16le"),
    ("mp3", "audio/mpeg", b"\xff\xfb", "mp3")])
def test_audio_format(net: LocalSupernet, connect, tmp_path: Path, fmt: str, ctype: str,
                      magic: bytes, codec: str) -> None:
    req = job_request(model="ace_step_1.5_turbo", steps=8, duration=3)
    req["outputFormat"] = fmt
    got = _fetch(net, connect, req, "media", contentType=ctype)
    assert got.headers["Content-Type"] == ctype and got.content.startswith(magic)
    path = tmp_path / f"r.{fmt}"
    path.write_bytes(got.content)
    info = probe(path)
    assert info["stream"]["codec_name"] == codec
    assert float(info["format"]["duration"]) == pytest.approx(3, abs=0.1)


def test_video_size_and_frames(full_size: LocalSupernet, connect, tmp_path: Path) -> None:
    req = job_request(model="wan_v2.2-14b-fp8_t2v_lightx2v", width=320, height=192, frames=25,
                      fps=16)
    req["outputFormat"] = "mp4"
    got = _fetch(full_size, connect, req, "media")
    assert got.headers["Content-Type"] == "video/mp4"
    path = tmp_path / "r.mp4"
    path.write_bytes(got.content)
    stream = probe(path, count_frames=True)["stream"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 320, 192)
    assert int(stream["nb_read_frames"]) == 25
