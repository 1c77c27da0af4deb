"""Replay records: write (with the server's redaction), list newest first, read back."""

from __future__ import annotations

from typing import Any

import pytest

from sogni_sync.creative_workflows import ReplayRecord, ReplayRecordSummary, ReplayWriteResult
from sogni_sync.errors import NotFoundError, ValidationError

RECORD = {"run_id": "run-1", "schema_version": 4, "session_id": "s1", "model_id": "qwen",
          "user_request": "make a poster", "final_response": {"text": "done"},
          "rounds": [{"tool": "generate_image"}, {"tool": "finalize_response"}]}


def test_write_list_get(client: Any, net: Any) -> None:
    written = client.replay.write(RECORD)
    assert isinstance(written, ReplayWriteResult) and written.run_id == "run-1"
    assert written.schema_version == 4 and not written.redacted and written.create_time > 0
    second = client.replay.write({"run_id": "run-2", "rounds": [],
                                  "meta": {"api_key": "sk-secret"}})
    assert second.redacted
    rows = client.replay.list(limit=5)
    assert all(isinstance(r, ReplayRecordSummary) for r in rows)
    assert [r.run_id for r in rows] == ["run-2", "run-1"]
    assert rows[1].rounds == 2 and rows[1].model_id == "qwen"
    assert rows[1].user_request == "make a poster" and rows[1].final_response == {"text": "done"}
    assert [c.query for c in net.rest_calls if c.path == "/v1/replay/records"
            and c.method == "GET"][-1] == {"limit": "5"}
    got = client.replay.get("run-2")
    assert isinstance(got, ReplayRecord) and got.record["meta"]["api_key"] == "[REDACTED]"
    again = client.replay.write({**RECORD, "final_response": {"text": "changed"}})
    assert again.create_time == written.create_time and again.update_time >= written.update_time
    assert client.replay.get("run-1").record["final_response"] == {"text": "changed"}
    with pytest.raises(NotFoundError, match="Replay record not found"):
        client.replay.get("run-missing")


def test_validation_before_network(client: Any, net: Any) -> None:
    before = len(net.rest_calls)
    for bad in (lambda: client.replay.write({"rounds": []}), lambda: client.replay.write([]),
                lambda: client.replay.list(limit=0), lambda: client.replay.get(" ")):
        with pytest.raises(ValidationError):
            bad()
    assert len(net.rest_calls) == before
