"""The in-sandbox runner: runs one program and reports on it through framed messages.

This file runs inside the sandbox (as the container's PID 1, or under the local backend as a
subprocess) with nothing but the standard library. It is the only thing that talks to the server:

* It reads a job from standard input: a 4-byte big-endian length, then that many bytes of the job
  in `marshal` format (files, compile and run commands, limits): only the server writes there,
  and marshal costs no import at start-up. Everything after the job is the program's stdin.
* It writes frames to standard output: a 1-byte kind, a 4-byte big-endian length, the payload.
  Kinds are listed in ``FRAME_KINDS``. ``codyskool.sandbox.channel`` decodes them on the server.

Python programs run in a fork of this process, so a pre-started sandbox has already paid for the
interpreter's start (the warm pool). Other languages are exec'ed as child processes.
"""

# Imports are few and cheap on purpose: a run's sandbox starts this interpreter afresh, and on a
# busy host the CPU it spends here is a share of how many runs per second the host can do
# (`signal` pulls in `enum`, `array` `collections.abc`, `ctypes` a whole FFI: about 5 ms).
import _signal as signal
import builtins
import errno
import fcntl
import io
import marshal
import os
import resource
import select
import struct
import sys
import time

FRAME_HEADER = struct.Struct(">cI")
FRAME_KINDS = {
    b"r": "ready",  # empty: the runner has started and waits for its job
    b"o": "stdout",  # program output, raw bytes
    b"e": "stderr",
    b"p": "prompt",  # JSON {"text": str}: the program waits for a line of input
    b"s": "status",  # JSON {"phase": "compiling" | "running"}
    b"x": "exit",  # JSON {"code", "signal", "time_ms", "memory_kb", "phase", "memory"}
}
RUNNER_FILE = (lambda: None).__code__.co_filename  # runner.py, also when run from runner.pyc
RUNNER_DIR = os.path.dirname(os.path.abspath(RUNNER_FILE))
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
CONTROL_FD = 3
INPUT_WATCH_S = 0.1  # in the program's process: where the prompt hook writes its frames
READ_SIZE = 65536


OOM_COUNTERS = (
    ("/sys/fs/cgroup/memory.events", "oom_kill"),  # cgroup v2
    ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),  # cgroup v1
)


def oom_kills() -> int:
    """How many processes the sandbox's memory cgroup has killed so far (0 without a cgroup)."""
    for path, key in OOM_COUNTERS:
        try:
            with open(path) as counters:
                for line in counters:
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


def write_frame(fd: int, kind: bytes, payload: bytes) -> None:
    data = FRAME_HEADER.pack(kind, len(payload)) + payload
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except InterruptedError:
            continue
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[written:]


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
    (length,) = struct.unpack(">I", read_exact(fd, 4))
    return marshal.loads(read_exact(fd, length))


# --- limits and process setup ------------------------------------------------------------


MACHINE = os.uname().machine
READ_SYSCALL = {"x86_64": "0", "aarch64": "63"}.get(MACHINE, "0")
EPOLL_SYSCALLS = {"x86_64": ("232", "281"), "aarch64": ("22",)}.get(MACHINE, ())  # epoll_(p)wait
# termios.FIONREAD without importing termios where the value is the generic one
FIONREAD = 0x541B if MACHINE in ("x86_64", "aarch64") else __import__("termios").FIONREAD
INFINITE_TIMEOUT = 0xFFFFFFFF  # -1 as the int it is, whether or not the register was sign-extended


def waiting_for_input(pid: int) -> bool:
    """Whether the program is blocked until input comes, per /proc/PID/task/*/syscall.

    Either a thread is in read(0, ...), or the main thread of an event loop (Node's libuv) sleeps
    in epoll_wait with no timeout: with no network and no timer pending, only input wakes it.
    """
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/syscall") as current:
                call = current.read().split()
        except OSError:
            continue
        if call[:2] == [READ_SYSCALL, "0x0"] or (task == str(pid) and event_loop_asleep(call)):
            return True
    return False


def event_loop_asleep(call: list[str]) -> bool:
    """epoll_wait(epfd, events, maxevents, timeout) with timeout -1, from a /proc syscall line."""
    if len(call) < 5 or call[0] not in EPOLL_SYSCALLS:
        return False
    return int(call[4], 16) & INFINITE_TIMEOUT == INFINITE_TIMEOUT


