"""The batch on a ``dask.distributed`` LocalCluster of 2 worker processes against the
standalone emulator (``python -m sogni_sync.testing`` on 127.0.0.1): one output directory and
manifest; the whole driver+cluster process group SIGKILLed half-way, then resumed on a new
cluster: in-flight projects recovered on the worker of the same app id, nothing submitted twice."""

from __future__ import annotations

import collections
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sogni_sync import SogniClient
from tests.batch.helpers import (
    check_complete,
    image_items,
    manifest_lines,
    statuses,
    write_jsonl,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def standalone() -> Iterator[dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "sogni_sync.testing", "--step-delay", "0.05"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        env: dict[str, str] = {}
        while len(env) < 3:
            line = proc.stdout.readline()
            assert line, "the standalone emulator did not start"
            key, _, value = line.strip().partition("=")
            if key in ("SOGNI_API_KEY", "SOGNI_REST_ENDPOINT", "SOGNI_SOCKET_ENDPOINT"):
                env[key] = value
        yield env
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_dask_local_cluster_crash_and_resume(standalone: dict[str, str],
                                             tmp_path: pathlib.Path) -> None:
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install -e '.[dask]')")
    count = 48
    items = write_jsonl(tmp_path / "items.jsonl", image_items(count, steps=4))
    out = tmp_path / "out"
    app_id = f"dask-{uuid.uuid4().hex[:8]}"
    conf: dict[str, Any] = {"api_key": standalone["SOGNI_API_KEY"],
                            "rest_url": standalone["SOGNI_REST_ENDPOINT"],
                            "socket_url": standalone["SOGNI_SOCKET_ENDPOINT"],
                            "app_id": app_id, "items": str(items), "out": str(out)}
    (tmp_path / "conf.json").write_text(json.dumps(conf))
    proc = subprocess.Popen(
        [sys.executable, str(pathlib.Path(__file__).with_name("dask_proc.py")),
         str(tmp_path / "conf.json")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 120
        while statuses(out / "manifest.jsonl")["completed"] < count // 2:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # driver, nannies and workers: all at once
        proc.wait(10)
    at_kill = statuses(out / "manifest.jsonl")
    in_flight = at_kill["in_flight"] - at_kill["completed"]
    assert in_flight > 0
    workers_seen = {r["app_id"] for r in manifest_lines(out / "manifest.jsonl")[1:]}
    assert workers_seen == {f"{app_id}-w0", f"{app_id}-w1"}  # both processes, own app ids

    with distributed.LocalCluster(n_workers=2, threads_per_worker=4, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as dask, \
            SogniClient(app_id=app_id, api_key=conf["api_key"], rest_endpoint=conf["rest_url"],
                        socket_endpoint=conf["socket_url"]) as client:
        summary = client.batch.run(items, output_dir=out, resume=True, progress=False,
                                   dask_client=dask)
    assert summary.skipped == at_kill["completed"]
    # recovered by id, or (a task killed before its jobRequest went out) unknown to the
    # server and submitted again under the same id
    assert 0 < summary.recovered <= in_flight
    assert summary.failed == 0 and summary.skipped + summary.completed == count
    check_complete(out, count)
    ids: dict[int, set[str]] = collections.defaultdict(set)
    for record in manifest_lines(out / "manifest.jsonl")[1:]:
        ids[record["index"]].add(record["project_id"])
    assert all(len(v) == 1 for v in ids.values())  # one durable id per item, across both runs
