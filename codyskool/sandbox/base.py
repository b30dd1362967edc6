"""The sandbox interface: what the web layer needs from any backend that runs programs."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ..errors import SandboxFailed
from .channel import INPUT_CHUNK, EventDecoder, encode_job, input_frame
from .events import ExitReport, SandboxEvent

if TYPE_CHECKING:
    from ..concurrency import Tasks
    from ..languages import Language

__all__ = ["Backend", "Execution", "FramedExecution", "Job", "SandboxExit", "SandboxFailed"]

BACKEND_ONLY = ("language", "warm_pools", "bounded_address_space")  # fields of a Job the runner is not sent


@dataclass
class Job:
    """Everything the in-sandbox runner needs to run one program (see sandbox/runner/)."""

    files: dict[str, str]
    main: str
    run: list[str] | None  # None: the runner runs the Python program in a fork of itself
    compile: list[str] | None = None
    args: list[str] = field(default_factory=list)
    stdin: str = ""
    env: dict[str, str] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    compile_limits: dict[str, Any] = field(default_factory=dict)
    workdir: str = ""
    # The uid (and gid) the program runs as, which the runner, root in a container, switches its
    # process to (uids.py gives each sandbox one). None: the runner's own (the local backend).
    uid: int | None = None
    watch_stdin: bool = False  # report a program blocked reading stdin as waiting at a prompt
    canvas_events: bool = False  # a page may send clicks and keys for a turtle (not POST /api/run)
    bounded_address_space: bool = True  # False for runtimes that reserve far more than they use
    language: str = ""  # for the backend, not sent to the runner
    # The warm pools it may take a sandbox from, best first (languages.Language.warm_pools);
    # empty: its language's
    warm_pools: tuple[str, ...] = ()

    def encode(self) -> bytes:
        """The runner's part of the job (not asdict, which copies every dict and list in it)."""
        return encode_job({item.name: getattr(self, item.name) for item in fields(self)
                           if item.name not in BACKEND_ONLY})


@dataclass(frozen=True)
class SandboxExit:
    """How the sandbox itself ended, as far as the backend can tell."""

    oom_killed: bool = False
    error: str | None = None


class Execution(ABC):
    """One started sandbox running one job. Used once, then destroyed."""

    @abstractmethod
    def events(self) -> Iterator[SandboxEvent]:
        """What the sandbox reports, as it happens; ends after the ExitReport, or early when the
        sandbox ended without one. Raises SandboxFailed when its reports cannot be read."""

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Append to the program's standard input. Raises SandboxFailed when that is closed."""

    @abstractmethod
    def close_stdin(self) -> None: ...

    def send_event(self, event: bytes) -> None:
        """A click or key in the page's canvas, as JSON, for the program (a turtle's handlers).
        Raises SandboxFailed when the sandbox has gone; a backend without events drops it."""

    @abstractmethod
    def kill(self) -> None:
        """Stop everything in the sandbox now. Safe to call more than once."""

    @abstractmethod
    def finish(self, report: bool = True) -> SandboxExit:
        """Remove the sandbox; with `report`, first wait for it to end and say how it ended.

        Safe to call twice (the second call returns the first one's result)."""


class FramedExecution(Execution):
    """An execution whose runner talks in frames (sandbox/runner/wire.py): Docker and local. The
    job goes to the runner's stdin, then input frames: the program's stdin, its end, canvas events."""

    def __init__(self) -> None:
        self.stdin_ended = False
        # One frame at a time: stdin (written by the relay) and canvas events (by the socket's
        # handler) come from different tasks, and a send may yield halfway.
        self.send_lock = threading.Lock()

    @abstractmethod
    def read(self) -> bytes:
        """The next bytes of the runner's framed output; b"" once the sandbox has ended."""

    @abstractmethod
    def send(self, data: bytes) -> None:
        """Bytes to the runner's stdin (the job, then input frames). Raises SandboxFailed."""

    def write(self, data: bytes) -> None:
        if self.stdin_ended:
            raise SandboxFailed("stdin is closed")
        for start in range(0, len(data), INPUT_CHUNK):
            self.send_frame(input_frame("stdin", data[start : start + INPUT_CHUNK]))

    def close_stdin(self) -> None:
        if not self.stdin_ended:
            self.stdin_ended = True
            try:
                self.send_frame(input_frame("eof"))
            except SandboxFailed:
                pass  # the sandbox has ended: its stdin with it

    def send_event(self, event: bytes) -> None:
        self.send_frame(input_frame("event", event))

    def send_frame(self, frame: bytes) -> None:
        with self.send_lock:
            self.send(frame)

    def events(self) -> Iterator[SandboxEvent]:
        decoder = EventDecoder()
        while data := self.read():
            for event in decoder.feed(data):
                yield event
                if isinstance(event, ExitReport):
                    return


class Backend(ABC):
    name: str = ""
    runtime: str = ""  # what isolates a sandbox within the backend (the Docker backend's runc or runsc)

    @abstractmethod
    def start(self, job: Job) -> Execution:
        """Start a fresh sandbox for the job. Raises SandboxFailed."""

    def supports(self, language: Language) -> bool:
        """Whether what a language needs exists where this backend runs code."""
        return True

    def health(self) -> dict[str, Any]:
        return {"backend": self.name}

    def start_background(self, tasks: Tasks) -> None:
        """Start the backend's own background work (the Docker backend's warm pool)."""

    def remove_leftovers(self) -> int:
        """Remove sandboxes a crashed server left behind; returns how many."""
        return 0

    def close(self) -> None:
        """Stop background work and remove what this backend still holds."""
