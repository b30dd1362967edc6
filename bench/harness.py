"""What the benchmarks stand on: a live server, real Socket.IO clients, and cleanup (the
measuring tools are in probes.py).

The server process and the in-order Socket.IO client are the tests' harness (tests/live.py);
what is added here is the benchmark's: its settings, CPU and memory probes, and the cleanup.

Everything the benchmark starts is registered with ``CLEANUP`` the moment it exists, so that
``CLEANUP.run()`` (called in ``run.py``'s ``finally``) can stop every server and remove every
container, however the benchmark ends.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import socketio
from live import INSTANCE_LABEL, ROOT, ServerProcess, SocketClient
from live import last_line as last_line  # for run.py, report.py and readme_table.py

from codyskool.sandbox.docker_backend import remove_container
from codyskool.sandbox.engine import Engine, EngineError

MB = 1_000_000  # every MB here is 10^6 bytes, for throughput and for memory alike
IMAGE = os.environ.get("CODYSKOOL_SANDBOX_IMAGE", "codyskool-sandbox:latest")
BENCH_LABEL = "org.codyskool.bench"  # on every container the benchmark makes itself

HELLO = "print('hello')"
HELLO_OUTPUT = "hello\n"

# Admission limits so generous that they never throttle the benchmark, and room for 50 MB of output.
SERVER_ENV = {
    "CODYSKOOL_BACKEND": "docker",
    "CODYSKOOL_ASYNC_MODE": "eventlet",
    "CODYSKOOL_HOST": "127.0.0.1",
    "CODYSKOOL_LOG_LEVEL": "WARNING",
    "CODYSKOOL_MAX_CONCURRENT_RUNS": "64",
    "CODYSKOOL_MAX_CONCURRENT_RUNS_PER_IP": "64",
    "CODYSKOOL_SANDBOX_UIDS": "256",  # 64 runs at once, the pool, and sandboxes being removed
    "CODYSKOOL_RUNS_PER_MINUTE_PER_IP": "100000",
    "CODYSKOOL_RUNS_PER_MINUTE_PER_SESSION": "100000",
    "CODYSKOOL_MAX_CONNECTIONS_PER_IP": "1000",
    "CODYSKOOL_OUTPUT_LIMIT_BYTES": "200000000",
    "CODYSKOOL_WALL_TIME_LIMIT_S": "120",
    "CODYSKOOL_CPU_TIME_LIMIT_S": "60",
}


# --- cleanup ---------------------------------------------------------------------------------


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unwind like Ctrl-C, so that everything is cleaned up."""


def raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(f"signal {signal.Signals(signum).name}")


