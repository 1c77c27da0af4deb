"""The bench's own pieces: the raw websocket-client loop sees exactly the frames ``chat.stream()``
sees, the soak workload does mixed work and reports it, and the report pairs and prints figures
the way the bench promises (ids matched case-insensitively, stream as a share of the raw limit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from sogni_sync.testing import LocalSupernet

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ours
import raw_ws
import run_bench


@pytest.fixture
def bench_env(net: LocalSupernet, monkeypatch: pytest.MonkeyPatch) -> LocalSupernet:
    for key, value in {"SOGNI_REST_ENDPOINT": net.rest_url, "SOGNI_SOCKET_ENDPOINT": net.socket_url,
                       "SOGNI_API_KEY": net.api_key, "BENCH_STREAM_CHARS": "2000",
                       "BENCH_TIMEOUT": "30"}.items():
        monkeypatch.setenv(key, value)
    return net


def test_raw_loop_receives_the_same_stream_as_chat_stream(
        bench_env: LocalSupernet, capsys: pytest.CaptureFixture[str]) -> None:
    assert raw_ws.main() == 0
    raw: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    sdk = ours.stream()
    assert raw["chunks"] == sdk["chunks"] > 2000 // 4
    assert raw["chars"] == sdk["chars"] >= 2000
    assert raw["seconds"] > 0 and raw["cpu_seconds"] >= 0


@pytest.mark.slow
def test_soak_does_mixed_work_through_one_client(
        bench_env: LocalSupernet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_SOAK_SECONDS", "1")
    monkeypatch.setenv("BENCH_THREADS", "8")
    out = ours.soak()
    assert out["errors"] == 0, out["first_errors"]
    assert out["projects"] and out["chats"]
    # three images to one chat, give or take the calls in flight when the time ran out
    assert abs(len(out["projects"]) - 3 * len(out["chats"])) <= 3 * 8
    assert all(r[2] > 0 for r in out["projects"] + out["chats"])
    assert out["cpu_seconds"] > 0


def test_latencies_pair_returns_with_final_frames_by_id_in_any_case(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_bench, "WARMUP", 0)
    stamps = [["app", "jobState", "ab-1", 10.0, 10.001], ["app", "jobState", "AB-2", 11.0, None],
              ["other", "jobState", "ab-3", 12.0, 12.0]]
    # by id, from the wire stamp when there is one, else from the queue stamp
    got = run_bench.latencies(stamps, "app", "jobState", [["ab-2", 11.002], ["AB-1", 10.003]])
    assert got == pytest.approx([2.0, 2.0])
    with pytest.raises(RuntimeError, match="without a final-frame stamp"):
        run_bench.latencies(stamps, "app", "jobState", [["ab-3", 12.5]])


def test_table_prints_stream_as_share_of_the_raw_limit_and_the_soak_rows() -> None:
    results = {
        "stream": {"ours": {"tokens_per_s": 30000.0, "chunks": 1000, "cpu_seconds": 0.02},
                   "py": {"tokens_per_s": 15000.0, "chunks": 1000, "cpu_seconds": 0.04},
                   "js": {"error": "node missing"}},
        "raw": {"raw": {"tokens_per_s": 40000.0, "chunks": 1000, "cpu_seconds": 0.01}},
        "soak": {"ours": {"wait": [1.0, 2.0, 3.0], "complete": [4.0], "wait_call": [5.0],
                          "complete_call": [6.0], "jobs": 300, "seconds": 10.0,
                          "cpu_per_1000": 2.5, "errors": 0},
                 "py": {"wait": [2.0], "complete": [8.0], "wait_call": [10.0],
                        "complete_call": [12.0], "jobs": 100, "seconds": 10.0,
                        "cpu_per_1000": 5.0, "errors": 2, "first_errors": ["boom"]}},
    }
    rows = {line.split("  ")[0]: line for line in run_bench.table(results).splitlines()}
    share = rows["chat.stream() as % of raw"].split()
    assert share[5:8] == ["75.0", "%", "37.5"]  # ours 75 %, py 37.5 %, js n/a
    assert "yes" in share
    assert "20.0 ms" in rows["chat.stream() client CPU ms / 1000 tokens"]
    soak_jobs = next(v for k, v in rows.items() if k.startswith("soak jobs/s"))
    assert "30.0" in soak_jobs and "3.00x" in soak_jobs
    assert "2.00x" in rows["soak client CPU s / 1000 jobs"]
    assert any("soak py: 2 failed calls" in line for line in rows)
