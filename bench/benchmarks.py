"""The benchmarks against a live server (the reference rows are in references.py).

Each benchmark returns a JSON-ready dict. Durations are kept in milliseconds, rates per second,
memory in kB as /proc reports it.
"""

from __future__ import annotations

import resource
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from bench.harness import HELLO, MB, BenchClient, BenchServer, RunResult, close_clients, connect_clients
from bench.probes import HealthProbe, counter_deltas, summarize_ms
from bench.settings import Settings

FLOOD_LINE_BYTES = 1000  # the 50 MB program prints 50,000 lines of 999 "x" and a newline
FLOOD_BYTES = 50 * MB
FLOOD = (
    f"line = 'x' * {FLOOD_LINE_BYTES - 1}\n"
    f"for _ in range({FLOOD_BYTES // FLOOD_LINE_BYTES}):\n"
    "    print(line)\n"
)
PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.title('bench')\nplt.show()\n"
FIRST_SEGMENT = "import turtle\nturtle.forward(100)\n"
THOUSAND_SEGMENTS = (
    "import turtle\nturtle.tracer(0)\nfor i in range(1000):\n"
    "    turtle.forward(5 + i % 50)\n    turtle.left(59)\nturtle.update()\n"
)
SLEEPER = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"  # killed once measured


# --- against the server ----------------------------------------------------------------------


def bench_latency(server: BenchServer, runs: int, warmup: int, settings: Settings) -> dict[str, Any]:
    """Sequential hello runs, each once the pool is full again, as a person runs a program."""
    client = BenchClient(server.url)
    durations: list[float] = []
    failures: list[str] = []
    not_refilled = 0
    try:
        before: dict[str, int] = {}
        for index in range(warmup + runs):
            if index == warmup:
                before = server.counters()
            if not server.wait_pool_full():
                not_refilled += 1
            time.sleep(settings.settle_s)
            result = client.run(HELLO)
            if not result.is_hello():
                failures.append(result.problem())
            elif index >= warmup:
                durations.append(result.latency_s)
        after = server.counters()
    finally:
        client.close()
    return {
        **summarize_ms(durations, samples=True),
        "warmup": warmup,
        "errors": len(failures),
        "error_samples": failures[:5],
        "pool_full_level": server.pool_full,
        "not_refilled_in_time": not_refilled,
        "pool_counts": counter_deltas(before, after),
    }


Marks = dict[str, float]  # when (perf_counter) each mark of a run first and last came


def paced_run(server: BenchServer, client: BenchClient, settings: Settings, code: str,
              mark: Callable[[str, dict[str, Any]], str | None]) -> tuple[RunResult, Marks, Marks]:
    """One run once the pool is full again, as a person runs a program: its result, and when each
    mark (`mark(event, payload)`: a name, or None) first and last came, as seconds after `run`."""
    server.wait_pool_full()
    time.sleep(settings.settle_s)
    emitted, run_id = client.start(code)
    result = RunResult()
    first: Marks = {}
    last: Marks = {}

    def until(name: str, payload: dict[str, Any]) -> bool:
        key = mark(name, payload)
        if key is not None:
            last[key] = time.perf_counter() - emitted
            first.setdefault(key, last[key])
        return name == "exit"

    client.wait_for(run_id, until, result, 60)
    return result, first, last


def ok(result: RunResult) -> bool:
    return result.reason == "exited" and not result.stderr_bytes and result.error is None


def bench_plot(server: BenchServer, settings: Settings) -> dict[str, Any]:
    """A matplotlib line plot as a learner runs one: the time from `run` to its `display` (the
    picture in the page) and to its `exit`."""
    client = BenchClient(server.url)
    to_picture: list[float] = []
    to_exit: list[float] = []
    failures: list[str] = []
    try:
        for index in range(settings.plot_warmup + settings.plot_runs):
            result, first, _ = paced_run(server, client, settings, PLOT, lambda name, _: name)
            if "display" not in first or not ok(result):
                failures.append(f"picture={'display' in first} {result.problem()}")
            elif index >= settings.plot_warmup:
                to_picture.append(first["display"])
                to_exit.append(first["exit"])
    finally:
        client.close()
    return {
        "to_picture": summarize_ms(to_picture, samples=True),
        "to_exit": summarize_ms(to_exit, samples=True),
        "warmup": settings.plot_warmup,
        "errors": len(failures),
        "error_samples": failures[:5],
    }


