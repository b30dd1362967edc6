"""What the benchmark measures with: percentiles of durations, a responsiveness probe of the
server, and the change in its counters."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import requests


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize_ms(seconds: list[float], samples: bool = False) -> dict[str, Any]:
    """Count, p50/p95/p99, mean, min and max of durations given in seconds, in milliseconds."""
    ms = [value * 1000 for value in seconds]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "min_ms": round(min(ms), 2),
        "max_ms": round(max(ms), 2),
        **({"samples_ms": [round(value, 2) for value in ms]} if samples else {}),
    }


class HealthProbe:
    """Times GET /api/health every few ms in a thread while a benchmark runs: is the server responsive?"""

    def __init__(self, url: str, interval: float = 0.02) -> None:
        self.url = url + "/api/health"
        self.interval = interval
        self.durations: list[float] = []
        self.failures = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._probe, daemon=True)

    def __enter__(self) -> HealthProbe:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.thread.join(15)

    def _probe(self) -> None:
        with requests.Session() as session:
            while not self.stopped.is_set():
                started = time.perf_counter()
                try:
                    session.get(self.url, timeout=10).raise_for_status()
                    self.durations.append(time.perf_counter() - started)
                except requests.RequestException:
                    self.failures += 1
                self.stopped.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        return {**summarize_ms(self.durations), "failures": self.failures}


def counter_deltas(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before.get(key, 0) for key in after}
