"""Turtle drawing and canvas events in the server (codyskool/drawing.py and the run), in process
on the fake backend: what passes to the page and to the program, and what is refused."""

from __future__ import annotations

import json

import pytest
from fakes import SQUARE, FakeBackend
from inprocess import InProcessClient, text_of

from codyskool.drawing import EventRate, parse_canvas_event, read_commands
from codyskool.errors import BadRequest

GOOD = [
    ["title", "Python Turtle Graphics"], ["size", 640, 600], ["bg", "white"], ["clear"],
    ["line", 4, [0, 0, 100.5, -3], "#00ff00", 2, 7],
    ["poly", 3, [0, 0, 1, 1, 2, 0], "red", "", 1, 8],
    ["text", 9, [10, -20], "hi", "sw", ["Arial", 12.0, "bold"], "black", 9],
    ["picture", 1, "image/gif", "R0lGODlhAQABAAAAACw="], ["image", 10, [0, 0], 1, 11], ["bgpic", None],
    ["delete", 4],
]  # fmt: skip


def test_well_formed_commands_pass_in_order() -> None:
    assert read_commands(json.dumps(GOOD).encode()) == GOOD


@pytest.mark.parametrize("command", [
    ["script", "alert(1)"],
    ["line", 4, [0, 0, "1"], "red", 1, 1],
    ["line", 4, [0, 0, 1, 1], "url(javascript:alert(1))", 1, 1],
    ["line", 4, [0, 0, 1, 1], "red", 1],
    ["poly", True, [0, 0], "red", "", 1, 1],
    ["text", 1, [0, 0], "x", "nw", ["Arial", 8, "normal"], "black", 1],
    ["picture", 1, "image/svg+xml", "PHN2Zz4="],
    ["picture", 1, "image/png", "<img onerror=alert(1)>"],
    "line",
    [],
])  # fmt: skip
def test_anything_else_is_dropped(command: object) -> None:
    assert read_commands(json.dumps([command, ["clear"]]).encode()) == [["clear"]]


def test_not_a_number_and_not_json_are_dropped() -> None:
    assert read_commands(b'[["size", NaN, 1], ["size", Infinity, 1], ["clear"]]') == [["clear"]]
    assert read_commands(b"{not json") == []
    assert read_commands(b'{"a": 1}') == []


def test_canvas_events_are_checked() -> None:
    click = {"type": "click", "x": 1.5, "y": -2}
    assert parse_canvas_event(click) == {**click, "button": 1}
    assert parse_canvas_event({"type": "keyup", "key": "Up", "x": 9}) == {"type": "keyup", "key": "Up"}
    for payload, message in [
        ({"type": "hover"}, "needs a 'type'"),
        ({"type": "keydown"}, "needs 'key'"),
        ({"type": "keydown", "key": "x" * 40}, "needs 'key'"),
        ({"type": "click", "x": "1", "y": 2}, "needs 'x' and 'y'"),
        ({"type": "drag", "x": 1, "y": 2, "button": 7}, "'button' must be"),
        ([1], "'canvas' expects a JSON object with 'type'"),
    ]:
        with pytest.raises(BadRequest, match=message):
            parse_canvas_event(payload)


def test_the_event_rate_is_per_second() -> None:
    rate = EventRate(3)
    assert [rate.allow() for _ in range(4)] == [True, True, True, False]
    rate.times[0] -= 1.1
    assert rate.allow()


def test_drawing_reaches_the_page_and_clicks_and_keys_the_program(sio: InProcessClient,
                                                                  backend: FakeBackend) -> None:
    run_id = sio.start("turtle_game")
    turtle, _ = sio.wait_for("turtle", run_id)
    assert turtle == {"run_id": run_id, "commands": SQUARE}
    sio.call("canvas", {"type": "click", "x": 5, "y": 6})
    sio.call("canvas", {"type": "keydown", "key": "space"})
    exit_payload, events = sio.wait_for("exit", run_id)
    assert text_of(events) == "clicked 5 6\nkey space\n"
    assert "prompt" not in [name for name, _ in events], "a turtle's wait shows no prompt"
    assert exit_payload["reason"] == "exited"
    assert backend.executions[0].job.canvas_events is True


def test_canvas_events_are_refused_without_a_run_and_beyond_the_rate(sio: InProcessClient) -> None:
    refusal = sio.call("canvas", {"type": "click", "x": 0, "y": 0})
    assert refusal == {"ok": False, "error": "no program is running"}
    run_id = sio.start("forever")  # it reads no events: they are all taken, up to the rate
    sio.wait_for("status", run_id)
    answers = [sio.call("canvas", {"type": "keyup", "key": "a"}) for _ in range(120)]
    refused = [answer for answer in answers if answer]
    assert refused and refused[0]["error"] == "more than 100 canvas events a second", refused[:1]
    assert sio.call("canvas", {"type": "tap"})["error"].startswith("'canvas' needs a 'type'")


def test_the_api_runs_turtle_without_canvas_events(app, backend: FakeBackend) -> None:
    app.test_client().post("/api/run", json={"language": "python", "code": "print(1)"})
    assert backend.executions[0].job.canvas_events is False