def turtle_mark(name: str, payload: dict[str, Any]) -> str | None:
    """"segment" for drawing that holds a line of two points (what the page draws in its next
    frame), "drawing" for any other."""
    if name != "turtle":
        return None
    lines = [c for c in payload.get("commands", []) if c[0] == "line" and len(c[2]) >= 4]
    return "segment" if lines else "drawing"


def bench_turtle(server: BenchServer, settings: Settings) -> dict[str, Any]:
    """Turtle as a learner's program draws: from `run` to its first segment, and to the last
    drawing of a 1,000-segment picture made with tracer(0)."""
    client = BenchClient(server.url)
    first_segment: list[float] = []
    thousand: list[float] = []
    failures: list[str] = []
    try:
        for index in range(settings.plot_warmup + settings.plot_runs):
            result, first, _ = paced_run(server, client, settings, FIRST_SEGMENT, turtle_mark)
            if "segment" not in first or not ok(result):
                failures.append(f"first segment: {result.problem()}")
            elif index >= settings.plot_warmup:
                first_segment.append(first["segment"])
            result, _, last = paced_run(server, client, settings, THOUSAND_SEGMENTS, turtle_mark)
            if "segment" not in last or not ok(result):
                failures.append(f"1,000 segments: {result.problem()}")
            elif index >= settings.plot_warmup:
                thousand.append(max(last.values()))
    finally:
        client.close()
    return {
        "first_segment": summarize_ms(first_segment, samples=True),
        "thousand_segments": summarize_ms(thousand, samples=True),
        "warmup": settings.plot_warmup,
        "errors": len(failures),
        "error_samples": failures[:5],
    }


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_loop(server: BenchServer, clients_count: int, seconds: float) -> dict[str, Any]:
    """clients_count clients, each running hello world in a loop for `seconds`: runs per second."""
    clients = connect_clients(server.url, clients_count)
    results: list[RunResult] = []
    lock = threading.Lock()
    go = threading.Event()
    stop = threading.Event()
    started = deadline = 0.0

    def loop(client: BenchClient) -> None:
        go.wait()
        while not stop.is_set() and time.perf_counter() < deadline:
            result = client.run(HELLO)
            with lock:
                results.append(result)

    try:
        server.wait_pool_full()
        before = server.counters()
        threads = [threading.Thread(target=loop, args=(client,), daemon=True) for client in clients]
        for thread in threads:
            thread.start()
        cpu_before, own_cpu_before = server.cpu_seconds(), own_cpu_seconds()
        started = time.perf_counter()
        deadline = started + seconds
        go.set()
        for thread in threads:
            thread.join(seconds + 120)
        cpu, own_cpu = server.cpu_seconds() - cpu_before, own_cpu_seconds() - own_cpu_before
        after = server.counters()
    finally:
        stop.set()
        go.set()
        close_clients(clients)
    good = [result for result in results if result.is_hello()]
    bad = [result.problem() for result in results if not result.is_hello()]
    elapsed = max((result.finished_at for result in results), default=started) - started
    return {
        "clients": clients_count,
        "seconds": round(elapsed, 3),
        "runs": len(good),
        "runs_per_second": round(len(good) / elapsed, 2) if elapsed > 0 else 0.0,
        "errors": len(bad),
        "error_samples": bad[:5],
        "latency": summarize_ms([result.latency_s for result in good]),
        "pool_counts": counter_deltas(before, after),
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_run": round(cpu * 1000 / len(results), 1) if results else None,
        "client_cpu_s": round(own_cpu, 2),  # the benchmark's own clients share the machine
    }


def bench_throughput(server: BenchServer, settings: Settings) -> dict[str, Any]:
    """Runs per second at each concurrency level, one level after the other."""
    return {str(count): bench_loop(server, count, settings.loop_seconds) for count in settings.concurrency}


