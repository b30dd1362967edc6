"""What a sandbox reports while it runs a program, as typed events.

Backends yield these from ``Execution.events()``; the run (codyskool/runs.py) turns them into
protocol messages. Frames from the runner are decoded into them in ``channel.py``; a backend that
has no runner (the tests' fake) yields them directly. A new kind of output is one more class here,
one more decoder in ``channel.py`` and one more line in the runner's frame table.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol import Phase, Stream


@dataclass(frozen=True)
class Output:
    """Bytes the program wrote to one of its streams (not yet decoded: a write may split a
    character)."""

    stream: Stream
    data: bytes


@dataclass(frozen=True)
class Prompt:
    """The program waits for a line of input; ``text`` is what it asked with (may be empty).
    With ``canvas``, it waits for a click or key in the page's canvas instead (a turtle's main
    loop): no prompt is shown, but the wait is not run time either."""

    text: str = ""
    canvas: bool = False


@dataclass(frozen=True)
class Resumed:
    """The program reported waiting at a prompt uses the CPU again: its time is run time again."""


@dataclass(frozen=True)
class Display:
    """A picture the program showed, its bytes as it sent them (their type is not yet known).
    ``ident`` names a picture that replaces the last one of its id (a plot's frames), ``name``
    the file it came from; ``size`` is its size, which for one too large to pass is all there is."""

    data: bytes
    size: int
    ident: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Drawing:
    """Turtle drawing commands for the page's canvas (drawing.py checked them), and the size of
    the frame they came in, which counts against the display limit."""

    commands: list
    size: int


@dataclass(frozen=True)
class PhaseChanged:
    """The sandbox moved to compiling or running the program."""

    phase: Phase


@dataclass(frozen=True)
class ExitReport:
    """How the program (or its compiler) ended, as the runner saw it."""

    phase: str = "run"  # "compile" when the compiler was what ended
    code: int | None = None
    signal: str | None = None
    cpu_ms: int | None = None
    time_ms: float | None = None
    memory_kb: int | None = None
    memory_exceeded: bool = False  # the memory limit was hit (a MemoryError or an OOM kill)

    @property
    def compile_failed(self) -> bool:
        return self.phase == "compile"


SandboxEvent = Output | Prompt | Resumed | Display | Drawing | PhaseChanged | ExitReport
