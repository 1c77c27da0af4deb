"""A Dask-driven batch in its own process group (for the crash test): ``python dask_proc.py
CONFIG.json``. Starts a LocalCluster of 2 worker processes on 127.0.0.1, prints ``started``,
runs the batch, prints the summary as JSON."""

from __future__ import annotations

import json
import sys


def main(path: str) -> int:
    from distributed import Client, LocalCluster

    from sogni_sync import SogniClient

    with open(path, encoding="utf-8") as fh:
        conf = json.load(fh)
    with LocalCluster(n_workers=2, threads_per_worker=4, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as dask, \
            SogniClient(app_id=conf["app_id"], api_key=conf["api_key"],
                        rest_endpoint=conf["rest_url"],
                        socket_endpoint=conf["socket_url"]) as client:
        print("started", flush=True)
        summary = client.batch.run(conf["items"], output_dir=conf["out"], concurrency=8,
                                   resume=conf.get("resume", False), progress=False,
                                   dask_client=dask)
        print(json.dumps({"completed": summary.completed, "recovered": summary.recovered,
                          "skipped": summary.skipped, "failed": summary.failed}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