def apply_limits(limits: dict) -> None:
    cpu = limits.get("cpu_s")
    if cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu) + 1))
    for name, key, scale in (
        ("RLIMIT_NOFILE", "open_files", 1),
        ("RLIMIT_FSIZE", "file_size_mb", 1 << 20),
        ("RLIMIT_AS", "address_space_mb", 1 << 20),
        ("RLIMIT_NPROC", "processes", 1),
    ):
        value = limits.get(key)
        if value:
            resource.setrlimit(getattr(resource, name), (int(value) * scale,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def child_setup(limits: dict, stdin_r: int, stdout_w: int, stderr_w: int, control_w: int) -> None:
    """Runs in the forked child before it becomes the user's program."""
    os.setpgid(0, 0)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    os.dup2(stdin_r, 0)
    os.dup2(stdout_w, 1)
    os.dup2(stderr_w, 2)
    os.dup2(control_w, CONTROL_FD)
    os.closerange(CONTROL_FD + 1, 4096)
    apply_limits(limits)


# --- Python programs, run in a fork of this interpreter ----------------------------------


class _PromptingRawStdin:
    """A raw stdin that tells the server when the program is about to block on it."""

    def __init__(self) -> None:

        class Raw(io.RawIOBase):
            def readable(self) -> bool:
                return True

            def fileno(self) -> int:
                return 0

            def readinto(self, buffer) -> int:  # noqa: ANN001 - io protocol
                if not _PromptState.announced and not select.select([0], [], [], 0)[0]:
                    _PromptState.send("")
                _PromptState.announced = False
                data = os.read(0, len(buffer))
                buffer[: len(data)] = data
                return len(data)

        self.raw = Raw()


class _PromptState:
    announced = False

    @staticmethod
    def send(text: str) -> None:
        _wait_until_output_is_read()
        try:
            write_json_frame(CONTROL_FD, b"p", {"text": text})
        except OSError:
            pass


def _wait_until_output_is_read(timeout: float = 0.05) -> None:
    """Output and prompts travel on different pipes: let the runner read the output first."""

    pending = bytearray(4)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = 0
        for fd in (1, 2):
            try:
                fcntl.ioctl(fd, FIONREAD, pending, True)
                waiting += int.from_bytes(pending, sys.byteorder)
            except OSError:
                pass
        if not waiting:
            return
        time.sleep(0.0005)


def _install_python_io(file_name: str) -> None:

    sys.stdin = sys.__stdin__ = io.TextIOWrapper(
        io.BufferedReader(_PromptingRawStdin().raw), encoding="utf-8", errors="replace"
    )
    for fd, name in ((1, "stdout"), (2, "stderr")):
        # Line-buffered, as on a terminal: a line arrives whole, a prompt is flushed by input().
        stream = io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(fd, "w", closefd=False)),
            encoding="utf-8",
            errors="backslashreplace",
            line_buffering=True,
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)

    def prompting_input(prompt: object = "") -> str:
        sys.stdout.flush()
        sys.stderr.flush()
        _PromptState.send(str(prompt))
        _PromptState.announced = True
        line = sys.stdin.readline()
        _PromptState.announced = False
        if not line:
            raise EOFError("EOF when reading a line")
        return line[:-1] if line.endswith("\n") else line

    builtins.input = prompting_input


def _user_traceback(exc: BaseException, file_name: str) -> None:
    """Print a traceback without the runner's own frames, as `python main.py` would."""
    import traceback  # only when a program fails: it is slow to import

    if isinstance(exc, MemoryError):
        _report_memory()
    report = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    pending, seen = [report], set()
    while pending:  # the exception and every exception chained to it
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        frames = [frame for frame in current.stack if frame.filename != RUNNER_FILE]
        current.stack = traceback.StackSummary.from_list(frames)
        pending += [chained for chained in (current.__cause__, current.__context__) if chained]
    sys.stderr.write("".join(report.format()))
    sys.stderr.flush()


def _report_memory() -> None:
    try:
        write_frame(CONTROL_FD, b"m", b"")
    except OSError:
        pass


def run_python_in_process(job: dict) -> int:
    """The forked child's body for a Python program: compile and run it as __main__."""
    file_name = job["main"]
    source = job["files"][file_name]
    _install_python_io(file_name)
    sys.argv = [file_name, *job.get("args", [])]
    sys.path[0] = os.getcwd()  # the program's folder, not the runner's

    main = type(sys)("__main__")
    main.__file__ = file_name
    sys.modules["__main__"] = main
    sys.excepthook = lambda kind, exc, tb: _user_traceback(exc, file_name)
    try:
        code = compile(source, file_name, "exec", dont_inherit=True)
        exec(code, main.__dict__)
    except SystemExit as stop:
        return _exit_status(stop.code)
    except BaseException as exc:  # noqa: BLE001 - report whatever the program raised
        _user_traceback(exc, file_name)
        return 1
    finally:
        _flush_standard_streams()
    return 0


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1


def _flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream must not hide the exit status
            pass


# --- the supervisor ---------------------------------------------------------------------


