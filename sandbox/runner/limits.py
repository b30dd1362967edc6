"""What the runner asks of the kernel: rlimits and a clean start for a program, prctl for
itself, and whether the sandbox's memory cgroup has killed something."""

import _signal as signal
import os
import resource

from .wire import CONTROL_FD

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


def apply_limits(limits: dict) -> None:
    cpu = limits.get("cpu_time_limit_s")
    if cpu:  # the hard limit a second later: SIGXCPU first, which the program may report
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu) + 1))
    for name, key, scale in RLIMITS:
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
