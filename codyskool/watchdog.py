"""A run's clock and the watchdog that stops a run over its time limits.

Time at a prompt is not the program's: the wall-clock limit counts only the time it runs, and a
prompt left unanswered has a limit of its own. Until the program runs (starting the sandbox,
compiling), the run is bounded by a multiple of the compile limit. Whatever the program reports,
a run never outlives its lifetime limit, prompts included.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .config import Limits

WATCHDOG_INTERVAL_S = 0.1
STARTING_TIME_FACTOR = 2  # wall-clock bound of start-up + compile, in compile CPU-time limits


class RunClock:
    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.started_at = clock()
        self.running_at: float | None = None
        self.prompt_since: float | None = None
        self.prompt_total = 0.0

    def start(self) -> None:
        """The sandbox is being started: the run's time begins (time in the queue is not its)."""
        self.started_at = self.clock()

    def running(self) -> None:
        self.running_at = self.clock()

    def prompt_started(self) -> None:
        self.prompt_since = self.prompt_since or self.clock()

    def prompt_ended(self) -> None:
        if self.prompt_since is not None:
            self.prompt_total += self.clock() - self.prompt_since
            self.prompt_since = None

    def run_time_ms(self) -> float:
        """How long the program has run, prompts not counted."""
        now = self.clock()
        return max(0.0, (now - (self.running_at or now) - self.prompt_total) * 1000)

    def over_limit(self) -> bool:
        now = self.clock()
        if now - self.started_at > self.limits.lifetime_limit_s:
            return True
        waiting = now - self.prompt_since if self.prompt_since is not None else 0.0
        if waiting > self.limits.prompt_idle_limit_s:
            return True
        if self.running_at is None:  # starting the sandbox or compiling: bounded on its own
            return now - self.started_at > STARTING_TIME_FACTOR * self.limits.compile_time_limit_s
        return now - self.running_at - self.prompt_total - waiting > self.limits.wall_time_limit_s


def watch(clock: RunClock, ended: Callable[[], bool], on_over: Callable[[], None],
          sleep: Callable[[float], None]) -> None:
    """The watchdog task: until the run ends, call ``on_over`` whenever it is over a limit."""
    while not ended():
        sleep(WATCHDOG_INTERVAL_S)
        if not ended() and clock.over_limit():
            on_over()
