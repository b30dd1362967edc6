"""One run of one program: from the request to the `exit` event, whatever happens in between.

A Run owns its sandbox from start to cleanup. ``start`` hands it to a background task that starts
the sandbox, turns the runner's frames into protocol events, and, in ``finally``, destroys the
sandbox and sends `exit` exactly once. A watchdog task enforces the wall-clock and prompt limits;
stdin and stop requests arrive from the event handlers at any time.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from . import protocol
from .concurrency import Tasks
from .config import Limits
from .diagnostics import parse_diagnostics
from .output import OutputBatcher, StreamDecoder
from .protocol import ExitInfo, ProtocolError, RunRequest, StdinRequest
from .sandbox import Backend, Execution, Job, SandboxError, SandboxExit
from .sandbox.channel import ChannelError, Frame, FrameDecoder

log = logging.getLogger(__name__)

Emit = Callable[[str, dict[str, Any]], None]
WATCHDOG_INTERVAL_S = 0.1
STARTING_TIME_FACTOR = 2  # wall-clock bound of start-up + compile, in compile CPU-time limits
DIAGNOSTICS_SOURCE_LIMIT = 64 << 10


def new_run_id() -> str:
    return secrets.token_urlsafe(12)


class Run:
    """States: created -> starting -> running -> ended."""

    def __init__(self, request: RunRequest, backend: Backend, limits: Limits, emit: Emit,
                 tasks: Tasks, after: Run | None = None) -> None:
        self.id = new_run_id()
        self.request = request
        self.backend = backend
        self.limits = limits
        self.tasks = tasks
        self._emit = emit
        self.after = after  # a replaced run that must end before this one starts
        self.state = "created"
        self.stop_reason: str | None = None
        self.execution: Execution | None = None
        self.ended = tasks.event()
        self.lock = threading.Lock()
        self.stdin_lock = threading.Lock()  # a write may yield; an EOF must not overtake it
        self.stdin_queue: list[bytes] = []
        self.stdin_eof = False
        self.stdin_bytes = len(request.stdin.encode())
        self.output_bytes = 0
        self.started_at = time.monotonic()
        self.running_at: float | None = None
        self.prompt_since: float | None = None
        self.prompt_total = 0.0
        self.exit_frame: dict[str, Any] | None = None
        self.stderr_text: list[str] = []
        self.stderr_chars = 0
        self.decoder = StreamDecoder()
        self.batcher = OutputBatcher(self._emit_output, self._schedule)

    # --- called by the web layer ------------------------------------------------------------

    def start(self) -> None:
        self.state = "starting"
        self.tasks.spawn(self._supervise)

    def send_stdin(self, request: StdinRequest) -> None:
        data = request.data.encode()
        with self.lock:
            if self.state == "ended" or self.stdin_eof:
                raise ProtocolError("the program is not reading input any more")
            if self.stdin_bytes + len(data) > self.limits.stdin_bytes:
                raise ProtocolError(f"stdin is over the limit of {self.limits.stdin_bytes // 1024} KiB")
            self.stdin_bytes += len(data)
            self.stdin_eof = request.eof
            if data:
                self._end_prompt_wait()
            if self.execution is None:
                self.stdin_queue.append(data)
                return
        self._write_stdin(data, request.eof)

    def stop(self, reason: str = "killed") -> None:
        with self.lock:
            if self.state == "ended" or self.stop_reason:
                return
            self.stop_reason = reason
            execution = self.execution
        if execution is not None:
            # Not inline: the pump may be the caller, and a container that cannot write its
            # output while nobody reads it may not die until someone does.
            self.tasks.spawn(execution.kill)

    def wait(self, timeout: float | None = None) -> bool:
        return self.ended.wait(timeout)

    # --- the run's own task -----------------------------------------------------------------

    def _supervise(self) -> None:
        sandbox_exit = SandboxExit()
        try:
            self.tasks.sleep(0)  # let the handler send the `run` ack before the run's first event
            if self.after is not None:
                self.after.wait(30)
                self.after = None
            if self.stop_reason:
                return
            self.started_at = time.monotonic()
            self.execution = self.backend.start(self._job())
            with self.lock:
                queued, self.stdin_queue = self.stdin_queue, []
                stopped = self.stop_reason is not None
            if stopped:
                self.execution.kill()
            elif queued or self.stdin_eof:
                self._write_stdin(b"".join(queued), self.stdin_eof)
            self.state = "running"
            self.tasks.spawn(self._watchdog)
            self._pump(self.execution)
        except SandboxError as error:
            log.error("run %s: sandbox failed: %s", self.id, error)
            self._fail("The sandbox failed to run the program. Please try again.")
        except ChannelError as error:
            log.error("run %s: %s", self.id, error)
            self._fail("The sandbox stopped unexpectedly.")
        except Exception:
            log.exception("run %s failed", self.id)
            self._fail("Something went wrong on the server while running the program.")
        finally:
            # The person hears about the end first; the container is removed after.
            if self.execution is not None and not self._outcome_known():
                sandbox_exit = self.execution.finish()
            self._finish(sandbox_exit)
            if self.execution is not None:
                self.execution.finish(report=False)

    def _outcome_known(self) -> bool:
        """Whether the exit can be told without asking the backend (e.g. about an OOM kill)."""
        if self.stop_reason:
            return True
        frame = self.exit_frame
        return frame is not None and (frame.get("memory") or frame.get("signal") != "SIGKILL")

    def _job(self) -> Job:
        language = self.request.language
        limits = {"cpu_s": self.limits.cpu_time_s, "open_files": self.limits.open_files,
                  "file_size_mb": self.limits.workdir_mb}
        return Job(
            files={language.file: self.request.code},
            main=language.file,
            run=list(language.run) if language.run else None,
            compile=list(language.compile) if language.compile else None,
            args=list(self.request.args),
            stdin=self.request.stdin,
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
                 **language.env},
            limits=limits,
            compile_limits={**limits, "cpu_s": self.limits.compile_time_s},
            language=language.id,
            watch_stdin=language.run is not None,  # Python's runner sends its own prompts
            bounded_address_space=language.address_space,
        )

    def _pump(self, execution: Execution) -> None:
        frames = FrameDecoder()
        while self.exit_frame is None:
            data = execution.read()
            if not data:
                return
            for frame in frames.feed(data):
                self._handle(frame)
            self.tasks.sleep(0)  # a flood must not keep other runs and clients waiting

    def _handle(self, frame: Frame) -> None:
        if frame.kind in protocol.STREAMS:
            self._handle_output(frame.kind, frame.data)
        elif frame.kind == "prompt":
            self.batcher.flush()
            self.prompt_since = self.prompt_since or time.monotonic()
            text = str(frame.json().get("text", ""))
            if not self.stop_reason:
                self.emit(protocol.PROMPT, {"text": text})
        elif frame.kind == "status":
            phase = frame.json().get("phase")
            if phase == "running":
                self.running_at = time.monotonic()
            if phase in ("compiling", "running"):
                self.batcher.flush()
                self.emit(protocol.STATUS, {"phase": phase})
        elif frame.kind == "exit":
            self.exit_frame = frame.json()

    def _handle_output(self, stream: str, data: bytes) -> None:
        if self.stop_reason:
            return  # after a stop, what is still in flight is dropped
        self._end_prompt_wait()
        room = self.limits.output_bytes - self.output_bytes
        if len(data) > room:
            data = data[:room]
            self.stop("output_limit")
        self.output_bytes += len(data)
        text = self.decoder.decode(stream, data)
        if stream == "stderr" and self.stderr_chars < DIAGNOSTICS_SOURCE_LIMIT:
            self.stderr_text.append(text)
            self.stderr_chars += len(text)
        self.batcher.add(stream, text)

    def _watchdog(self) -> None:
        while not self.ended.is_set() and self.state != "ended":
            self.tasks.sleep(WATCHDOG_INTERVAL_S)
            now = time.monotonic()
            idle = self.prompt_since is not None and now - self.prompt_since > self.limits.prompt_idle_s
            if idle or self._over_time(now):
                self.stop("timeout")

    def _over_time(self, now: float) -> bool:
        if self.running_at is None:  # starting the sandbox or compiling: bounded on its own
            return now - self.started_at > STARTING_TIME_FACTOR * self.limits.compile_time_s
        waiting = now - self.prompt_since if self.prompt_since is not None else 0.0
        return now - self.running_at - self.prompt_total - waiting > self.limits.wall_time_s

    def _end_prompt_wait(self) -> None:
        if self.prompt_since is not None:
            self.prompt_total += time.monotonic() - self.prompt_since
            self.prompt_since = None

    def _write_stdin(self, data: bytes, eof: bool) -> None:
        execution = self.execution
        with self.stdin_lock:
            try:
                if data:
                    execution.write(data)
                if eof:
                    execution.close_stdin()
            except SandboxError:
                pass  # the program has ended or closed its input; its exit tells the rest

    def _fail(self, message: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = "error"
            self.batcher.add("stderr", message + "\n")

    # --- the end ---------------------------------------------------------------------------

    def _finish(self, sandbox_exit: SandboxExit) -> None:
        with self.lock:
            self.state = "ended"
        self._end_prompt_wait()
        for stream in protocol.STREAMS:
            tail = self.decoder.finish(stream)
            if tail and not self.stop_reason:
                self.batcher.add(stream, tail)
        self.batcher.flush()
        info = self._exit_info(sandbox_exit)
        try:
            self._send_diagnostics(info)
            self.emit(protocol.EXIT, info.payload())
        finally:
            self.ended.set()

    def _exit_info(self, sandbox_exit: SandboxExit) -> ExitInfo:
        frame = self.exit_frame or {}
        now = time.monotonic()
        time_ms = max(0.0, (now - (self.running_at or now) - self.prompt_total) * 1000)
        memory_kb = frame.get("memory_kb")
        if self.stop_reason:
            return ExitInfo(self.stop_reason, signal="SIGKILL" if self.execution else None,
                            time_ms=time_ms, memory_kb=memory_kb)
        if sandbox_exit.oom_killed or frame.get("memory"):
            return ExitInfo("memory", signal=frame.get("signal") or "SIGKILL", time_ms=time_ms,
                            memory_kb=memory_kb)
        if not frame:
            log.error("run %s: the sandbox ended without a report (%s)", self.id, sandbox_exit.error)
            self.emit(protocol.OUTPUT, {"stream": "stderr", "data": "The sandbox stopped unexpectedly.\n"})
            return ExitInfo("error", time_ms=time_ms)
        reason = "exited"
        if frame.get("phase") == "compile":
            reason = "compile_error"
        elif self._cpu_limit_hit(frame):
            reason = "timeout"
        return ExitInfo(reason, code=frame.get("code"), signal=frame.get("signal"), time_ms=time_ms,
                        memory_kb=memory_kb)

    def _cpu_limit_hit(self, frame: dict[str, Any]) -> bool:
        """SIGXCPU comes from the CPU-time rlimit; SIGKILL too when the program ignored SIGXCPU."""
        if frame.get("signal") == "SIGXCPU":
            return True
        cpu_ms = frame.get("cpu_ms") or 0
        return frame.get("signal") == "SIGKILL" and cpu_ms >= self.limits.cpu_time_s * 1000

    def _send_diagnostics(self, info: ExitInfo) -> None:
        if info.reason not in ("exited", "compile_error"):
            return
        items = parse_diagnostics(self.request.language, "".join(self.stderr_text), self.request.code)
        if items:
            self.emit(protocol.DIAGNOSTICS, {"items": items})

    # --- emitting ---------------------------------------------------------------------------

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        self._emit(event, {"run_id": self.id, **payload})

    def _emit_output(self, stream: str, text: str) -> None:
        self.emit(protocol.OUTPUT, {"stream": stream, "data": text})

    def _schedule(self, delay: float, callback: Callable[[], None]) -> None:
        def later() -> None:
            self.tasks.sleep(delay)
            callback()

        self.tasks.spawn(later)
