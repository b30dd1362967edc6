"""How much of everything the benchmark does."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """How much of everything. ``QUICK`` is a smoke run of about a minute."""

    bare_runs: int = 100
    docker_runs: int = 20
    churn_seconds: float = 10.0
    churn_parallel: int = 8
    latency_runs: int = 100
    latency_warmup: int = 10
    cold_runs: int = 100
    cold_warmup: int = 3
    concurrency: tuple[int, ...] = (1, 8, 32)
    loop_seconds: float = 15.0
    flood_repeats: int = 3
    idle_connections: int = 100
    plot_runs: int = 10  # matplotlib plots, from `run` to the picture and to the exit
    plot_warmup: int = 2
    running_programs: int = 32
    settle_s: float = 0.1  # pause once the pool is full again, before a paced run
    pool_sizes: str | None = None  # CODYSKOOL_POOL_SIZES of the pool server; None: its default


QUICK = Settings(
    bare_runs=20,
    docker_runs=3,
    churn_seconds=3.0,
    latency_runs=15,
    latency_warmup=3,
    cold_runs=8,
    cold_warmup=1,
    loop_seconds=3.0,
    flood_repeats=1,
    plot_runs=3,
    plot_warmup=1,
)
