"""Import a web example with no ``SOGNI_*`` variables and call it through its framework's test
client: ``python tests/web/fallback_probe.py flask|django`` prints one JSON line of answers.

Run by ``test_fallback.py`` in a fresh process, so the example's process-wide client (built at
import) and its in-process emulator live and die with this process.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
from typing import Any

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent.parent / "examples"
CHAT = {"messages": [{"role": "user", "content": "fallback probe"}]}


def flask_answers() -> dict[str, Any]:
    import flask_app

    http = flask_app.app.test_client()
    stream = http.post("/chat/stream", json=CHAT)
    return {"chat": http.post("/chat", json=CHAT).get_json(),
            "image": http.post("/image", json={"prompt": "a probe"}).get_json(),
            "stream": stream.get_data(as_text=True), "stream_type": stream.mimetype,
            "bad": http.post("/chat", json={"messages": []}).status_code}


def django_answers() -> dict[str, Any]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_app.settings"
    import django

    django.setup()
    from django.test import Client
    from django_app import views

    http = Client(HTTP_HOST="localhost")
    post: Any = http.post
    stream = post("/chat/stream", CHAT, content_type="application/json")
    return {"chat": post("/chat", CHAT, content_type="application/json").json(),
            "image": post("/image", {"prompt": "a probe"}, content_type="application/json").json(),
            "stream": b"".join(stream.streaming_content).decode(),
            "stream_type": stream["Content-Type"],
            "bad": post("/chat", {"messages": []}, content_type="application/json").status_code,
            "app_id": views.client.app_id}


def main() -> None:
    sys.path.insert(0, str(EXAMPLES))
    answers = {"flask": flask_answers, "django": django_answers}[sys.argv[1]]()
    print(json.dumps(answers), flush=True)


if __name__ == "__main__":
    main()
