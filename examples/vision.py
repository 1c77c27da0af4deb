"""Ask about an image: inline PNG/JPEG parts are validated locally (type, size, 1024 px).

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

import sys

from _demo import demo_client, sample_image

from sogni_sync.chat import image_part_from_bytes, image_part_from_path, text_part

MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"


def main() -> None:
    # pass a PNG/JPEG path on the command line, or use a generated sample
    picture = image_part_from_path(sys.argv[1]) if len(sys.argv) > 1 else \
        image_part_from_bytes(sample_image(), detail="low")
    with demo_client() as client:
        answer = client.chat.complete(
            MODEL,
            [{"role": "user", "content": [text_part("Describe this picture."), picture]}],
            max_tokens=300,
        )
        print(answer.content)


if __name__ == "__main__":
    main()
