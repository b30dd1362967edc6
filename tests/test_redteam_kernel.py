"""The red team against the kernel under the sandbox (issue 12, "depth under runc too").

Under runc every sandbox shares the host's kernel, so what a program can ask of that kernel is
the attack surface: the system calls the project's seccomp profile allows
(codyskool/sandbox/seccomp.py), the per-user quotas sandboxes would share if they ran as one uid,
and the host-wide facts /proc shows. Each test is one attack against the red team's Docker server,
under whichever runtime it runs (CODYSKOOL_DOCKER_RUNTIME=runsc for gVisor); where gVisor's own
kernel answers instead of the host's, the test says what holds there.
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import LiveServer
from live import DOCKER
from redteam_plugin import Connect, gvisor
from test_redteam import PRELUDE, escape

from codyskool.config import defaults
from codyskool.sandbox import procfs
from codyskool.sandbox.runtimes import GVISOR_MEMORY_HEADROOM_MB

pytestmark = pytest.mark.attack

MEMORY_LIMIT_MB = defaults()["MEMORY_LIMIT_MB"]  # the red team's servers keep the default
HOST_KERNEL = os.uname().release  # a sandbox that reports another one runs on gVisor's kernel

KERNEL_CALLS = r'''
import errno
libc.syscall.restype = ctypes.c_long
HOST_KERNEL = {host!r}

def refused_with(name, errors, number, *args):
    """A raw system call that must fail with one of `errors` (a name), not reach its kernel code."""
    result = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(arg) for arg in args])
    code = errno.errorcode.get(ctypes.get_errno(), "?") if result == -1 else f"returned {{result}}"
    expect(name, code in errors, code)
'''


def kernel_calls() -> str:
    return PRELUDE + KERNEL_CALLS.format(host=HOST_KERNEL)


def test_io_uring_is_out_of_reach(red: LiveServer, connect: Connect) -> None:
    """io_uring is where many recent kernel privilege escalations were: Docker's default profile
    allows it, the project's answers ENOSYS (so that libraries fall back to threads). Under gVisor
    the call reaches gVisor's own io_uring, in user space, never the host kernel's."""
    body = """
params = ctypes.create_string_buffer(120)
if os.uname().release == HOST_KERNEL:
    refused_with("io_uring_setup", ("ENOSYS", "EPERM"), 425, 8, ctypes.addressof(params))
    refused_with("io_uring_enter", ("ENOSYS", "EPERM"), 426, 0, 1, 0, 0, 0, 0)
    refused_with("io_uring_register", ("ENOSYS", "EPERM"), 427, 0, 0, 0, 0)
    refused_with("io_setup (Linux AIO)", ("ENOSYS", "EPERM"), 206, 8, ctypes.addressof(params))
else:
    for name in ("io_uring_setup", "io_uring_enter", "io_uring_register", "io_setup"):
        expect(f"{name}: answered by another kernel than the host's", True, os.uname().release)
"""
    escape(red, connect, kernel_calls() + body, 4)


def test_vsock_and_rare_socket_families_are_refused(red: LiveServer, connect: Connect) -> None:
    """AF_VSOCK talks to the hypervisor of a VM host (this one's, when it runs in one); Docker's
    default profile allows it. The profile allows four families by value, so neither 40 nor 40 with
    high bits set (seccomp compares 64 bits, the kernel uses the low 32) gets through."""
    body = """
refused("socket(AF_VSOCK)", lambda: socket.socket(40, socket.SOCK_STREAM))
refused_with("socket(AF_VSOCK) raw", ("EPERM", "EAFNOSUPPORT"), 41, 40, 1, 0)
refused_with("socket(AF_VSOCK + 2**32)", ("EPERM", "EAFNOSUPPORT"), 41, 40 + (1 << 32), 1, 0)
refused_with("socket(AF_ALG)", ("EPERM", "EAFNOSUPPORT"), 41, 38, 5, 0)
refused_with("socketpair(AF_VSOCK)", ("EPERM", "EAFNOSUPPORT", "EOPNOTSUPP"), 53, 40, 1, 0, 0)
expect("AF_UNIX still works", socket.socketpair() is not None)
expect("AF_INET still works", socket.socket(socket.AF_INET, socket.SOCK_STREAM) is not None)
"""
    escape(red, connect, kernel_calls() + body, 7)


def test_calls_docker_allows_and_no_program_needs(red: LiveServer, connect: Connect) -> None:
    """ptrace, odd personalities, 16-bit segments and page gifting are allowed by Docker's default
    profile; they stay out of the project's (under gVisor they reach gVisor's kernel only)."""
    body = """
if os.uname().release == HOST_KERNEL:
    refused_with("ptrace(PTRACE_TRACEME)", ("EPERM",), 101, 0, 0, 0, 0)
    refused_with("personality(PER_LINUX32)", ("EPERM",), 135, 8)
    refused_with("modify_ldt", ("EPERM",), 154, 0, 0, 0)
    refused_with("vmsplice", ("EPERM",), 278, 0, 0, 0, 0)
else:
    for name in ("ptrace", "personality", "modify_ldt", "vmsplice"):
        expect(f"{name}: answered by another kernel than the host's", True, os.uname().release)
