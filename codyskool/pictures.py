"""Pictures a program shows (the `display` event): their type told from their bytes, never taken
from the program, and the bound on how much a run may show.

The page shows every picture as an inert image (`<img src="data:…">`), so an SVG's scripts never
run; an SVG is still checked to be one, since the type is the server's word, not the program's.
"""

from __future__ import annotations

import base64
import re

from .sandbox.events import Display

SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
SVG = "image/svg+xml"
# What may come before an SVG's root element: a byte-order mark, an XML declaration, comments, a
# doctype, and white space between them.
# No part can match what another does (a comment cannot hold "-->"): however long the prologue,
# one pass decides, where a lazy ".*?" in the comment would try every way to split the comments.
SVG_PROLOGUE = re.compile(r"\ufeff?(?:\s|<\?xml[^>]*\?>|<!--(?:[^-]|-(?!->))*-->|<!DOCTYPE[^>]*>)*<svg[\s>/]")
UNKNOWN_TYPE = "A picture was not shown: it is not a PNG, JPEG, GIF or SVG image.\n"


def picture_type(data: bytes) -> str | None:
    """The MIME type of a picture from its first bytes; None for anything else."""
    for signature, mime in SIGNATURES:
        if data.startswith(signature):
            return mime
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return SVG if SVG_PROLOGUE.match(text, 0, 1 << 16) else None


def display_payload(run_id: str, picture: Display) -> dict[str, object] | None:
    """The `display` event's payload; None for bytes that are no picture."""
    mime = picture_type(picture.data)
    if mime is None:
        return None
    data = picture.data.decode("utf-8") if mime == SVG else base64.b64encode(picture.data).decode("ascii")
    payload: dict[str, object] = {"run_id": run_id, "mime": mime, "data": data}
    if picture.ident:
        payload["id"] = picture.ident
    if picture.name:
        payload["name"] = picture.name
    return payload


class DisplayBudget:
    """What a run may still show: pictures and turtle drawing count against one limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.room = limit

    def take(self, size: int) -> bool:
        """Count `size` bytes; False (and nothing counted) when they are over what is left."""
        size = max(size, 0)
        if size > self.room:
            self.room = 0
            return False
        self.room -= size
        return True

    def over_message(self) -> str:
        return (f"The program showed more than the picture limit of {self.limit / (1 << 20):g} MiB "
                "and was stopped.\n")
