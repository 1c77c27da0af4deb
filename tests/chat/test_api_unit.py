"""ChatApi against a scripted in-memory transport: lifecycle edges the emulator can't force."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from sogni_sync.chat import ChatApi
from sogni_sync.errors import ConnectionLostError, RequestLostError

from .conftest import LLM


class FakeTransport:
    def __init__(self, models: Any = None) -> None:
        self.lock = threading.RLock()
        self.closing = threading.Event()
        self.options = type("Options", (), {"app_source": None})()
        self.handlers: dict[str, list[Callable[[Any], None]]] = {}
        self.conn: list[Callable[[str, Any], None]] = []
        self.sent: list[tuple[str, Any]] = []
        self.on_send: Callable[[Any], object] = lambda body: None
        self._models = models

    def subscribe(self, event: str, handler: Callable[[Any], None], *,
                  replay_last: bool = False) -> None:
        self.handlers.setdefault(event, []).append(handler)
        last = self.last_payload(event)
        if replay_last and last is not None:  # like the real transport's sticky replay
            handler(last)

    def on_connection(self, handler: Callable[[str, Any], None]) -> None:
        self.conn.append(handler)

    def track(self, msg_type: str, **how: Any) -> None:
        self.tracked = (msg_type, how)

    def awaiting(self, request_id: str) -> bool:
        return False

    def in_doubt(self, request_id: str) -> bool:
        return False

    def defer_wake(self, wake: Callable[[], None]) -> None:
        wake()  # no socket bursts here: wake at once (the lock is held, as in the transport)

    def dispatch(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)

    def last_payload(self, event: str) -> Any:
        return self._models if event == "swarmLLMModels" else None

    def send(self, msg_type: str, data: Any, *, request_id: str | None = None,
             timeout: float | None = None) -> None:
        self.sent.append((msg_type, data))
        threading.Thread(target=self.on_send, args=(data,)).start()

    def emit(self, event: str, payload: Any) -> None:
        for handler in self.handlers.get(event, []):
            handler(payload)


def test_late_construction_replays_the_model_map() -> None:
    api = ChatApi(FakeTransport({LLM: 3, "other": {"workers": 1}}))
    assert api.models[LLM].workers == 3 and api.models["other"].workers == 1
    assert api.wait_for_models(timeout=0) == api.models


def test_result_wakes_the_caller() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)

    def answer(body: Any) -> None:
        job = body["jobID"]
        transport.emit("jobState", {"jobID": job, "type": "jobStarted", "workerName": "w"})
        transport.emit("jobTokens", {"jobID": job, "role": "assistant", "content": "Hi"})
        transport.emit("llmJobResult", {"jobID": job, "usage": {"prompt_tokens": 1,
                                                                "completion_tokens": 1},
                                        "timeTaken": 0.1})
        transport.emit("jobTokens", {"jobID": job, "content": "late"})  # ignored

    transport.on_send = answer
    result = api.complete(LLM, [{"role": "user", "content": "x"}], timeout=5)
    assert (result.content, result.worker_name, result.usage.total_tokens) == ("Hi", "w", 2)
    assert api._jobs == {}


def test_lost_request_and_terminal_disconnect_fail_the_caller() -> None:
    transport = FakeTransport()
    api = ChatApi(transport)
    lost = RequestLostError("llmJobRequest may not have reached the Supernet")
    transport.on_send = lambda body: [h("request_lost", {"request_id": body["jobID"],
                                                         "error": lost}) for h in transport.conn]
    with pytest.raises(RequestLostError):
        api.complete(LLM, [{"role": "user", "content": "x"}], timeout=5)
    transport.on_send = lambda body: [h("disconnected", {"code": 4000, "reason": "gone",
                                                         "terminal": True})
                                      for h in transport.conn]
    stream = api.stream(LLM, [{"role": "user", "content": "x"}], timeout=5)
    with pytest.raises(ConnectionLostError, match="gone"):
        list(stream)


def test_a_reply_that_finished_during_a_drop_fails_at_the_reconnect() -> None:
    """The new session lists the chat jobs the server still runs; one it had (no longer in
    the outbox) but does not list finished while we were away: fail it, do not hang."""
    transport = FakeTransport()
    api = ChatApi(transport)
    sent: list[str] = []
    transport.on_send = lambda body: sent.append(body["jobID"])
    outcomes: list[Any] = []

    def ask() -> None:
        try:
            outcomes.append(api.complete(LLM, [{"role": "user", "content": "x"}], timeout=5))
        except Exception as exc:
            outcomes.append(exc)

    callers = [threading.Thread(target=ask) for _ in range(2)]
    for t in callers:
        t.start()
    deadline = time.monotonic() + 5
    while len(api._written) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    running, finished = sorted(api._written)
    for handler in transport.conn:
        handler("authenticated", {"activeLLMJobIDs": [running.lower()]})
    transport.emit("llmJobResult", {"jobID": running, "usage": {}, "timeTaken": 0.1})
    for t in callers:
        t.join(5)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) == 2 and len(errors) == 1
    assert isinstance(errors[0], ConnectionLostError)
    assert f"chat job {finished} was lost in a disconnect" in str(errors[0])