def bench_bytes(server: BenchServer, settings: Settings) -> dict[str, Any]:
    """A program that prints 50 MB, on a warm sandbox: bytes per second from `run` to `exit`."""
    client = BenchClient(server.url)
    repeats = []
    try:
        for _ in range(settings.flood_repeats):
            server.wait_pool_full()
            time.sleep(settings.settle_s)
            cpu_before = server.cpu_seconds()
            with HealthProbe(server.url) as probe:
                result = client.run(FLOOD, timeout=180)
            cpu = server.cpu_seconds() - cpu_before
            complete = result.error is None and result.reason == "exited"
            complete = complete and result.stdout_bytes == FLOOD_BYTES and result.stderr_bytes == 0
            seconds = result.latency_s
            repeats.append(
                {
                    "seconds": round(seconds, 3),
                    "mb_per_second": round(result.stdout_bytes / MB / seconds, 2) if seconds > 0 else 0.0,
                    "bytes": result.stdout_bytes,
                    "complete": complete,
                    "output_events": result.output_events,
                    "server_cpu_s": round(cpu, 2),
                    "health_during": probe.summary(),
                    "problem": None if complete else result.problem(),
                }
            )
    finally:
        client.close()
    complete = [repeat for repeat in repeats if repeat["complete"]]
    return {
        "expected_bytes": FLOOD_BYTES,
        "all_complete": len(complete) == len(repeats),
        "mb_per_second": round(statistics.median(r["mb_per_second"] for r in complete), 2)
        if complete
        else 0.0,
        "seconds": round(statistics.median(r["seconds"] for r in complete), 3) if complete else None,
        "health_p95_ms": max((r["health_during"].get("p95_ms", 0) for r in repeats), default=None),
        "repeats": repeats,
    }


def sample_rss(server: BenchServer, samples: int = 5, interval: float = 0.2) -> int:
    """The server's VmRSS in kB: the highest of a few samples."""
    highest = 0
    for _ in range(samples):
        highest = max(highest, server.rss_kb()["VmRSS"])
        time.sleep(interval)
    return highest


def bench_memory(server: BenchServer, settings: Settings) -> dict[str, Any]:
    """The server's resident memory with no connection, with N idle ones, with M running programs."""
    first = BenchClient(server.url)  # one run first: lazy imports and first-use caches are paid
    try:
        first.run(HELLO)
    finally:
        first.close()
    time.sleep(1.0)
    none_kb = sample_rss(server)

    idle = connect_clients(server.url, settings.idle_connections)
    try:
        time.sleep(2.0)
        idle_kb = sample_rss(server)
    finally:
        close_clients(idle)
    time.sleep(2.0)
    after_idle_kb = sample_rss(server)

    running = connect_clients(server.url, settings.running_programs)
    try:
        begun = time.perf_counter()
        runs = [(client, client.start(SLEEPER)[1]) for client in running]
        for client, run_id in runs:
            result = RunResult()
            ready = client.wait_for(
                run_id, lambda name, p: name == "exit" or "ready" in str(p.get("data")), result, timeout=120
            )
            if ready is None or result.reason is not None:
                raise RuntimeError(f"a sleeping program did not start: {result.problem()}")
        all_running_s = time.perf_counter() - begun
        running_kb = sample_rss(server)
        for client in running:
            client.kill()
        for client, run_id in runs:
            client.wait_for(run_id, lambda name, _: name == "exit", RunResult(), timeout=60)
    finally:
        close_clients(running)
    return {
        "none_kb": none_kb,
        "idle_connections": settings.idle_connections,
        "idle_kb": idle_kb,
        "idle_delta_kb": idle_kb - none_kb,
        "after_idle_closed_kb": after_idle_kb,
        "running_programs": settings.running_programs,
        "running_kb": running_kb,
        "running_delta_kb": running_kb - after_idle_kb,
        "all_running_after_s": round(all_running_s, 2),
        "peak_kb": server.rss_kb().get("VmHWM"),
    }


