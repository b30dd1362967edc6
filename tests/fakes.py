"""A fake sandbox backend that scripts what a sandbox reports, for the in-process tests.

A script is a generator function taking the fake sandbox: it yields the typed events a real
sandbox would (codyskool/sandbox/events.py) and may block on ``sandbox.read_line()`` for what the
person types, as a program waits at a prompt. A killed sandbox ends its script, as a killed
container ends its stream. Which script runs is chosen by the program's code, so a test says
`code="echo"` and gets the echo program.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from codyskool.errors import SandboxFailed
from codyskool.languages import Language
from codyskool.protocol import Phase, Stream
from codyskool.sandbox import Backend, Execution, Job, SandboxExit
from codyskool.sandbox.channel import FRAME_HEADER, EventDecoder
from codyskool.sandbox.events import (
    Display,
    Drawing,
    ExitReport,
    Output,
    PhaseChanged,
    Prompt,
    Resumed,
    SandboxEvent,
)

Script = Callable[["FakeExecution"], Iterator[SandboxEvent]]


class Killed(Exception):
    """Raised inside a script when its sandbox is killed."""


class FakeExecution(Execution):
    def __init__(self, job: Job, script: Script, oom_killed: bool = False) -> None:
        self.job = job
        self.script = script
        self.oom_killed = oom_killed
        self.stdin = bytearray(job.stdin.encode())
        self.stdin_closed = False
        self.canvas_events: list[bytes] = []
        self.killed = False
        self.finished = False
        self.removed = False
        self.changed = threading.Condition()

    # --- what a script uses ---------------------------------------------------------------

    def read_line(self, timeout: float = 10) -> bytes | None:
        """The next line typed (None at end of input); raises Killed when the sandbox is killed."""
        with self.changed:
            while True:
                if self.killed:
                    raise Killed
                if b"\n" in self.stdin:
                    line, _, rest = bytes(self.stdin).partition(b"\n")
                    self.stdin[:] = rest
                    return line + b"\n"
                if self.stdin_closed:
                    line, self.stdin[:] = bytes(self.stdin), b""
                    return line or None
                if not self.changed.wait(timeout):
                    raise TimeoutError("the test sent no input")

    def next_canvas_event(self, timeout: float = 10) -> dict:
        """The next click or key sent to the program, decoded."""
        with self.changed:
            if not self.changed.wait_for(lambda: self.canvas_events or self.killed, timeout):
                raise TimeoutError("the test sent no canvas event")
            if self.killed:
                raise Killed
            return json.loads(self.canvas_events.pop(0))

    def wait_until_killed(self, timeout: float = 10) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: self.killed, timeout):
                raise TimeoutError("nobody stopped the program")
        raise Killed

    # --- the Execution interface ----------------------------------------------------------

    def events(self) -> Iterator[SandboxEvent]:
        try:
            yield from self.script(self)
        except Killed:
            return

    def write(self, data: bytes) -> None:
        with self.changed:
            if self.stdin_closed or self.killed:
                raise SandboxFailed("stdin is closed")
            self.stdin += data
            self.changed.notify_all()

    def close_stdin(self) -> None:
        with self.changed:
            self.stdin_closed = True
            self.changed.notify_all()

    def send_event(self, event: bytes) -> None:
        with self.changed:
            if self.killed:
                raise SandboxFailed("the sandbox has ended")
            self.canvas_events.append(event)
            self.changed.notify_all()

    def kill(self) -> None:
        with self.changed:
            self.killed = True
            self.changed.notify_all()

    def finish(self, report: bool = True) -> SandboxExit:
        self.finished = True
        if not report:
            self.removed = True
        return SandboxExit(oom_killed=self.oom_killed)


class FakeBackend(Backend):
    name = "fake"

    def __init__(self, scripts: dict[str, Script] | None = None) -> None:
        self.scripts = {**SCRIPTS, **(scripts or {})}
        self.executions: list[FakeExecution] = []
        self.started_background = False
        self.swept = False
        self.fail_next_start = False

    def start(self, job: Job) -> Execution:
        if self.fail_next_start:
            self.fail_next_start = False
            raise SandboxFailed("the fake engine is down")
        code = job.files[job.main]
        script = self.scripts.get(code.strip(), print_code)
        execution = FakeExecution(job, script, oom_killed=code.strip() in ("oom", "oom_sandbox"))
        self.executions.append(execution)
        return execution

    def supports(self, language: Language) -> bool:
        return True

    def start_background(self, tasks: Any) -> None:
        self.started_background = True

    def remove_leftovers(self) -> int:
        self.swept = True
        return 0

    def sandboxes_left(self) -> list[FakeExecution]:
        """Sandboxes not removed yet: after every run has ended there must be none."""
        return [execution for execution in self.executions if not execution.removed]

    def all_removed(self, timeout: float = 5) -> bool:
        """Whether every sandbox is removed, within `timeout` (a run removes its sandbox just
        after it has sent its `exit`)."""
        deadline = time.monotonic() + timeout
        while self.sandboxes_left() and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self.sandboxes_left()


# --- scripts: small programs as a sandbox would report them ---------------------------------------


def running() -> SandboxEvent:
    return PhaseChanged(Phase.RUNNING)


def print_code(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    """Any other program: it prints its own code and exits 0."""
    yield running()
    yield Output(Stream.STDOUT, sandbox.job.files[sandbox.job.main].encode())
    yield ExitReport(code=0, cpu_ms=1)


def echo(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()
    yield Output(Stream.STDOUT, b"Name? ")
    yield Prompt("Name? ")
    line = sandbox.read_line()
    yield Output(Stream.STDOUT, b"Hello, " + (line or b"nobody\n"))
    yield ExitReport(code=0)


def forever(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()
    yield Output(Stream.STDOUT, b"started\n")
    sandbox.wait_until_killed()


def flood(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()
    while not sandbox.killed:
        yield Output(Stream.STDOUT, b"x" * 4096)


def crash(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()
    yield Output(Stream.STDOUT, b"before\n")  # then the stream ends with no exit report


def compile_error(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield PhaseChanged(Phase.COMPILING)
    yield Output(Stream.STDERR, b"main.c:1:5: error: expected ';' before 'return'\n")
    yield ExitReport(phase="compile", code=1)


def oom(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()
    yield ExitReport(signal="SIGKILL", cpu_ms=5)


def oom_sandbox(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()  # then the host's OOM killer ends the whole sandbox (gVisor's kernel with it)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def plot(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()
    yield Output(Stream.STDOUT, b"before\n")
    yield Display(PNG, len(PNG), ident="figure-1")
    yield Output(Stream.STDOUT, b"between\n")
    yield Display(PNG + b"2", len(PNG) + 1, ident="figure-1")  # its next frame
    yield Display(b"<svg><script>alert(1)</script></svg>", 37, name="b.svg")
    yield Display(b"<html>not a picture</html>", 26)
    yield Output(Stream.STDOUT, b"after\n")
    yield ExitReport(code=0)


SQUARE = [["size", 640, 600], ["line", 4, [0, 0, 100, 0, 100, -100], "blue", 5, 4]]


def turtle_game(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    """Draws, waits in its main loop for a click, answers it, and ends at a key."""
    yield running()
    yield Drawing(SQUARE, 99)
    yield Prompt(canvas=True)
    click = sandbox.next_canvas_event()
    yield Output(Stream.STDOUT, f"clicked {click['x']} {click['y']}\n".encode())
    key = sandbox.next_canvas_event()
    yield Output(Stream.STDOUT, f"key {key['key']}\n".encode())
    yield ExitReport(code=0)


def picture_flood(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()
    while not sandbox.killed:
        yield Display(PNG, 3 << 20)  # as if each were 3 MiB
        time.sleep(0.01)


def cpu_bound(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()
    yield ExitReport(signal="SIGXCPU", cpu_ms=3000)


def split_character(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()
    snowman = "☃\n".encode()
    yield Output(Stream.STDOUT, snowman[:1])
    yield Output(Stream.STDOUT, snowman[1:])
    yield ExitReport(code=0)


SCRIPTS: dict[str, Script] = {
    "echo": echo,
    "forever": forever,
    "flood": flood,
    "crash": crash,
    "compile_error": compile_error,
    "oom": oom,
    "oom_sandbox": oom_sandbox,
    "plot": plot,
    "picture_flood": picture_flood,
    "turtle_game": turtle_game,
    "cpu_bound": cpu_bound,
    "split_character": split_character,
}


def prompt_flood(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    yield running()
    while not sandbox.killed:
        yield Prompt("?" * 4096)


SCRIPTS["prompt_flood"] = prompt_flood


def busy_after_a_prompt(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    """Reported waiting, then seen computing again (by the runner): it computes until killed."""
    yield running()
    yield Prompt("? ")
    yield Resumed()
    sandbox.wait_until_killed()


def nested_prompt(sandbox: FakeExecution) -> Iterator[SandboxEvent]:
    """A prompt frame no runner writes, deeply nested JSON, through the real decoder."""
    yield running()
    payload = b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    yield from EventDecoder().feed(FRAME_HEADER.pack(b"p", len(payload)) + payload)


SCRIPTS["busy_after_a_prompt"] = busy_after_a_prompt
SCRIPTS["nested_prompt"] = nested_prompt
