"""What the program's process does once it is told what to become: set itself up (standard
streams, limits) and exec the command, or run the Python program in itself."""

import os

from . import RUNNER_DIR
from .limits import PR_SET_DUMPABLE, apply_limits, prctl
from .python_child import run_program

# Preloaded into the run of every program but Python's: it says when the program blocks on stdin
# (waits.py). Built into the image from sandbox/lang/stdin-watch.c; absent where the runner runs
# outside it (the local backend's host, whose kernel shows waits in /proc).
STDIN_WATCH = os.path.join(RUNNER_DIR, "lang", "stdin-watch.so")


def become_program(job: dict, command: list[str] | None, limits: dict, args: list[str],
                   watched: bool) -> None:
    """In the forked child, its streams set up (limits.child_streams): apply the limits and exec the
    command (None: run the Python program). Never returns, and never falls back into the runner."""
    try:
        apply_limits(limits)
        if command is None:
            # The program's, not the runner's: a fork keeps the runner's undumpable mark, which
            # hides /proc/PID/syscall, where the runner sees it wait (an exec clears it).
            prctl(PR_SET_DUMPABLE, 1)
            os._exit(run_program(job))
        env = {"HOME": os.getcwd(), **(job.get("env") or {})}
        if watched and os.path.exists(STDIN_WATCH):
            env["LD_PRELOAD"] = " ".join(filter(None, (STDIN_WATCH, env.get("LD_PRELOAD"))))
        command = [arg.replace("{runner_dir}", RUNNER_DIR) for arg in command]
        os.execvpe(command[0], [*command, *args], env)
    except BaseException as exc:  # noqa: BLE001 - report, never fall back into the runner
        try:
            os.write(2, f"cannot start the program: {exc}\n".encode())
        finally:
            os._exit(127)
