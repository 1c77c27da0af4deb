"""Let the model create media: the six Sogni tools turn tool calls into real projects.

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

from _demo import demo_client

from sogni_sync.chat import SogniTools, ToolCall, ToolProgress

MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"


def progress(call: ToolCall, update: ToolProgress) -> None:
    print(f"  {call.name}: {update.status} {update.percent:.0f}%")


def main() -> None:
    with demo_client() as client:
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
    main()
