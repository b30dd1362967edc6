"""The supervisor: runs the job's commands, relays stdin in and output out, reaps processes, and
reports how each command ended."""

import _signal as signal
import errno
import fcntl
import os
import select
import time

from .limits import SandboxCpu, children_by_parent, oom_kills
from .spare import Spare
from .waits import Watch, runnable, waiting_for_input
from .wire import (
    CONTROL_KIND,
    FRAME_HEADER,
    INPUT_KINDS,
    KIND,
    MAX_DISPLAY,
    MAX_INPUT_FRAME,
    MAX_PROMPT,
    to_json,
    write_frame,
    write_json_frame,
)

IDLE_WAKE_S = 0.5
# Over its CPU limit by this much, the sandbox is killed: a program of one process meets its
# RLIMIT_CPU first (SIGXCPU, which it may report), a program of many the sandbox's bound.
CPU_LIMIT_SLACK_S = 0.2
READ_SIZE = 65536
MAX_PENDING_EVENTS = 256  # canvas events the program has not read yet; more are dropped
CONTROL = b"c"  # the readers' mark of the control pipe, whose bytes are frames to decode


class Phase:
    """One command of the job (compile or run) as it runs: its process, pipes and end."""

    def __init__(self, pid: int, stdin_w: int, stdout_r: int, stderr_r: int, control_r: int, events_w: int,
                 relay_stdin: bool, watch_input: bool, watch: Watch, cpu_limit_s: float) -> None:
        self.pid = pid
        self.stdin_w = stdin_w  # -1 once closed
        self.events_w = events_w  # -1 once closed
        self.stdout_r = stdout_r
        self.stderr_r = stderr_r
        self.control_r = control_r
        self.readers = {stdout_r: KIND["stdout"], stderr_r: KIND["stderr"], control_r: CONTROL}
        self.control_buffer: bytearray | None = bytearray()  # None: it sent garbage, the rest is dropped
        self.control_skip = 0  # bytes still to drop of a picture too large to pass on
        self.relay_stdin = relay_stdin
        # Whether to report the program's waits for input, which the server does not count as
        # run time: blocked reading an empty stdin, the sandbox idle (waits.py).
        self.watch_input = watch_input
        self.watch = watch
        self.cpu_limit_s = cpu_limit_s  # of the whole sandbox, from the command's start (0: none)
        self.over_cpu = False  # the sandbox went over it: everything was killed
        self.status: int | None = None
        self.rusage: object = None
        self.childless = False  # the runner has no child left: nothing of the program's can remain
        self.started = time.monotonic()
        if not relay_stdin:
            self.close_stdin()

    def close_stdin(self) -> None:
        if self.stdin_w >= 0:
            os.close(self.stdin_w)
            self.stdin_w = -1

    def close_events(self) -> None:
        if self.events_w >= 0:
            os.close(self.events_w)
            self.events_w = -1

    def report(self) -> dict:
        """The exit frame's fields of how the command ended."""
        code = signal_name = None
        if self.status is not None and os.WIFSIGNALED(self.status):
            signal_name = name_of_signal(os.WTERMSIG(self.status))
        elif self.status is not None:
            code = os.WEXITSTATUS(self.status)
        cpu_ms = None
        if self.rusage is not None:
            cpu_ms = round((self.rusage.ru_utime + self.rusage.ru_stime) * 1000)
        if self.over_cpu:  # killed for what the sandbox used, which the server classifies as a timeout
            code, signal_name, cpu_ms = None, "SIGKILL", max(cpu_ms or 0, round(self.watch.used_s * 1000))
        return {
            "cpu_ms": cpu_ms,
            "code": code,
            "signal": signal_name,
            "time_ms": round((time.monotonic() - self.started) * 1000, 1),
            "memory_kb": getattr(self.rusage, "ru_maxrss", None),
        }


