"""The sandbox's own seccomp profile: Docker's default, minus what no learner's program needs.

Docker's default profile (moby's profiles/seccomp/default.json) allows about 300 system calls to a
container without capabilities. This one starts from that list and leaves out what Python, C, C++,
Java, Node.js, Ruby, Bash and the runner never call but a kernel exploit often does: io_uring and
Linux AIO, ptrace, socket families other than Unix, IPv4, IPv6 and netlink (AF_VSOCK reaches the
hypervisor's side of a VM), the 32-bit system call tables, and a few rarities (below, each with
its reason). A call that is not allowed fails with EPERM; io_uring, AIO and clone3 fail with
ENOSYS, which is how a library learns to fall back (glibc's clone3 to clone, libuv's io_uring to
threads). The container never has a capability (CapDrop ALL), so none of Docker's
capability-gated rules (mount, unshare, setns, bpf, perf_event_open, ...) is needed: without an
entry here they fail, as they do under Docker's default without capabilities. Calls absent from
Docker's default stay absent (keyctl, add_key, request_key, userfaultfd, kexec_load, ...).

docs/security.md lists what each layer blocks; tests/test_redteam_kernel.py tries the calls.
gVisor (runsc) does not apply this profile: its own kernel has no io_uring unless told to, and no
AF_VSOCK, and it filters its own calls to the host.
"""

from __future__ import annotations

import errno
import functools
import json
from typing import Any

# One group per concern; the names are the x86_64 and aarch64 ones (a name a table lacks is
# skipped by runc, e.g. open and fork on aarch64). 32-bit-only names (stat64, _llseek, socketcall,
# *_time64, ...) are not listed: the profile allows no 32-bit table at all.
ALLOWED: dict[str, tuple[str, ...]] = {
    "files": (
        "access", "chdir", "chmod", "chown", "close", "close_range", "copy_file_range", "creat",
        "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fallocate", "fchdir",
        "fchmod", "fchmodat", "fchown", "fchownat", "fcntl", "fdatasync", "flock", "fstat",
        "fstatfs", "fsync", "ftruncate", "futimesat", "getcwd", "getdents", "getdents64", "lchown",
        "link", "linkat", "lseek", "lstat", "mkdir", "mkdirat", "mknod", "mknodat", "newfstatat",
        "open", "openat", "openat2", "pread64", "preadv", "preadv2", "pwrite64", "pwritev",
        "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "rename", "renameat",
        "renameat2", "rmdir", "sendfile", "splice", "stat", "statfs", "statx", "symlink",
        "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate", "umask", "unlink",
        "unlinkat", "utime", "utimensat", "utimes", "write", "writev",
    ),
    "extended attributes": (
        "fgetxattr", "flistxattr", "fremovexattr", "fsetxattr", "getxattr", "lgetxattr",
        "listxattr", "llistxattr", "lremovexattr", "lsetxattr", "removexattr", "setxattr",
    ),
    "waiting on descriptors": (
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "epoll_wait",
        "eventfd", "eventfd2", "inotify_add_watch", "inotify_init", "inotify_init1",
        "inotify_rm_watch", "pipe", "pipe2", "poll", "ppoll", "pselect6", "select", "signalfd",
        "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_settime",
    ),
    "memory": (
        "brk", "madvise", "membarrier", "memfd_create", "mincore", "mlock", "mlock2", "mlockall",
        "mmap", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap",
    ),
    "processes and threads": (
        "arch_prctl", "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork",
        "futex", "futex_waitv", "get_robust_list", "get_thread_area", "getpgid", "getpgrp",
        "getpid", "getppid", "getpriority", "getrlimit", "getrusage", "getsid", "gettid",
        "ioprio_get", "ioprio_set", "kill", "pidfd_open", "pidfd_send_signal", "prctl",
        "prlimit64", "restart_syscall", "rseq", "set_robust_list", "set_thread_area",
        "set_tid_address", "setpgid", "setpriority", "setrlimit", "setsid", "tgkill", "tkill",
        "vfork", "wait4", "waitid",
        "seccomp",  # a process may only add filters; prctl(PR_SET_SECCOMP) reaches the same code
    ),
    "identity (the set* calls fail without capabilities, as the kernel decides)": (
        "getegid", "geteuid", "getgid", "getgroups", "getresgid", "getresuid", "getuid",
        "setfsgid", "setfsuid", "setgid", "setgroups", "setregid", "setresgid", "setresuid",
        "setreuid", "setuid",
    ),
    "signals": (
        "alarm", "getitimer", "pause", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
        "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_tgsigqueueinfo", "setitimer", "sigaltstack",
    ),
    "time (setting the clock needs CAP_SYS_TIME: adjtimex only reads it here)": (
        "adjtimex", "clock_adjtime", "clock_getres", "clock_gettime", "clock_nanosleep",
        "gettimeofday", "nanosleep", "time", "timer_create", "timer_delete", "timer_getoverrun",
        "timer_gettime", "timer_settime", "times",
    ),
    "scheduling": (
        "getcpu", "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity",
        "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
    ),
    "the system": ("getrandom", "ioctl", "sysinfo", "uname"),
    "sockets (socket and socketpair themselves: see SOCKET_FAMILIES)": (
        "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt",
        "listen", "recvfrom", "recvmmsg", "recvmsg", "sendmmsg", "sendmsg", "sendto", "setsockopt",
        "shutdown",
    ),
    "System V and POSIX IPC (the container has its own IPC namespace)": (
        "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedsend", "mq_unlink",
        "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop", "shmat",
        "shmctl", "shmdt", "shmget",
    ),
}  # fmt: skip