@contextmanager
def uninterrupted() -> Iterator[None]:
    """A second Ctrl-C must not cut the cleanup short."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Cleanup:
    """What the benchmark must undo however it ends: clients, servers, containers."""

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex[:8]  # in the servers' instance names and on our containers
        self.servers: list[BenchServer] = []
        self.clients: set[BenchClient] = set()
        self.lock = threading.Lock()

    def instance(self, name: str) -> str:
        return f"bench-{self.token}-{name}"

    def track(self, client: BenchClient) -> None:
        with self.lock:
            self.clients.add(client)

    def forget(self, client: BenchClient) -> None:
        with self.lock:
            self.clients.discard(client)

    def run(self, interrupted: bool = False) -> int:
        """Close every client, stop every server; returns how many containers had to be removed."""
        with self.lock:
            clients, self.clients = self.clients, set()
        close_clients(clients)
        removed = 0
        for server in list(self.servers):
            removed += server.stop()
        removed += self.sweep()
        if interrupted:  # a `docker run` stopped by the same Ctrl-C may still be on its way
            time.sleep(2)
            removed += self.sweep()
        return removed

    def sweep(self, servers: list[BenchServer] | None = None) -> int:
        """Remove the containers labelled as ours, and those of the given servers (default: all)."""
        filters: list[dict[str, list[str]]] = [{"label": [f"{BENCH_LABEL}={self.token}"]}]
        for server in self.servers if servers is None else servers:
            filters.append({"label": [f"{INSTANCE_LABEL}={server.instance}"]})
            filters.append({"name": [f"codyskool-{server.instance}-"]})
        removed: set[str] = set()
        engine = Engine(timeout=60)
        try:
            for query in filters:
                for container in engine.containers(query):
                    if container["Id"] not in removed and remove_container(engine, container["Id"]):
                        removed.add(container["Id"])
        except EngineError as error:
            print(f"bench: cannot reach Docker to remove leftovers: {error}", file=sys.stderr)
        finally:
            engine.close()
        return len(removed)


CLEANUP = Cleanup()


# --- the server ------------------------------------------------------------------------------


def server_python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


class BenchServer(ServerProcess):
    """A server with SERVER_ENV, in a session of its own, so that Ctrl-C reaches only us."""

    def __init__(self, name: str, extra_env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.pool_full = 0  # idle Python sandboxes when the pool is full; 0 without a pool
        instance = CLEANUP.instance(name)
        env = {**SERVER_ENV, **extra_env}
        super().__init__(instance, env, log_dir / f"{instance}.log", python=server_python(), new_session=True)
        CLEANUP.servers.append(self)
        self.wait_ready(60)  # stops the server if it never answers

    def pool(self) -> dict[str, Any] | None:
        """The pool's state from /api/health; None when the server reports no enabled pool."""
        pool = self.health().get("pool")
        return pool if isinstance(pool, dict) and pool.get("enabled") else None

    def idle_python(self) -> int:
        pool = self.pool() or {}
        return int((pool.get("idle") or {}).get("python", 0))

    def settle_pool(self, timeout: float = 30, steady_s: float = 1.0) -> int:
        """Wait for the Python pool to fill, and remember its full level (its size, or where it settles)."""
        pool = self.pool()
        if pool is None:
            return 0
        size = (pool.get("sizes") or {}).get("python")
        if isinstance(size, int):
            self.pool_full = size
            self.wait_pool_full(timeout)  # should it never fill, the start counters will tell
            return size
        deadline = time.monotonic() + timeout
        level, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            idle = self.idle_python()
            if idle != level:
                level, since = idle, time.monotonic()
            elif idle > 0 and time.monotonic() - since >= steady_s:
                break
            time.sleep(0.05)
        self.pool_full = max(level, 0)
        return self.pool_full

    def wait_pool_full(self, timeout: float = 20) -> bool:
        """Wait until the pool is back at its full level; True when it is (or there is no pool)."""
        if self.pool_full <= 0:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle_python() >= self.pool_full:
                return True
            time.sleep(0.01)
        return False

    def counters(self) -> dict[str, int]:
        """The pool's start counters; empty without a pool."""
        pool = self.pool() or {}
        keys = ("cold_starts", "warm_starts", "refill_failures")
        return {key: int(pool[key]) for key in keys if isinstance(pool.get(key), int)}

    def rss_kb(self) -> dict[str, int]:
        """VmRSS and VmHWM (its peak) of the server process, in kB, from /proc/PID/status."""
        values = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
        return values

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used, from /proc/PID/stat."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 20) -> int:
        """Stop the server (SIGTERM, then SIGKILL) and remove what it left; returns how many."""
        super().stop(timeout)
        if self not in CLEANUP.servers:
            return 0
        removed = CLEANUP.sweep([self])
        CLEANUP.servers.remove(self)
        return removed


# --- the client ------------------------------------------------------------------------------


@dataclass
class RunResult:
    """One run as a client saw it, from emitting `run` to receiving its `exit`."""

    latency_s: float = 0.0
    reason: str | None = None
    code: int | None = None
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    stdout_head: str = ""
    stderr_head: str = ""
    output_events: int = 0
    error: str | None = None
    finished_at: float = 0.0  # perf_counter() when the exit arrived

    def is_hello(self) -> bool:
        return (
            self.error is None
            and self.reason == "exited"
            and self.code == 0
            and self.stdout_head == HELLO_OUTPUT
            and self.stderr_bytes == 0
        )

    def problem(self) -> str:
        if self.error:
            return self.error
        return (
            f"reason={self.reason} code={self.code} stdout={self.stdout_head[:80]!r} "
            f"stderr={self.stderr_head[:200]!r}"
        )


