"""A warm pool: containers started ahead of time, each waiting for exactly one job.

A pooled container has already paid for `docker create` + `start` and for starting the runner
(for Python, the interpreter the program will run in). A run takes one and the pool forgets it:
no container ever serves two runs. A refill task replaces what was taken, backing off while
Docker fails. With the pool empty, a run starts a container itself (a cold start).

The refill waits for the run that took a container to end (`refill`), or for REFILL_DELAY_S:
starting a container is the heaviest thing the host does, and beside a hello world it doubled the
run's time under gVisor (49 ms, against 27 ms with the refill after it).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from ..concurrency import Tasks

log = logging.getLogger(__name__)

Warm = TypeVar("Warm")

REFILL_WORKERS = 2
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
IDLE_CHECK_S = 5.0
REFILL_DELAY_S = 1.0  # a run that goes on longer than this shares the host with its replacement


class WarmPool(Generic[Warm]):
    """Idle sandboxes per kind (a language, or a language's warm kind such as "python:graphics"),
    filled by `create` and emptied by `discard` at close."""

    def __init__(self, sizes: dict[str, int], create: Callable[[str], Warm],
                 discard: Callable[[Warm], None], tasks: Tasks) -> None:
        self.sizes = sizes
        self.create = create
        self.discard = discard
        self.tasks = tasks
        self.sleep = tasks.sleep
        self.idle: dict[str, collections.deque[Warm]] = {kind: collections.deque() for kind in sizes}
        self.making = dict.fromkeys(sizes, 0)
        self.lock = threading.Lock()
        self.wanted = threading.Event()  # set when what was taken should be replaced now
        self.closed = False
        self.warm_starts = 0
        self.cold_starts = 0
        self.refill_failures = 0
        self.backoff_s = 0.0

    def start(self) -> None:
        """Start the refill tasks: two, so that one slow `docker start` does not stall the other."""
        for _ in range(min(REFILL_WORKERS, sum(self.sizes.values()))):
            self.tasks.spawn(self.refill_forever)

    def take(self, *kinds: str) -> Warm | None:
        """An idle sandbox of the first of these kinds (pools) that has one."""
        with self.lock:
            warm = next((self.idle[kind].popleft() for kind in kinds if self.idle.get(kind)), None)
            if warm is None:
                self.cold_starts += 1
            else:
                self.warm_starts += 1
        self.tasks.call_later(REFILL_DELAY_S, self.refill)
        return warm

    def refill(self) -> None:
        """Replace what was taken now: the run that took it has ended."""
        self.wanted.set()

    def claim_missing(self) -> str | None:
        """A kind whose pool (counting containers being made) is below its size, claimed."""
        with self.lock:
            for kind, size in self.sizes.items():
                if len(self.idle[kind]) + self.making[kind] < size:
                    self.making[kind] += 1
                    return kind
        return None

    def refill_forever(self) -> None:
        """The refill task: top up, back off on failure, sleep until something is taken."""
        while not self.closed:
            kind = self.claim_missing()
            if kind is None:
                self.wanted.clear()
                self._wait_for_demand()
                continue
            try:
                warm = self.create(kind)
            except Exception as error:  # noqa: BLE001 - Docker failing must not end the task
                with self.lock:
                    self.making[kind] -= 1
                self.refill_failures += 1
                self.backoff_s = min(BACKOFF_MAX_S, max(BACKOFF_FIRST_S, self.backoff_s * 2))
                log.warning("pool refill failed (retrying in %.1fs): %s", self.backoff_s, error)
                self.sleep(self.backoff_s)
                continue
            self.backoff_s = 0.0
            with self.lock:
                self.making[kind] -= 1
                if not self.closed:
                    self.idle[kind].append(warm)
                    warm = None
            if warm is not None:
                self.discard(warm)

    def _wait_for_demand(self) -> None:
        # Event.wait would block the eventlet hub in some setups; polling with the async-neutral
        # sleep keeps the task cooperative under every async mode.
        deadline = time.monotonic() + IDLE_CHECK_S
        while not self.wanted.is_set() and not self.closed and time.monotonic() < deadline:
            self.sleep(0.05)

    def close(self) -> None:
        with self.lock:
            self.closed = True
            leftovers = [warm for idle in self.idle.values() for warm in idle]
            for idle in self.idle.values():
                idle.clear()
        for warm in leftovers:
            self.discard(warm)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            idle = {kind: len(queue) for kind, queue in self.idle.items()}
        return {
            "enabled": bool(self.sizes),
            "sizes": dict(self.sizes),
            "idle": idle,
            "warm_starts": self.warm_starts,
            "cold_starts": self.cold_starts,
            "refill_failures": self.refill_failures,
            "backoff_s": self.backoff_s,
        }
