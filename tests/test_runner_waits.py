"""Input-wait detection of programs without a prompt hook (sandbox/runner/waits.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from runner_host import Runner, job, runner_module

waits = runner_module("waits")
pytestmark = pytest.mark.skipif(not waits.EPOLL_SYSCALLS, reason="syscall numbers known for x86_64, aarch64")
EPOLL_WAIT = waits.EPOLL_SYSCALLS[0]


@pytest.mark.parametrize(("line", "asleep"), [
    (f"{EPOLL_WAIT} 0x3 0x7ffd0 0x400 0xffffffffffffffff 0x0 0x0 0x7ffc 0x7f12", True),
    (f"{EPOLL_WAIT} 0x3 0x7ffd0 0x400 0xffffffff 0x0 0x0 0x7ffc 0x7f12", True),  # not sign-extended
    (f"{EPOLL_WAIT} 0x3 0x7ffd0 0x400 0x3e8 0x0 0x0 0x7ffc 0x7f12", False),  # a timer: it wakes itself
    (f"{waits.READ_SYSCALL} 0x0 0x7ffd0 0x400 0xffffffffffffffff 0x0 0x0 0x7ffc 0x7f12", False),
    ("running", False),
    (f"{EPOLL_WAIT} 0x3", False),
])  # fmt: skip
def test_an_event_loop_asleep_is_epoll_wait_without_a_timeout(line: str, asleep: bool) -> None:
    assert waits.event_loop_asleep(line.split()) is asleep


def settles(pid: int, expected: bool, timeout: float = 3) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if waits.waiting_for_input(pid) == expected:
            return True
        time.sleep(0.02)
    return False


def test_a_read_of_stdin_is_a_wait_and_a_sleep_is_not() -> None:
    reader = subprocess.Popen(["bash", "-c", "read line"], stdin=subprocess.PIPE)
    sleeper = subprocess.Popen(["sleep", "5"], stdin=subprocess.PIPE)
    try:
        assert settles(reader.pid, True)
        assert not waits.waiting_for_input(sleeper.pid)
    finally:
        for process in (reader, sleeper):
            process.kill()
            process.wait()
    assert not waits.waiting_for_input(reader.pid)  # gone: no /proc entry


def test_a_shell_read_is_reported_as_a_prompt_after_the_output_before_it(tmp_path: Path) -> None:
    code = 'echo "Name?"\nread name\necho "hi $name"\nread again\necho "bye $again"\n'
    runner = Runner(job(tmp_path, ["bash", "main.sh"], code))
    assert runner.wait_for("prompt") == b'{"text": ""}'
    assert ("stdout", b"Name?\n") in runner.frames  # what it printed came first
    runner.write(b"Ada\n")
    assert runner.wait_for("stdout") == b"hi Ada\n"
    assert runner.wait_for("prompt") == b'{"text": ""}'  # a second wait is a second prompt
    runner.write(b"now\n")
    runner.close_stdin()
    result = runner.finish()
    assert result.text("stdout") == "Name?\nhi Ada\nbye now\n"
    assert result.kinds().count("prompt") == 2


def test_no_prompt_is_reported_unless_the_job_asks_for_the_watch(tmp_path: Path) -> None:
    runner = Runner(job(tmp_path, ["bash", "main.sh"], "read name\necho $name\n", watch_stdin=False))
    runner.read_some(0.5)
    runner.write(b"x\n")
    runner.close_stdin()
    result = runner.finish()
    assert "prompt" not in result.kinds() and result.text("stdout") == "x\n"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed here")
def test_node_waiting_for_stdin_in_its_event_loop_is_a_prompt(tmp_path: Path) -> None:
    code = "process.stdin.once('data', (d) => { console.log('got ' + String(d).trim()); process.exit(); });\n"
    runner = Runner(job(tmp_path, ["node", "main.js"], code, main="main.js"))
    assert runner.wait_for("prompt", timeout=10) == b'{"text": ""}'
    runner.write(b"42\n")
    result = runner.finish()
    assert result.text("stdout") == "got 42\n"
