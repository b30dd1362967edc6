"""One run of one program: from the request to the `exit` event, whatever happens in between.

A Run owns its admission ticket and its sandbox. ``start`` hands it to one task of its own, which
waits for a slot (the queue), starts the sandbox, turns what the sandbox reports into protocol
messages and, in ``finally``, sends `exit` exactly once, gives the slot back and removes the
sandbox. A watchdog task enforces the time limits; stdin and stop requests arrive from the event
handlers at any time.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from enum import StrEnum

from . import drawing, pictures, protocol
from .admission import Admission, Ticket
from .concurrency import Tasks
from .config import Limits
from .diagnostics import parse_diagnostics
from .errors import BadRequest
from .exits import classify_exit, needs_sandbox_report, report_of
from .jobs import build_job
from .output import ProgramOutput
from .programs import Program
from .protocol import Emit, ExitInfo, ExitReason, Phase, StdinRequest, Stream
from .sandbox import Backend, Execution, SandboxExit, SandboxFailed
from .sandbox.channel import ChannelError
from .sandbox.events import Display, Drawing, ExitReport, Output, PhaseChanged, Prompt, Resumed, SandboxEvent
from .stdin import StdinRelay
from .watchdog import RunClock, watch

log = logging.getLogger(__name__)

DIAGNOSTICS_SOURCE_LIMIT = 64 << 10
REPLACED_RUN_WAIT_S = 30


class RunState(StrEnum):
    CREATED = "created"
    QUEUED = "queued"  # waiting for a slot
    STARTING = "starting"  # the sandbox is being started
    RUNNING = "running"
    ENDED = "ended"


class Run:
    def __init__(self, program: Program, backend: Backend, limits: Limits, emit: Emit, tasks: Tasks,
                 admission: Admission, ticket: Ticket, after: Run | None = None,
                 canvas: bool = False) -> None:
        self.id = secrets.token_urlsafe(12)
        self.program = program
        self.backend = backend
        self.limits = limits
        self.tasks = tasks
        self.admission = admission
        self.ticket = ticket
        self._emit = emit
        self.after = after  # a replaced run that must end before this one starts
        self.canvas = canvas  # a page may send clicks and keys for its turtle
        self.canvas_wait = False  # the program waits for a click or key (a turtle's main loop)
        self.canvas_events = drawing.EventRate(drawing.MAX_CANVAS_EVENTS_PER_S)
        self.state = RunState.CREATED
        self.stop_reason: ExitReason | None = None
        self.execution: Execution | None = None
        self.report: ExitReport | None = None
        self.ended = tasks.event()
        self.lock = threading.Lock()
        self.stdin = StdinRelay(limits.stdin_limit_bytes, given=program.stdin)
        self.clock = RunClock(limits)
        self.output = ProgramOutput(
            limits.output_limit_bytes, lambda stream, text: self.emit(protocol.output(self.id, stream, text)),
            tasks.call_later, keep_stderr=DIAGNOSTICS_SOURCE_LIMIT)
        self.pictures = pictures.DisplayBudget(limits.display_limit_bytes)

    # --- called by the web layer ------------------------------------------------------------

    def start(self) -> None:
        self.state = RunState.QUEUED
        self.tasks.spawn(self._lifecycle)

    def send_stdin(self, request: StdinRequest) -> None:
        if self.stdin.send(request):
            self.clock.prompt_ended()

    def send_canvas(self, event: dict) -> None:
        """A click or key in the page's canvas, for the program's turtle; raises BadRequest."""
        execution = self.execution
        if self.state == RunState.ENDED:
            return  # a key pressed as the program ended: nothing left to tell
        if execution is None or self.state != RunState.RUNNING:
            raise BadRequest("the program is not running yet")
        if not self.canvas_events.allow():
            raise BadRequest(f"more than {drawing.MAX_CANVAS_EVENTS_PER_S} canvas events a second")
        if self.canvas_wait:  # a click ends a turtle's wait, not a wait at input()
            self.canvas_wait = False
            self.clock.prompt_ended()
        try:
            execution.send_event(json.dumps(event).encode())
        except SandboxFailed:
            pass  # the program has ended; its exit tells the rest

    def stop(self, reason: ExitReason = ExitReason.KILLED) -> None:
        with self.lock:
            if self.state == RunState.ENDED or self.stop_reason:
                return
            self.stop_reason = reason
            execution = self.execution
        if execution is not None:
            # Not inline: the pump may be the caller, and a container that cannot write its
            # output while nobody reads it may not die until someone does.
            self.tasks.spawn(execution.kill)

    def wait(self, timeout: float | None = None) -> bool:
        return self.ended.wait(timeout)

    def emit(self, message: protocol.Message) -> None:
        self._emit(*message)

    # --- the run's own task -----------------------------------------------------------------

    def _lifecycle(self) -> None:
        try:
            self.tasks.sleep(0)  # let the handler send the `run` ack before the run's first event
            if self._admitted():
                if self.after is not None:
                    self.after.wait(REPLACED_RUN_WAIT_S)
                if not self.stop_reason:
                    self._execute()
        except SandboxFailed as error:
            log.error("run %s: sandbox failed: %s", self.id, error)
            self._fail(error.user_message)
        except Exception:
            log.exception("run %s failed", self.id)
            self._fail("Something went wrong on the server while running the program.")
        finally:
            self._end()

    def _admitted(self) -> bool:
        """Wait for a slot (the run's clocks start after: time in the queue is not its time);
        False when the run was stopped first, and then goes on only to end with its `exit`."""
        return self.admission.wait(self.ticket, stopped=lambda: self.stop_reason is not None,
                                   on_queued=lambda at: self.emit(protocol.status(self.id, Phase.QUEUED, at)))

    def _execute(self) -> None:
        self.state = RunState.STARTING
        self.clock.start()  # the watchdog bounds starting the sandbox too
        self.tasks.spawn(watch, self.clock, self.ended.is_set, lambda: self.stop(ExitReason.TIMEOUT),
                         self.tasks.sleep)
        self.execution = self.backend.start(build_job(self.program, self.limits, self.canvas))
        if self.stop_reason is not None:  # stopped while it started: stop() could not kill it
            self.execution.kill()
        else:
            self.stdin.attach(self.execution)
        self.state = RunState.RUNNING
        for event in self.execution.events():
            self._handle(event)
            self.tasks.sleep(0)  # a flood must not keep other runs and clients waiting

    def _handle(self, event: SandboxEvent) -> None:
        if isinstance(event, Output):
            self.clock.prompt_ended()
            if not self.stop_reason and self.output.add(event.stream, event.data):  # after a stop: dropped
                self.stop(ExitReason.OUTPUT_LIMIT)
        elif isinstance(event, Drawing):
            self.clock.prompt_ended()
            if not self.stop_reason:
                self._draw(event)
        elif isinstance(event, Display):
            self.clock.prompt_ended()
            if not self.stop_reason:
                self._show(event)
        elif isinstance(event, Resumed):  # the runner saw it busy again after a prompt: its time counts
            self.clock.prompt_ended()
        elif isinstance(event, Prompt) and event.canvas:
            self.canvas_wait = True
            self.clock.prompt_started()  # waiting for a click or key: not run time
        elif isinstance(event, Prompt):
            self.canvas_wait = False
            self.output.flush()
            self.clock.prompt_started()
            if not self.stop_reason:
                self.emit(protocol.prompt(self.id, self.output.prompt(event.text)))
                if self.output.cap.reached:
                    self.stop(ExitReason.OUTPUT_LIMIT)
        elif isinstance(event, PhaseChanged):
            if event.phase == Phase.RUNNING:
                self.clock.running()
            self.output.flush()
            self.emit(protocol.status(self.id, event.phase))
        elif isinstance(event, ExitReport):
            self.report = event

    def _show(self, picture: Display) -> None:
        """A picture, in order with the output before it, or the run's end past the display limit."""
        self.output.flush()
        if not self._within_display_limit(picture.size):
            return
        payload = pictures.display_payload(self.id, picture)
        if payload is None:
            self.output.message(Stream.STDERR, pictures.UNKNOWN_TYPE)
        else:
            self.emit(protocol.display(payload))

    def _draw(self, drawn: Drawing) -> None:
        if self._within_display_limit(drawn.size) and drawn.commands:
            self.emit(protocol.turtle(self.id, drawn.commands))

    def _within_display_limit(self, size: int) -> bool:
        """Count what a picture or drawing adds; past the display limit the run is stopped."""
        if self.pictures.take(size):
            return True
        self.output.message(Stream.STDERR, self.pictures.over_message())
        self.stop(ExitReason.DISPLAY_LIMIT)
        return False

    def _fail(self, message: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = ExitReason.ERROR
            self.output.message(Stream.STDERR, message + "\n")

    # --- the end ---------------------------------------------------------------------------

    def _end(self) -> None:
        """Tell the person how the run ended, give its slot back, then remove its sandbox."""
        sandbox_exit = SandboxExit()
        with self.lock:  # from here on a stop changes nothing: the program has ended
            self.state = RunState.ENDED
        try:
            if self.execution is not None and needs_sandbox_report(self.stop_reason, self.report):
                sandbox_exit = report_of(self.execution)
            self.stdin.close()
            self.clock.prompt_ended()
            self.output.finish(keep_tail=not self.stop_reason)
            info = self._exit_info(sandbox_exit)
            self._send_diagnostics(info)
            self.emit(protocol.exit_message(self.id, info))
        finally:
            self.ended.set()
            self.admission.release(self.ticket)
            if self.execution is not None:
                self.execution.finish(report=False)

    def _exit_info(self, sandbox_exit: SandboxExit) -> ExitInfo:
        info = classify_exit(self.report, sandbox_exit, self.stop_reason,
                             sandbox_started=self.execution is not None,
                             cpu_time_limit_s=self.limits.cpu_time_limit_s, time_ms=self.clock.run_time_ms())
        # Out of memory explains itself (under gVisor the host's OOM killer may end the whole sandbox)
        if self.report is None and self.stop_reason is None and info.reason != ExitReason.MEMORY:
            log.error("run %s: the sandbox ended without a report (%s)", self.id, sandbox_exit.error)
            self.emit(protocol.output(self.id, Stream.STDERR, ChannelError.user_message + "\n"))
        return info

    def _send_diagnostics(self, info: ExitInfo) -> None:
        if info.reason in (ExitReason.EXITED, ExitReason.COMPILE_ERROR):
            items = parse_diagnostics(self.program.language, self.output.stderr.text(), self.program.code)
            if items:
                self.emit(protocol.diagnostics(self.id, items))
