"""The 2,000-item batch against the emulator at two concurrencies (slow): manifest and files
right, one jobRequest per item; items/s printed for the notes."""

from __future__ import annotations

import pathlib

import pytest

from sogni_sync import SogniClient
from sogni_sync.testing import LocalSupernet
from tests.batch.helpers import check_complete, image_items, job_requests_per_item, write_jsonl


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("concurrency", [8, 32])
def test_two_thousand_items(client: SogniClient, net: LocalSupernet, tmp_path: pathlib.Path,
                            concurrency: int) -> None:
    items = write_jsonl(tmp_path / "items.jsonl", image_items(2000))
    summary = client.batch.run(items, output_dir=tmp_path / "out", concurrency=concurrency,
                               progress=False)
    assert (summary.completed, summary.failed) == (2000, 0)
    records = check_complete(tmp_path / "out", 2000)
    assert job_requests_per_item(net, records) == [1] * 2000
    print(f"2000 items, concurrency {concurrency}: {summary.elapsed:.1f}s, "
          f"{summary.items_per_second:.0f} items/s")
