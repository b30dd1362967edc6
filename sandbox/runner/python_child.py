"""A Python program, run in a fork of the runner (so a warm sandbox has paid for the interpreter).

The fork gets standard streams as `python main.py` would have them on a terminal, an `input()`
that announces to the runner the prompt it will wait at (the runner sees for itself whether it
waits: waits.py), and tracebacks without the runner's own frames.
"""

import builtins
import fcntl
import io
import os
import select
import sys
import time
from _thread import get_native_id

from . import PACKAGE_DIR
from .wire import CONTROL_FD, CONTROL_KIND, MAX_PROMPT, write_frame

# termios.FIONREAD without importing termios where the value is the generic one
FIONREAD = 0x541B if os.uname().machine in ("x86_64", "aarch64") else __import__("termios").FIONREAD
OUTPUT_READ_WAIT_S = 0.05


# Compiled once before the job comes: the parser's first use takes memory the program's compile
# then finds ready (a fresh page costs a fault that gVisor's kernel serves: 1.5-3 ms in all).
WARM_UP = "def f(x):\n    return [str(i) for i in range(x)]\nprint(f(3), 'a' + \"b\")\n"


def prepare() -> None:
    """What the program's process does before its job comes, in case it is Python's: its
    standard streams and input() (the fds are in place: limits.child_streams), and a first
    compile. Nothing the job says; a process that execs another program loses it unused."""
    install_io()
    compile(WARM_UP, "warm-up.py", "exec", dont_inherit=True)
    from . import graphics  # noqa: F401 - loaded while it waits; installed by run_program


def run_program(job: dict) -> int:
    """The forked child's body, prepare()d: compile the program and run it as __main__; its exit
    status."""
    file_name = job["main"]
    source = job["files"][file_name]
    sys.argv = [file_name, *job.get("args", [])]
    sys.path[0] = os.getcwd()  # the program's folder, not the runner's

    main = type(sys)("__main__")
    main.__file__ = file_name
    sys.modules["__main__"] = main
    sys.excepthook = lambda kind, exc, tb: print_user_traceback(exc)
    from . import graphics  # here, not at the top: it uses this module (prepare() loaded it)

    graphics.install(job)
    try:
        code = compile(source, file_name, "exec", dont_inherit=True)
        exec(code, main.__dict__)
    except SystemExit as stop:
        return exit_status(stop.code)
    except BaseException as exc:  # noqa: BLE001 - report whatever the program raised
        print_user_traceback(exc)
        return 1
    finally:
        graphics.at_exit()
        flush_standard_streams()
    return 0


class Prompts:
    """Prompt texts announced to the runner, on CONTROL_FD, before the reads they are for."""

    def __init__(self) -> None:
        self.announced = False  # input() has sent the prompt for the read that comes next

    def reading(self, kind: bytes) -> None:
        """Tell the runner this thread blocks on stdin now ("reading"), or no longer ("read")."""
        try:
            write_frame(CONTROL_FD, kind, f"{os.getpid()} {get_native_id()}".encode())
        except OSError:
            pass

    def send(self, text: str) -> None:
        wait_until_output_is_read()
        try:
            write_frame(CONTROL_FD, CONTROL_KIND["prompt"], text.encode("utf-8", "replace")[:MAX_PROMPT])
        except OSError:
            pass


class PromptingStdin(io.RawIOBase):
    """fd 0, telling the runner when the program is about to block on it (with which prompt)."""

    def __init__(self, prompts: Prompts) -> None:
        super().__init__()
        self.prompts = prompts

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return 0

    def readinto(self, buffer) -> int:  # noqa: ANN001 - io protocol
        blocks = not select.select([0], [], [], 0)[0]
        if blocks and not self.prompts.announced:
            self.prompts.send("")  # a read that input() did not announce: a bare prompt
        self.prompts.announced = False
        if blocks:
            self.prompts.reading(CONTROL_KIND["reading"])
        try:
            data = os.read(0, len(buffer))
        finally:
            if blocks:
                self.prompts.reading(CONTROL_KIND["read"])
        buffer[: len(data)] = data
        return len(data)


def wait_until_output_is_read(timeout: float = OUTPUT_READ_WAIT_S) -> None:
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


def install_io() -> None:
    """Standard streams and an input() that prompts."""
    prompts = Prompts()
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(
        io.BufferedReader(PromptingStdin(prompts)), encoding="utf-8", errors="replace"
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
        prompts.send(str(prompt))
        prompts.announced = True
        line = sys.stdin.readline()
        prompts.announced = False
        if not line:
            raise EOFError("EOF when reading a line")
        return line[:-1] if line.endswith("\n") else line

    builtins.input = prompting_input


def print_user_traceback(exc: BaseException) -> None:
    """Print a traceback without the runner's own frames, as `python main.py` would."""
    import traceback  # only when a program fails: it is slow to import

    if isinstance(exc, MemoryError):
        report_memory()
    report = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    pending, seen = [report], set()
    while pending:  # the exception and every exception chained to it
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        frames = [frame for frame in current.stack if not is_runner_file(frame.filename)]
        current.stack = traceback.StackSummary.from_list(frames)
        pending += [chained for chained in (current.__cause__, current.__context__) if chained]
    sys.stderr.write("".join(report.format()))
    sys.stderr.flush()


def is_runner_file(file_name: str) -> bool:
    """Whether code comes from a module of this package (file names are absolute: see __main__)."""
    return os.path.dirname(file_name) == PACKAGE_DIR


def report_memory() -> None:
    try:
        write_frame(CONTROL_FD, CONTROL_KIND["memory"], b"")
    except OSError:
        pass


def exit_status(code: object) -> int:
    """The status of `sys.exit(code)`, which prints a code that is not a number."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1


def flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream must not hide the exit status
            pass
