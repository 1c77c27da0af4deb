"""Stream an answer token by token; the stream is an iterator and a context manager.

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

import os

from sogni_sync import SogniClient

MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"


def main() -> None:
    with SogniClient() as client, client.chat.stream(
        MODEL,
        [{"role": "user", "content": "Write a haiku about GPUs sharing work."}],
        max_tokens=200,
        think=False,
    ) as stream:
        for chunk in stream:
            print(chunk.content, end="", flush=True)
        print()
        final = stream.final  # the assembled ChatCompletion (None if the stream was left early)
        if final is not None:
            print(f"[{final.usage.completion_tokens} tokens, finish: {final.finish_reason}]")


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
