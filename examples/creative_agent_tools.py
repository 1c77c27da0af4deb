"""Hosted chat with Sogni's server-side creative tools (REST /v1/chat/completions).

First the tool calls come back to us; then the server executes them itself and reports the
durable workflow it started. Runs against the real Sogni Supernet when SOGNI_API_KEY is set,
else against a local emulator.
"""

from __future__ import annotations

import os

from sogni_sync import SogniClient

MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"
ASK = [{"role": "user", "content": "Generate an image of a lighthouse at dusk"}]


def main() -> None:
    with SogniClient() as client:
        planned = client.chat.hosted.create(MODEL, ASK, sogni_tools="creative-tools",
                                            sogni_tool_execution=False)
        for call in planned.tool_calls:
            print(f"hosted tool requested: {call.name}({call.arguments})")

        done = client.chat.hosted.create(MODEL, ASK, sogni_tools=True, sogni_tool_execution=True)
        print(done.content)
        for workflow in done.creative_workflows:
            print(f"workflow {workflow['workflowId']}: {workflow['status']}")
        for result in done.sogni_tool_results:
            urls = [url.split("?")[0] for url in result.get("urls") or ()]
            print(f"{result.get('tool')}: {urls}")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
