"""The runner's supervisor on the host: frames in order, the exit report, limits, clean-up."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from runner_host import PACKAGE, Runner, job, run, runner_module

SH = ["bash", "main.sh"]


def test_a_run_reports_ready_status_output_and_exit_in_order(tmp_path: Path) -> None:
    code = "echo one\nsleep 0.05\necho two >&2\nsleep 0.05\necho three\nexit 3\n"
    result = run(job(tmp_path, SH, code))
    assert result.kinds() == ["ready", "status", "stdout", "stderr", "stdout", "exit"]
    assert result.json("status") == [{"phase": "running"}]
    assert (result.text("stdout"), result.text("stderr")) == ("one\nthree\n", "two\n")
    report = result.exit
    assert set(report) == {"phase", "code", "signal", "cpu_ms", "time_ms", "memory_kb", "memory"}
    assert (report["phase"], report["code"], report["signal"], report["memory"]) == ("run", 3, None, False)
    assert isinstance(report["cpu_ms"], int) and isinstance(report["memory_kb"], int)
    assert report["time_ms"] >= 100
    assert not result.runner_stderr


def test_a_failed_compile_ends_the_job_in_the_compile_phase(tmp_path: Path) -> None:
    failing = job(tmp_path, SH, "echo never", compile=["sh", "-c", "echo 'main.c:1: error' >&2; exit 2"])
    result = run(failing)
    assert result.json("status") == [{"phase": "compiling"}]
    assert result.text("stderr") == "main.c:1: error\n"
    assert (result.exit["phase"], result.exit["code"]) == ("compile", 2)
    assert "memory" not in result.exit and not result.text("stdout")


def test_a_compiled_program_runs_after_its_compile(tmp_path: Path) -> None:
    result = run(job(tmp_path, ["sh", "-c", "cat built"], compile=["sh", "-c", "echo ok > built"]))
    assert result.json("status") == [{"phase": "compiling"}, {"phase": "running"}]
    assert result.text("stdout") == "ok\n" and result.exit["code"] == 0


def test_stdin_of_the_job_then_of_the_stream_then_eof(tmp_path: Path) -> None:
    runner = Runner(job(tmp_path, ["cat"], stdin="from the job\n"))
    assert runner.wait_for("stdout") == b"from the job\n"
    runner.write(b"typed later\n")
    assert runner.wait_for("stdout") == b"typed later\n"
    runner.close_stdin()  # cat sees the end of its input and ends
    result = runner.finish()
    assert result.exit["code"] == 0


def test_args_env_and_the_runner_dir_reach_the_command(tmp_path: Path) -> None:
    command = ["sh", "-c", 'echo "$0|$1|$FOO|$HOME"', "{runner_dir}/lang"]
    result = run(job(tmp_path, command, args=["an arg"], env={"FOO": "bar", "PATH": "/usr/bin:/bin"}))
    assert result.text("stdout") == f"{PACKAGE.parent}/lang|an arg|bar|{tmp_path}\n"


def test_the_work_dir_is_taken_out_of_stderr(tmp_path: Path) -> None:
    result = run(job(tmp_path, SH, 'echo "$PWD/main.c:3: error" >&2\n'))
    assert result.text("stderr") == "main.c:3: error\n"


def test_a_command_that_cannot_start_says_so(tmp_path: Path) -> None:
    result = run(job(tmp_path, ["/no/such/compiler"]))
    assert "cannot start the program" in result.text("stderr")
    assert result.exit["code"] == 127


def test_the_cpu_limit_ends_a_busy_program_with_sigxcpu(tmp_path: Path) -> None:
    result = run(job(tmp_path, SH, "while :; do :; done\n", limits={"cpu_time_limit_s": 1}), timeout=15)
    assert (result.exit["signal"], result.exit["code"]) == ("SIGXCPU", None)
    assert result.exit["cpu_ms"] >= 800  # the kernel checks RLIMIT_CPU at its ticks; rusage may lag them


def test_a_daemonized_grandchild_is_killed_when_the_program_ends(tmp_path: Path) -> None:
    code = "setsid sleep 60 &\necho $! > daemon.pid\n(setsid sleep 61 & echo $! > double.pid)\n"
    result = run(job(tmp_path, SH, code))
    assert result.exit["code"] == 0
    for name in ("daemon.pid", "double.pid"):
        pid = int((tmp_path / name).read_text())
        deadline = time.monotonic() + 2
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.02)  # reaped by the runner, then gone
        assert not os.path.exists(f"/proc/{pid}"), f"{name}: {pid} still runs"


def test_a_large_output_arrives_whole(tmp_path: Path) -> None:
    result = run(job(tmp_path, SH, "head -c 300000 /dev/zero | tr '\\0' x\n"))
    assert result.text("stdout") == "x" * 300_000


def test_sigterm_to_the_runner_ends_the_program_and_still_reports_its_exit(tmp_path: Path) -> None:
    """How the local backend stops a run: the runner kills everything, then says how it ended."""
    runner = Runner(job(tmp_path, SH, "echo started\nsleep 60\n"))
    assert runner.wait_for("stdout") == b"started\n"
    runner.process.terminate()
    result = runner.finish(timeout=3)
    assert (result.exit["signal"], result.exit["code"]) == ("SIGKILL", None)


def test_arguments_go_to_the_program_not_to_its_compiler(tmp_path: Path) -> None:
    compiler = ["sh", "-c", 'echo "compile:$*" >&2', "cc"]  # gcc would run a -wrapper given it
    result = run(job(tmp_path, ["sh", "-c", 'echo "run:$*"', "main"], compile=compiler,
                     args=["-wrapper", "/bin/sh,-c,echo pwned"]))
    assert result.text("stderr") == "compile:\n"
    assert result.text("stdout") == "run:-wrapper /bin/sh,-c,echo pwned\n" and result.exit["code"] == 0


def test_the_sandbox_cpu_is_its_cgroups_counter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = runner_module("limits")
    (tmp_path / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n")
    (tmp_path / "cpuacct.usage").write_text("2500000000\n")
    v2 = (str(tmp_path / "cpu.stat"), "usage_usec", 1e-6)
    v1 = (str(tmp_path / "cpuacct.usage"), "", 1e-9)
    missing = (str(tmp_path / "none"), "", 1e-9)
    for counters, used in (((missing, v2, v1), 1.5), ((v1, v2), 2.5)):
        monkeypatch.setattr(limits, "CPU_COUNTERS", counters)
        assert limits.SandboxCpu(own_cgroup=True).used() == pytest.approx(used)
    assert limits.SandboxCpu(own_cgroup=False).counter is None  # no cgroup of its own: its processes


SPINNERS = {  # three processes computing, each under the CPU limit, together over it
    "bash children": "for i in 1 2 3; do (while :; do :; done) & done\nwait\n",
    "python children": "python3 -c 'import os\nfor _ in range(3):\n    if os.fork() == 0:\n"
                       "        while True: pass\nos.wait()'\n",
    "daemons": "for i in 1 2 3; do (setsid bash -c 'while :; do :; done' &); done\nsleep 30\n",
}


@pytest.mark.parametrize("code", SPINNERS.values(), ids=SPINNERS.keys())
def test_the_cpu_limit_bounds_all_of_the_programs_processes(tmp_path: Path, code: str) -> None:
    """Without a cgroup (as here), the runner counts the CPU time of every process it is the
    ancestor of, orphans it adopted included: over the limit, it kills them all."""
    started = time.monotonic()
    result = run(job(tmp_path, SH, code, limits={"cpu_time_limit_s": 1}), timeout=15)
    assert (result.exit["signal"], result.exit["code"]) == ("SIGKILL", None), result.exit
    assert result.exit["cpu_ms"] >= 1000
    assert time.monotonic() - started < 10


def test_a_job_that_comes_long_after_ready_is_watched_from_its_own_start(tmp_path: Path) -> None:
    """The runner makes its supervisor and its first look at the CPU time before the job comes
    (a warm sandbox): the job's limits and waits still count from when its command starts."""
    spinner = Runner(job(tmp_path, SH, SPINNERS["bash children"], limits={"cpu_time_limit_s": 1}),
                     job_after_s=1.5)
    spinner.close_stdin()
    result = spinner.finish(timeout=15)
    assert (result.exit["signal"], result.exit["code"]) == ("SIGKILL", None), result.exit
    assert result.exit["cpu_ms"] >= 1000

    reader = Runner(job(tmp_path, SH, 'echo "Name?"\nread name\necho "Hi $name"\n'), job_after_s=1.5)
    assert reader.wait_for("stdout") == b"Name?\n"
    assert reader.wait_for("prompt") == b'{"text": ""}'
    reader.write(b"Ada\n")
    reader.close_stdin()
    result = reader.finish()
    assert result.text("stdout") == "Name?\nHi Ada\n"
    assert result.exit["time_ms"] < 1500, "the wait before the job is not the program's time"
