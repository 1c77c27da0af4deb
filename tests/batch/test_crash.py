"""The batch in its own process, as it crashes in real life: SIGKILLed half-way and resumed
(exactly one jobRequest per item, in-flight projects recovered by their durable ids, every
file valid), and Ctrl-C (SIGINT) canceling what is in flight within a second."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

from sogni_sync import SogniClient
from sogni_sync.testing import LocalSupernet
from tests.batch.helpers import (
    check_complete,
    final_records,
    image_items,
    job_requests_per_item,
    manifest_lines,
    statuses,
    write_jsonl,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = pathlib.Path(__file__).with_name("batch_proc.py")


def _start(net: LocalSupernet, tmp_path: pathlib.Path, items: pathlib.Path, app_id: str,
           concurrency: int) -> subprocess.Popen[str]:
    conf = {"rest_url": net.rest_url, "socket_url": net.socket_url, "api_key": net.api_key,
            "app_id": app_id, "items": str(items), "out": str(tmp_path / "out"),
            "concurrency": concurrency}
    path = tmp_path / f"conf-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(conf))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started", proc.stderr.read() if proc.stderr else ""
    return proc


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def kill_and_resume(net: LocalSupernet, tmp_path: pathlib.Path, count: int,
                    concurrency: int) -> dict[str, Any]:
    """Run ``count`` items in a subprocess, SIGKILL it half-way, resume here; figures."""
    items = write_jsonl(tmp_path / "items.jsonl", image_items(count, steps=4))
    out = tmp_path / "out"
    app_id = f"batch-kill-{uuid.uuid4()}"
    proc = _start(net, tmp_path, items, app_id, concurrency)
    try:
        _wait_for(lambda: statuses(out / "manifest.jsonl")["completed"] >= count // 2, 120,
                  "half the batch")
    finally:
        proc.kill()
        proc.wait(10)
    at_kill = statuses(out / "manifest.jsonl")
    in_flight = at_kill["in_flight"] - at_kill["completed"] - at_kill["failed"]
    time.sleep(0.2)  # let the emulator read what the dead process had already written
    pending = {r["project_id"] for r in final_records(out / "manifest.jsonl").values()
               if r["status"] == "in_flight"}
    # killed between writing the in-flight line and sending: the server never got those
    received = pending & {r["jobID"] for r in net.received("jobRequest")}
    started = time.monotonic()
    with SogniClient(app_id=app_id, api_key=net.api_key, rest_endpoint=net.rest_url,
                     socket_endpoint=net.socket_url) as client:
        summary = client.batch.run(items, output_dir=out, resume=True, progress=False,
                                   concurrency=concurrency)
    elapsed = time.monotonic() - started
    records = check_complete(out, count)
    assert job_requests_per_item(net, records) == [1] * count  # nothing submitted twice
    assert len(net.received("jobRequest")) == count
    assert summary.skipped == at_kill["completed"]
    assert len(pending) == in_flight
    assert summary.recovered == len(received) > 0  # the rest were submitted under their ids
    assert summary.completed + summary.skipped == count and summary.failed == 0
    return {"completed_at_kill": at_kill["completed"], "in_flight_at_kill": in_flight,
            "never_received": in_flight - len(received),
            "recovered": summary.recovered, "resume_seconds": round(elapsed, 2)}


def test_sigkill_half_way_then_resume(net: LocalSupernet, tmp_path: pathlib.Path) -> None:
    net.options.step_delay = 0.02
    figures = kill_and_resume(net, tmp_path, 60, 8)
    print("resume figures (60 items, concurrency 8):", figures)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigkill_2000_items_then_resume(net: LocalSupernet, tmp_path: pathlib.Path) -> None:
    net.options.step_delay = 0.01
    figures = kill_and_resume(net, tmp_path, 2000, 32)
    print("resume figures (2000 items, concurrency 32):", figures)


def test_ctrl_c_cancels_in_flight_within_a_second(net: LocalSupernet,
                                                  tmp_path: pathlib.Path) -> None:
    net.options.step_delay = 1.5  # 4 steps: 6 s a project, far longer than the test
    items = write_jsonl(tmp_path / "items.jsonl", image_items(12, steps=4))
    out = tmp_path / "out"
    proc = _start(net, tmp_path, items, f"batch-int-{uuid.uuid4()}", 4)
    try:
        _wait_for(lambda: len(net.received("jobRequest")) == 4, 30, "four projects in flight")
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)

        def all_canceled() -> bool:
            cancels = {m.get("jobID") for m in net.received("jobError")
                       if m.get("error") == "artistCanceled"}
            return len(cancels) == 4

        _wait_for(all_canceled, 5, "the cancels")
        canceled_after = time.monotonic() - sent
        code = proc.wait(10)
        exited_after = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert canceled_after < 1.0, canceled_after
    assert code == 130, proc.stderr.read() if proc.stderr else ""
    assert exited_after < 3.0, exited_after
    print(f"Ctrl-C: all 4 in-flight projects canceled after {canceled_after:.3f}s, "
          f"process exited after {exited_after:.3f}s")
    records = final_records(out / "manifest.jsonl")
    assert sorted(records) == [0, 1, 2, 3]  # nothing else was started
    assert {r["status"] for r in records.values()} == {"canceled"}
    assert [p.name for p in out.iterdir()] == ["manifest.jsonl"]  # no partial files
    lines = manifest_lines(out / "manifest.jsonl")
    assert all(isinstance(line, dict) for line in lines)
    assert len(net.received("jobRequest")) == 4
