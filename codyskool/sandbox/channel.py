"""The server's side of the runner's channel: jobs in, frames out (see sandbox/runner.py)."""

from __future__ import annotations

import json
import marshal
import struct
from dataclasses import dataclass
from typing import Any

FRAME_HEADER = struct.Struct(">cI")  # the same layout as FRAME_HEADER in sandbox/runner.py
JOB_HEADER = struct.Struct(">I")
KINDS = {b"r": "ready", b"o": "stdout", b"e": "stderr", b"p": "prompt", b"s": "status", b"x": "exit"}
MAX_FRAME = 1 << 24
READY_FRAME = FRAME_HEADER.pack(b"r", 0)  # the runner's first words: it waits for its job


class ChannelError(ValueError):
    """The runner sent something that is not a frame (it crashed or was tampered with)."""


@dataclass(frozen=True)
class Frame:
    kind: str
    data: bytes

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.data)
        except ValueError:
            raise ChannelError(f"bad {self.kind} frame") from None
        if not isinstance(value, dict):
            raise ChannelError(f"bad {self.kind} frame")
        return value


def encode_job(job: dict[str, Any]) -> bytes:
    """The job for the runner, in marshal's format 4 (the same in every Python 3 since 3.4)."""
    body = marshal.dumps(job, 4)
    return JOB_HEADER.pack(len(body)) + body


class FrameDecoder:
    """Turns a byte stream into frames, however the stream was cut."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames = []
        while len(self.buffer) >= FRAME_HEADER.size:
            kind, length = FRAME_HEADER.unpack_from(self.buffer)
            if kind not in KINDS or length > MAX_FRAME:
                raise ChannelError("the runner's output is not framed")
            end = FRAME_HEADER.size + length
            if len(self.buffer) < end:
                break
            frames.append(Frame(KINDS[kind], bytes(self.buffer[FRAME_HEADER.size : end])))
            del self.buffer[:end]
        return frames
