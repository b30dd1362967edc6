"""The server's side of the runner's channel: jobs in, typed events out.

The frame format (header, kinds, job header) is defined once, in sandbox/runner/wire.py, which
runs inside the sandbox too; this module loads that same file and decodes each kind of frame into
one of the events in ``events.py``.
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ..config import PROJECT_ROOT
from ..drawing import read_commands
from ..errors import SandboxFailed
from ..protocol import Phase, Stream
from .events import Display, Drawing, ExitReport, Output, PhaseChanged, Prompt, Resumed, SandboxEvent

WIRE_FILE = PROJECT_ROOT / "sandbox" / "runner" / "wire.py"


def load_wire() -> ModuleType:
    """The runner's own wire module (stdlib only, no side effects), loaded once by path."""
    name = "_codyskool_runner_wire"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, WIRE_FILE)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {WIRE_FILE}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


wire = load_wire()
FRAME_HEADER = wire.FRAME_HEADER
JOB_HEADER = wire.JOB_HEADER
KINDS: dict[bytes, str] = wire.FRAME_KINDS
MAX_FRAME: int = wire.MAX_FRAME
READY_FRAME = FRAME_HEADER.pack(b"r", 0)  # the runner's first words: it waits for its job
INPUT_KIND: dict[str, bytes] = wire.INPUT_KIND
INPUT_CHUNK = 1 << 16  # stdin goes to the runner in frames of at most this much


class ChannelError(SandboxFailed):
    """The runner sent something that is not a frame (it crashed or was tampered with)."""

    user_message = "The sandbox stopped unexpectedly."


def encode_job(job: dict[str, Any]) -> bytes:
    """The job for the runner, in marshal's format 4 (the same in every Python 3 since 3.4)."""
    body = marshal.dumps(job, 4)
    return JOB_HEADER.pack(len(body)) + body


def input_frame(name: str, payload: bytes = b"") -> bytes:
    """A frame for the runner's stdin, after the job: "stdin", "eof" or "event" (wire.INPUT_KINDS)."""
    return FRAME_HEADER.pack(INPUT_KIND[name], len(payload)) + payload


class FrameDecoder:
    """Turns a byte stream into (kind, payload) frames, however the stream was cut."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        self.buffer += data
        frames = []
        while len(self.buffer) >= FRAME_HEADER.size:
            kind, length = FRAME_HEADER.unpack_from(self.buffer)
            if kind not in KINDS or length > MAX_FRAME:
                raise ChannelError("the runner's output is not framed")
            end = FRAME_HEADER.size + length
            if len(self.buffer) < end:
                break
            frames.append((KINDS[kind], bytes(self.buffer[FRAME_HEADER.size : end])))
            del self.buffer[:end]
        return frames


def json_object(kind: str, payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):  # the runner writes flat JSON: anything else is forged
        raise ChannelError(f"bad {kind} frame") from None
    if not isinstance(value, dict):
        raise ChannelError(f"bad {kind} frame")
    return value


def optional(value: Any, kind: type | tuple[type, ...]) -> Any:
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def decode_status(payload: bytes) -> SandboxEvent | None:
    phase = json_object("status", payload).get("phase")
    if phase in (Phase.COMPILING, Phase.RUNNING):
        return PhaseChanged(Phase(phase))
    return None


def decode_exit(payload: bytes) -> ExitReport:
    report = json_object("exit", payload)
    return ExitReport(
        phase="compile" if report.get("phase") == "compile" else "run",
        code=optional(report.get("code"), int),
        signal=optional(report.get("signal"), str),
        cpu_ms=optional(report.get("cpu_ms"), int),
        time_ms=optional(report.get("time_ms"), (int, float)),
        memory_kb=optional(report.get("memory_kb"), int),
        memory_exceeded=report.get("memory") is True,
    )


def decode_prompt(report: dict[str, Any]) -> Prompt:
    return Prompt(str(report.get("text", "")), canvas=report.get("canvas") is True)


def decode_display(payload: bytes) -> Display:
    """A JSON line of what the picture is, then its bytes (wire.py's display frame)."""
    line, newline, data = payload.partition(b"\n")
    if not newline:
        raise ChannelError("bad display frame")
    meta = json_object("display", line)
    size = optional(meta.get("size"), int)
    if data or size is None or size < 0:  # "size" stands only for bytes left out: runner's word
        size = len(data)
    return Display(data=data, size=size, ident=label(meta.get("id")), name=label(meta.get("name")))


def label(value: Any) -> str | None:
    """A picture's id or file name: the program's own words, so only a short string is kept."""
    return value[:200] if isinstance(value, str) and value else None


DECODERS: dict[str, Callable[[bytes], SandboxEvent | None]] = {
    "ready": lambda _: None,  # the backend reads it before the job; any later one means nothing
    "stdout": lambda payload: Output(Stream.STDOUT, payload),
    "stderr": lambda payload: Output(Stream.STDERR, payload),
    "prompt": lambda payload: decode_prompt(json_object("prompt", payload)),
    "resumed": lambda _: Resumed(),
    "status": decode_status,
    "exit": decode_exit,
    "display": decode_display,
    "turtle": lambda payload: Drawing(read_commands(payload), len(payload)),
}


class EventDecoder:
    """The runner's byte stream in, typed events out."""

    def __init__(self) -> None:
        self.frames = FrameDecoder()

    def feed(self, data: bytes) -> list[SandboxEvent]:
        events = []
        for kind, payload in self.frames.feed(data):
            event = DECODERS[kind](payload)
            if event is not None:
                events.append(event)
        return events
