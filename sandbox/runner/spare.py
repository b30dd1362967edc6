"""The program's process, forked before the job comes.

A fork costs the runner about 1 ms under runc and 8 ms under gVisor, whose kernel copies the
address space itself: a warm sandbox pays it while it waits for its job, not while a person
waits for their output. The spare child holds its ends of the program's pipes and blocks until
the supervisor sends it what to become (the job's first command); the supervisor forks anew for
any later command (a compiled program's run). If the runner dies first, the spare's read ends
and it exits. Until it becomes the program it is the runner's user (root in a container), and it
reads nothing but the runner's orders; it takes the program's uid as it becomes it (program.py).
"""

import marshal
import os

from .limits import child_streams
from .program import become_program
from .python_child import prepare
from .wire import CONTROL_FD, CONTROL_KIND, FRAME_HEADER, read_exact, write_frame


class Spare:
    """A forked child and the runner's ends of its pipes: stdin, stdout, stderr, control, and the
    canvas events (read by a Python program's turtle: turtle_screen.py)."""

    def __init__(self, prepared: bool = False, preload: tuple[str, ...] = ()) -> None:
        """With `prepared`, the child also readies itself for a Python program (python_child.prepare)
        while it waits: for the spare made before the job, not for one forked while a run waits.
        With `preload` too, it imports those modules (graphics.preload), then says so: see
        wait_preloaded."""
        stdin_r, self.stdin_w = os.pipe()
        self.stdout_r, stdout_w = os.pipe()
        self.stderr_r, stderr_w = os.pipe()
        self.control_r, control_w = os.pipe()
        events_r, self.events_w = os.pipe()
        orders_r, self.orders_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            for fd in (self.stdin_w, self.stdout_r, self.stderr_r, self.control_r, self.events_w,
                       self.orders_w):
                os.close(fd)
            wait_for_orders(orders_r, (stdin_r, stdout_w, stderr_w, control_w, events_r), prepared, preload)
        for fd in (stdin_r, stdout_w, stderr_w, control_w, events_r, orders_r):
            os.close(fd)

    def become(self, job: dict, command: list[str] | None, limits: dict, args: list[str],
               watched: bool, files: bool) -> None:
        """Send the spare what to run (with `files`, it writes the job's files first); it starts at once."""
        orders = marshal.dumps((job, command, limits, args, watched, files))
        try:
            view = memoryview(orders)
            while view:
                view = view[os.write(self.orders_w, view):]
        finally:
            os.close(self.orders_w)

    def wait_preloaded(self) -> bool:
        """Until the child has imported what it was told to preload; False if it died first."""
        try:
            read_exact(self.control_r, FRAME_HEADER.size)
        except (EOFError, OSError):
            return False
        return True

    def pipes(self) -> tuple[int, int, int, int, int]:
        return self.stdin_w, self.stdout_r, self.stderr_r, self.control_r, self.events_w


def wait_for_orders(orders_r: int, fds: tuple[int, int, int, int, int], prepared: bool,
                    preload: tuple[str, ...] = ()) -> None:
    """In the spare: set up its streams (all that does not depend on the job), read the orders to
    their end, then become the program. Never returns."""
    chunks = []
    try:
        stdin_r, stdout_w, stderr_w, control_w, events_r = fds
        orders_r = child_streams(stdin_r, stdout_w, stderr_w, control_w, keep=orders_r, events_r=events_r)
        if prepared:
            prepare()
        if preload:
            from . import graphics

            graphics.preload(preload)
            write_frame(CONTROL_FD, CONTROL_KIND["preloaded"], b"")
        while chunk := os.read(orders_r, 1 << 16):
            chunks.append(chunk)
        os.close(orders_r)
        job, command, limits, args, watched, files = marshal.loads(b"".join(chunks))
    except BaseException:  # noqa: BLE001 - the runner went away before it had a job: nothing to report
        os._exit(0)
    become_program(job, command, limits, args, watched, files, prepared)
