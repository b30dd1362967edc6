"""The reference rows, measured on the machine before the servers of a runtime run: a bare
interpreter (once), and for each runtime a plain `docker run` and the container churn ceiling."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import Any

from bench.harness import BENCH_LABEL, CLEANUP, HELLO, IMAGE
from bench.probes import summarize_ms
from bench.settings import Settings
from codyskool.config import Limits
from codyskool.sandbox.docker_backend import sandbox_config, sandbox_host_config
from codyskool.sandbox.engine import Engine


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


def bench_docker_run(settings: Settings, runtime: str) -> dict[str, Any]:
    """A plain `docker run --rm --network none` of the sandbox image: a naive sandbox per run."""
    label = ["--label", f"{BENCH_LABEL}={CLEANUP.token}"]  # so that an interrupted one is found
    options = ["--rm", "--network", "none", "--runtime", runtime, *label]
    command = ["docker", "run", *options, IMAGE, "python3", "-c", HELLO]
    return time_command(command, settings.docker_runs, warmup=1)


def churn_config(runtime: str) -> dict[str, Any]:
    """A sandbox container as the server creates one under runtime (its isolation, limits and
    client), running a hello world instead of the runner: what container churn costs on its own."""
    host_config = sandbox_host_config(Limits.defaults(), runtime=runtime)
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


def bench_churn(settings: Settings, runtime: str) -> dict[str, Any]:
    """The container churn ceiling under runtime: create + start + wait + remove, N in parallel,
    per second."""
    finished: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    started = deadline = 0.0
    engine = Engine(timeout=120)
    config = churn_config(runtime)

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
        "runtime": runtime,
        "parallel": settings.churn_parallel,
        "command": ["python3", "-c", HELLO],
        "client": "codyskool.sandbox.engine (the server's own)",
        "seconds": round(elapsed, 3),
        "containers": len(finished),
        "per_second": round(len(finished) / elapsed, 2) if elapsed > 0 else 0.0,
        "errors": len(errors),
        "error_samples": errors[:5],
    }
