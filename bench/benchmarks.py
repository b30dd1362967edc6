"""The measurements: reference rows on the bare machine, and benchmarks against a live server.

Each benchmark returns a JSON-ready dict. Durations are kept in milliseconds, rates per second,
memory in kB as /proc reports it.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    BENCH_LABEL,
    CLEANUP,
    HELLO,
    IMAGE,
    MB,
    ROOT,
    RUNTIME,
    BenchClient,
    BenchServer,
    HealthProbe,
    RunResult,
    close_clients,
    connect_clients,
    counter_deltas,
    summarize_ms,
)
from codyskool.config import Limits
from codyskool.sandbox.docker_backend import sandbox_config, sandbox_host_config
from codyskool.sandbox.engine import Engine, EngineError

FLOOD_LINE_BYTES = 1000  # the 50 MB program prints 50,000 lines of 999 "x" and a newline
FLOOD_BYTES = 50 * MB
FLOOD = (
    f"line = 'x' * {FLOOD_LINE_BYTES - 1}\n"
    f"for _ in range({FLOOD_BYTES // FLOOD_LINE_BYTES}):\n"
    "    print(line)\n"
)
SLEEPER = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"  # killed once measured


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
)


# --- reference rows --------------------------------------------------------------------------


def bare_python() -> str:
    """The interpreter binary by its full path, never a shim (pyenv's adds ~90 ms)."""
    candidate = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    return os.path.realpath(candidate)


def time_command(command: list[str], runs: int, warmup: int) -> dict[str, Any]:
    """Run a command that prints hello again and again; its wall-clock time as p50/p95/p99."""
    durations = []
    for index in range(warmup + runs):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        if done.returncode != 0 or done.stdout != "hello\n":
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr[-300:]!r}")
        if index >= warmup:
            durations.append(elapsed)
    return {"command": command, **summarize_ms(durations, samples=True)}


def bench_bare(settings: Settings) -> dict[str, Any]:
    """A bare local `python3 -c "print('hello')"`: what starting an interpreter costs here."""
    return time_command([bare_python(), "-c", HELLO], settings.bare_runs, warmup=5)


def bench_docker_run(settings: Settings) -> dict[str, Any]:
    """A plain `docker run --rm --network none` of the sandbox image: a naive sandbox per run."""
    runtime = ["--runtime", RUNTIME] if RUNTIME else []
    label = ["--label", f"{BENCH_LABEL}={CLEANUP.token}"]  # so that an interrupted one is found
    command = ["docker", "run", "--rm", "--network", "none", *runtime, *label, IMAGE, "python3", "-c", HELLO]
    return time_command(command, settings.docker_runs, warmup=1)


def churn_config() -> dict[str, Any]:
    """A sandbox container as the server creates one (its isolation, limits and client), running
    a hello world instead of the runner: what the machine's container churn costs on its own."""
    host_config = sandbox_host_config(Limits.defaults(), runtime=RUNTIME or None)
    return sandbox_config(IMAGE, ["python3", "-c", HELLO], host_config, {BENCH_LABEL: CLEANUP.token})


def churn_once(engine: Engine, config: dict[str, Any]) -> None:
    """One container's whole life: create, start, wait, remove."""
    container_id = engine.create_container(config)
    try:
        engine.start(container_id)
        status = engine.wait(container_id, timeout=60)
        if status.get("StatusCode") != 0:
            raise RuntimeError(f"a churn container exited with {status}")
    finally:
        engine.remove_container(container_id)


def bench_churn(settings: Settings) -> dict[str, Any]:
    """The container churn ceiling: create + start + wait + remove, N in parallel, per second."""
    finished: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    started = deadline = 0.0
    engine = Engine(timeout=120)
    config = churn_config()

    def worker() -> None:
        while not stop.is_set() and time.perf_counter() < deadline:
            try:
                churn_once(engine, config)
                with lock:
                    finished.append(time.perf_counter() - started)
            except Exception as error:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(str(error)[:300])

    try:
        churn_once(engine, config)  # the image and runc in the page cache
        started = time.perf_counter()
        deadline = started + settings.churn_seconds
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(settings.churn_parallel)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        finally:  # on Ctrl-C too: no worker may create a container after the cleanup looked
            stop.set()
            for thread in threads:
                thread.join(60)
    finally:
        engine.close()
    elapsed = max(finished, default=time.perf_counter() - started)
    return {
        "parallel": settings.churn_parallel,
        "command": ["python3", "-c", HELLO],
        "client": "codyskool.sandbox.engine (the server's own)",
        "seconds": round(elapsed, 3),
        "containers": len(finished),
        "per_second": round(len(finished) / elapsed, 2) if elapsed > 0 else 0.0,
        "errors": len(errors),
        "error_samples": errors[:5],
    }


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


# --- the machine -----------------------------------------------------------------------------


def read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def first_field(text: str, prefix: str, separator: str) -> str | None:
    """The value of the first line of text that starts with prefix, after separator."""
    for line in text.splitlines():
        if line.startswith(prefix):
            return line.split(separator, 1)[1].strip().strip('"')
    return None


def git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


def machine_info() -> dict[str, Any]:
    """Cores, memory, kernel, Docker and its runtime: what the numbers depend on."""
    mem_total = first_field(read_text("/proc/meminfo"), "MemTotal:", ":") or "0 kB"
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cpu": first_field(read_text("/proc/cpuinfo"), "model name", ":") or platform.processor(),
        "memory_mb": round(int(mem_total.split()[0]) * 1024 / MB),
        "kernel": platform.release(),
        "os": first_field(read_text("/etc/os-release"), "PRETTY_NAME=", "=") or platform.system(),
        "python": platform.python_version(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
    engine = Engine(timeout=30)
    try:
        version, details = engine.request("GET", "/version"), engine.request("GET", "/info")
        info["docker"] = {
            "version": version.get("Version"),
            "api": version.get("ApiVersion"),
            "runtime": RUNTIME or details.get("DefaultRuntime"),
            "cgroup": details.get("CgroupVersion"),
            "storage": details.get("Driver"),
            "image": IMAGE,
        }
    except EngineError as error:
        info["docker"] = {"error": str(error)}
    finally:
        engine.close()
    return info
