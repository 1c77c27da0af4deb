"""Smoke tests against the real Sogni Supernet.

Skipped unless ``SOGNI_API_KEY`` is set; endpoints default to https://api.sogni.ai and
wss://socket.sogni.ai (override with SOGNI_REST_ENDPOINT / SOGNI_SOCKET_ENDPOINT). They spend a
few Spark tokens. Run them with ``pytest -m live tests/live``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from sogni_sync import SogniClient

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("SOGNI_API_KEY"), reason="SOGNI_API_KEY is not set"),
]

IMAGE_MODEL = os.environ.get("SOGNI_LIVE_IMAGE_MODEL", "flux1-schnell-fp8")
LLM_MODEL = os.environ.get("SOGNI_LIVE_LLM_MODEL", "qwen3.6-35b-a3b-gguf-iq4xs")


@pytest.fixture(scope="module")
def client() -> Iterator[SogniClient]:
    with SogniClient(app_id=f"sogni-sync-live-{uuid.uuid4()}") as sogni:
        sogni.connect(timeout=30)
        yield sogni


def test_balance(client: SogniClient) -> None:
    balance = client.account.refresh_balance()
    assert balance.spark is not None


def test_models_and_estimate(client: SogniClient) -> None:
    models = client.catalog.wait_for_models(timeout=30)
    assert models
    estimate = client.projects.estimate_cost(
        type="image", model_id=IMAGE_MODEL, positive_prompt="a small red apple on a table",
        number_of_media=1, steps=4, guidance=1, width=512, height=512, token_type="spark",
    )
    assert estimate.token is not None and estimate.token > 0


def test_image(client: SogniClient, tmp_path: os.PathLike[str]) -> None:
    project = client.projects.create(
        type="image", model_id=IMAGE_MODEL, positive_prompt="a small red apple on a table",
        number_of_media=1, steps=4, guidance=1, token_type="spark", output_format="jpg",
    )
    urls = project.wait(timeout=300)
    assert len(urls) == 1
    path = project.jobs[0].download(tmp_path)
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"


def test_chat(client: SogniClient) -> None:
    client.chat.wait_for_models(timeout=30)
    answer = client.chat.complete(
        model=LLM_MODEL, messages=[{"role": "user", "content": "Say hello in five words."}],
        max_tokens=64, think=False,
    )
    assert answer.content.strip()
    assert answer.usage.completion_tokens > 0
