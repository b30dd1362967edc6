"""A host uid for each live sandbox, never two at once.

The kernel counts some resources per user, whatever the container: inotify instances and watches,
POSIX message queue bytes, locked memory, pending signals. Sandboxes that shared one uid shared
those quotas: one run took all 128 inotify instances and another client's sandbox got EMFILE. So
every container gets a uid (and the same gid) of its own from a range, taken when it is created
and given back once it has been removed; warm pool containers hold one too. With none free the
sandbox is refused (``NoFreeUid``), never started on a uid another sandbox holds.

The image has passwd and group entries for the range it was built with (its label
``org.codyskool.sandbox-uids``, e.g. ``10001-11024``), all named ``runner``.
"""

from __future__ import annotations

import collections
import threading

from .base import SandboxFailed

UIDS_LABEL = "org.codyskool.sandbox-uids"  # set by sandbox/Dockerfile: the uids it has entries for


class NoFreeUid(SandboxFailed):
    """Every uid of the range is held by a live sandbox."""

    user_message = "The server is running as many programs as it can. Please try again in a moment."


class UidRange:
    """The uids first .. first + count - 1; the longest free is handed out first, so that a uid
    just given back (whose last processes the kernel may still be tearing down) waits its turn."""

    def __init__(self, first: int, count: int) -> None:
        if first <= 0 or count <= 0:
            raise ValueError(f"a uid range needs a first uid and a count above zero, got {first}, {count}")
        self.uids = range(first, first + count)
        self.free = collections.deque(self.uids)
        self.held: set[int] = set()
        self.lock = threading.Lock()

    def acquire(self) -> int:
        with self.lock:
            if not self.free:
                raise NoFreeUid(f"all {len(self.uids)} sandbox uids ({self.describe()}) are in use")
            uid = self.free.popleft()
            self.held.add(uid)
            return uid

    def release(self, uid: int) -> None:
        with self.lock:
            if uid not in self.held:
                raise ValueError(f"uid {uid} is not held")
            self.held.remove(uid)
            self.free.append(uid)

    def in_use(self) -> int:
        with self.lock:
            return len(self.held)

    def describe(self) -> str:
        return f"{self.uids.start}-{self.uids.stop - 1}"

    def fits_in(self, label: str | None) -> bool:
        """Whether the image's range (its label, "first-last") covers this one; True without a label."""
        if not label:
            return True
        first, _, last = label.partition("-")
        return int(first) <= self.uids.start and self.uids.stop - 1 <= int(last)
