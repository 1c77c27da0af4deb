"""The frame decoder reads a document with the JSON scanner in one call when it can; whatever it
cannot (surrounding whitespace, trailing data, anything malformed) must be accepted or rejected
exactly as ``json.loads`` does, on both envelope paths."""

from __future__ import annotations

import base64
import json

import pytest

from sogni_sync._transport.envelope import FrameError, decode_frame


def _frames(text: str) -> list[str | bytes]:
    data = base64.b64encode(text.encode()).decode()
    compact = json.dumps({"type": "t", "data": data}, separators=(",", ":"))
    return [compact.encode(), compact, json.dumps({"type": "t", "data": data})]


@pytest.mark.parametrize("text", ['{"a":1}', ' {"a":1}', '{"a":1} ', '\n[1, 2]\t', '"x"', "3",
                                  'null', '{"a":"\\u00e9\\n"}', '{"jobID":"ab","x":[{}]}'])
def test_documents_decode_like_json_loads(text: str) -> None:
    expected = json.loads(text)
    if isinstance(expected, dict) and "jobID" in expected:
        expected["jobID"] = expected["jobID"].upper()
    for raw in _frames(text):
        assert decode_frame(raw) == ("t", expected)


@pytest.mark.parametrize("text", ['{"a":1} x', '{"a":1}{}', " ", '{"a":}', "[1,", "nul",
                                  '{"a":1}]'])
def test_malformed_documents_are_frame_errors(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    for raw in _frames(text):
        with pytest.raises(FrameError, match="'t' frame data"):
            decode_frame(raw)
