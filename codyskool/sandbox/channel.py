"""The server's side of the runner's channel: jobs in, frames out (the format: sandbox/runner/wire.py)."""

from __future__ import annotations

import importlib.util
import json
import marshal
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..config import PROJECT_ROOT

WIRE_FILE = PROJECT_ROOT / "sandbox" / "runner" / "wire.py"
WIRE_MODULE = "_codyskool_runner_wire"  # private: not the runner package, which runs in the sandbox


def _load_wire() -> ModuleType:
    """The runner's wire.py, loaded by its path once: the frame format is written there only."""
    if WIRE_MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(WIRE_MODULE, WIRE_FILE)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load the runner's wire format from {WIRE_FILE}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[WIRE_MODULE] = module
    return sys.modules[WIRE_MODULE]


_wire = _load_wire()
FRAME_HEADER = _wire.FRAME_HEADER
JOB_HEADER = _wire.JOB_HEADER
KINDS: dict[bytes, str] = _wire.FRAME_KINDS
MAX_FRAME: int = _wire.MAX_FRAME
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
