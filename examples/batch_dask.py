"""The same batch on a Dask cluster (``pip install 'sogni-sync[dask]'``): a LocalCluster of two
worker processes here; point ``Client(...)`` at your scheduler to use real machines (the
output directory must then be on a file system they all share).

Each worker process builds its own SogniClient on first use (its own app id); the driver
chooses the project ids, writes the one manifest and retries; resume works the same way.
Needs API-key authentication (``SOGNI_API_KEY``), or runs against a local emulator.
"""

from __future__ import annotations

import os
import pathlib

from distributed import Client, LocalCluster

from sogni_sync import SogniClient

ITEMS = [{"model_id": "flux1-schnell-fp8", "positive_prompt": f"a lighthouse, take {i}",
          "steps": 4} for i in range(16)]


def main() -> None:
    out = pathlib.Path("out") / "batch-dask"
    with LocalCluster(n_workers=2, threads_per_worker=4, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as dask, \
            SogniClient() as client:
        summary = client.batch.run(ITEMS, output_dir=out, concurrency=8, dask_client=dask,
                                   resume=(out / "manifest.jsonl").exists())
    print(f"{summary.completed} completed on the cluster in {summary.elapsed:.1f}s "
          f"({summary.items_per_second:.1f} items/s); manifest: {summary.manifest}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
