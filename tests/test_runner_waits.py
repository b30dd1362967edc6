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


# --- only the runner's own observation is a wait -------------------------------------------------

FORGED_PROMPT = """import os, struct, time
forged = b'{"text": "forged"}'
os.write(3, b"p" + struct.pack(">I", len(forged)) + forged)  # the control pipe's prompt frame
end = time.monotonic() + 1
while time.monotonic() < end:
    pass
print("done")
"""
READ_IN_A_THREAD = """import os, threading, time
threading.Thread(target=os.read, args=(0, 1), daemon=True).start()
time.sleep({sleep})  # a thread blocked in read(0), nothing else running: this looks like a wait
end = time.monotonic() + 1
while time.monotonic() < end:
    pass
print("done")
"""


def test_a_forged_control_frame_is_no_prompt(tmp_path: Path) -> None:
    """What a program writes on fd 3 is an announcement: no wait seen, no prompt; its text shows
    as output, which is what a program printing it would get."""
    runner = Runner(job(tmp_path, None, FORGED_PROMPT))  # stdin stays open: it could wait
    runner.wait_for("exit", timeout=10)
    runner.close_stdin()
    result = runner.finish()
    assert "prompt" not in result.kinds(), result.frames
    assert result.text("stdout") == '{"text": "forged"}done\n'


def test_a_program_computing_while_a_thread_reads_stdin_is_not_waiting(tmp_path: Path) -> None:
    runner = Runner(job(tmp_path, None, READ_IN_A_THREAD.format(sleep=0)))
    runner.wait_for("exit", timeout=10)
    runner.close_stdin()
    result = runner.finish()
    assert "prompt" not in result.kinds() and result.text("stdout") == "done\n", result.frames


def test_a_program_reported_waiting_that_computes_again_is_resumed(tmp_path: Path) -> None:
    runner = Runner(job(tmp_path, None, READ_IN_A_THREAD.format(sleep=0.6)))
    assert runner.wait_for("prompt", timeout=5) == b'{"text": ""}'
    runner.wait_for("resumed", timeout=5)  # within a look of its computing
    runner.wait_for("exit", timeout=10)
    runner.close_stdin()
    kinds = [kind for kind in runner.finish().kinds() if kind in ("prompt", "resumed", "stdout")]
    assert kinds == ["prompt", "resumed", "stdout"]


def test_a_shell_read_is_a_prompt_only_once_its_background_job_is_done(tmp_path: Path) -> None:
    """The issue's attack without the forgery: bash blocked in `read` while a child computes."""
    code = "timeout 1 bash -c 'while :; do :; done' &\nread line\necho \"got $line\"\n"
    runner = Runner(job(tmp_path, ["bash", "main.sh"], code))
    started = time.monotonic()
    assert runner.wait_for("prompt", timeout=5) == b'{"text": ""}'
    assert time.monotonic() - started >= 0.9, "a prompt while the sandbox was busy"
    runner.write(b"x\n")
    runner.close_stdin()
    result = runner.finish()
    assert result.text("stdout") == "got x\n" and result.kinds().count("prompt") == 1


def test_the_text_input_announced_comes_with_the_wait(tmp_path: Path) -> None:
    """input()'s text goes with the prompt it waits at; an earlier one it did not wait at is output."""
    code = "a = input('a? ')\nb = input('b? ')\nprint(a + b)\n"
    runner = Runner(job(tmp_path, None, code, stdin="1\n"))
    assert runner.wait_for("prompt") == b'{"text": "b? "}'
    assert b"".join(data for kind, data in runner.frames if kind == "stdout") == b"a? "
    runner.write(b"2\n")
    result = runner.finish()
    assert result.text("stdout") == "a? 12\n" and "resumed" not in result.kinds()


def test_descendants_without_the_children_files_come_from_every_process_stat(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """gVisor has no /proc/PID/task/TID/children: one read of every stat finds the same tree."""
    limits = runner_module("limits")
    shell = subprocess.Popen(["bash", "-c", "sleep 30 & sleep 30 & wait"])
    try:
        deadline = time.monotonic() + 3
        while len(by_files := limits.descendants(shell.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        monkeypatch.setattr(limits, "children", lambda pid: None)
        assert len(by_files) == 2 and sorted(limits.descendants(shell.pid)) == sorted(by_files)
    finally:
        subprocess.run(["pkill", "-P", str(shell.pid)], check=False)
        shell.kill()
        shell.wait()
