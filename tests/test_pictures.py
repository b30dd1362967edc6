"""Pictures a program shows: their type from their bytes, the `display` event in order with the
text, the display limit, and `displays` in POST /api/run (in process, on the fake backend)."""

from __future__ import annotations

import base64

import pytest
from fakes import PNG
from inprocess import InProcessClient, text_of

from codyskool.pictures import picture_type
from codyskool.sandbox.channel import FRAME_HEADER, ChannelError, EventDecoder
from codyskool.sandbox.events import Display


@pytest.mark.parametrize(("data", "mime"), [
    (PNG, "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"GIF89a\x01\x00", "image/gif"),
    (b"GIF87a\x01\x00", "image/gif"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- x -->\n<!DOCTYPE svg>\n<svg width="1">', "image/svg+xml"),
    (b"<svg><script>alert(1)</script></svg>", "image/svg+xml"),  # shown as an <img>: inert
    (b"<html><svg></svg></html>", None),
    (b"<svgfoo>", None),
    (b"\x89PNX", None),
    (b"\xff\xfe<\x00s\x00v\x00g\x00", None),  # not UTF-8
    (b"", None),
])  # fmt: skip
def test_the_type_comes_from_the_bytes(data: bytes, mime: str | None) -> None:
    assert picture_type(data) == mime


def test_a_display_frame_is_its_json_line_then_its_bytes() -> None:
    def frame(payload: bytes) -> bytes:
        return FRAME_HEADER.pack(b"i", len(payload)) + payload

    events = EventDecoder().feed(frame(b'{"id": "figure-1"}\n' + PNG) + frame(b'{"size": 99999999}\n'))
    assert events == [Display(PNG, len(PNG), ident="figure-1"), Display(b"", 99999999)]
    with pytest.raises(ChannelError):
        EventDecoder().feed(frame(b"no line"))


def test_pictures_arrive_in_order_with_the_text(sio: InProcessClient) -> None:
    exit_payload, events = sio.run_to_exit("plot")
    order = [(name, payload.get("data") if name == "output" else payload.get("id"))
             for name, payload in events if name == "display" or payload.get("stream") == "stdout"]
    assert order == [("output", "before\n"), ("display", "figure-1"), ("output", "between\n"),
                     ("display", "figure-1"), ("display", None), ("output", "after\n")]
    shown = [payload for name, payload in events if name == "display"]
    assert shown[0] == {"run_id": shown[0]["run_id"], "mime": "image/png", "id": "figure-1",
                        "data": base64.b64encode(PNG).decode()}
    assert shown[2]["mime"] == "image/svg+xml" and shown[2]["data"].startswith("<svg>")
    assert shown[2]["name"] == "b.svg"
    assert "A picture was not shown: it is not a PNG, JPEG, GIF or SVG image." in text_of(events, "stderr")
    assert exit_payload["reason"] == "exited"


def test_the_display_limit_stops_the_run(sio: InProcessClient) -> None:
    exit_payload, events = sio.run_to_exit("picture_flood")
    assert exit_payload["reason"] == "display_limit"
    assert len([name for name, _ in events if name == "display"]) == 2  # 2 x 3 MiB of 8
    assert "more than the picture limit of 8 MiB" in text_of(events, "stderr")


def test_the_api_answers_with_the_pictures_a_later_frame_in_place(app) -> None:
    body = app.test_client().post("/api/run", json={"language": "python", "code": "plot"}).get_json()
    assert [(shown["mime"], shown.get("id"), shown.get("name")) for shown in body["displays"]] == [
        ("image/png", "figure-1", None), ("image/svg+xml", None, "b.svg")]
    assert base64.b64decode(body["displays"][0]["data"]) == PNG + b"2", "the figure's last frame"
    assert body["stdout"] == "before\nbetween\nafter\n"


def test_a_long_prologue_is_decided_in_one_pass() -> None:
    """Thousands of comments before no <svg>: a pattern that could split them many ways would
    not end (7 characters each, 2 ** 4999 ways to split 5,000 of them)."""
    comments = b"<!---->" * 5000
    assert picture_type(comments + b"<html>") is None
    assert picture_type(comments + b"<svg/>") == "image/svg+xml"
    assert picture_type(b"<!-- a -- b -->" * 3000 + b"<svg>") == "image/svg+xml"


def test_a_size_is_only_for_bytes_left_out() -> None:
    def frame(payload: bytes) -> bytes:
        return FRAME_HEADER.pack(b"i", len(payload)) + payload

    events = EventDecoder().feed(frame(b'{"size": -1000000000}\n') + frame(b'{"size": 5}\n' + PNG))
    assert events == [Display(b"", 0), Display(PNG, len(PNG))]
