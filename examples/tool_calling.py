"""OpenAI-style tool calling with your own function: by hand, then with auto-execution.

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

import os
from typing import Any

from sogni_sync import SogniClient

MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get current weather for a location",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "City name"}},
            "required": ["location"],
        },
    },
}]


def get_weather(args: dict[str, Any]) -> dict[str, Any]:
    """Your real implementation would call a weather API."""
    return {"location": args.get("location"), "temperature_c": 31, "sky": "clear"}


def main() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "What's the weather in Austin? Use the get_weather tool."}]
    with SogniClient() as client:
        # 1) by hand: read the calls, run them, send the results back
        first = client.chat.complete(MODEL, messages, tools=TOOLS, tool_choice="auto")
        for call in first.tool_calls:
            print(f"model asked for {call.name}({call.arguments})")
        results = client.chat.tools.execute_all(first.tool_calls,
                                                tool_handlers={"get_weather": get_weather})
        follow_up = [*messages, first.to_message(), *(r.to_message() for r in results)]
        print(client.chat.complete(MODEL, follow_up, tools=TOOLS).content)

        # 2) automatic: the SDK runs the loop (at most max_tool_rounds rounds)
        answer = client.chat.complete(MODEL, messages, tools=TOOLS, auto_execute_tools=True,
                                      tool_handlers={"get_weather": get_weather},
                                      max_tool_rounds=3)
        print(answer.content)
        print(f"{len(answer.tool_history)} tool round(s)")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
