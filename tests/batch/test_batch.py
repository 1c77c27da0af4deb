"""``client.batch.run`` against the emulator: files and manifest, lazy sources, up-front checks,
resume (skips, recovery by durable id, torn line, mismatching manifest), retries, chat."""

from __future__ import annotations

import json
import pathlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sogni_sync import SogniClient
from sogni_sync.batch import ItemResult, ManifestMismatchError
from sogni_sync.errors import ValidationError
from sogni_sync.testing import LocalSupernet
from tests.batch.helpers import (
    MODEL,
    check_complete,
    final_records,
    image_items,
    job_requests_per_item,
    manifest_lines,
    write_jsonl,
)


def test_fifty_items_files_and_manifest(client: SogniClient, net: LocalSupernet,
                                        tmp_path: pathlib.Path) -> None:
    seen: list[ItemResult] = []
    summary = client.batch.run(image_items(50), output_dir=tmp_path, concurrency=8,
                               progress=False, on_result=seen.append)
    assert (summary.completed, summary.failed, summary.skipped) == (50, 0, 0)
    assert summary.ok and summary.cost > 0 and summary.items_per_second > 0
    records = check_complete(tmp_path, 50)
    assert job_requests_per_item(net, records) == [1] * 50
    lines = manifest_lines(tmp_path / "manifest.jsonl")
    assert lines[0] == {"sogni_batch": 1, "app_id": client.app_id}
    for index in range(50):  # the in-flight line, with the id, comes before the result
        mine = [r for r in lines[1:] if r["index"] == index]
        assert [r["status"] for r in mine] == ["in_flight", "completed"]
        assert mine[0]["project_id"] == mine[1]["project_id"]
        assert mine[1]["cost"] is not None and mine[1]["error"] is None
    assert sorted(r.index for r in seen) == list(range(50))
    assert all(r.files[0].parent == tmp_path for r in seen)
    prompts = {r["jobID"]: r["keyFrames"][0]["positivePrompt"] for r in net.received(
        "jobRequest")}
    assert prompts[records[7]["project_id"]] == "a lighthouse, take 7"


def test_a_generator_is_read_lazily(client: SogniClient, tmp_path: pathlib.Path) -> None:
    pulled: list[int] = []

    def items() -> Iterator[dict[str, Any]]:
        for i, item in enumerate(image_items(30)):
            pulled.append(i)
            yield item

    results: list[int] = []

    def on_result(result: ItemResult) -> None:
        results.append(result.index)
        # never more than `concurrency` items ahead of the finished ones
        assert len(pulled) <= len(results) + 4

    summary = client.batch.run(items(), output_dir=tmp_path, concurrency=4, progress=False,
                               on_result=on_result)
    assert summary.completed == 30


def test_csv_items(client: SogniClient, tmp_path: pathlib.Path, net: LocalSupernet) -> None:
    csv = tmp_path / "items.csv"
    csv.write_text('model_id,positive_prompt,steps,seed\n'
                   f'{MODEL},"1984, a novel",2,7\n{MODEL},a fox,3,\n', encoding="utf-8")
    summary = client.batch.run(csv, output_dir=tmp_path / "out", progress=False)
    assert summary.completed == 2
    frames = sorted((r["keyFrames"][0] for r in net.received("jobRequest")),
                    key=lambda kf: kf["steps"])
    assert frames[0]["positivePrompt"] == "1984, a novel" and frames[0]["seed"] == 7
    assert frames[1]["steps"] == 3 and frames[1].get("seed") != 7  # an empty cell: not given


@pytest.mark.parametrize("bad, message", [
    ({"model_id": MODEL, "positive_prompt": "x", "steps": "many"}, "item 3"),
    ({"model_id": MODEL, "positive_prompt": "x", "stepz": 4}, "stepz"),
    ({"model_id": MODEL, "positive_prompt": "x", "project_id": str(uuid.uuid4())}, "project_id"),
    ({"type": "chat", "messages": []}, "model"),
])
def test_a_bad_item_in_a_file_stops_before_any_io(client: SogniClient, net: LocalSupernet,
                                                  tmp_path: pathlib.Path, bad: dict[str, Any],
                                                  message: str) -> None:
    items = write_jsonl(tmp_path / "items.jsonl", [*image_items(3), bad, *image_items(2)])
    with pytest.raises(ValidationError, match=message):
        client.batch.run(items, output_dir=tmp_path / "out", progress=False)
    assert net.received("jobRequest") == []
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


def test_bad_settings(client: SogniClient, tmp_path: pathlib.Path) -> None:
    for kwargs in ({"concurrency": 0}, {"concurrency": True}, {"retries": -1},
                   {"on_result": 3}, {"resume": True}):
        with pytest.raises(ValidationError):
            client.batch.run(image_items(1), progress=False, **kwargs)
    with pytest.raises(ValidationError, match=r"\.jsonl or \.csv"):
        client.batch.run(str(tmp_path / "items.txt"))
    with pytest.raises(ValidationError, match="does not exist"):
        client.batch.run(str(tmp_path / "items.jsonl"))


