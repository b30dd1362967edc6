"""Whether a program waits for input, as the runner sees it.

Two ways, either enough: the program's own hooks say a thread is about to block reading an empty
stdin (python_child.py's stdin, and lang/stdin-watch.c preloaded into every other program), or,
where the kernel has the file and lets the runner read it, /proc/PID/task/*/syscall shows a
thread in a read of fd 0, or an event loop (Node's libuv) asleep in epoll_wait with no timeout on
its main thread, which in a sandbox with no network and no timer pending only input can wake.
The file is there on the host (the local backend, the runner and the program one user), not
under gVisor; in a container under runc the runner is root without CAP_SYS_PTRACE and the program
another uid, so reading it is refused (EACCES, taken as "not seen"): in a container the hooks
alone say when a program waits, as they do under gVisor. The /proc files the rest needs (stat,
the task lists, children) are world-readable.

The hooks are hints, trusted no further than this: a thread blocked in a read while another
computes is no wait, so the sandbox must be idle too, its CPU time not growing and none of its
threads ready to run (a sandbox its CPU quota throttles, or that a busy host keeps waiting, uses
no CPU for a while, yet its threads stay runnable); a program reported waiting that uses the CPU
again is busy again. A program that claims to wait while it sleeps gains nothing a real wait
would not give it: its run's whole lifetime is bounded.
"""

import os
import time

from .limits import SandboxCpu, descendants

MACHINE = os.uname().machine
READ_SYSCALL = {"x86_64": "0", "aarch64": "63"}.get(MACHINE, "0")
EPOLL_SYSCALLS = {"x86_64": ("232", "281"), "aarch64": ("22",)}.get(MACHINE, ())  # epoll_(p)wait
INFINITE_TIMEOUT = 0xFFFFFFFF  # -1 as the int it is, whether or not the register was sign-extended


def waiting_for_input(pid: int) -> bool:
    """Whether the program is blocked until input comes: a thread in read(0, ...), or its main
    thread asleep in an event loop with nothing else to wait for."""
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


def runnable(root: int) -> bool:
    """Whether a thread of root's descendants is running or ready to run (state R in its stat)."""
    for pid in descendants(root):
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/stat", "rb") as stat:
                    if stat.read().rsplit(b")", 1)[1].split()[0] == b"R":
                        return True
            except (OSError, IndexError):
                continue
    return False


def event_loop_asleep(call: list[str]) -> bool:
    """epoll_wait(epfd, events, maxevents, timeout) with timeout -1, from a /proc syscall line."""
    if len(call) < 5 or call[0] not in EPOLL_SYSCALLS:
        return False
    return int(call[4], 16) & INFINITE_TIMEOUT == INFINITE_TIMEOUT


WATCH_S = 0.1  # how often the runner looks at the sandbox's CPU and at whether the program waits
ANNOUNCED_WATCH_S = 0.02  # how soon it looks after input() announced that it will read
BUSY_SHARE = 0.1  # the sandbox using more than this share of a CPU between two looks is busy


class Watch:
    """What the runner has seen of one command's sandbox: the CPU time it has used since the
    command began, and where the program stands with its input."""

    def __init__(self, cpu: SandboxCpu) -> None:
        self.cpu = cpu
        self.base = cpu.used()
        self.used_s = 0.0
        self.looked_at = time.monotonic()
        self.next_look = self.looked_at + WATCH_S
        self.moved = False  # output or input moved since the last look: the program is not waiting
        self.reported = False  # a prompt was sent for the wait the program is in
        self.text: bytes | None = None  # the prompt input() announced, for the wait it comes before
        # thread id -> (process id, whether it waits for the canvas's events rather than stdin):
        # threads that said they block until input comes
        self.readers: dict[int, tuple[int, bool]] = {}

    def start(self) -> None:
        """The command starts now: the first look comes WATCH_S from here (what it used counts
        from when the watch was made, which may be before the job came)."""
        self.looked_at = time.monotonic()
        self.next_look = self.looked_at + WATCH_S

    def look(self) -> tuple[bool, bool]:
        """Take the sandbox's CPU time: whether it was busy since the last look, and whether
        output or input moved since then."""
        now = time.monotonic()
        used = self.cpu.used() - self.base
        busy = used - self.used_s > BUSY_SHARE * (now - self.looked_at)
        moved, self.moved = self.moved, False
        self.used_s, self.looked_at, self.next_look = used, now, now + WATCH_S
        return busy, moved

    def announce(self, text: bytes) -> bytes | None:
        """input() is about to read with this prompt: look again soon. Returns the text announced
        before it, whose read did not wait: a terminal would have shown it anyway."""
        earlier, self.text = self.text, text
        self.look_soon()
        return earlier

    def look_soon(self) -> None:
        """The program is about to wait: the next look's window starts here (at most so often: a
        flood stays cheap), and comes soon. What it printed before, it let the runner read first."""
        if time.monotonic() - self.looked_at >= ANNOUNCED_WATCH_S:
            self.look()
        self.moved = False
        self.next_look = min(self.next_look, self.looked_at + ANNOUNCED_WATCH_S)

    def moving(self) -> None:
        """Output came or input went in: whatever wait was reported is over."""
        self.moved = True
        self.reported = False

    def reading(self, payload: bytes) -> None:
        """A hook's "reading": a thread ("PID TID") is about to block on stdin, or ("PID TID
        canvas") on the canvas's events (a turtle's main loop). Look again soon."""
        canvas = payload.endswith(b" canvas")
        ids = parse_ids(payload[: -len(b" canvas")] if canvas else payload)
        if ids is None:
            return
        self.readers[ids[1]] = (ids[0], canvas)
        self.look_soon()

    def read(self, payload: bytes) -> None:
        """A hook's "read": that thread's read returned."""
        ids = parse_ids(payload)
        if ids is not None:
            self.readers.pop(ids[1], None)

    def canvas_only(self) -> bool:
        """Whether every thread that said it blocks waits for the canvas, none for stdin."""
        return bool(self.readers) and all(canvas for _, canvas in self.readers.values())

    def blocked(self) -> bool:
        """Whether a thread that said it blocks on its input still does (its process is still there)."""
        for tid, (pid, _) in list(self.readers.items()):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                del self.readers[tid]  # killed in its read: it never said it returned
            except OSError:
                pass
        return bool(self.readers)


def parse_ids(payload: bytes) -> tuple[int, int] | None:
    """"PID TID" from a hook's frame; None for anything else (whatever runs may write garbage)."""
    parts = payload.split()
    if len(parts) != 2 or not all(part.isdigit() and len(part) < 12 for part in parts):
        return None
    return int(parts[0]), int(parts[1])
