"""The runner's start: say ready, take the job, hand over to the supervisor."""

import os

from .limits import PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, prctl
from .spare import Spare
from .supervisor import Supervisor
from .wire import KIND, read_job, write_frame


def main() -> None:
    # Not dumpable: the program must not ptrace the runner or open /proc/1/fd/* to forge its
    # reports (a program's exec makes the program dumpable again). In a container that is not
    # all: the runner is root there and the program another uid (the job's), which keeps it out
    # under gVisor too, whose /proc/PID/fd ignores this mark. Where both are one user (the local
    # backend) the mark is what keeps it out.
    prctl(PR_SET_DUMPABLE, 0)
    os.umask(0o077)
    os.set_blocking(0, True)  # the server's end of the pipe may have been made non-blocking
    write_frame(1, KIND["ready"], b"")
    # While no one waits: the job's first command runs in the spare, and writes its files.
    supervisor = Supervisor(spare=Spare(prepared=True))
    if os.getpid() != 1:  # adopt daemonized grandchildren so they can be found and killed at the end
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    supervisor.run(read_job())