def test_an_iterable_item_that_is_invalid_is_recorded_not_lost(
        client: SogniClient, tmp_path: pathlib.Path) -> None:
    items = [*image_items(2), {"model_id": MODEL, "positive_prompt": ""}, *image_items(1)]
    summary = client.batch.run(iter(items), output_dir=tmp_path, progress=False)
    assert (summary.completed, summary.failed) == (3, 1)
    (failure,) = summary.failures
    assert failure.index == 2 and failure.attempts == 0 and "item 2" in str(failure.error)
    assert final_records(tmp_path / "manifest.jsonl")[2]["status"] == "failed"


def test_a_manifest_is_never_overwritten(client: SogniClient, tmp_path: pathlib.Path) -> None:
    client.batch.run(image_items(2), output_dir=tmp_path, progress=False)
    with pytest.raises(ValidationError, match="resume=True"):
        client.batch.run(image_items(2), output_dir=tmp_path, progress=False)


def test_resume_skips_completed_and_survives_a_torn_line(
        client: SogniClient, net: LocalSupernet, tmp_path: pathlib.Path) -> None:
    items = write_jsonl(tmp_path / "items.jsonl", image_items(12))
    out = tmp_path / "out"
    client.batch.run(items, output_dir=out, progress=False)
    manifest = out / "manifest.jsonl"
    lines = manifest.read_text().splitlines(keepends=True)
    # lose the last two items' result lines; tear the line before them mid-record
    kept = [line for line in lines if not (
        json.loads(line).get("index") in (10, 11) and json.loads(line)["status"] != "in_flight")]
    torn = json.dumps({"index": 11, "status": "completed", "hash": "x"})[:25]
    manifest.write_text("".join(kept) + torn)
    before = len(net.received("jobRequest"))
    summary = client.batch.run(items, output_dir=out, resume=True, progress=False)
    assert (summary.skipped, summary.recovered, summary.completed) == (10, 2, 2)
    assert len(net.received("jobRequest")) == before  # recovered by id, nothing re-sent
    records = check_complete(out, 12)
    assert job_requests_per_item(net, records) == [1] * 12
    assert all(line.endswith("\n") for line in manifest.read_text().splitlines(keepends=True))


def test_resume_refuses_a_manifest_of_other_items(client: SogniClient, net: LocalSupernet,
                                                  tmp_path: pathlib.Path) -> None:
    out = tmp_path / "out"
    client.batch.run(write_jsonl(tmp_path / "a.jsonl", image_items(3)), output_dir=out,
                     progress=False)
    sent = len(net.received("jobRequest"))
    other = image_items(3)
    other[1]["positive_prompt"] = "something else"
    for items in (write_jsonl(tmp_path / "b.jsonl", other),
                  write_jsonl(tmp_path / "c.jsonl", image_items(2))):
        with pytest.raises(ManifestMismatchError, match="does not belong"):
            client.batch.run(items, output_dir=out, resume=True, progress=False)
    with pytest.raises(ManifestMismatchError):  # an iterable is checked as it is read
        client.batch.run(iter(other), output_dir=out, resume=True, progress=False)
    assert len(net.received("jobRequest")) == sent


def test_resume_recovers_projects_of_a_dead_process(net: LocalSupernet,
                                                    tmp_path: pathlib.Path) -> None:
    """In-flight lines of a crashed run: still running, finished while away, never sent."""
    net.options.step_delay = 0.05
    app_id = f"batch-crash-{uuid.uuid4()}"

    def make() -> SogniClient:
        return SogniClient(app_id=app_id, api_key=net.api_key, rest_endpoint=net.rest_url,
                           socket_endpoint=net.socket_url)

    items = image_items(3, steps=6)
    from sogni_sync.batch import check_item

    hashes = [check_item(i, item).hash for i, item in enumerate(items)]
    ids = [str(uuid.uuid4()).upper() for _ in items]
    with make() as dead:  # submits items 0 and 1, "dies" before item 2's request goes out
        for i in (0, 1):
            dead.projects.create_image(project_id=ids[i], **items[i])
        dead.connect()
    out = tmp_path / "out"
    out.mkdir()
    write_jsonl(out / "manifest.jsonl", [
        {"sogni_batch": 1, "app_id": app_id},
        *({"index": i, "hash": hashes[i], "project_id": ids[i], "app_id": app_id,
           "status": "in_flight", "attempt": 1} for i in range(3))])
    with make() as client:
        summary = client.batch.run(items, output_dir=out, resume=True, progress=False)
    assert (summary.completed, summary.recovered, summary.failed) == (3, 2, 0)
    records = check_complete(out, 3)
    assert [records[i]["project_id"] for i in range(3)] == ids  # item 2 kept its id
    assert job_requests_per_item(net, records) == [1, 1, 1]


