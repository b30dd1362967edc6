"""The runner's start: say ready, take the job, hand over to the supervisor.

`--preload a,b.c` (a warm sandbox's: codyskool/languages.toml, [python.warm.*]) has the spare
import those modules before the runner says it is ready.
"""

import os
import sys

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
    preload = preload_argument(sys.argv[1:])
    if preload:  # ready once the modules are in: the pool offers this sandbox as it will run
        spare = Spare(prepared=True, preload=preload)
        if not spare.wait_preloaded():  # it died: a spare without them
            os.waitpid(spare.pid, 0)
            spare = Spare(prepared=True)
        write_frame(1, KIND["ready"], b"")
    else:
        write_frame(1, KIND["ready"], b"")
        # While no one waits: the job's first command runs in the spare, and writes its files.
        spare = Spare(prepared=True)
    supervisor = Supervisor(spare=spare)
    if os.getpid() != 1:  # adopt daemonized grandchildren so they can be found and killed at the end
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    supervisor.run(read_job())


def preload_argument(args: list[str]) -> tuple[str, ...]:
    """The modules of `--preload a,b.c`, if the runner was given it."""
    if len(args) == 2 and args[0] == "--preload":
        return tuple(name for name in args[1].split(",") if name)
    return ()
