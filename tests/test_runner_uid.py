"""The runner as a container runs it: root with only SETUID, SETGID and KILL, the program on the
job's uid (limits.become_user), in a work dir that only that uid may enter.

On the host, as root: setpriv gives the runner the container's capabilities, so it cannot enter
the work dir either (no CAP_DAC_OVERRIDE); skipped where the tests do not run as root. The uids
are outside the sandboxes' range, and each test has its own, since the kernel counts processes
per uid (RLIMIT_NPROC). tests/test_redteam.py checks the same in real containers.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_host import Runner, job, run

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv (util-linux)"
)

# The container's capabilities (docker_backend.RUNNER_CAPABILITIES), no others to inherit.
AS_IN_A_CONTAINER = ("setpriv", "--bounding-set", "-all,+setuid,+setgid,+kill", "--inh-caps", "-all",
                     "--no-new-privs", "--")
SH = ["bash", "main.sh"]
UIDS = itertools.count(29901)


@pytest.fixture
def workdir() -> Iterator[tuple[Path, int]]:
    """A work dir of mode 700 owned by a uid of the test's own, as the container's /work; under
    /tmp, since every folder above it must let that uid pass."""
    uid = next(UIDS)
    folder = Path(tempfile.mkdtemp(prefix="codyskool-uid-", dir="/tmp"))
    os.chown(folder, uid, uid)
    try:
        yield folder, uid
    finally:
        shutil.rmtree(folder, ignore_errors=True)


PROBE = """import os
runner = os.getppid()
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print("ids", os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups())
print("caps", int(status["CapEff"], 16), int(status["CapPrm"], 16))
print("runner uid", open(f"/proc/{runner}/status").read().split("Uid:")[1].split()[:2])
refused = []
for fd, mode in ((0, "rb"), (1, "wb"), (2, "wb"), (3, "rb")):
    try:
        open(f"/proc/{runner}/fd/{fd}", mode, buffering=0).close()
    except OSError as error:
        refused.append(error.errno)
print("runner fds refused", refused)
print("files", os.getcwd(), os.stat("main.py").st_uid, oct(os.stat("main.py").st_mode & 0o777))
print("hello", input("name? "))
"""


def test_the_program_runs_on_the_jobs_uid_and_cannot_reach_the_runner(workdir: tuple[Path, int]) -> None:
    folder, uid = workdir
    runner = Runner(job(folder, None, PROBE, uid=uid), wrapper=AS_IN_A_CONTAINER, cwd="/")
    assert json.loads(runner.wait_for("prompt")) == {"text": "name? "}  # seen through the hooks alone
    runner.write(b"Ada\n")
    runner.close_stdin()
    result = runner.finish()
    assert result.text("stdout").splitlines() == [
        f"ids {uid} {uid} {uid} {uid} []",
        "caps 0 0",
        "runner uid ['0', '0']",
        "runner fds refused [13, 13, 13, 13]",
        f"files {folder} {uid} 0o600",
        "hello Ada",
    ], result.text("stderr")
    assert result.exit["code"] == 0 and not result.runner_stderr


def test_a_compiled_program_runs_on_the_uid_and_what_it_leaves_is_killed(workdir: tuple[Path, int]) -> None:
    """The compile's process writes the files; the run's (a second fork of the runner) takes the
    uid too; the runner, without DAC_OVERRIDE, still kills what the program left behind."""
    folder, uid = workdir
    compile_cmd = ["sh", "-c", "echo compiled by $(id -u) > built"]
    code = "cat built\nid -u\nstat -c %u main.sh\nsetsid sleep 60 &\necho $! > daemon.pid\n"
    result = run(job(folder, SH, code, compile=compile_cmd, uid=uid), wrapper=AS_IN_A_CONTAINER, cwd="/")
    assert result.text("stdout") == f"compiled by {uid}\n{uid}\n{uid}\n", result.text("stderr")
    assert result.exit["code"] == 0
    pid = int((folder / "daemon.pid").read_text())
    deadline = time.monotonic() + 2
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{pid}"), f"the program's daemon {pid} still runs"


FORKS = """import os, time
count = 0
try:
    while count < 20:
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
        count += 1
except OSError as error:
    print("forked", count, error.errno)
"""


def test_the_process_limit_applies_to_the_programs_uid(workdir: tuple[Path, int]) -> None:
    """RLIMIT_NPROC (how the runner bounds processes under gVisor) counts the program's uid, the
    runner not among them: with 5, the program and 4 children."""
    folder, uid = workdir
    limited = job(folder, None, FORKS, uid=uid, limits={"pids_limit": 5})
    result = run(limited, wrapper=AS_IN_A_CONTAINER, cwd="/")
    assert result.text("stdout") == "forked 4 11\n", result.text("stderr")


def test_a_uid_the_runner_cannot_take_stops_the_program(workdir: tuple[Path, int]) -> None:
    """Never the program on the runner's own uid: without CAP_SETUID the switch fails, and so does
    the program's start."""
    folder, uid = workdir
    no_setuid = ("setpriv", "--bounding-set", "-all,+kill", "--inh-caps", "-all", "--")
    result = run(job(folder, SH, "id -u\n", uid=uid), wrapper=no_setuid, cwd="/")
    assert "cannot start the program" in result.text("stderr") and result.exit["code"] == 127
    assert not result.text("stdout")
