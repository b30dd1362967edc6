"""The program cannot reach the runner that reports on it (both run as the same user)."""

from __future__ import annotations

from conftest import LiveServer, RunClient

TAMPER = """
import ctypes, os
for path, mode in (("/proc/1/fd/1", "wb"), ("/proc/1/mem", "rb"), ("/proc/1/environ", "rb")):
    try:
        open(path, mode).close()
        print("opened", path)
    except OSError as error:
        print("refused", path, error.errno)
libc = ctypes.CDLL(None, use_errno=True)
print("ptrace", libc.ptrace(16, 1, 0, 0), ctypes.get_errno())  # PTRACE_ATTACH to the runner
"""


def test_the_program_cannot_forge_reports_or_trace_the_runner(docker_server: LiveServer) -> None:
    client = RunClient(docker_server.url)
    try:
        result = client.run_to_exit(TAMPER)
    finally:
        client.close()
    assert result.stdout.splitlines() == [
        "refused /proc/1/fd/1 13",
        "refused /proc/1/mem 13",
        "refused /proc/1/environ 13",
        "ptrace -1 1",
    ]
    assert result.exit["reason"] == "exited" and result.exit["code"] == 0
