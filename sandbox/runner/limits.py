"""What the runner asks of the kernel: rlimits, a clean start and a uid of its own for a
program, prctl for itself, whether the sandbox's memory cgroup has killed something, and how much
CPU the sandbox has used."""

import _signal as signal
import fcntl
import os
import resource

from .wire import CONTROL_FD, EVENTS_FD

KEPT_FD = CONTROL_FD + 1  # in the program's process, until it has read its orders (spare.py)
FIRST_SPARE_FD = 64  # where child_streams moves fds on their way into place
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
# resource, the job's limit (named as the server's setting: open_files_limit is
# CODYSKOOL_OPEN_FILES_LIMIT), its unit. The work dir's size bounds one file's; the local backend
# bounds memory by the address space and processes by RLIMIT_NPROC (Docker has cgroups for both).
RLIMITS = (
    ("RLIMIT_NOFILE", "open_files_limit", 1),
    ("RLIMIT_FSIZE", "workdir_limit_mb", 1 << 20),
    ("RLIMIT_AS", "memory_limit_mb", 1 << 20),
    ("RLIMIT_NPROC", "pids_limit", 1),
)
OOM_COUNTERS = (
    ("/sys/fs/cgroup/memory.events", "oom_kill"),  # cgroup v2
    ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),  # cgroup v1
)
CPU_COUNTERS = (  # the sandbox's cgroup's CPU time: its file, the line's key ("": the whole file), unit
    ("/sys/fs/cgroup/cpu.stat", "usage_usec", 1e-6),  # cgroup v2
    ("/sys/fs/cgroup/cpuacct/cpuacct.usage", "", 1e-9),  # cgroup v1 (Docker's, on these hosts)
    ("/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage", "", 1e-9),  # cgroup v1, the two controllers joined
)
CLOCK_TICK_S = 1 / os.sysconf("SC_CLK_TCK")  # the unit of the times in /proc/PID/stat


def apply_limits(limits: dict) -> None:
    cpu = limits.get("cpu_time_limit_s")
    if cpu:  # the hard limit a second later: SIGXCPU first, which the program may report
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu) + 1))
    for name, key, scale in RLIMITS:
        value = limits.get(key)
        if value:
            resource.setrlimit(getattr(resource, name), (int(value) * scale,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def become_user(uid: int) -> None:
    """In the program's process, once nothing it does needs privilege: the job's uid, which is its
    gid too (codyskool/sandbox/uids.py), and no supplementary groups. Leaving root for another uid
    clears every capability the process held (CapEff and CapPrm become 0), and what it execs gains
    none (no-new-privileges). The runner, root, then shares no uid with anything the program runs."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def child_streams(stdin_r: int, stdout_w: int, stderr_w: int, control_w: int, keep: int = -1,
                  events_r: int = -1) -> int:
    """In the forked child, before it becomes the user's program: its own process group, default
    signals, the program's pipes as fds 0-3 (and the canvas events' at EVENTS_FD), nothing else
    open but `keep`, which moves to fd 4 (-1 is returned if there is none to keep)."""
    os.setpgid(0, 0)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    wanted = {0: stdin_r, 1: stdout_w, 2: stderr_w, CONTROL_FD: control_w, KEPT_FD: keep, EVENTS_FD: events_r}
    # Each source out of the way first (one may sit where another is to go), then into place.
    moved = {target: fcntl.fcntl(source, fcntl.F_DUPFD, FIRST_SPARE_FD)
             for target, source in wanted.items() if source >= 0}
    for target, source in moved.items():
        os.dup2(source, target)
    for fd in range(3, EVENTS_FD):
        if fd not in moved:
            try:
                os.close(fd)
            except OSError:
                pass
    os.closerange(EVENTS_FD + (EVENTS_FD in moved), 4096)
    return KEPT_FD if keep >= 0 else -1


def prctl(option: int, value: int) -> None:
    """prctl(2) through _ctypes: the ctypes package around it costs more to import than the call.
    The function is made once, by the runner, and the program's process inherits it (making it
    there again cost 1 ms of its start under gVisor)."""
    if not PRCTL:
        try:
            import _ctypes

            class Libc:
                _handle = _ctypes.dlopen(None, os.RTLD_NOW)

            class CFunction(_ctypes.CFuncPtr):
                _flags_ = _ctypes.FUNCFLAG_CDECL  # no restype: the C int result comes back as an int

            PRCTL.append(CFunction(("prctl", Libc())))
        except (ImportError, OSError, AttributeError):
            PRCTL.append(None)
    if PRCTL[0] is not None:
        PRCTL[0](option, value, 0, 0, 0)


PRCTL: list = []  # prctl(2) once found, or None where it cannot be called


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


class SandboxCpu:
    """The CPU time, in seconds, the sandbox has used: its cgroup's counter when it has a cgroup
    of its own (a container's, which counts every process in it, the runner too), else what the
    runner's descendants use and have used, from /proc (the local backend)."""

    def __init__(self, own_cgroup: bool) -> None:
        found = [counter for counter in CPU_COUNTERS if own_cgroup and read_counter(counter) is not None]
        self.counter = found[0] if found else None
        self.reaped_s = 0.0  # what the runner's children it reaped used (the /proc count only)

    def used(self) -> float:
        if self.counter is not None:
            value = read_counter(self.counter)
            if value is not None:
                return value
        return self.reaped_s + tree_cpu_s(os.getpid())

    def reaped(self, rusage: object) -> None:
        """A child of the runner has ended: what it (and every child it waited for) used."""
        self.reaped_s += rusage.ru_utime + rusage.ru_stime


def read_counter(counter: tuple[str, str, float]) -> float | None:
    path, key, unit = counter
    try:
        with open(path) as values:
            for line in values:
                name, _, value = line.rpartition(" ")
                if name == key:
                    return int(value) * unit
    except (OSError, ValueError):
        pass
    return None


def tree_cpu_s(root: int) -> float:
    """The user and system time of root's descendants and of the children they waited for (not
    root's own), found through /proc (descendants): a few reads per process."""
    ticks = 0
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])  # u s cu cs
        except (OSError, IndexError, ValueError):
            continue
    return ticks * CLOCK_TICK_S


def descendants(root: int) -> list[int]:
    """Every process under root, through /proc/PID/task/TID/children; where the kernel has no such
    file (gVisor), from one read of every process's stat (children_by_parent)."""
    tree: dict[int, list[int]] | None = None
    found: list[int] = []
    pending = [root]
    while pending:
        pid = pending.pop()
        listed = children(pid) if tree is None else tree.get(pid, [])
        if listed is None:  # start again from one read of every process
            tree, found, pending = children_by_parent(), [], [root]
            continue
        found += listed
        pending += listed
    return found


def children(pid: int) -> list[int] | None:
    """The processes whose parent is `pid`, from /proc/PID/task/TID/children; None where the kernel
    has no such file (gVisor)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as listed:
                found += [int(child) for child in listed.read().split()]
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            continue
    return found


def children_by_parent() -> dict[int, list[int]]:
    """Every process's children, from its parent field in its stat: one read per process."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry))
    return tree
