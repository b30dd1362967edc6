"""The second red team's attacks on a run's own limits: whatever the program does, they hold.

A program shares its sandbox with the runner that reports on it, so it can forge what the runner
reads from it (the control pipe, fd 3), block a thread on input while others compute, spread its
work over many processes, or pass its compiler arguments. Each test is one attack from issue 11,
against the red team's server (4 s wall clock, 3 s CPU, 3 s at a prompt); docs/security.md names
the limit each one proves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import LiveServer
from live import DOCKER
from redteam_plugin import CPU_S, WALL_S, Connect, exhaust, still_serving
from runner_host import runner_module

pytestmark = pytest.mark.attack

read_counter = runner_module("limits").read_counter  # the runner's own reading of a cgroup counter


def cpu_counter(container: str) -> tuple[str, str, float] | None:
    """Where the host keeps the container's CPU time: its cgroup's file, the line's key ("": the
    whole file) and unit, found from /proc/PID/cgroup of its first process (None: not found)."""
    found = DOCKER.inspect(container)
    pid = found and found["State"]["Pid"]
    try:
        with open(f"/proc/{pid}/cgroup") as cgroups:
            lines = cgroups.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        candidates = [(f"/sys/fs/cgroup{path}/cpu.stat", "usage_usec", 1e-6)] if not controllers else [
            (f"/sys/fs/cgroup/{name}{path}/cpuacct.usage", "", 1e-9) for name in (controllers, "cpuacct")
            if "cpuacct" in controllers.split(",")]
        for counter in candidates:
            if read_counter(counter) is not None:
                return counter
    return None


@contextmanager
def cpu_of_sandboxes(server: LiveServer) -> Iterator[dict[str, float]]:
    """The CPU time (s) each of the server's containers has used while the block ran, read from
    the host's cgroup files every 50 ms (a lower bound: the last read before it went)."""
    used: dict[str, float] = {}
    counters: dict[str, tuple[str, str, float] | None] = {}
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            for container in server.containers():
                if container not in counters:
                    counters[container] = cpu_counter(container)
                value = read_counter(counters[container]) if counters[container] else None
                if value is not None:
                    used[container] = max(used.get(container, 0.0), value)
            done.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        yield used
    finally:
        done.set()
        poller.join(timeout=10)
    assert used, "no container's CPU time could be read on this host"


FORGE_PY = """import os, struct, threading, time
threading.Thread(target=os.read, args=(0, 1), daemon=True).start()  # a thread blocked on input
forged = b'{"text": "waiting, honest"}'
for _ in range(3):  # three processes, each under the CPU limit, all forging prompts
    if os.fork() == 0:
        break
while True:
    os.write(3, b"p" + struct.pack(">I", len(forged)) + forged)
    end = time.monotonic() + 0.05
    while time.monotonic() < end:
        pass
"""
FORGE_BASH = r"""forge() { printf 'p\0\0\0\015{"text": "x"}' >&3; }
for i in 1 2 3; do (while :; do forge; for j in {1..2000}; do :; done; done) & done
read line
"""


@pytest.mark.parametrize("language", ["python", "bash"])
def test_forged_prompts_and_a_thread_in_read_do_not_stop_the_clock(
    red: LiveServer, connect: Connect, language: str
) -> None:
    """The issue's attack: prompt frames written to fd 3, a thread blocked in read(0) while
    others compute. No prompt may reach the client, and the wall clock and the CPU limit hold."""
    code = FORGE_PY if language == "python" else FORGE_BASH
    with cpu_of_sandboxes(red) as used:
        result = exhaust(red, connect, code, language, reason="timeout", within=WALL_S)
    assert result.of("prompt") == [], result.of("prompt")[:3]
    assert max(used.values()) <= CPU_S + 0.5, used


SPIN = """import os
for _ in range(3):  # each child under the CPU limit, which the three together pass
    if os.fork() == 0:
        while True:
            pass
os.wait()
"""


def test_three_children_spinning_share_one_cpu_limit(red: LiveServer, connect: Connect) -> None:
    """The CPU limit is the whole sandbox's: the run ends on it, before the wall clock (with one
    CPU for the sandbox, three children pass 3 s together at about 3 s, each alone at 9 s)."""
    with cpu_of_sandboxes(red) as used:
        result = exhaust(red, connect, SPIN, reason="timeout", within=CPU_S)
    assert result.exit["time_ms"] < WALL_S * 1000, result.exit
    assert max(used.values()) <= CPU_S + 0.5, used


PRINT_ARGV = r"""#include <stdio.h>
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) printf("%s\n", argv[i]);
    return 0;
}
"""


def test_arguments_do_not_reach_the_compiler(red: LiveServer, connect: Connect) -> None:
    """gcc runs what -wrapper names for each of its steps: given to the compiler, this ran a
    command during the compile (and any argument broke the compile of C, C++ and Java)."""
    result = connect(red).run_to_exit(PRINT_ARGV, "c", args=["-wrapper", "/bin/sh,-c,echo pwned"])
    assert (result.exit["reason"], result.exit["code"]) == ("exited", 0), (result.exit, result.stderr)
    assert result.stdout == "-wrapper\n/bin/sh,-c,echo pwned\n", result.stdout


NESTED = """import os, struct
nested = b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
os.write(3, b"p" + struct.pack(">I", len(nested)) + nested)
print("still running")
"""


def test_a_deeply_nested_prompt_frame_is_only_text(red: LiveServer, connect: Connect) -> None:
    """Nothing the program writes on fd 3 reaches the server as JSON: the runner writes the
    prompt frame's JSON itself. It raised RecursionError in the server ("Something went wrong")."""
    result = connect(red).run_to_exit(NESTED)
    assert (result.exit["reason"], result.exit["code"]) == ("exited", 0), (result.exit, result.stderr)
    assert "Something went wrong" not in result.stderr and not result.stderr
    assert result.stdout.endswith("]}still running\n")
    still_serving(red, connect)
