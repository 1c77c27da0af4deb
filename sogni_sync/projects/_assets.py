"""Reusable uploads (``/v1/assets``): files a subscriber stores once and binds to any number of
projects, as ``client.projects.assets``.

An upload is prepared by its SHA-256 and size (the server answers ``reused`` with a ready
upload it already has), ``PUT`` to the presigned URL with the headers the server names (a 412
means another writer finished first and is accepted), then finalised; the server verifies the
bytes before the upload becomes ``ready``. ``423 Locked`` answers (the upload is busy) are
retried a few times with a short doubling pause.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from sogni_sync._convert import structure
from sogni_sync._transport import RestAccess
from sogni_sync.errors import ApiError, ClientClosedError, UnexpectedResponseError, ValidationError
from sogni_sync.projects._loras import check_id

__all__ = ["SUPPORTED_TYPES", "AssetsApi", "SavedUpload", "SavedUploadLimits", "SavedUploads"]

T = TypeVar("T")
#: what a saved upload is made from: bytes or a file path
Data = bytes | bytearray | memoryview | str | os.PathLike[Any]
SUPPORTED_TYPES = frozenset({
    "image/png", "image/jpeg", "image/webp", "video/mp4", "video/quicktime", "video/webm",
    "audio/mp4", "audio/mpeg", "audio/flac", "audio/wav", "audio/x-wav", "audio/wave"})
MAX_BYTES = 100 * 1024 * 1024
#: retries of a 423 (busy) answer, and the first pause (doubling)
BUSY_RETRIES = 4
BUSY_PAUSE = 0.25
#: a full library is a 409 whose message starts with this; create() then uploads the classic
#: way for QUOTA_PAUSE seconds
QUOTA_MESSAGE = "Your saved upload library is full."
QUOTA_PAUSE = 15 * 60.0
#: seconds the capabilities answer is remembered by create()
OFFER_TTL = 60.0
#: refusals while preparing after which create() falls back to the classic upload
_FALLBACK = frozenset({400, 403, 404, 409, 410, 503})
_NUMBERED = re.compile(r"(referenceAudio|referenceVideo)([1-3])")
_ASSETS = "/v1/assets"


@attrs.frozen
class SavedUpload:
    """A file in the account's saved-upload library; ``state`` is ``uploading`` or ``ready``.
    Times are epoch milliseconds. ``reused`` is True when preparing found the same bytes."""

    id: str
    state: str
    name: str = ""
    bytes: int = 0
    content_type: str = ""
    created_at: int = 0
    expires_at: int = 0
    reused: bool = False


@attrs.frozen
class _Prepared(SavedUpload):
    upload_url: str | None = None
    upload_headers: dict[str, str] | None = None


@attrs.frozen
class SavedUploadLimits:
    """The library's limits (entries, total and per-file bytes, idle days before expiry, and
    the daily copy and binding allowances)."""

    entries: int = 0
    bytes: int = 0
    file_bytes: int = 0
    idle_days: int = 0
    copy_bytes_per_day: int = 0
    bindings_per_day: int = 0


@attrs.frozen
class SavedUploads:
    """``projects.assets.list()``: the saved uploads and the library's limits."""

    assets: tuple[SavedUpload, ...]
    limits: SavedUploadLimits | None = None


