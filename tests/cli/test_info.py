"""``chat``, ``models`` and ``balance`` against the emulator."""

from __future__ import annotations

import io
import json

import pytest

from sogni_sync.cli import main
from sogni_sync.testing import LocalSupernet

LLM = "qwen3.6-35b-a3b-gguf-iq4xs"


def test_chat_streams(net: LocalSupernet, remote: list[str],
                      capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["chat", "hello there", "--system", "be brief", "--max-tokens", "50", *remote])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out == "Echo: hello there\n"
    (request,) = net.received("llmJobRequest")
    assert request["stream"] is True and request["model"] == LLM
    assert request["messages"][0] == {"role": "system", "content": "be brief"}
    assert request["messages"][-1]["content"] == "hello there"
    assert request["max_tokens"] == 50


def test_chat_no_stream(net: LocalSupernet, remote: list[str],
                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "hi", "--no-stream", *remote]) == 0
    assert capsys.readouterr().out == "Echo: hi\n"
    (request,) = net.received("llmJobRequest")
    assert not request.get("stream")


def test_chat_local_reads_stdin(monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("from a pipe"))
    assert main(["chat", "-", "--emulator"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "Echo: from a pipe\n"
    assert captured.err == ""  # no banner unless -v


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_chat_failure(remote: list[str], stream: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "please [[fail]]", stream, *remote]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err


def test_models(remote: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", *remote]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["MODEL", "KIND", "WORKERS", "NAME"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["flux1-schnell-fp8"][1] == "image" and int(rows["flux1-schnell-fp8"][2]) > 0
    assert rows["wan_v2.2-14b-fp8_t2v_lightx2v"][1] == "video"
    assert rows["ace_step_1.5_turbo"][1] == "audio"
    assert rows[LLM][1] == "llm" and int(rows[LLM][2]) > 0
    kinds = [row[1] for row in rows.values()]
    assert kinds == sorted(kinds, key=["image", "video", "audio", "llm"].index)


@pytest.mark.parametrize("kind", ["image", "video", "audio", "llm"])
def test_models_by_kind_as_json(remote: list[str], kind: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--kind", kind, "--json", *remote]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {row["kind"] for row in rows} == {kind}
    assert all(isinstance(row["workers"], int) and row["id"] for row in rows)


def test_balance(net: LocalSupernet, remote: list[str],
                 capsys: pytest.CaptureFixture[str]) -> None:
    net.set_balance("spark", "12.5")
    assert main(["balance", *remote]) == 0
    out = capsys.readouterr().out
    assert "spark: 12.5\n" in out and "sogni: " in out


def test_balance_json(remote: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["balance", "--json", *remote]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"sogni", "spark"} and "net" in data["spark"]


def test_api_error_is_a_clean_failure(net: LocalSupernet,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["balance", "--api-key", "wrong-key", "--rest-endpoint", net.rest_url,
                 "--socket-endpoint", net.socket_url])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err


def test_models_without_a_socket_fail(net: LocalSupernet,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["models", "--api-key", net.api_key, "--rest-endpoint", net.rest_url,
                 "--socket-endpoint", "ws://127.0.0.1:9", "--timeout", "0.3"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "no media or LLM models announced in time" in captured.err