class Supervisor:
    """Relays stdin in, program output out, reaps processes, and reports how the program ended."""

    def __init__(self, stdin_fd: int = 0, out_fd: int = 1, spare: Spare | None = None) -> None:
        """Everything the job does not change, made before it comes (main.py): under gVisor the
        first look at the sandbox's CPU time alone costs a few milliseconds."""
        self.job: dict = {}
        self.spare = spare  # forked before the job came, for its first command (spare.py)
        self.stdin_fd = stdin_fd
        self.out_fd = out_fd
        self.pending_stdin = bytearray()
        self.stdin_open = True  # the program's stdin has not ended (an "eof" frame ends it)
        self.input_open = True  # the server's end of the runner's stdin is open (frames may come)
        self.input_buffer = bytearray()  # what came of the next input frame
        self.pending_events: list[bytes] = []  # canvas events for the program, one JSON line each
        self.memory_exceeded = False
        self.terminated = False
        self.workdir_prefix = b""
        self.files_written = False  # by the first command's process, as the program's user
        # PID 1 of its own namespace: a container, whose cgroup is the sandbox's alone.
        self.cpu = SandboxCpu(own_cgroup=os.getpid() == 1)
        self.first_watch: Watch | None = Watch(self.cpu)  # the first command's CPU time counts from here
        self.wakeup_r, wakeup_w = os.pipe()
        for fd in (self.wakeup_r, wakeup_w):
            fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)
        signal.set_wakeup_fd(wakeup_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self.terminate)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    def terminate(self, *_: object) -> None:
        self.terminated = True

    def run(self, job: dict) -> None:
        self.job = job
        self.pending_stdin = bytearray(job.get("stdin", "").encode())
        # The job's work dir, named as the program's getcwd() would, not entered: a runner that is
        # root in a container has no way into the program's user's folder.
        self.workdir_prefix = os.path.realpath(job.get("workdir") or ".").encode() + b"/"
        compile_cmd = job.get("compile")
        if compile_cmd:
            write_json_frame(self.out_fd, KIND["status"], {"phase": "compiling"})
            result = self.run_phase(compile_cmd, self.job.get("compile_limits", {}), relay_stdin=False)
            if result["code"] != 0 or self.terminated:
                result["phase"] = "compile"
                write_json_frame(self.out_fd, KIND["exit"], result)
                return
        write_json_frame(self.out_fd, KIND["status"], {"phase": "running"})
        oom_before = oom_kills()
        result = self.run_phase(self.job["run"], self.job.get("limits", {}), relay_stdin=True)
        result["phase"] = "run"
        result["memory"] = self.memory_exceeded or oom_kills() > oom_before
        write_json_frame(self.out_fd, KIND["exit"], result)

    def run_phase(self, command: list[str] | None, limits: dict, relay_stdin: bool) -> dict:
        """Run one command (None: the Python program, in a fork) until it and its pipes end. The
        run's command (relay_stdin) gets stdin and the job's arguments; the compile's neither."""
        phase = self.spawn(command, limits, relay_stdin)
        while self.step(phase):
            pass
        phase.close_stdin()
        phase.close_events()
        self.show_announced(phase)  # the program ended without waiting at its last prompt
        if phase.over_cpu:
            phase.watch.look()  # everything is gone now: what the sandbox used in all
        return phase.report()

    def spawn(self, command: list[str] | None, limits: dict, relay_stdin: bool) -> Phase:
        spare, self.spare = self.spare or Spare(), None
        watch, self.first_watch = self.first_watch or Watch(self.cpu), None  # its CPU time counts from here
        watch.start()
        # Python's input() announces its prompts, other languages print them: both are watched.
        watch_input = relay_stdin and (command is None or bool(self.job.get("watch_stdin")))
        args = self.job.get("args", []) if relay_stdin else []
        spare.become(self.job, command, limits, args, watch_input, files=not self.files_written)
        self.files_written = True
        stdin_w, stdout_r, stderr_r, control_r, events_w = spare.pipes()
        for fd in (stdin_w, stdout_r, stderr_r, control_r, events_w):
            fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)
        if not relay_stdin:
            os.close(events_w)
            events_w = -1
        return Phase(spare.pid, stdin_w, stdout_r, stderr_r, control_r, events_w, relay_stdin, watch_input,
                     watch, float(limits.get("cpu_time_limit_s") or 0))

    def step(self, phase: Phase) -> bool:
        """One turn of the loop: reap, wait for the pipes, move what is ready. False at the end."""
        if phase.status is None:
            self.reap(phase)
        if phase.status is not None and not phase.readers:
            return False
        if phase.status is not None or self.terminated or phase.over_cpu:
            # The program is gone: everything it left behind goes too, then drain the pipes.
            self.kill_everything(phase)
        if phase.stdin_w >= 0 and not self.stdin_open and not self.pending_stdin:
            phase.close_stdin()
        ready = self.wait(phase)
        if ready is not None:
            self.move(phase, *ready)
        if phase.status is None and not phase.over_cpu and time.monotonic() >= phase.watch.next_look:
            self.look(phase)
        return True

    def wait(self, phase: Phase) -> tuple[list[int], list[int]] | None:
        """The fds that are ready (None if a signal interrupted the wait)."""
        watch_read = [*phase.readers, self.wakeup_r]
        if phase.relay_stdin and self.input_open:
            watch_read.append(self.stdin_fd)
        watch_write = [phase.stdin_w] if phase.stdin_w >= 0 and self.pending_stdin else []
        if phase.events_w >= 0 and self.pending_events:
            watch_write.append(phase.events_w)
        timeout = max(0.0, phase.watch.next_look - time.monotonic()) if phase.status is None else IDLE_WAKE_S
        try:
            ready_read, ready_write, _ = select.select(watch_read, watch_write, [], timeout)
        except InterruptedError:
            return None
        return ready_read, ready_write

    def look(self, phase: Phase) -> None:
        """Every WATCH_S: the sandbox's CPU time against the limit, and whether the program waits
        for input (once per wait) or, reported waiting, is busy again."""
        watch = phase.watch
        busy, moved = watch.look()
        if phase.cpu_limit_s and watch.used_s > phase.cpu_limit_s + CPU_LIMIT_SLACK_S:
            phase.over_cpu = True
            self.kill_everything(phase)
        elif not phase.watch_input:
            return
        elif watch.reported and busy:
            self.resumed(phase)
        elif watch.reported or busy or moved:
            return  # not waiting, or it has been said
        elif watch.canvas_only():  # a turtle's main loop, waiting for clicks, keys or its timers
            if not self.pending_events and watch.blocked() and not runnable(os.getpid()):
                watch.reported = True
                write_json_frame(self.out_fd, KIND["prompt"], {"text": "", "canvas": True})
        elif self.pending_stdin or not self.stdin_open:
            return  # input is there, or none can come
        elif (watch.blocked() or waiting_for_input(phase.pid)) and not runnable(os.getpid()):
            watch.reported = True
            text, watch.text = watch.text or b"", None
            write_json_frame(self.out_fd, KIND["prompt"], {"text": text.decode("utf-8", "replace")})

    def resumed(self, phase: Phase) -> None:
        phase.watch.reported = False
        write_frame(self.out_fd, KIND["resumed"], b"")

    def show_announced(self, phase: Phase) -> None:
        """The prompt input() announced, if the program did not wait at it: shown as output, as on
        a terminal, before the output that comes after it."""
        text, phase.watch.text = phase.watch.text, None
        if text:
            write_frame(self.out_fd, KIND["stdout"], text)

    def move(self, phase: Phase, ready_read: list[int], ready_write: list[int]) -> None:
        if self.wakeup_r in ready_read:
            drain(self.wakeup_r)
        if self.stdin_fd in ready_read:
            self.receive_stdin()
        if phase.stdin_w in ready_write:
            self.feed_stdin(phase)
        if phase.events_w in ready_write:
            self.feed_events(phase)
        # Prompts first: the program let its earlier output be read before it sent one.
        for fd in (phase.control_r, phase.stdout_r, phase.stderr_r):
            if fd in ready_read and fd in phase.readers:
                self.forward(phase, fd)

    def reap(self, phase: Phase) -> None:
        ended, phase.childless = reap_children(phase.pid, self.cpu)
        if ended is not None:
            phase.status, phase.rusage = ended

    def kill_everything(self, phase: Phase) -> None:
        if phase.childless:
            # Orphans come to the runner (PID 1, or a subreaper): with no child, no process of the
            # program's is left, and none can start. kill(-1) costs 1-2 ms under gVisor.
            return
        if os.getpid() == 1:
            targets = [-1]  # PID 1 of its own namespace: every other process in the sandbox
        else:
            # the program's process group, and the children left to this subreaper (daemons
            # that called setsid)
            targets = [-phase.pid, *children_by_parent().get(os.getpid(), [])]
        for target in targets:
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        self.reap(phase)  # a program killed here (on SIGTERM) still ends with its own status

    def receive_stdin(self) -> None:
        """What the server sent: input frames (wire.INPUT_KINDS) for the program's stdin, its end,
        and the canvas's events. Its end, or anything not framed, ends them all."""
        try:
            data = os.read(self.stdin_fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.input_open = self.stdin_open = False
            return
        buffer = self.input_buffer
        buffer += data
        while len(buffer) >= FRAME_HEADER.size:
            kind, length = FRAME_HEADER.unpack_from(buffer)
            if kind not in INPUT_KINDS or length > MAX_INPUT_FRAME:
                self.input_open = self.stdin_open = False
                buffer.clear()
                return
            if len(buffer) < FRAME_HEADER.size + length:
                return
            payload = bytes(buffer[FRAME_HEADER.size : FRAME_HEADER.size + length])
            del buffer[: FRAME_HEADER.size + length]
            name = INPUT_KINDS[kind]
            if name == "stdin" and self.stdin_open:
                self.pending_stdin += payload
            elif name == "eof":
                self.stdin_open = False
            elif name == "event" and len(self.pending_events) < MAX_PENDING_EVENTS and b"\n" not in payload:
                self.pending_events.append(payload + b"\n")

    def feed_events(self, phase: Phase) -> None:
        """Canvas events to the program, whole lines (each under PIPE_BUF: written at once or not)."""
        while self.pending_events:
            try:
                os.write(phase.events_w, self.pending_events[0])
            except BlockingIOError:
                return
            except OSError:  # the program closed its end: it reads no events
                self.pending_events.clear()
                phase.close_events()
                return
            del self.pending_events[0]
            if phase.watch.canvas_only():  # a wait for stdin is not ended by a click
                phase.watch.moving()

    def feed_stdin(self, phase: Phase) -> None:
        try:
            written = os.write(phase.stdin_w, self.pending_stdin[:READ_SIZE])
            del self.pending_stdin[:written]
            phase.watch.moving()
        except BlockingIOError:
            pass
        except OSError:  # the program closed its stdin: what it did not read is dropped
            self.pending_stdin.clear()
            self.stdin_open = False
            phase.close_stdin()

    def forward(self, phase: Phase, fd: int) -> None:
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            os.close(fd)
            del phase.readers[fd]
            return
        kind = phase.readers[fd]
        if kind == CONTROL:
            skipped = min(phase.control_skip, len(data))
            phase.control_skip -= skipped
            if phase.control_buffer is not None and len(data) > skipped:
                phase.control_buffer += data[skipped:] if skipped else data
                self.take_control(phase)
            return
        self.show_announced(phase)
        phase.watch.moving()
        if kind == KIND["stderr"]:  # the person knows their file as main.c, not /work/main.c
            data = data.replace(self.workdir_prefix, b"")
        write_frame(self.out_fd, kind, data)

    def take_control(self, phase: Phase) -> None:
        """Act on the whole frames that came on the control pipe: from the Python program's
        input(), or forged by whatever runs in the sandbox. They announce; they report nothing."""
        buffer = phase.control_buffer
        shown = bytearray()  # announced prompts the program did not wait at, in one output frame
        while len(buffer) >= FRAME_HEADER.size and not phase.control_skip:
            kind, length = FRAME_HEADER.unpack_from(buffer)
            if kind == CONTROL_KIND["display"] and length > MAX_DISPLAY:
                self.skip_control_frame(phase, length)
                write_frame(self.out_fd, KIND["display"], b'{"size": %d}\n' % length)
                continue
            if kind == CONTROL_KIND["turtle"] and length > MAX_PROMPT:  # drawing too large to pass
                self.skip_control_frame(phase, length)
                continue
            if length > MAX_PROMPT and kind != CONTROL_KIND["display"]:  # no hook sends that: stop listening
                phase.control_buffer = None
                break
            if len(buffer) < FRAME_HEADER.size + length:
                break
            payload = bytes(buffer[FRAME_HEADER.size : FRAME_HEADER.size + length])
            del buffer[: FRAME_HEADER.size + length]
            if kind == CONTROL_KIND["display"]:
                self.display(phase, shown, payload)
                shown = bytearray()
            elif kind == CONTROL_KIND["turtle"]:
                phase.watch.moving()
                write_frame(self.out_fd, KIND["turtle"], payload)
            elif kind == CONTROL_KIND["prompt"]:
                if phase.watch.reported:  # announcing is running: not waiting any more
                    self.resumed(phase)
                shown += phase.watch.announce(payload) or b""
            elif kind == CONTROL_KIND["reading"]:
                phase.watch.reading(payload)
            elif kind == CONTROL_KIND["read"]:
                phase.watch.read(payload)
            elif kind == CONTROL_KIND["memory"]:
                self.memory_exceeded = True
        if shown:
            write_frame(self.out_fd, KIND["stdout"], bytes(shown))

    def display(self, phase: Phase, shown: bytearray, payload: bytes) -> None:
        """Pass a picture on, after the prompts announced before it (output that came before it
        was read first: the program waited for that). Its JSON line is made anew, of the fields
        a picture may have: the program's is the program's word."""
        if shown:
            write_frame(self.out_fd, KIND["stdout"], bytes(shown))
        if phase.watch.reported:
            self.resumed(phase)
        phase.watch.moving()
        line, _, data = payload.partition(b"\n")
        write_frame(self.out_fd, KIND["display"], picture_line(line) + b"\n" + data)

    def skip_control_frame(self, phase: Phase, length: int) -> None:
        """Drop a frame too large to pass on (a picture over a frame's size, say), as it comes."""
        buffer = phase.control_buffer
        del buffer[: FRAME_HEADER.size]
        dropped = min(length, len(buffer))
        del buffer[:dropped]
        phase.control_skip = length - dropped


def picture_line(line: bytes) -> bytes:
    """A picture's JSON line as the server gets it: its "id" and "name", strings, or nothing."""
    import json  # only for a program that shows pictures: it costs a start-up otherwise

    try:
        meta = json.loads(line)
    except (ValueError, RecursionError):
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    kept = {key: meta[key][:200] for key in ("id", "name") if isinstance(meta.get(key), str)}
    return to_json(kept).encode()


def reap_children(pid: int, cpu: SandboxCpu) -> tuple[tuple[int, object] | None, bool]:
    """Collect every child that has ended: the status and rusage of `pid` if it was one, and
    whether no child is left."""
    ended = None
    while True:
        try:
            found, status, rusage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return ended, True
        if found == 0:
            return ended, False
        cpu.reaped(rusage)
        if found == pid:
            ended = status, rusage


def drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except OSError as error:
        if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
            raise


def name_of_signal(number: int) -> str:
    import signal as signals  # its enum is slow to import: only for a program a signal ended

    try:
        return signals.Signals(number).name
    except ValueError:
        return f"SIG{number}"
