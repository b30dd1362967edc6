"""The Socket.IO protocol in one place: event names, their vocabulary, request parsing, and one
builder per server-to-client message.

docs/protocol.md describes the same events for people; tests/test_protocol_doc.py checks that it
names exactly the events, phases and exit reasons defined here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .config import Limits
from .errors import BadRequest, TooLarge
from .programs import require_mapping, utf8_size

Message = tuple[str, dict[str, Any]]  # an event name and its payload, as a builder makes them
Emit = Callable[[str, dict[str, Any]], None]  # sends one message to the client of a run


class ClientEvent(StrEnum):
    RUN = "run"
    STDIN = "stdin"
    KILL = "kill"
    CANVAS = "canvas"


class ServerEvent(StrEnum):
    OUTPUT = "output"
    DISPLAY = "display"
    TURTLE = "turtle"
    PROMPT = "prompt"
    STATUS = "status"
    DIAGNOSTICS = "diagnostics"
    EXIT = "exit"
    ERROR = "error"


# Internal: what the packet decoder (codyskool/patches.py) turns a packet it cannot use into, so
# that its sender hears why.
MALFORMED = "malformed packet"


class Stream(StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"


class Phase(StrEnum):
    """The `phase` of a `status` event."""

    QUEUED = "queued"
    COMPILING = "compiling"
    RUNNING = "running"


class ExitReason(StrEnum):
    """The `reason` of an `exit` event: how the run ended."""

    EXITED = "exited"  # the program ended by itself (any exit code, or a signal of its own)
    KILLED = "killed"  # stopped by its person (Stop, a new run, a closed connection)
    TIMEOUT = "timeout"  # over the CPU, wall-clock or prompt-idle limit
    MEMORY = "memory"  # over the memory limit
    OUTPUT_LIMIT = "output_limit"  # wrote more than the output limit
    DISPLAY_LIMIT = "display_limit"  # showed more pictures and drawing than the display limit
    COMPILE_ERROR = "compile_error"  # the compiler refused the program
    ERROR = "error"  # the sandbox or the server failed


@dataclass(frozen=True)
class StdinRequest:
    data: str = ""
    eof: bool = False


@dataclass(frozen=True)
class ExitInfo:
    reason: ExitReason
    code: int | None = None
    signal: str | None = None
    time_ms: float = 0.0
    memory_kb: int | None = None


def parse_stdin(payload: object, limits: Limits) -> StdinRequest:
    payload = require_mapping(payload, ClientEvent.STDIN, "'data' or 'eof'")
    data = payload.get("data", "")
    eof = payload.get("eof", False)
    if data is None:
        data = ""
    if not isinstance(data, str):
        raise BadRequest("'stdin' needs 'data' (a string)")
    if not isinstance(eof, bool):
        raise BadRequest("'eof' must be true or false")
    if not data and not eof:
        raise BadRequest("'stdin' needs 'data' or 'eof'")
    limit = limits.max_line_bytes
    if len(data) > limit or utf8_size(data, "stdin") > limit:
        raise TooLarge(f"a line of input is over the limit of {limit // 1024} KiB")
    return StdinRequest(data=data, eof=eof)


# --- server -> client: one builder per message -------------------------------------------------


def output(run_id: str, stream: Stream, text: str) -> Message:
    return ServerEvent.OUTPUT, {"run_id": run_id, "stream": stream, "data": text}


def display(payload: dict[str, Any]) -> Message:
    """A picture: pictures.display_payload makes the payload, from the picture's own bytes."""
    return ServerEvent.DISPLAY, payload


def turtle(run_id: str, commands: list[list[Any]]) -> Message:
    return ServerEvent.TURTLE, {"run_id": run_id, "commands": commands}


def prompt(run_id: str, text: str) -> Message:
    return ServerEvent.PROMPT, {"run_id": run_id, "text": text}


def status(run_id: str, phase: Phase, position: int | None = None) -> Message:
    payload: dict[str, Any] = {"run_id": run_id, "phase": phase}
    if position is not None:
        payload["position"] = position
    return ServerEvent.STATUS, payload


def diagnostics(run_id: str, items: list[dict[str, Any]]) -> Message:
    return ServerEvent.DIAGNOSTICS, {"run_id": run_id, "items": items}


def exit_message(run_id: str, info: ExitInfo) -> Message:
    return ServerEvent.EXIT, {
        "run_id": run_id,
        "code": info.code,
        "reason": info.reason,
        "signal": info.signal,
        "time_ms": round(info.time_ms, 1),
        "memory_kb": info.memory_kb,
    }


def error(message: str, run_id: str | None = None) -> Message:
    payload: dict[str, Any] = {"message": message}
    if run_id:
        payload["run_id"] = run_id
    return ServerEvent.ERROR, payload


def ack_refused(message: str) -> dict[str, Any]:
    """The acknowledgement of a refused request."""
    return {"ok": False, "error": message}


def ack_run(run_id: str) -> dict[str, Any]:
    return {"ok": True, "run_id": run_id}


def without_run_id(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key != "run_id"}
