"""Media inputs: normalisation, magic-byte sniffing and the upload plan.

A media input is ``bytes``-like, a path (``str``/``os.PathLike``, streamed to the presigned URL
and never read whole), a binary file object, or ``True`` ("already uploaded for this project").
Only the first bytes are read to choose the ``Content-Type``, exactly as the reference sniffs.
Everything here except :func:`run_uploads` is local, so all checks finish before any network I/O.
"""

from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, BinaryIO, Literal

import attrs

from sogni_sync._convert import to_camel
from sogni_sync._js import truthy
from sogni_sync._sync import IoPool
from sogni_sync._transport import RestClient
from sogni_sync.catalog._families import is_h3_reference_model
from sogni_sync.errors import ApiError, UnexpectedResponseError, ValidationError
from sogni_sync.projects._image_rules import PIXAL3D_VIEWS
from sogni_sync.projects._params import ImageParams, ProjectParams, VideoParams
from sogni_sync.projects._video_rules import h3_slots

__all__ = [
    "ACCEPTED", "MediaSource", "Upload", "load_media", "plan_uploads", "run_uploads",
    "sniff_content_type", "without_media",
]

log = logging.getLogger(__name__)

_HEAD = 12


def sniff_content_type(head: bytes) -> str | None:
    """MIME type from the leading bytes (the reference's rules, first match wins)."""
    if len(head) >= 12:
        if head[:3] == b"\xff\xd8\xff":
            return "image/jpeg"
        if head[:4] == b"\x89PNG":
            return "image/png"
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return "image/webp"
        if head[:3] == b"GIF":
            return "image/gif"
        if head[4:8] == b"ftyp":
            brand = head[8:12].decode("ascii", "replace").lower()
            if "m4a" in brand or "m4b" in brand:
                return "audio/mp4"
            if "qt" in brand:
                return "video/quicktime"
            return "video/mp4"
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            return "audio/wav"
    if len(head) >= 3 and head[:3] == b"ID3":
        return "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "audio/mpeg"
    return None


class _PrefixedReader(io.RawIOBase):
    """Re-joins a consumed head with the rest of a non-seekable stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        chunk = self._rest.read(len(view))
        if not chunk:
            return 0
        view[: len(chunk)] = chunk
        return len(chunk)


@attrs.frozen
class MediaSource:
    """One media input ready to upload: ``body`` is bytes, a path, or a binary stream."""

    body: bytes | str | os.PathLike[str] | BinaryIO
    content_type: str | None


MediaKind = Literal["image", "audio", "video"]
#: What each kind of input may be, by the type sniffed from its first bytes (JPEG/PNG/WebP
#: images; mp3/m4a/wav audio; mp4/mov video), as the reference accepts them.
ACCEPTED: dict[str, tuple[str, ...]] = {
    "image": ("image/jpeg", "image/png", "image/webp"),
    "audio": ("audio/mpeg", "audio/mp4", "audio/wav"),
    "video": ("video/mp4", "video/quicktime"),
}


_ARTICLE = {"image": "an ", "audio": "", "video": "a "}


def _check_kind(name: str, head: bytes, kind: MediaKind, where: str) -> str:
    if not head:
        raise ValidationError(f"{name}: {where} is empty (0 bytes)")
    mime = sniff_content_type(head)
    if mime not in ACCEPTED[kind]:
        found = f"looks like {mime}" if mime else "is not a recognised media file"
        raise ValidationError(
            f"{name} must be {_ARTICLE[kind]}{kind} "
            f"({', '.join(ACCEPTED[kind])}), but {where} {found}"
        )
    return mime


def load_media(value: Any, name: str, kind: MediaKind) -> MediaSource:
    """Normalise a media input (not True), reading only its head, and check its kind."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return MediaSource(data, _check_kind(name, data[:_HEAD], kind, "the data"))
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if os.path.isdir(path):
            raise ValidationError(f"{name}: {path!r} is a directory, not a file")
        if not os.path.exists(path):
            raise ValidationError(f"{name}: file not found: {path!r}")
        with open(path, "rb") as fh:
            head = fh.read(_HEAD)
        return MediaSource(value, _check_kind(name, head, kind, f"file {path!r}"))
    read = getattr(value, "read", None)
    if callable(read):
        stream: BinaryIO = value
        seekable = getattr(stream, "seekable", None)
        if callable(seekable) and seekable():
            start = stream.tell()
            head = stream.read(_HEAD)
            stream.seek(start)
        else:
            head = stream.read(_HEAD)
            stream = io.BufferedReader(_PrefixedReader(head, value))
        if not isinstance(head, bytes):
            raise ValidationError(f"{name}: file object must be opened in binary mode")
        return MediaSource(stream, _check_kind(name, head, kind, "the file object"))
    raise ValidationError(
        f"{name} must be bytes, a file path, a binary file object or True, "
        f"got {type(value).__name__}"
    )


