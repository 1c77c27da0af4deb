"""Ask about an image: inline PNG/JPEG parts are validated locally (type, size, 1024 px).

Runs against the real Sogni Supernet when SOGNI_API_KEY is set, else against a local emulator.
"""

from __future__ import annotations

import os
import pathlib
import sys

from sogni_sync import SogniClient
from sogni_sync.chat import image_part_from_path, text_part

MEDIA = pathlib.Path(__file__).parent / "media"  # sample inputs
MODEL = "qwen3.6-35b-a3b-gguf-iq4xs"


def main() -> None:
    # pass a PNG/JPEG path on the command line, or use the sample
    picture = image_part_from_path(sys.argv[1] if len(sys.argv) > 1 else MEDIA / "sample.png",
                                   detail="low")
    with SogniClient() as client:
        answer = client.chat.complete(
            MODEL,
            [{"role": "user", "content": [text_part("Describe this picture."), picture]}],
            max_tokens=300,
        )
        print(answer.content)


if __name__ == "__main__":
    if os.environ.get("SOGNI_API_KEY"):
        main()
    else:  # no key: a throw-away emulated Supernet on 127.0.0.1; SogniClient() reads its SOGNI_*
        from sogni_sync.testing import LocalSupernet

        print("SOGNI_API_KEY is not set: using a local emulated Supernet")
        with LocalSupernet(media_max_side=512) as net, net.patched_env():
            main()
