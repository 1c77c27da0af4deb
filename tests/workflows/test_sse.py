"""SSE framing of the creative-workflow event stream (chat.md §9.4)."""

from __future__ import annotations

from sogni_sync.creative_workflows import SseFrame, SseParser, is_terminal, parse_sse_chunk


def test_reference_rules() -> None:
    text = (": ping\n\n"
            "id: 1\nevent: step\ndata: {\"a\":1}\n\n"
            "id: 2\r\nevent:\r\ndata: line one\r\ndata:  line two\r\n\r\n"
            "data\n\n"
            "retry: 5\nid: 3\ndata: {\"status\":\"completed\"}\n\n")
    frames = parse_sse_chunk(text)
    assert frames[0] == SseFrame(event="message", data=None, id=None, raw=": ping")
    assert frames[1].id == "1" and frames[1].event == "step" and frames[1].data == {"a": 1}
    assert frames[2].event == "message" and frames[2].data == "line one\n line two"
    assert frames[3].data is None  # a data line with an empty value
    assert is_terminal(frames[4]) and not is_terminal(frames[1])


def test_incremental_parser_keeps_the_tail() -> None:
    parser = SseParser()
    assert parser.feed("id: 1\ndata: {\"x\"") == []
    assert parser.feed(":2}\n") == []
    frames = parser.feed("\nid: 2\n")
    assert [f.data for f in frames] == [{"x": 2}]
    assert [f.id for f in parser.flush()] == ["2"]
    lines = SseParser()
    out = []
    for line in ["id: 7", "data: {\"status\":\"failed\"}", "", "id: 8"]:
        out += lines.feed_line(line)
    assert [f.id for f in out] == ["7"] and is_terminal(out[0])
