"""The official JS 5.54 and Python 5.70 clients recover a chat stream across a TCP drop against
the emulator, as against the Supernet: the job is listed in the next ``authenticated`` and its
later tokens follow on the new connection (both clients keep such a stream open; they re-send
nothing and ask for nothing). A job the server forgot meanwhile fails as ``transport_lost``.
Skipped when node or the installed clients are missing."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests.conformance.capture import CaptureError
from tests.conformance.recover import drive
from tests.recorded import generated_reply

LLM = "qwen3.6-35b-a3b-gguf-iq4xs"
PROMPT = "recover " + "x" * 120


def _drive(client: str, net: Any, app_id: str, *, forget: bool) -> dict[str, Any]:
    if client == "js" and shutil.which("node") is None:
        pytest.skip("node not available")

    def drop() -> None:
        if forget:  # a socket restart: the running job is gone with it
            net.call(lambda state: state.extras["llm"].forget(app_id))
        net.disconnect(code=0, app_id=app_id)  # TCP drop, no close frame

    net.options.token_delay = 0.02
    try:
        return drive(client, net, app_id=app_id, model=LLM, prompt=PROMPT, drop=drop)
    except CaptureError as exc:
        pytest.skip(f"official {client} client not available: {exc}")
    finally:
        net.options.token_delay = 0.0


@pytest.mark.slow
@pytest.mark.parametrize("client", ["js", "py"])
def test_official_client_keeps_a_listed_stream_across_a_drop(client: str, net: Any) -> None:
    app_id = f"recover-{client}"
    report = _drive(client, net, app_id, forget=False)
    assert "error" not in report, report
    assert report["content"] == generated_reply(net, report["jobID"]) == f"Echo: {PROMPT}"
    sessions = [p for p in net.sent("authenticated")
                if report["jobID"] in (p.get("activeLLMJobIDs") or ())]
    assert sessions, "the reconnect did not list the job"


@pytest.mark.slow
@pytest.mark.parametrize("client", ["js", "py"])
def test_official_client_fails_a_forgotten_stream_as_transport_lost(client: str,
                                                                     net: Any) -> None:
    report = _drive(client, net, f"forget-{client}", forget=True)
    assert report.get("errorType") == "transport_lost", report
