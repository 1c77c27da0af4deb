"""Let the model create media: the six Sogni tools turn tool calls into real projects.

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

import os

from sogni_sync import SogniClient
from sogni_sync.chat import SogniTools, ToolCall, ToolProgress

MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"


def progress(call: ToolCall, update: ToolProgress) -> None:
    print(f"  {call.name}: {update.status} {update.percent:.0f}%")


def main() -> None:
    with SogniClient() as client:
        answer = client.chat.complete(
            MODEL,
            [{"role": "user", "content": "Generate an image of a red fox in the snow"}],
            tools=SogniTools.all,  # sogni_generate_image, sogni_edit_image, ... (exact schemas)
            auto_execute_tools=True,
            on_tool_progress=progress,
            token_type="spark",
        )
        for round_ in answer.tool_history:
            for result in round_.tool_results:
                status = "ok" if result.success else f"failed: {result.error}"
                urls = [url.split("?")[0] for url in result.result_urls]  # drop signatures
                print(f"{result.tool_name}: {status} {urls}")
        print(answer.content[:200])


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
