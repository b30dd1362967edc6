"""The run clock: what counts as run time, and when a run is over its limits."""

from __future__ import annotations

from codyskool.config import Limits
from codyskool.watchdog import RunClock, watch


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def clock_with(**limits: float) -> tuple[RunClock, Clock]:
    now = Clock()
    return RunClock(Limits.defaults().lowered(limits), clock=now), now


def test_prompt_time_is_not_run_time() -> None:
    run, now = clock_with(wall_time_limit_s=5)
    run.start()
    run.running()
    now.now += 2
    run.prompt_started()
    now.now += 100
    assert not run.over_limit(), "100 s at a prompt is under the 300 s prompt limit and not run time"
    run.prompt_ended()
    now.now += 1
    assert run.run_time_ms() == 3000
    assert not run.over_limit()
    now.now += 2.5
    assert run.over_limit(), "5.5 s of running is over the 5 s wall-clock limit"


def test_an_unanswered_prompt_has_its_own_limit() -> None:
    run, now = clock_with(prompt_idle_limit_s=10)
    run.running()
    run.prompt_started()
    now.now += 9.9
    assert not run.over_limit()
    now.now += 0.2
    assert run.over_limit()


def test_starting_and_compiling_are_bounded_by_the_compile_limit() -> None:
    run, now = clock_with(compile_time_limit_s=3)
    run.start()
    now.now += 5.9
    assert not run.over_limit()
    now.now += 0.2
    assert run.over_limit(), "twice the compile limit"


def test_the_watchdog_stops_once_over_and_ends_with_the_run() -> None:
    run, now = clock_with(wall_time_limit_s=1)
    run.running()
    calls = []
    ended = []

    def sleep(seconds: float) -> None:
        now.now += seconds
        if len(calls) == 2:
            ended.append(True)

    watch(run, ended=lambda: bool(ended), on_over=lambda: calls.append(now.now), sleep=sleep)
    assert len(calls) == 2 and calls[0] > 101


def test_no_run_outlives_its_lifetime_whatever_it_reports() -> None:
    run, now = clock_with(lifetime_limit_s=60, prompt_idle_limit_s=50)
    run.start()
    run.running()
    for _ in range(6):  # a program that keeps saying it waits at a prompt, answered each time
        run.prompt_started()
        now.now += 9
        assert not run.over_limit()
        run.prompt_ended()
    assert run.run_time_ms() == 0, "none of its 54 s counted as run time"
    now.now += 6.5
    assert run.over_limit(), "60.5 s since it started: over the 60 s lifetime"
