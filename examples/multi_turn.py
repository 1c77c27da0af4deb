"""A multi-turn conversation: each answer is appended before the next question.

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

import os
from typing import Any

from sogni_sync import SogniClient

MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"
QUESTIONS = [
    "My favourite colour is teal. Remember it.",
    "Suggest a name for a teal sailing boat.",
    "What was my favourite colour?",
]


def main() -> None:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are friendly."}]
    with SogniClient() as client:
        for question in QUESTIONS:
            messages.append({"role": "user", "content": question})
            answer = client.chat.complete(MODEL, messages, max_tokens=200, think=False)
            messages.append(answer.to_message())  # the assistant turn, ready to send back
            print(f"> {question}\n{answer.content}\n")
        print(f"{len(messages)} messages in the conversation")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
