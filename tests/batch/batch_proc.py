"""A batch in its own process, for the crash tests: ``python batch_proc.py CONFIG.json``.

CONFIG: rest_url, socket_url, api_key, app_id, items (path), out, concurrency, resume. Prints
``started`` once the client is connected; exits 130 on Ctrl-C (after the runner canceled what
was in flight), 0 when the batch finished.
"""

from __future__ import annotations

import json
import sys

from sogni_sync import SogniClient


def main(path: str) -> int:
    with open(path, encoding="utf-8") as fh:
        conf = json.load(fh)
    with SogniClient(app_id=conf["app_id"], api_key=conf["api_key"],
                     rest_endpoint=conf["rest_url"], socket_endpoint=conf["socket_url"]) as client:
        client.connect()
        print("started", flush=True)
        try:
            summary = client.batch.run(conf["items"], output_dir=conf["out"],
                                       concurrency=conf.get("concurrency", 8),
                                       resume=conf.get("resume", False), progress=False)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            return 130
    print(json.dumps({"completed": summary.completed, "elapsed": summary.elapsed}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
