from __future__ import annotations

import base64
import json

import pytest

from sogni_sync._transport.envelope import FrameError, decode_frame, encode_frame


def _data(frame: str) -> str:
    return str(json.loads(frame)["data"])


def test_vectors_from_the_protocol() -> None:
    assert _data(encode_frame("changeNetwork", "fast")) == "ImZhc3Qi"
    cancel = {
        "jobID": "ABC",
        "error": "artistCanceled",
        "error_message": "artistCanceled",
        "isFromWorker": False,
    }
    assert _data(encode_frame("jobError", cancel)) == (
        "eyJqb2JJRCI6IkFCQyIsImVycm9yIjoiYXJ0aXN0Q2FuY2VsZWQiLCJlcnJvcl9tZXNzYWdlIjoiYXJ0aXN0"
        "Q2FuY2VsZWQiLCJpc0Zyb21Xb3JrZXIiOmZhbHNlfQ=="
    )


def test_frame_is_compact_and_keeps_explicit_nulls() -> None:
    # Payload builders decide which keys are absent (the reference sends explicit nulls in
    # places), so the frame keeps every null it is given.
    frame = encode_frame("x", {"a": 1, "b": None, "c": {"d": None, "e": "é"}, "l": [None, 1]})
    assert frame == '{"type":"x","data":"' + _data(frame) + '"}'
    payload = base64.b64decode(_data(frame)).decode()
    assert payload == '{"a":1,"b":null,"c":{"d":null,"e":"é"},"l":[null,1]}'


@pytest.mark.parametrize("binary", [False, True])
def test_decode_upper_cases_top_level_ids(binary: bool) -> None:
    data = "eyJqb2JJRCI6IjZmMWMyYjdlLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMSIsImltZ0lEIjoiYTFiMiIsInN0ZXAiOjMsInN0ZXBDb3VudCI6MjB9"  # noqa: E501
    text = json.dumps({"type": "jobProgress", "data": data})
    raw: str | bytes = text.encode() if binary else text
    msg_type, payload = decode_frame(raw)
    assert msg_type == "jobProgress"
    assert payload == {
        "jobID": "6F1C2B7E-0000-4000-8000-000000000001",
        "imgID": "A1B2",
        "step": 3,
        "stepCount": 20,
    }


@pytest.mark.parametrize(
    "raw",
    ["not json", "[1]", '{"type":"x"}', '{"type":"x","data":""}', '{"type":"x","data":"@@@"}'],
)
def test_malformed_frames_raise_frame_error(raw: str) -> None:
    with pytest.raises(FrameError):
        decode_frame(raw)


def test_nested_ids_untouched() -> None:
    inner = base64.b64encode(b'{"x":{"jobID":"abc"},"jobID":"def"}').decode()
    _, payload = decode_frame(json.dumps({"type": "t", "data": inner}))
    assert payload == {"x": {"jobID": "abc"}, "jobID": "DEF"}


def test_absurd_nesting_is_a_frame_error_not_a_recursion_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    framed = json.dumps({"type": "x", "data": base64.b64encode(deep.encode()).decode()})
    for raw in (framed, framed.encode(), deep):  # fast path, general path, bare
        with pytest.raises(FrameError, match="nested too deeply"):
            decode_frame(raw)


def test_nesting_limit_is_exact_and_ignores_brackets_in_strings() -> None:
    from sogni_sync._transport.envelope import MAX_DEPTH, too_deep

    assert not too_deep("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert too_deep("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert too_deep('{"a":' * 300 + "1" + "}" * 300)
    wide = json.dumps([{"a": [1, {"b": "[[[[{{{{"}]} for _ in range(2000)])
    assert not too_deep(wide)  # many brackets, shallow: fine
    assert decode_frame(encode_frame("x", json.loads(wide)))[1] == json.loads(wide)


def test_a_deeply_nested_frame_is_dropped_and_the_socket_keeps_working(
        caplog: pytest.LogCaptureFixture) -> None:
    from sogni_sync._config import resolve_options
    from sogni_sync._transport import Transport

    transport = Transport(resolve_options(app_id="nesting", disable_socket=True))
    seen: list[object] = []
    transport.subscribe("toast", seen.append)
    deep = ("{\"a\":" * 50_000) + "1" + "}" * 50_000
    bad = json.dumps({"type": "toast", "data": base64.b64encode(deep.encode()).decode()})
    try:
        transport.on_frames(0, [bad.encode(), encode_frame("toast", {"ok": 1}).encode()])
    finally:
        transport.close()
    assert seen == [{"ok": 1}]
    assert "nested too deeply" in caplog.text
