"""The in-sandbox runner: runs one program and reports on it through framed messages.

It runs inside the sandbox (as the container's PID 1, or under the local backend as a subprocess)
with nothing but the standard library, and it is the only thing that talks to the server. It
reads a job from its stdin and writes frames to its stdout (the format: wire.py). The program's
process is forked before the job comes (spare.py), so a pre-started sandbox has already paid for
the fork and the interpreter's start (the warm pool): Python programs run in it, other languages
are exec'ed from it. In a container the runner is root with SETUID, SETGID and KILL only, and
the program another user: the job's uid, which the program's process takes before it becomes the
program, and which alone may enter the work dir, so that process writes the job's files too.
After the job, the server's stdin brings input frames: the program's stdin, its end, and the
page's canvas events for a turtle.

    wire.py          the frame and job format, shared with the server
    main.py          start-up: ready, the spare, the job, then the supervisor
    supervisor.py    runs the commands, relays stdin and output, reaps, reports the exit
    spare.py         the program's process, forked before the job, waiting to be told what to be
    program.py       what it becomes: the limits, the job's uid, its files, then the command
                     exec'ed or Python run
    limits.py        rlimits, the child's clean start and its uid, prctl, the cgroup's OOM kills, and
                     the CPU time of the whole sandbox (its cgroup's, or its processes')
    waits.py         what the runner sees: the sandbox's CPU, and whether the program waits for
                     input (its hooks say so, or /proc where the runner may read it: the host)
    python_child.py  a Python program in a fork: its streams, input(), its tracebacks
    graphics.py      its pictures (matplotlib, Pillow, picture files it wrote) as display frames
    mpl_backend.py   the matplotlib backend that shows figures in the page
    turtle_screen.py Python's turtle drawn in the page's canvas, and its clicks, keys and timers
    __main__.py      `python3 sandbox/runner`, and the loader of the image's bundle
    bundle.py        builds that bundle, the one file the image runs

Imports are few and cheap on purpose: a run's sandbox starts this interpreter afresh, and on a
busy host the CPU it spends here is a share of how many runs per second the host can do
(`signal` pulls in `enum`, `array` `collections.abc`, `json` a package, `ctypes` a whole FFI:
about 5 ms). At the end, os._exit: every frame went out through os.write.
"""

import os

PACKAGE_DIR = os.path.dirname(__file__)  # absolute, as the loader in __main__.py names files
RUNNER_DIR = os.path.dirname(PACKAGE_DIR)  # {runner_dir} in languages.toml: the folder of lang/
