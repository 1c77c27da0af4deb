"""Stream an answer token by token; the stream is an iterator and a context manager.

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

from _demo import demo_client

MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"


def main() -> None:
    with demo_client() as client, client.chat.stream(
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
    main()
