"""Whether a program that has no prompt hook (every language but Python) waits for input.

The runner asks /proc/PID/task/*/syscall what each of the program's threads is blocked in: a
read of fd 0 is a wait for input, and so is an event loop (Node's libuv) asleep in epoll_wait with
no timeout, since in a sandbox with no network and no timer pending only input can wake it.
"""

import os

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


def event_loop_asleep(call: list[str]) -> bool:
    """epoll_wait(epfd, events, maxevents, timeout) with timeout -1, from a /proc syscall line."""
    if len(call) < 5 or call[0] not in EPOLL_SYSCALLS:
        return False
    return int(call[4], 16) & INFINITE_TIMEOUT == INFINITE_TIMEOUT
