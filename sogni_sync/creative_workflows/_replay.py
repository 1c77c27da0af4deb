"""``client.replay``: replay records (``/v1/replay/records``), one RunRecord per creative-agent
chat or harness turn, written by producers and read back by replay viewers.

A RunRecord is a JSON object with a ``run_id`` (and usually ``schema_version``, ``session_id``,
``model_id``, ``rounds``, ``user_request``, ``final_response``); the server redacts secrets
again on write and says so with ``redacted``. These endpoints answer bare JSON (no ``{status,
data}`` envelope), as both official clients read them; an enveloped answer is accepted too.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

import attrs

from sogni_sync._convert import register_wire, structure
from sogni_sync._transport import RestAccess, quote_segment
from sogni_sync.errors import UnexpectedResponseError, ValidationError

__all__ = ["ReplayApi", "ReplayRecord", "ReplayRecordSummary", "ReplayWriteResult"]

RECORDS = "/v1/replay/records"


def _number(value: Any) -> float:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


@attrs.frozen
class ReplayWriteResult:
    """What the server stored: times are epoch milliseconds."""

    run_id: str
    schema_version: int | str = 0
    redacted: bool = False
    create_time: float = 0
    update_time: float = 0


@attrs.frozen
class ReplayRecordSummary:
    """One row of :meth:`ReplayApi.list`; ``rounds`` is the number of rounds."""

    run_id: str
    schema_version: int | str = 0
    create_time: float = 0
    update_time: float = 0
    user_request: str | None = None
    final_response: Any = None
    model_id: str | None = attrs.field(default=None, metadata={"wire": "modelId"})
    rounds: int = 0


@attrs.frozen
class ReplayRecord:
    """A full RunRecord as stored, and when it was first written."""

    record: Mapping[str, Any]
    create_time: float = 0


def _times(value: Any) -> dict[str, Any]:
    raw = dict(value) if isinstance(value, Mapping) else {}
    fixed = {k: _number(raw.get(k)) for k in ("createTime", "updateTime")}
    version = raw.get("schemaVersion")
    rounds = raw.get("rounds")
    return {**raw, **fixed,
            "schemaVersion": version if isinstance(version, (int, str)) else 0,
            "rounds": rounds if isinstance(rounds, int) and not isinstance(rounds, bool) else 0}


for _cls in (ReplayWriteResult, ReplayRecordSummary):
    register_wire(_cls, _times)


class ReplayApi:
    """Write, list and read your replay records."""

    def __init__(self, transport: RestAccess) -> None:
        self._transport = transport

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        body = self._transport.rest.request(method, path, envelope=False, **kw)
        if isinstance(body, Mapping) and body.get("status") == "success" \
                and isinstance(body.get("data"), Mapping):
            return body["data"]
        return body

    def write(self, record: Mapping[str, Any]) -> ReplayWriteResult:
        """Store one RunRecord (a new ``run_id`` creates it, a known one replaces it)."""
        if not isinstance(record, Mapping):
            raise ValidationError("record must be a mapping")
        if not isinstance(record.get("run_id"), str) or not record["run_id"].strip():
            raise ValidationError("record needs a non-empty 'run_id'")
        # keyed by run_id, so a repeated write stores the same record: safe to retry
        data = self._call("POST", RECORDS, json=dict(record), idempotent=True)
        if not isinstance(data, Mapping) or not isinstance(data.get("runId"), str):
            raise UnexpectedResponseError(RECORDS, "Replay write response missing runId",
                                          payload=data)
        return structure(data, ReplayWriteResult, RECORDS)

    def list(self, *, limit: int | None = None) -> builtins.list[ReplayRecordSummary]:
        """Your records, newest first (``limit`` ≥ 1; the server caps it)."""
        params = None
        if limit is not None:
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ValidationError(f"limit must be a positive integer, got {limit!r}")
            params = {"limit": limit}
        data = self._call("GET", RECORDS, params=params)
        rows = data.get("records") if isinstance(data, Mapping) else None
        return [structure(r, ReplayRecordSummary, RECORDS) for r in rows or ()
                if isinstance(r, Mapping) and isinstance(r.get("runId"), str)]

    def get(self, run_id: str) -> ReplayRecord:
        if not isinstance(run_id, str) or not run_id.strip():
            raise ValidationError("run_id must be a non-empty string")
        path = f"{RECORDS}/{quote_segment(run_id, 'run_id')}"
        data = self._call("GET", path)
        record = data.get("record") if isinstance(data, Mapping) else None
        if not isinstance(record, Mapping):
            raise UnexpectedResponseError(path, "Replay get response missing record field",
                                          payload=data)
        return ReplayRecord(record=dict(record), create_time=_number(data.get("createTime")))