class Supervisor:
    """Relays stdin in, program output out, reaps processes, and reports how the program ended."""

    def __init__(self, job: dict, stdin_fd: int = 0, out_fd: int = 1) -> None:
        self.job = job
        self.stdin_fd = stdin_fd
        self.out_fd = out_fd
        self.pending_stdin = bytearray(job.get("stdin", "").encode())
        self.stdin_open = True
        self.memory_exceeded = False
        self.wakeup_r, wakeup_w = os.pipe()
        for fd in (self.wakeup_r, wakeup_w):
            fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)
        signal.set_wakeup_fd(wakeup_w)
        self.terminated = False
        self.workdir_prefix = os.getcwd().encode() + b"/"
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self.terminate)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    def terminate(self, *_: object) -> None:
        self.terminated = True

    def run(self) -> None:
        compile_cmd = self.job.get("compile")
        if compile_cmd:
            write_json_frame(self.out_fd, b"s", {"phase": "compiling"})
            result = self.run_phase(compile_cmd, self.job.get("compile_limits", {}), relay_stdin=False)
            if result["code"] != 0 or self.terminated:
                result["phase"] = "compile"
                write_json_frame(self.out_fd, b"x", result)
                return
        write_json_frame(self.out_fd, b"s", {"phase": "running"})
        oom_before = oom_kills()
        result = self.run_phase(self.job["run"], self.job.get("limits", {}), relay_stdin=True)
        result["phase"] = "run"
        result["memory"] = self.memory_exceeded or oom_kills() > oom_before
        write_json_frame(self.out_fd, b"x", result)

    def spawn(self, command: list[str] | None, limits: dict) -> tuple[int, int, int, int, int]:
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        control_r, control_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                child_setup(limits, stdin_r, stdout_w, stderr_w, control_w)
                if command is None:
                    os._exit(run_python_in_process(self.job))
                env = {"HOME": os.getcwd(), **(self.job.get("env") or {})}
                command = [arg.replace("{runner_dir}", RUNNER_DIR) for arg in command]
                os.execvpe(command[0], [*command, *self.job.get("args", [])], env)
            except BaseException as exc:  # noqa: BLE001 - report, never fall back into the runner
                try:
                    os.write(2, f"cannot start the program: {exc}\n".encode())
                finally:
                    os._exit(127)
        for fd in (stdin_r, stdout_w, stderr_w, control_w):
            os.close(fd)
        for fd in (stdin_w, stdout_r, stderr_r, control_r):
            fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)
        return pid, stdin_w, stdout_r, stderr_r, control_r

    def run_phase(self, command: list[str] | None, limits: dict, relay_stdin: bool) -> dict:
        started = time.monotonic()
        pid, stdin_w, stdout_r, stderr_r, control_r = self.spawn(command, limits)
        # Programs without a prompt hook (all but Python's) are watched instead: blocked reading
        # an empty stdin means waiting for input, which the server must not count as run time.
        watch_input = relay_stdin and bool(self.job.get("watch_stdin"))
        announced = False
        if not relay_stdin:
            os.close(stdin_w)
            stdin_w = -1
        readers = {stdout_r: b"o", stderr_r: b"e", control_r: b"c"}
        status = None
        rusage = None
        control_buffer = bytearray()
        while True:
            if status is None:
                status, rusage = self.reap(pid, status, rusage)
            if status is not None and not readers:
                break
            if status is not None or self.terminated:
                # The program is gone: everything it left behind goes too, then drain the pipes.
                self.kill_everything(pid)
            if stdin_w >= 0 and not self.stdin_open and not self.pending_stdin:
                os.close(stdin_w)
                stdin_w = -1
            watch_read = [*readers, self.wakeup_r]
            if relay_stdin and self.stdin_open:
                watch_read.append(self.stdin_fd)
            watch_write = [stdin_w] if stdin_w >= 0 and self.pending_stdin else []
            try:
                timeout = INPUT_WATCH_S if watch_input else 0.5
                ready_read, ready_write, _ = select.select(watch_read, watch_write, [], timeout)
            except InterruptedError:
                continue
            if watch_input and status is None:
                if ready_write or stdout_r in ready_read or stderr_r in ready_read:
                    announced = False  # it did something: a later wait is a new prompt
                elif not ready_read and not announced and self.stdin_open and not self.pending_stdin:
                    announced = waiting_for_input(pid)
                    if announced:
                        write_json_frame(self.out_fd, b"p", {"text": ""})
            if self.wakeup_r in ready_read:
                self.drain(self.wakeup_r)
            if self.stdin_fd in ready_read:
                self.receive_stdin()
            if ready_write:
                stdin_w = self.feed_stdin(stdin_w)
            # Prompts first: the program let its earlier output be read before it sent one.
            for fd in (control_r, stdout_r, stderr_r):
                if fd in ready_read and fd in readers:
                    self.forward(fd, readers, control_buffer)
        if stdin_w >= 0:
            os.close(stdin_w)
        return self.describe(status, rusage, started)

    def reap(self, pid: int, status: int | None, rusage: object) -> tuple[int | None, object]:
        while True:
            try:
                found, found_status, found_rusage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return status, rusage
            if found == 0:
                return status, rusage
            if found == pid:
                status, rusage = found_status, found_rusage

    def kill_everything(self, pid: int) -> None:
        if os.getpid() == 1:
            targets = [-1]  # PID 1 of its own namespace: every other process in the sandbox
        else:
            targets = [-pid, *self.descendants()]
        for target in targets:
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        self.reap(pid, None, None)

    def descendants(self) -> list[int]:
        """Children left to this subreaper (daemons that called setsid), found through /proc."""
        me = os.getpid()
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                found.append(int(entry))
        return found

    def receive_stdin(self) -> None:
        try:
            data = os.read(self.stdin_fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.pending_stdin += data
        else:
            self.stdin_open = False

    def feed_stdin(self, stdin_w: int) -> int:
        try:
            written = os.write(stdin_w, self.pending_stdin[:READ_SIZE])
            del self.pending_stdin[:written]
        except BlockingIOError:
            pass
        except OSError:  # the program closed its stdin: what it did not read is dropped
            self.pending_stdin.clear()
            self.stdin_open = False
            os.close(stdin_w)
            return -1
        return stdin_w

    def forward(self, fd: int, readers: dict, control_buffer: bytearray) -> None:
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            os.close(fd)
            del readers[fd]
            return
        kind = readers[fd]
        if kind == b"e":  # the person knows their file as main.c, not /work/main.c
            data = data.replace(self.workdir_prefix, b"")
        if kind != b"c":
            write_frame(self.out_fd, kind, data)
            return
        control_buffer += data
        self.forward_control(control_buffer)

    def forward_control(self, buffer: bytearray) -> None:
        while len(buffer) >= FRAME_HEADER.size:
            kind, length = FRAME_HEADER.unpack_from(buffer)
            if len(buffer) < FRAME_HEADER.size + length:
                return
            payload = bytes(buffer[FRAME_HEADER.size : FRAME_HEADER.size + length])
            del buffer[: FRAME_HEADER.size + length]
            if kind == b"p":
                write_frame(self.out_fd, b"p", payload)
            elif kind == b"m":
                self.memory_exceeded = True

    @staticmethod
    def drain(fd: int) -> None:
        try:
            while os.read(fd, 4096):
                pass
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise

    @staticmethod
    def describe(status: int | None, rusage: object, started: float) -> dict:
        code = signal_name = None
        if status is not None and os.WIFSIGNALED(status):
            signal_name = name_of_signal(os.WTERMSIG(status))
        elif status is not None:
            code = os.WEXITSTATUS(status)
        memory_kb = getattr(rusage, "ru_maxrss", None)
        cpu_ms = None
        if rusage is not None:
            cpu_ms = round((rusage.ru_utime + rusage.ru_stime) * 1000)
        return {
            "cpu_ms": cpu_ms,
            "code": code,
            "signal": signal_name,
            "time_ms": round((time.monotonic() - started) * 1000, 1),
            "memory_kb": memory_kb,
        }


def name_of_signal(number: int) -> str:
    import signal as signals  # its enum is slow to import: only for a program a signal ended

    try:
        return signals.Signals(number).name
    except ValueError:
        return f"SIG{number}"


def prctl(option: int, value: int) -> None:
    """prctl(2) through _ctypes: the ctypes package around it costs more to import than the call."""
    try:
        import _ctypes

        class Libc:
            _handle = _ctypes.dlopen(None, os.RTLD_NOW)

        class CFunction(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL  # no restype: the C int result comes back as an int

        CFunction(("prctl", Libc()))(option, value, 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        pass


def main() -> None:
    # Not dumpable: the program runs as the same user, and must not ptrace the runner or open
    # /proc/1/fd/* to forge its reports (a program's exec makes the program dumpable again).
    prctl(PR_SET_DUMPABLE, 0)
    os.umask(0o077)
    os.set_blocking(0, True)  # the server's end of the pipe may have been made non-blocking
    write_frame(1, b"r", b"")
    job = read_job()
    if job.get("workdir"):
        os.chdir(job["workdir"])
    for name, text in job["files"].items():
        with open(name, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    if os.getpid() != 1:  # adopt daemonized grandchildren so they can be found and killed at the end
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    Supervisor(job).run()


if __name__ == "__main__":
    main()
    os._exit(0)  # every frame went out through os.write: tearing the interpreter down is wasted CPU