refused_with("keyctl", ("EPERM", "EACCES", "ENOSYS"), 250, 0, 0, 0)
refused_with("userfaultfd", ("EPERM", "ENOSYS"), 323, 0)
"""
    escape(red, connect, kernel_calls() + body, 6)


INT80 = r"""#include <stdio.h>
int main(void) {
    long pid;
    __asm__ volatile ("int $0x80" : "=a"(pid) : "a"(20));  /* getpid in the 32-bit table */
    printf("int80 getpid answered %ld\n", pid);
    return 0;
}
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the 32-bit table of x86_64")
def test_the_32_bit_system_call_table_is_closed(red: LiveServer, connect: Connect) -> None:
    """The 32-bit entry point of a 64-bit kernel has had bugs of its own; no toolchain in the image
    builds 32-bit programs. Under runc the profile kills the caller (SIGSYS); gVisor answers with
    an error of its own."""
    result = connect(red).run_to_exit(INT80, "c", timeout=40)
    lines = result.stdout.splitlines()
    answers = [int(line.split()[-1]) for line in lines if line.startswith("int80 getpid")]
    assert all(answer < 0 for answer in answers), result.stdout  # an error number, never a pid
    if red.health()["runtime"] == "runc":
        assert result.exit["signal"] == "SIGSYS" and not answers, (result.exit, result.stdout)


# --- per-user quotas ------------------------------------------------------------------------------

INOTIFY_HOG = """import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
count = 0
while libc.inotify_init1(0) >= 0:
    count += 1
print(f"uid {os.getuid()} took {count} inotify instances: {os.strerror(ctypes.get_errno())}", flush=True)
input()
"""
INOTIFY_PROBE = """import ctypes, os, pwd
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
print("uid", os.getuid(), pwd.getpwuid(os.getuid()).pw_name, os.stat("/work").st_uid)
print("inotify", "ok" if fd >= 0 else os.strerror(ctypes.get_errno()))
"""


def test_one_sandbox_cannot_take_anothers_inotify_instances(red: LiveServer, connect: Connect) -> None:
    """The kernel caps inotify instances per user (fs.inotify.max_user_instances, 128 by default):
    when every sandbox ran as uid 10001, one that took them all left the others none (EMFILE)."""
    hog = connect(red)
    run_id = hog.start(INOTIFY_HOG)
    taken, _ = hog.wait_for("output", run_id)
    assert "Too many open files" in taken["data"], taken
    hog_uid = int(taken["data"].split()[1])
    probe = connect(red).run_to_exit(INOTIFY_PROBE)
    found = [DOCKER.inspect(container) for container in red.containers()]
    users = [program_uid(container) for container in found if container]
    hog.send("kill", {})
    hog.wait_for("exit", run_id)
    _, uid, name, work_owner = probe.stdout.splitlines()[0].split()
    assert probe.stdout.splitlines()[1] == "inotify ok", (taken, probe.stdout)
    assert int(uid) != hog_uid and name == "runner" and work_owner == uid, (taken, probe.stdout)
    assert len(users) == len(set(users)), f"two live sandboxes share a uid: {users}"


def program_uid(container: dict) -> str:
    """The uid a container's program runs as (its runner is root): the owner of its /work."""
    options = container["HostConfig"]["Tmpfs"]["/work"].split(",")
    return next(option for option in options if option.startswith("uid="))


# --- host-wide facts in /proc ---------------------------------------------------------------------

READ_PROC = """import json, os
def read(path):
    try:
        with open(path) as handle:
            return handle.read(8192)
    except OSError as error:
        return None if error.errno == 2 else f"error: {{error}}"
paths = {paths!r}
seen = {{path: read(path) for path in paths}}
try:
    seen["pressure files"] = [read("/proc/pressure/" + name) for name in os.listdir("/proc/pressure")]
except OSError:
    seen["pressure files"] = []
print(json.dumps(seen))
"""
PROC_PATHS = ["/proc/loadavg", "/proc/meminfo", "/proc/stat", "/proc/uptime", "/proc/self/mounts",
              *(path for path in procfs.MASKED if path not in ("/proc/pressure", "/proc/uptime"))]


def host_file(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def first_number(text: str, key: str) -> int:
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith(key)))


def test_proc_shows_the_sandbox_not_the_host(red: LiveServer, connect: Connect) -> None:
    """Load, memory, CPU time, pressure and uptime in /proc were the whole host's, so one sandbox
    could watch the machine (and the other runs on it) and see its RAM; now they are the
    sandbox's own under runc (faked or masked: codyskool/sandbox/procfs.py) and under gVisor."""
    host_uptime = float(host_file("/proc/uptime").split()[0])
    result = connect(red).run_to_exit(READ_PROC.format(paths=PROC_PATHS), timeout=30)
    seen = json.loads(result.stdout)
    assert seen["/proc/loadavg"].split()[:3] == ["0.00"] * 3, seen["/proc/loadavg"]
    # gVisor shows its cgroup's limit, which holds its own kernel's room too (host_memory_limit)
    headroom = GVISOR_MEMORY_HEADROOM_MB if gvisor(red) else 0
    assert first_number(seen["/proc/meminfo"], "MemTotal:") == (MEMORY_LIMIT_MB + headroom) << 10
    assert first_number(host_file("/proc/meminfo"), "MemTotal:") != MEMORY_LIMIT_MB << 10
    assert set(seen["/proc/stat"].splitlines()[0].split()[1:]) == {"0"}, "CPU time of the host"
    assert set(host_file("/proc/stat").splitlines()[0].split()[1:]) != {"0"}
    assert first_number(seen["/proc/stat"], "btime") != first_number(host_file("/proc/stat"), "btime")
    assert not any(seen["pressure files"]), seen["pressure files"]
    uptime = seen["/proc/uptime"]
    assert not uptime or float(uptime.split()[0]) < host_uptime, f"the host's uptime: {uptime}"
    runc = red.health()["runtime"] == "runc"
    for path in PROC_PATHS[5:]:  # masked under runc; gVisor has none of them, or its own
        assert not seen[path] or (not runc and seen[path] != host_file(path)), f"{path}: {seen[path][:200]}"
    if not runc:  # gVisor: no host path in the mounts either
        assert "/var/lib/docker" not in seen["/proc/self/mounts"], seen["/proc/self/mounts"]