def _digest(data: Data) -> tuple[str, int]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        return hashlib.sha256(raw).hexdigest(), len(raw)
    sha = hashlib.sha256()
    size = 0
    with open(data, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


class AssetsApi:
    """``client.projects.assets``: upload a file once, list, bind to a project, remove."""

    def __init__(self, transport: RestAccess) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._offer: tuple[float, bool] | None = None  # (valid until, offered)
        self._blocked_until = 0.0  # a full library: classic uploads until then

    def available(self) -> bool:
        """Whether this account may save uploads (``GET /v1/assets/capabilities``); a 403,
        404 or 503 answer means "not available" (False), other failures raise."""
        try:
            data = self._transport.rest.request("GET", f"{_ASSETS}/capabilities")
        except ApiError as exc:
            if exc.status in (403, 404, 503):
                return False
            raise
        return isinstance(data, dict) and data.get("enabled") is True

    def list(self) -> SavedUploads:
        """The saved uploads and the library's limits."""
        return structure(self._transport.rest.request("GET", _ASSETS), SavedUploads, _ASSETS)

    def remove(self, asset_id: str) -> None:
        """Delete one saved upload."""
        self._transport.rest.request("DELETE", f"{_ASSETS}/{check_id(asset_id, 'asset_id')}")

    def bind(self, asset_id: str, *, project_id: str, type: str,
             slot_id: str | None = None) -> None:
        """Attach a ready saved upload to a project as its ``type`` input (``startingImage``,
        ``referenceVideo``, ``contextImage1`` …; ``slot_id`` for the numbered slots that
        have one) instead of uploading the file again."""
        path = f"{_ASSETS}/{check_id(asset_id, 'asset_id')}/bind"
        for key, value in (("project_id", project_id), ("type", type)):
            if not isinstance(value, str) or not value:
                raise ValidationError(f"{key} must be a non-empty string")
        body: dict[str, Any] = {"projectId": project_id, "type": type}
        if slot_id is not None:
            body["id"] = slot_id
        self._busy(lambda: self._transport.rest.request("POST", path, json=body))

    def upload(self, data: Data, content_type: str,
               name: str = "Saved upload") -> SavedUpload:
        """Save a file (bytes or a path) once; returns the ready upload (or the one the
        library already had with the same bytes, ``reused``). ``content_type`` must be PNG,
        JPEG, WebP, MP4, MOV, WebM, M4A, MP3, FLAC or WAV; 1 byte to 100 MiB."""
        if content_type not in SUPPORTED_TYPES:
            raise ValidationError(f"content_type {content_type!r} cannot be saved; use one of "
                                  f"{', '.join(sorted(SUPPORTED_TYPES))}")
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("name must be a non-empty string")
        if not isinstance(data, (bytes, bytearray, memoryview, str, os.PathLike)):
            raise ValidationError("data must be bytes or a file path")
        try:
            sha256, size = _digest(data)
        except OSError as exc:
            raise ValidationError(f"cannot read {data!r}: {exc}") from exc
        if not 0 < size <= MAX_BYTES:
            raise ValidationError("Choose a saved upload no larger than 100 MiB (and not empty).")
        return self._finish(self._prepare(sha256, size, content_type, name), data)

    def try_bind(self, data: Any, content_type: str | None, project_id: str, slot: str) -> bool:
        """``create()``'s uploads: when the server offers saved uploads, store the file in the
        library (once per content) and bind it to the project's ``slot``, as the 5.54 client
        does; False means "upload it the classic way" (not offered, a type or size the
        library refuses, a stream, a full library -- then not retried for 15 minutes, or a
        refusal while preparing). Failures after the transfer was prepared raise."""
        if content_type not in SUPPORTED_TYPES or not isinstance(
                data, (bytes, bytearray, memoryview, str, os.PathLike)):
            return False
        if time.monotonic() < self._blocked_until or not self._offered():
            return False
        try:
            sha256, size = _digest(data)
        except OSError:
            return False
        if not 0 < size <= MAX_BYTES:
            return False
        try:
            prepared = self._prepare(sha256, size, content_type, "Saved upload")
        except ApiError as exc:
            if exc.status not in _FALLBACK:
                raise
            if exc.status == 409 and exc.message.startswith(QUOTA_MESSAGE):
                self._blocked_until = time.monotonic() + QUOTA_PAUSE
            return False
        saved = self._finish(prepared, data)
        numbered = _NUMBERED.fullmatch(slot)
        self.bind(saved.id, project_id=project_id, type=numbered.group(1) if numbered else slot,
                  slot_id=slot if numbered else None)
        return True

    def _offered(self) -> bool:
        """:meth:`available`, remembered for a minute."""
        with self._lock:
            if self._offer is not None and time.monotonic() < self._offer[0]:
                return self._offer[1]
        offered = self.available()
        with self._lock:
            self._offer = (time.monotonic() + OFFER_TTL, offered)
        return offered

    def _prepare(self, sha256: str, size: int, content_type: str, name: str) -> _Prepared:
        body = {"sha256": sha256, "bytes": size, "contentType": content_type, "name": name}
        path = f"{_ASSETS}/prepare"
        return structure(self._busy(lambda: self._transport.rest.request(
            "POST", path, json=body)), _Prepared, path)

    def _finish(self, prepared: _Prepared, data: Data) -> SavedUpload:
        if prepared.state == "ready":
            return _public(prepared)
        rest = self._transport.rest
        if not prepared.upload_url or prepared.upload_headers is None:
            raise UnexpectedResponseError(f"{_ASSETS}/prepare", "the saved upload could not "
                                          "be prepared (no uploadUrl)", payload=prepared)
        try:
            rest.put_presigned(prepared.upload_url, data, headers=prepared.upload_headers)
        except ApiError as exc:
            if exc.status != 412:  # 412: a concurrent write-once upload already finished
                raise
        done = f"{_ASSETS}/{check_id(prepared.id, 'id')}/finalize"
        return structure(self._busy(lambda: rest.request("POST", done)), SavedUpload,
                         f"{_ASSETS}/{{id}}/finalize")

    def _busy(self, call: Callable[[], T]) -> T:
        pause = BUSY_PAUSE
        for attempt in range(BUSY_RETRIES + 1):
            try:
                return call()
            except ApiError as exc:
                if exc.status != 423 or attempt == BUSY_RETRIES:
                    raise
            if self._transport.closing.wait(pause):
                break
            pause *= 2
        raise ClientClosedError("the client was closed while a saved upload was busy")


def _public(prepared: _Prepared) -> SavedUpload:
    return SavedUpload(**{f.name: getattr(prepared, f.name) for f in attrs.fields(SavedUpload)})