@attrs.frozen
class Upload:
    """One planned upload: where it goes (endpoint + slot type) and what fails it."""

    param: str
    endpoint: Literal["image", "media"]
    slot: str
    source: MediaSource
    failure: str
    parallel: bool = False
    #: the upload's ``id`` query value (MiniMax H3 r2v numbered slots), else none
    upload_id: str | None = None


def _wanted(value: Any) -> bool:
    return truthy(value) and value is not True


#: Video media parameter → (kind, endpoint, slot, failure text), in the reference's order.
#: The identity clip shares the worker's audio slot.
_VIDEO_MEDIA: tuple[tuple[str, MediaKind, Literal["image", "media"], str, str], ...] = (
    ("reference_image", "image", "image", "referenceImage", "Failed to upload reference image"),
    ("reference_image_end", "image", "image", "referenceImageEnd",
     "Failed to upload reference image end"),
    ("reference_audio", "audio", "media", "referenceAudio", "Failed to upload reference audio"),
    ("reference_audio_identity", "audio", "media", "referenceAudio",
     "Failed to upload reference audio"),
    ("reference_video", "video", "media", "referenceVideo", "Failed to upload reference video"),
)


def plan_uploads(params: ProjectParams) -> list[Upload]:
    """The uploads a project needs, in the reference's order, with every local check done
    (each input's magic bytes are of the kind its parameter needs)."""
    plan: list[Upload] = []

    def add(param: str, value: Any, kind: MediaKind, endpoint: Literal["image", "media"],
            slot: str, failure: str, parallel: bool = False, upload_id: str | None = None) -> None:
        if _wanted(value):
            source = load_media(value, param, kind)
            plan.append(Upload(param, endpoint, slot, source, failure, parallel, upload_id))

    if isinstance(params, ImageParams):
        add("gpt_image_mask", params.gpt_image_mask, "image", "image", "referenceMask",
            "Failed to upload reference mask")
        add("starting_image", params.starting_image, "image", "image", "startingImage",
            "Failed to upload guide image")
        if params.control_net:
            add("control_net.image", params.control_net.get("image"), "image", "image",
                "cnImage", "Failed to upload ControlNet image")
        for index, image in enumerate(params.context_images or ()):
            add(f"context_images[{index}]", image, "image", "image", f"contextImage{index + 1}",
                f"Failed to upload context image {index}", parallel=True)
        for view, number in PIXAL3D_VIEWS:  # Pixal3D orbit views: fixed context slots
            add(view, getattr(params, view), "image", "image", f"contextImage{number}",
                f"Failed to upload context image {number - 1}", parallel=True)
    elif isinstance(params, VideoParams):
        r2v = is_h3_reference_model(params.model_id)
        offset = 1 if truthy(params.reference_image) else 0
        for param, kind, endpoint, slot, failure in _VIDEO_MEDIA:
            if r2v and param in ("reference_audio", "reference_video"):
                continue
            add(param, getattr(params, param), kind, endpoint, slot, failure)
            if param == "reference_image":
                for index, image in enumerate(params.context_images or ()):
                    number = offset + index
                    add(f"context_images[{index}]", image, "image", "image",
                        f"contextImage{number + 1}", f"Failed to upload context image {number}",
                        parallel=True)
        if r2v:
            given = params.given()
            for single, kind in (("reference_audio", "audio"), ("reference_video", "video")):
                for number, media in h3_slots(given, single, f"{single}s"):
                    name = single.replace("reference_", "")
                    add(f"{single}{number}", media, kind, "media", to_camel(single),
                        f"Failed to upload reference {name}",
                        upload_id=f"{to_camel(single)}{number}")
        if params.control_net is not None and params.control_net.get("name") == "inpaint":
            add("reference_mask", params.reference_mask, "image", "image", "referenceMask",
                "Failed to upload reference mask")
    else:  # voice cloning is the one audio model that takes an upload
        add("reference_audio", params.reference_audio, "audio", "media", "referenceAudio",
            "Failed to upload reference audio")
    return plan


