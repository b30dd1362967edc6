"""The targets of issues 6, 12 and 13, checked against the results of one run, runtime by runtime.

Issue 6's targets hold under runc (and any runtime but runsc); issue 12's under runsc: a warm
hello world within 20 ms and 1.5 times a bare interpreter, and 8 clients within 90% of gVisor's
own container churn ceiling. Every ratio divides two numbers of the same run and runtime, except
the bare interpreter's, which is measured once, without a container.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench.benchmarks import FLOOD_BYTES
from bench.harness import MB

Found = tuple[str, bool] | None  # what was measured, in words, and whether the target is met
Check = Callable[[dict[str, Any], dict[str, Any]], Found]  # (rows of a runtime, all results)


@dataclass
class Target:
    key: str
    runtime: str
    issue: int
    text: str  # the target in words
    short: str  # the same, short enough for the notes of a row
    measured: str
    passed: bool | None  # None: not measured in this run


def dig(document: Any, *path: str) -> Any:
    """document[path[0]][path[1]]..., or None where a step is missing."""
    value = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def warm_p50(limit_ms: float, rows: dict[str, Any], _results: dict[str, Any]) -> Found:
    warm = dig(rows, "warm", "p50_ms")
    return None if warm is None else (f"{warm} ms", warm < limit_ms)


def warm_vs_bare(rows: dict[str, Any], results: dict[str, Any]) -> Found:
    warm, bare = dig(rows, "warm", "p50_ms"), dig(results, "bare", "p50_ms")
    if warm is None or bare is None:
        return None
    return f"{warm} ms vs 1.5 x {bare} = {1.5 * bare:.2f} ms", warm < 1.5 * bare


def warm_vs_docker(rows: dict[str, Any], _results: dict[str, Any]) -> Found:
    warm, docker_run = dig(rows, "warm", "p50_ms"), dig(rows, "docker-run", "p50_ms")
    if warm is None or docker_run is None or warm <= 0:
        return None
    ratio = docker_run / warm
    return f"{ratio:.1f}x ({docker_run} / {warm} ms)", ratio >= 10


def runs_8_vs_churn(rows: dict[str, Any], _results: dict[str, Any]) -> Found:
    eight, churn = dig(rows, "throughput", "8"), dig(rows, "churn", "per_second")
    if not isinstance(eight, dict) or "runs_per_second" not in eight or not churn:
        return None
    share = eight["runs_per_second"] / churn
    measured = f"{eight['runs_per_second']}/s = {share:.0%} of {churn}/s, {eight['errors']} errors"
    return measured, share >= 0.9 and eight["errors"] == 0


def no_errors(rows: dict[str, Any], _results: dict[str, Any]) -> Found:
    levels = dig(rows, "throughput")
    if not isinstance(levels, dict) or not levels or not all("errors" in v for v in levels.values()):
        return None
    errors = {count: level["errors"] for count, level in levels.items()}
    return ", ".join(f"{n} with {count}" for count, n in errors.items()), not any(errors.values())


def bytes_50mb(rows: dict[str, Any], _results: dict[str, Any]) -> Found:
    flood = dig(rows, "bytes")
    if not isinstance(flood, dict) or "mb_per_second" not in flood:
        return None
    measured = f"{flood['mb_per_second']} MB/s" + ("" if flood["all_complete"] else ", bytes missing")
    return measured, flood["all_complete"] and flood["mb_per_second"] >= 20


def idle_memory(rows: dict[str, Any], _results: dict[str, Any]) -> Found:
    memory = dig(rows, "memory")
    if not isinstance(memory, dict) or "idle_delta_kb" not in memory:
        return None
    delta = memory["idle_delta_kb"] * 1024 / MB
    return f"+{delta:.1f} MB with {memory['idle_connections']}", delta < 50


def plot_p50(limit_ms: float, rows: dict[str, Any], _results: dict[str, Any]) -> Found:
    plot = dig(rows, "plot")
    picture = dig(plot, "to_picture", "p50_ms")
    if picture is None:
        return None
    measured = f"{picture} ms" + (f", {plot['errors']} errors" if plot["errors"] else "")
    return measured, picture < limit_ms and plot["errors"] == 0


def turtle_p50(key: str, limit_ms: float, rows: dict[str, Any], _results: dict[str, Any]) -> Found:
    row = dig(rows, "turtle")
    p50 = dig(row, key, "p50_ms")
    if p50 is None:
        return None
    measured = f"{p50} ms" + (f", {row['errors']} errors" if row["errors"] else "")
    return measured, p50 < limit_ms and row["errors"] == 0


@dataclass(frozen=True)
class Goal:
    key: str
    issue: int
    text: str
    short: str
    check: Check


ISSUE_6 = (
    Goal("warm_p50", 6, "warm hello p50 < 30 ms", "< 30 ms", partial(warm_p50, 30)),
    Goal("warm_vs_bare", 6, "warm p50 < 1.5 x bare python3 p50", "< 1.5 x bare", warm_vs_bare),
    Goal("warm_vs_docker", 6, "warm p50 at least 10x faster than docker run p50", ">= 10x docker run",
         warm_vs_docker),
    Goal("runs_8_vs_churn", 6, "8 clients: runs/s >= 90% of the churn ceiling, 0 errors", ">= 90% of churn",
         runs_8_vs_churn),
    Goal("no_errors", 6, "0 errors at every concurrency", "0 errors", no_errors),
    Goal("bytes_50mb", 6, f"{FLOOD_BYTES // MB} MB of output at >= 20 MB/s, every byte arrived", ">= 20 MB/s",
         bytes_50mb),
    Goal("idle_memory", 6, "100 idle connections: < 50 MB more RSS than none", "< +50 MB", idle_memory),
)  # fmt: skip

ISSUE_12_RUNSC = (
    Goal("warm_p50", 12, "warm hello p50 < 20 ms", "< 20 ms", partial(warm_p50, 20)),
    Goal("warm_vs_bare", 12, "warm p50 < 1.5 x bare python3 p50", "< 1.5 x bare", warm_vs_bare),
    Goal("runs_8_vs_churn", 12, "8 clients: runs/s >= 90% of the runsc churn ceiling, 0 errors",
         ">= 90% of churn", runs_8_vs_churn),
    Goal("no_errors", 6, "0 errors at every concurrency", "0 errors", no_errors),
)  # fmt: skip


ISSUE_13 = (
    Goal("plot_p50", 13, "a matplotlib plot, `run` to its picture, warm, p50 < 1.5 s", "< 1.5 s",
         partial(plot_p50, 1500)),
    Goal("turtle_first", 13, "turtle: `run` to its first segment, warm, p50 < 100 ms", "< 100 ms",
         partial(turtle_p50, "first_segment", 100)),
    Goal("turtle_thousand", 13, "turtle: a 1,000-segment drawing with tracer(0), warm, p50 < 1 s", "< 1 s",
         partial(turtle_p50, "thousand_segments", 1000)),
)  # fmt: skip


def goals_for(runtime: str) -> tuple[Goal, ...]:
    """Issue 12's targets under gVisor, issue 6's under runc and any other runtime; issue 13's under both."""
    return (ISSUE_12_RUNSC if runtime == "runsc" else ISSUE_6) + ISSUE_13


def evaluate_targets(results: dict[str, Any]) -> list[Target]:
    """Every target of every measured runtime, with what this run measured and whether it is met."""
    targets = []
    for runtime, rows in (results.get("by_runtime") or {}).items():
        for goal in goals_for(runtime):
            measured, passed = goal.check(rows, results) or ("not measured", None)
            targets.append(Target(goal.key, runtime, goal.issue, goal.text, goal.short, measured, passed))
    return targets
