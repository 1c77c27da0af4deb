"""Shared checks of the batch suites: items files, manifest lines, result files."""

from __future__ import annotations

import collections
import json
import pathlib
from typing import Any

from sogni_sync.testing import LocalSupernet

MODEL = "flux1-schnell-fp8"


def image_items(count: int, steps: int = 2) -> list[dict[str, Any]]:
    return [{"model_id": MODEL, "positive_prompt": f"a lighthouse, take {i}", "steps": steps}
            for i in range(count)]


def write_jsonl(path: pathlib.Path, items: list[dict[str, Any]]) -> pathlib.Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def manifest_lines(path: pathlib.Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def final_records(path: pathlib.Path) -> dict[int, dict[str, Any]]:
    """The last complete record of each index (a torn last line is left out)."""
    last: dict[int, dict[str, Any]] = {}
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    for line in lines:
        if line.endswith("\n"):
            record = json.loads(line)
            last[record["index"]] = record
    return last


def valid_png(path: pathlib.Path) -> bool:
    data = path.read_bytes()
    return data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")


def check_complete(out: pathlib.Path, count: int) -> dict[int, dict[str, Any]]:
    """Every item completed once, with one valid file named after its index."""
    records = final_records(out / "manifest.jsonl")
    assert sorted(records) == list(range(count))
    for index, record in records.items():
        assert record["status"] == "completed", record
        assert record["files"] == [f"{index:06d}-0.png"], record
        assert valid_png(out / record["files"][0])
        assert len(record["result_urls"]) == 1
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".sogni-")]
    assert leftovers == []
    return records


def job_requests_per_item(net: LocalSupernet, records: dict[int, dict[str, Any]]) -> list[int]:
    """How many jobRequests the emulator received for each item's project id(s)."""
    ids = collections.Counter(r["jobID"] for r in net.received("jobRequest"))
    return [ids[records[i]["project_id"]] for i in sorted(records)]


def statuses(path: pathlib.Path) -> collections.Counter[str]:
    """Status counts of a manifest that may be being written (complete lines only)."""
    if not path.exists():
        return collections.Counter()
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    return collections.Counter(json.loads(line)["status"] for line in lines
                               if line.endswith("\n"))