def without_media(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the params with uploaded media replaced by ``True`` ("already uploaded"), so
    a tracked project does not keep the caller's bytes or file objects alive."""
    kept = dict(params)
    for key in ("starting_image", "gpt_image_mask", "left_view_image", "back_view_image",
                "right_view_image", "reference_image", "reference_image_end", "reference_audio",
                "reference_audio_identity", "reference_video", "reference_mask"):
        if _wanted(kept.get(key)):
            kept[key] = True
    for key in ("context_images", "reference_videos", "reference_audios"):
        listed = kept.get(key)
        if isinstance(listed, (list, tuple)):
            kept[key] = [True if _wanted(c) else c for c in listed]
    control_net = kept.get("control_net")
    if isinstance(control_net, Mapping) and _wanted(control_net.get("image")):
        kept["control_net"] = {**control_net, "image": True}
    return kept


#: ``reuse(body, content_type, project_id, slot)``: True when the input was bound to the project
#: another way (a saved upload), so the classic upload is skipped
Reuse = Callable[[Any, "str | None", str, str], bool]


def _upload_one(rest: RestClient, project_id: str, upload: Upload,
                reuse: Reuse | None = None) -> None:
    if reuse is not None and reuse(upload.source.body, upload.source.content_type, project_id,
                                   upload.slot):
        return
    content_type = upload.source.content_type or "undefined"  # the reference sends it literally
    if upload.endpoint == "image":
        query = {"imageId": str(uuid.uuid4()).upper(), "jobId": project_id,
                 "type": upload.slot, "contentType": content_type}
        path = "/v1/image/uploadUrl"
    else:
        query = {"jobId": project_id, "type": upload.slot, "contentType": content_type}
        if upload.upload_id is not None:
            query["id"] = upload.upload_id
        path = "/v1/media/uploadUrl"
    data = rest.request("GET", path, params=query)
    url = data.get("uploadUrl") if isinstance(data, Mapping) else None
    if not isinstance(url, str) or not url:
        raise UnexpectedResponseError(path, f"{upload.failure}: no uploadUrl in the response",
                                      payload=data)
    try:
        rest.put_presigned(url, upload.source.body, upload.source.content_type)
    except ApiError as exc:
        raise ApiError(upload.failure, status=exc.status, error_code=0,
                       payload={"status": "error", "errorCode": 0, "message": upload.failure})


def run_uploads(rest: RestClient, io_pool: IoPool, project_id: str, plan: Sequence[Upload],
                reuse: Reuse | None = None) -> None:
    """Perform the uploads: sequentially, except context images which go in parallel."""
    pending: list[Future[Any]] = []
    try:
        for upload in plan:
            if upload.parallel and io_pool is not None:
                pending.append(io_pool.submit(_upload_one, rest, project_id, upload, reuse))
            else:
                _upload_one(rest, project_id, upload, reuse)
    finally:
        errors = []
        for future in pending:
            try:
                future.result()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