class BenchClient(SocketClient):
    """A python-socketio client over websockets that timestamps every event as it arrives."""

    HEAD_CHARS = 256

    def __init__(self, url: str, timeout: float = 30) -> None:
        CLEANUP.track(self)
        try:
            # websocket-client validates UTF-8 in pure Python (about 5 MB/s): a browser does it natively.
            super().__init__(url, timeout=timeout, websocket_extra_options={"skip_utf8_validation": True})
        except Exception:
            self.close()
            raise

    def _recorder(self, name: str) -> Callable[..., None]:
        def record(payload: Any = None) -> None:
            self.events.put((time.perf_counter(), name, payload))

        return record

    def start(self, code: str, timeout: float = 60) -> tuple[float, str]:
        """Emit `run`; returns when it was emitted and the run's id. Raises RuntimeError if refused."""
        while not self.events.empty():  # what an earlier run left behind
            self.events.get_nowait()
        emitted = time.perf_counter()
        ack = self.sio.call("run", {"language": "python", "code": code}, timeout=timeout)
        if not isinstance(ack, dict) or not ack.get("ok"):
            raise RuntimeError(f"run refused: {ack!r}")
        return emitted, ack["run_id"]

    def wait_for(
        self, run_id: str, until: Callable[[str, dict[str, Any]], bool], result: RunResult, timeout: float
    ) -> float | None:
        """Add the run's events to result until until(name, payload); returns when that one came."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                at, name, payload = self.events.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                return None
            payload = payload if isinstance(payload, dict) else {}
            if payload.get("run_id") not in (run_id, None):
                continue
            if name == "output":
                self._add_output(result, payload)
            elif name == "error":
                result.error = f"error event: {payload.get('message')!r}"
            elif name == "exit":
                result.reason, result.code = payload.get("reason"), payload.get("code")
            if until(name, payload):
                return at

    def _add_output(self, result: RunResult, payload: dict[str, Any]) -> None:
        data = str(payload.get("data", ""))
        size = len(data.encode())
        result.output_events += 1
        if payload.get("stream") == "stdout":
            result.stdout_bytes += size
            if len(result.stdout_head) < self.HEAD_CHARS:
                result.stdout_head += data[: self.HEAD_CHARS]
        else:
            result.stderr_bytes += size
            if len(result.stderr_head) < self.HEAD_CHARS:
                result.stderr_head += data[: self.HEAD_CHARS]

    def run(self, code: str, timeout: float = 60) -> RunResult:
        """Run a program to its `exit`. Failures are in the result, never raised."""
        result = RunResult()
        try:
            emitted, run_id = self.start(code, timeout)
        except (RuntimeError, socketio.exceptions.SocketIOError) as error:
            result.error = str(error) or type(error).__name__
            result.finished_at = time.perf_counter()
            return result
        exited = self.wait_for(run_id, lambda name, _: name == "exit", result, timeout)
        if exited is None:
            result.error = result.error or f"no exit within {timeout:.0f} s"
            self.kill()
            exited = time.perf_counter()
        result.latency_s = exited - emitted
        result.finished_at = exited
        return result

    def kill(self) -> None:
        try:
            self.sio.emit("kill", {})
        except socketio.exceptions.SocketIOError:
            pass

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
        CLEANUP.forget(self)


def connect_clients(url: str, count: int) -> list[BenchClient]:
    """count connected clients; none left open if one cannot connect."""
    clients: list[BenchClient] = []
    try:
        for _ in range(count):
            clients.append(BenchClient(url))
    except BaseException:
        close_clients(clients)
        raise
    return clients


def close_clients(clients: list[BenchClient] | set[BenchClient], timeout: float = 15) -> None:
    """Disconnect clients in parallel: one by one, each waiting for the server, takes seconds."""
    threads = [threading.Thread(target=client.close, daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
