"""The runner's start: say ready, take the job, write its files, hand over to the supervisor."""

import os

from .limits import PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, prctl
from .spare import Spare
from .supervisor import Supervisor
from .wire import KIND, read_job, write_frame


def main() -> None:
    # Not dumpable: the program runs as the same user, and must not ptrace the runner or open
    # /proc/1/fd/* to forge its reports (a program's exec makes the program dumpable again).
    prctl(PR_SET_DUMPABLE, 0)
    os.umask(0o077)
    os.set_blocking(0, True)  # the server's end of the pipe may have been made non-blocking
    write_frame(1, KIND["ready"], b"")
    spare = Spare()  # while no one waits: the job's first command runs in it
    job = read_job()
    write_files(job)
    if os.getpid() != 1:  # adopt daemonized grandchildren so they can be found and killed at the end
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    Supervisor(job, spare=spare).run()


def write_files(job: dict) -> None:
    if job.get("workdir"):
        os.chdir(job["workdir"])
    for name, text in job["files"].items():
        with open(name, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
