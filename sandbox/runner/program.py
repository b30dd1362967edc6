"""What the program's process does once it is told what to become: set itself up (limits, its
user, its work dir and the job's files) and exec the command, or run the Python program in itself."""

import os

from . import RUNNER_DIR, python_child
from .limits import PR_SET_DUMPABLE, apply_limits, become_user, prctl
from .wire import EVENTS_FD

# Preloaded into the run of every program but Python's: it says when the program blocks on stdin
# (waits.py). Built into the image from sandbox/lang/stdin-watch.c; absent where the runner runs
# outside it (the local backend's host, whose kernel shows waits in /proc).
STDIN_WATCH = os.path.join(RUNNER_DIR, "lang", "stdin-watch.so")


def become_program(job: dict, command: list[str] | None, limits: dict, args: list[str],
                   watched: bool, files: bool, prepared: bool = False) -> None:
    """In the forked child, its streams set up (limits.child_streams): apply the limits, take the
    job's uid (if it names one: the runner is root in a container), write the job's files (the
    first command's process: the work dir is the program's user's alone), then exec the command
    (None: run the Python program; `prepared`: python_child.prepare() was done). Never returns,
    and never falls back into the runner."""
    try:
        apply_limits(limits)  # RLIMIT_NPROC too: it goes with the process to the program's uid
        if job.get("uid") is not None:
            become_user(job["uid"])
        if job.get("workdir"):
            os.chdir(job["workdir"])
        if files:
            write_files(job["files"])
        if command is None:
            # Dumpable again, as an exec would make it: a fork keeps the runner's undumpable mark,
            # and leaving root clears it too. Its /proc/PID files are then its own user's, and
            # the runner sees it wait in /proc/PID/syscall where they share a uid (local backend).
            prctl(PR_SET_DUMPABLE, 1)
            if not prepared:
                python_child.prepare()
            os._exit(python_child.run_program(job))
        os.close(EVENTS_FD)  # the canvas's events are a Python program's turtle's only
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


def write_files(files: dict[str, str]) -> None:
    """The job's files, into the work dir (the current folder), as the program's user."""
    for name, text in files.items():
        with open(name, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
