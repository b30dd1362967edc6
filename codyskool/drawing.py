"""Turtle drawing on its way to the page (the `turtle` event), and the page's clicks and keys on
their way back (the `canvas` event): both checked here, since the commands come from the
program's process and the events from anyone's browser.

A command is a JSON array whose first element names it (docs/graphics.md lists them); what the
sandbox sends that is not one of these, with its fields of the right kinds, is dropped.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .errors import BadRequest
from .programs import require_mapping

MAX_COORDS = 200_000  # numbers in one item's coordinates
MAX_TEXT = 10_000
MAX_KEY = 32
COLOUR = re.compile(r"#[0-9a-f]{6}|[a-z]{3,32}|")
CANVAS_EVENTS = ("click", "release", "drag", "keydown", "keyup")
MAX_CANVAS_EVENTS_PER_S = 100


def number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def ident(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 1 << 62


def colour(value: Any) -> bool:
    return isinstance(value, str) and COLOUR.fullmatch(value) is not None


def coords(value: Any) -> bool:
    return isinstance(value, list) and len(value) <= MAX_COORDS and all(number(item) for item in value)


def text(limit: int) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and len(value) <= limit


def font(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 3 and text(64)(value[0]) and number(value[1])
            and text(32)(value[2]))


def picture_ref(value: Any) -> bool:
    return value is None or ident(value)


def base64_picture(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", value) is not None


# Each command's fields after its name, in order.
COMMANDS: dict[str, tuple[Callable[[Any], bool], ...]] = {
    "title": (text(200),),
    "size": (number, number),
    "view": (number, number),
    "bg": (colour,),
    "clear": (),
    "delete": (ident,),
    "line": (ident, coords, colour, number, number),  # id, [x0, y0, ...], colour, width, z
    "poly": (ident, coords, colour, colour, number, number),  # id, coords, fill, outline, width, z
    "text": (ident, coords, text(MAX_TEXT), lambda v: v in ("sw", "s", "se"), font, colour, number),
    "image": (ident, coords, picture_ref, number),  # id, [x, y], picture, z
    "picture": (ident, lambda v: v in ("image/gif", "image/png"), base64_picture),  # picture, mime, data
    "bgpic": (picture_ref,),
}


def read_commands(payload: bytes) -> list[list[Any]]:
    """The well-formed commands of a turtle frame, in order; the rest are dropped."""
    try:
        batch = json.loads(payload, parse_constant=lambda name: None)  # no NaN or Infinity
    except (ValueError, RecursionError):
        return []
    if not isinstance(batch, list):
        return []
    return [command for command in batch if well_formed(command)]


def well_formed(command: Any) -> bool:
    if not isinstance(command, list) or not command or not isinstance(command[0], str):
        return False
    fields = COMMANDS.get(command[0])
    return (fields is not None and len(command) == len(fields) + 1
            and all(check(value) for check, value in zip(fields, command[1:], strict=True)))


class EventRate:
    """At most `per_second` events in any second (a window that moves with each event)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self.times: deque[float] = deque()

    def allow(self) -> bool:
        now = time.monotonic()
        while self.times and now - self.times[0] >= 1:
            self.times.popleft()
        if len(self.times) >= self.per_second:
            return False
        self.times.append(now)
        return True


def parse_canvas_event(payload: Any) -> dict[str, Any]:
    """A click or key in the page's canvas, as the program's turtle gets it; raises BadRequest."""
    payload = require_mapping(payload, "canvas", "'type'")
    kind = payload.get("type")
    if kind not in CANVAS_EVENTS:
        raise BadRequest(f"'canvas' needs a 'type': one of {', '.join(CANVAS_EVENTS)}")
    if kind.startswith("key"):
        key = payload.get("key")
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
            raise BadRequest("a key event needs 'key' (a key's name, e.g. \"Up\" or \"a\")")
        return {"type": kind, "key": key}
    x, y, button = payload.get("x"), payload.get("y"), payload.get("button", 1)
    if not (number(x) and number(y)) or abs(x) > 1e6 or abs(y) > 1e6:
        raise BadRequest("a mouse event needs 'x' and 'y' (numbers: the canvas's point, from its centre)")
    if button not in (1, 2, 3):
        raise BadRequest("'button' must be 1, 2 or 3")
    return {"type": kind, "x": x, "y": y, "button": button}