def test_resume_under_another_app_id_is_refused(client: SogniClient,
                                                tmp_path: pathlib.Path) -> None:
    out = tmp_path
    write_jsonl(out / "manifest.jsonl", [
        {"sogni_batch": 1, "app_id": "someone-else"},
        {"index": 0, "hash": "h", "project_id": str(uuid.uuid4()).upper(),
         "app_id": "someone-else", "status": "in_flight", "attempt": 1}])
    with pytest.raises(ValidationError, match="app_id='someone-else'"):
        client.batch.run(iter([]), output_dir=out, resume=True, progress=False)


def test_retries_a_failed_project_under_a_new_id(client: SogniClient, net: LocalSupernet,
                                                 tmp_path: pathlib.Path) -> None:
    net.faults.fail_next_jobs(1)
    summary = client.batch.run(image_items(1), output_dir=tmp_path, retries=2, progress=False)
    assert (summary.completed, summary.retried) == (1, 1)
    lines = manifest_lines(tmp_path / "manifest.jsonl")[1:]
    assert [r["status"] for r in lines] == ["in_flight", "in_flight", "completed"]
    assert lines[0]["project_id"] != lines[1]["project_id"] == lines[2]["project_id"]
    assert len(net.received("jobRequest")) == 2


def test_gives_up_after_the_retries(client: SogniClient, net: LocalSupernet,
                                    tmp_path: pathlib.Path) -> None:
    items = image_items(2)
    items[1]["positive_prompt"] = "please [[fail]]"  # the emulator's worker fails it always
    summary = client.batch.run(items, output_dir=tmp_path, retries=2, progress=False)
    assert (summary.completed, summary.failed, summary.retried) == (1, 1, 2)
    lines = [r for r in manifest_lines(tmp_path / "manifest.jsonl")[1:] if r["index"] == 1]
    flights = [r["project_id"] for r in lines if r["status"] == "in_flight"]
    assert len(flights) == len(set(flights)) == 3
    assert lines[-1]["status"] == "failed" and lines[-1]["attempt"] == 3
    assert summary.failures[0].index == 1 and "failed" in str(summary.failures[0].error)


def test_insufficient_funds_is_not_retried(client: SogniClient, net: LocalSupernet,
                                           tmp_path: pathlib.Path) -> None:
    net.set_balance("spark", 0)
    net.set_balance("sogni", 0)
    summary = client.batch.run(image_items(1), output_dir=tmp_path, retries=3, progress=False)
    assert summary.failed == 1
    (failure,) = summary.failures
    assert failure.attempts == 1 and "123" in str(failure.error)
    assert len(net.received("jobRequest")) == 1


def test_chat_items(client: SogniClient, tmp_path: pathlib.Path) -> None:
    items: list[dict[str, Any]] = [
        {"type": "chat", "model": "qwen3.6-35b-a3b-gguf-iq4xs", "prompt": f"hi {i}"}
        for i in range(3)]
    items.append({"type": "chat", "model": "qwen3.6-35b-a3b-gguf-iq4xs",
                  "messages": [{"role": "user", "content": "hello"}], "max_tokens": 50})
    summary = client.batch.run(items, manifest=tmp_path / "chat.jsonl", progress=False)
    assert summary.completed == 4
    records = final_records(tmp_path / "chat.jsonl")
    assert [records[i]["answer"] for i in range(4)] == ["Echo: hi 0", "Echo: hi 1",
                                                        "Echo: hi 2", "Echo: hello"]


def test_without_output_dir_nothing_is_written(client: SogniClient,
                                               emulator_client: Callable[..., SogniClient],
                                               tmp_path: pathlib.Path) -> None:
    summary = client.batch.run(image_items(2), progress=False)
    assert summary.completed == 2 and summary.manifest is None


def test_dask_client_must_be_a_distributed_client(client: SogniClient,
                                                  tmp_path: pathlib.Path) -> None:
    """Fast check of the Dask door; the cluster itself runs in test_dask.py (slow)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        from sogni_sync.errors import MissingDependencyError

        with pytest.raises(MissingDependencyError, match="dask"):
            client.batch.run(image_items(1), dask_client=object(), progress=False)
        return
    with pytest.raises(ValidationError, match=r"dask\.distributed\.Client"):
        client.batch.run(image_items(1), dask_client=object(), progress=False)


def test_estimate_a_batch(client: SogniClient, net: LocalSupernet) -> None:
    items = [*image_items(3), {"type": "chat", "model": "m", "prompt": "hi"},
             {**image_items(1)[0], "number_of_media": 2}]
    quote = client.batch.estimate(items)
    single = client.projects.estimate_image_cost(MODEL, "x", steps=2).token
    assert single is not None
    assert (quote.projects, quote.chats, quote.unquoted) == (4, 1, 0)
    assert quote.kinds == (("image", 4),)
    assert quote.tokens == 5 * single  # 3 x one image + one of two images
    estimates = [c for c in net.rest_calls if "estimate" in c.path]
    assert len(estimates) == 3  # one quote per distinct priced parameter set (+ the single)
    assert net.received("jobRequest") == []
