"""One chat completion: quote it, send it, print the answer, usage and cost.

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

import os

from sogni_sync import SogniClient

MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"


def main() -> None:
    messages = [
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "user", "content": "Explain what a decentralised GPU network is."},
    ]
    with SogniClient() as client:
        quote = client.chat.estimate_cost(MODEL, messages, max_tokens=256)
        print(f"estimate: {quote.input_tokens} input tokens, ~{quote.cost_in_usd} USD")
        # think=False + task_profile="general" selects the server's non-thinking preset
        answer = client.chat.complete(MODEL, messages, max_tokens=256, think=False,
                                      task_profile="general", timeout=120)
        print(answer.content)
        print(f"[{answer.usage.prompt_tokens} in / {answer.usage.completion_tokens} out, "
              f"{answer.time_taken}s on {answer.worker_name}, "
              f"cost {answer.cost.cost_in_token if answer.cost else '?'} tokens]")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