# Allowed in Docker's default, left out here (so: EPERM), and why nobody misses them.
LEFT_OUT: dict[str, str] = {
    "ptrace": "no debugger in the image; the runner's /proc/PID/task/*/syscall is a permission check, not "
              "this call",
    "fanotify_mark": "useless without fanotify_init, which needs CAP_SYS_ADMIN",
    "landlock_create_ruleset": "a program's own sandboxing; none of the runtimes use it",
    "landlock_add_rule": "as landlock_create_ruleset",
    "landlock_restrict_self": "as landlock_create_ruleset",
    "memfd_secret": "secret memory areas, for key stores",
    "modify_ldt": "16-bit segments, for Wine and DOS emulators; a history of kernel bugs",
    "name_to_handle_at": "file handles for user-space NFS servers",
    "process_mrelease": "for Android's low-memory killer",
    "remap_file_pages": "deprecated since Linux 3.16 (emulated)",
    "vmsplice": "gifting user pages to a pipe; the core of several kernel exploits",
    "epoll_ctl_old": "never implemented on x86_64",
    "epoll_wait_old": "never implemented on x86_64",
}

# Refused with ENOSYS, "not implemented", so that a library falls back to what it did before.
NOT_IMPLEMENTED: dict[str, tuple[str, ...]] = {
    "io_uring: a large, young kernel interface (many local privilege escalations); libuv and "
    "liburing fall back to threads": ("io_uring_setup", "io_uring_enter", "io_uring_register"),
    "Linux native AIO: glibc's POSIX aio uses threads instead": (
        "io_setup", "io_submit", "io_getevents", "io_pgetevents", "io_cancel", "io_destroy",
    ),
    "clone3 cannot be filtered by its flags (they are in memory): glibc falls back to clone, "
    "whose namespace flags are filtered": ("clone3",),
}

# socket(2) and socketpair(2) by their first argument, the address family. An allowlist: a deny
# rule for AF_VSOCK alone would let 40 + 2**32 through (seccomp compares 64 bits, the kernel uses 32).
SOCKET_FAMILIES = {"AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16}  # netlink: getaddrinfo's
SOCKETPAIR_FAMILIES = {"AF_UNIX": 1}
PERSONALITIES = {"PER_LINUX": 0, "query": 0xFFFFFFFF}  # Docker also allows PER_LINUX32 and UNAME26
CLONE_NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
ARCHITECTURES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"]  # 64-bit only: no x86, x32 or arm table


def allowed_names() -> list[str]:
    """Every system call the profile allows with any arguments, sorted."""
    return sorted(name for names in ALLOWED.values() for name in names)


def argument_rules() -> list[dict[str, Any]]:
    """The calls allowed for some arguments only: one rule per allowed value (rules are ORed)."""
    def equal(name: str, value: int) -> dict[str, Any]:
        return {"names": [name], "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": value, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}

    rules = [equal("socket", family) for family in SOCKET_FAMILIES.values()]
    rules += [equal("socketpair", family) for family in SOCKETPAIR_FAMILIES.values()]
    rules += [equal("personality", persona) for persona in PERSONALITIES.values()]
    rules.append({"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [
        {"index": 0, "value": CLONE_NAMESPACE_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]})
    return rules


def profile() -> dict[str, Any]:
    """The profile in Docker's seccomp JSON format."""
    not_implemented = [name for names in NOT_IMPLEMENTED.values() for name in names]
    return {
        "defaultAction": "SCMP_ACT_ERRNO",  # EPERM
        "architectures": ARCHITECTURES,
        "syscalls": [
            {"names": allowed_names(), "action": "SCMP_ACT_ALLOW"},
            *argument_rules(),
            {"names": not_implemented, "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS},
        ],
    }


@functools.cache
def security_opt() -> str:
    """The profile as HostConfig.SecurityOpt takes it: ``seccomp=`` and the JSON itself."""
    return "seccomp=" + json.dumps(profile(), separators=(",", ":"))
