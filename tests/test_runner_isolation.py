"""The program cannot reach the runner that reports on it (root, while the program is a uid of
its own), and what it prints stays between it and the person."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import LiveServer, RunClient
from live import DOCKER

from codyskool.sandbox.runtimes import is_gvisor

TAMPER = """
import ctypes, os
for path, mode in (("/proc/1/fd/1", "wb"), ("/proc/1/mem", "rb"), ("/proc/1/environ", "rb")):
    try:
        with open(path, mode) as opened:
            names = sorted(item.split(b"=")[0].decode() for item in opened.read().split(b"\\0") if item)
        print("opened", path, *names)
    except OSError as error:
        print("refused", path, error.errno)
libc = ctypes.CDLL(None, use_errno=True)
print("ptrace", libc.ptrace(16, 1, 0, 0), ctypes.get_errno())  # PTRACE_ATTACH to the runner
"""


def test_the_program_cannot_forge_reports_or_trace_the_runner(docker_server: LiveServer) -> None:
    """The runner's channel, memory and tracing are shut to the program, another user. gVisor
    (2022-12) lets any user read a process's environ (and maps, auxv): the runner's is the
    container's own environment, which holds no secret; Linux refuses it."""
    client = RunClient(docker_server.url)
    try:
        result = client.run_to_exit(TAMPER)
    finally:
        client.close()
    environ = "refused /proc/1/environ 13"
    if is_gvisor(docker_server.health()["runtime"]):
        environ = "opened /proc/1/environ HOME HOSTNAME LANG PATH"
    assert result.stdout.splitlines() == [
        "refused /proc/1/fd/1 13",
        "refused /proc/1/mem 13",
        environ,
        "ptrace -1 1",
    ]
    assert result.exit["reason"] == "exited" and result.exit["code"] == 0


def test_what_a_program_prints_is_not_kept_on_the_host(docker_server: LiveServer) -> None:
    """Output goes to the person through the attach stream only: no Docker log file holds it."""
    client = RunClient(docker_server.url)
    try:
        run_id = client.start('import time\nprint("a secret", flush=True)\ntime.sleep(3)')
        client.wait_for("output", run_id, timeout=30)
        # The list may hold containers of earlier runs that are gone by the time they are inspected
        # (None for them); the running program's is there throughout.
        inspected = [DOCKER.inspect(container) for container in docker_server.containers()]
        logs = [(found["HostConfig"]["LogConfig"]["Type"], found["LogPath"]) for found in inspected if found]
        assert logs and set(logs) == {("none", "")}, logs
        client.send("kill", {})
        client.wait_for("exit", run_id, timeout=30)
    finally:
        client.close()


SCRATCH = """
import os
print(open("/proc/self/oom_score_adj").read().strip())
for folder in ("/work", "/tmp", "/dev/shm"):
    stat = os.statvfs(folder)
    print(folder, stat.f_files, stat.f_blocks * stat.f_frsize >> 20)
"""


@pytest.mark.attack
def test_a_sandbox_dies_first_and_its_scratch_space_is_bounded(docker_server: LiveServer) -> None:
    """OomScoreAdj 1000: the host's OOM killer takes a sandbox before the server; /dev/shm has an
    inode limit like /work and /tmp, so millions of tiny files cannot be charged to memory."""
    client = RunClient(docker_server.url)
    try:
        result = client.run_to_exit(SCRATCH)
    finally:
        client.close()
    if not is_gvisor(docker_server.health()["runtime"]):
        assert result.stdout.splitlines() == ["1000", "/work 16384 32", "/tmp 16384 32", "/dev/shm 16384 32"]
        return
    # Under gVisor the program reads gVisor's own oom_score_adj (0): the host's OOM killer sees the
    # sandbox's host processes (gVisor's kernel and its file proxy), which carry the 1000. gVisor's
    # tmpfs (2022-12) ignores nr_inodes and reports no inode count; its files are charged to the
    # sandbox's memory limit (test_redteam::test_millions_of_tiny_files), the sizes hold.
    lines = result.stdout.splitlines()
    assert lines[1:] == ["/work 0 32", "/tmp 0 32", "/dev/shm 0 32"], lines
    adjustments = {}  # a sandbox's first host process -> its oom_score_adj, for those still there
    for found in map(DOCKER.inspect, docker_server.containers()):  # the warm pool's, at least
        try:
            pid = found["State"]["Pid"] if found else 0
            adjustments[pid] = Path(f"/proc/{pid}/oom_score_adj").read_text().strip() if pid else None
        except FileNotFoundError:
            continue
    assert set(adjustments.values()) - {None} == {"1000"}, adjustments
