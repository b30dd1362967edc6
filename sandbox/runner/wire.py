"""The runner's wire format: its one definition, shared by the server and the runner.

* The server writes a job to the runner's stdin: ``JOB_HEADER`` (the job's length), then the job
  in marshal's format (files, compile and run commands, limits). After it come frames of
  ``INPUT_KINDS``, in the same layout: the program's stdin, its end, and the page's canvas events.
* The runner writes frames to its stdout: ``FRAME_HEADER`` (a 1-byte kind of ``FRAME_KINDS``, a
  4-byte big-endian length), then the payload.
* The program's processes write frames of ``CONTROL_KINDS`` to the runner on ``CONTROL_FD``,
  in the same layout. Anything in the sandbox can write them: they announce, they report nothing,
  and the runner passes none on as it came (the server gets only frames the runner built).

A new kind of frame is one line of its table. The server loads this file by its path
(codyskool/sandbox/channel.py), so it imports only the standard library, cheaply, and does nothing
when imported.
"""

import marshal
import os
import select
import struct

FRAME_HEADER = struct.Struct(">cI")  # kind, payload length
JOB_HEADER = struct.Struct(">I")  # the marshalled job's length
MAX_FRAME = 1 << 24  # the longest payload the server accepts
MAX_PROMPT = MAX_FRAME // 6  # the longest prompt text: its JSON fits a frame if every byte is \u00XX
MAX_DISPLAY = MAX_FRAME - 4096  # the largest picture, with its JSON line
CONTROL_FD = 3  # in the program's processes: where its hooks write CONTROL_KINDS frames
EVENTS_FD = 5  # in a Python program's process: the page's canvas events, one JSON line each

FRAME_KINDS: dict[bytes, str] = {  # runner -> server, on the runner's stdout
    b"r": "ready",  # empty: the runner has started and waits for its job
    b"o": "stdout",  # raw bytes the program wrote to its stdout
    b"e": "stderr",  # raw bytes it wrote to its stderr, the work dir's path taken out
    # JSON {"text": str}: the runner saw the program blocked reading stdin, the sandbox idle; with
    # "canvas": true, blocked waiting for the page's canvas events instead (a turtle's main loop)
    b"p": "prompt",
    b"w": "resumed",  # empty: a program reported at a prompt uses the CPU again: its time counts again
    b"s": "status",  # JSON {"phase": "compiling" | "running"}
    # JSON {"phase": "compile" | "run", "code": int | null, "signal": "SIGXCPU" | ... | null,
    # "cpu_ms", "time_ms", "memory_kb": numbers or null, "memory": bool (run only: out of memory)};
    # over the phase's CPU limit, the whole sandbox's, "signal" is "SIGKILL" and "cpu_ms" the sandbox's
    b"x": "exit",
    # a picture: a JSON line of what it is ({"id": str} for one that replaces the last of its id, as
    # a plot's frames do; {"name": str} for a file the program wrote), then its bytes, whose type the
    # server tells from them; or only {"size": int}, a picture too large for a frame, left out
    b"i": "display",
    b"t": "turtle",  # JSON [[op, ...], ...]: turtle drawing commands (runner/turtle_screen.py)
}
INPUT_KINDS: dict[bytes, str] = {  # server -> runner, on the runner's stdin after the job
    b"i": "stdin",  # raw bytes for the program's stdin
    b"e": "eof",  # empty: the program's stdin ends (its canvas events go on)
    b"v": "event",  # JSON {"type": "click" | ..., ...}: a click or key in the page's canvas (EVENTS_FD)
}
CONTROL_KINDS: dict[bytes, str] = {  # the program's processes -> runner, on CONTROL_FD
    # raw UTF-8, the text input() asks with, announced before it reads: the runner sends it with
    # the prompt frame if it then sees the program wait (see above), else as stdout, as a terminal shows it
    b"p": "prompt",
    b"i": "display",  # a picture, as the display frame above (runner/graphics.py)
    b"t": "turtle",  # turtle drawing, as the turtle frame above
    b"m": "memory",  # empty: the program ran out of memory (a MemoryError); sets the exit's "memory"
    # empty: a spare told to preload modules has imported them (runner/spare.py); read by the
    # runner before it says it is ready, never once a program runs
    b"l": "preloaded",
    # ASCII "PID TID": that thread is about to block reading an empty stdin (or, an event loop's
    # main thread, to sleep with nothing but input to wake it), from python_child.py's stdin or
    # lang/stdin-watch.c; "PID TID canvas": to wait for canvas events (turtle_screen.py); then
    # "read" once the call returned. Hints: see waits.py
    b"r": "reading",
    b"d": "read",
}
KIND = {name: kind for kind, name in FRAME_KINDS.items()}  # "stdout" -> b"o", for the runner's code
CONTROL_KIND = {name: kind for kind, name in CONTROL_KINDS.items()}
INPUT_KIND = {name: kind for kind, name in INPUT_KINDS.items()}
MAX_INPUT_FRAME = 1 << 20  # the longest input frame the runner takes (the server sends 64 KiB at most)


def write_frame(fd: int, kind: bytes, payload: bytes) -> None:
    """Write one whole frame, also to a non-blocking fd."""
    view = memoryview(FRAME_HEADER.pack(kind, len(payload)) + payload)
    while view:
        try:
            written = os.write(fd, view)
        except InterruptedError:
            continue
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[written:]


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    return FRAME_HEADER.pack(kind, len(payload)) + payload


def write_json_frame(fd: int, kind: bytes, obj: dict) -> None:
    write_frame(fd, kind, to_json(obj).encode("utf-8", "replace"))


JSON_ESCAPES = {**{code: f"\\u{code:04x}" for code in range(32)}, ord('"'): '\\"', ord("\\"): "\\\\"}


def to_json(value: object) -> str:
    """JSON for the flat reports the runner sends (the json module's import costs a start-up)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{to_json(str(key))}: {to_json(item)}" for key, item in value.items()) + "}"
    if isinstance(value, str):
        return '"' + value.translate(JSON_ESCAPES) + '"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    raise TypeError(f"cannot report a {type(value).__name__}")


def read_exact(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            raise EOFError("stdin closed before the job arrived")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_job(fd: int = 0) -> dict:
    (length,) = JOB_HEADER.unpack(read_exact(fd, JOB_HEADER.size))
    return marshal.loads(read_exact(fd, length))
