"""The warm pool: single use, refill, fallback to cold starts, back-off, clean-up.

These check behaviour, not speed; bench/ measures speed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from conftest import LiveServer, RunClient, require_docker, wait_until
from live import DOCKER, INSTANCE_LABEL

from codyskool.sandbox import pool as pool_module
from codyskool.sandbox.docker_backend import DockerExecution
from codyskool.sandbox.engine import NotFound
from codyskool.sandbox.pool import WarmPool

IDENTIFY = (
    "import os, socket\n"
    "print(socket.gethostname(), os.path.exists('/work/marker'))\n"
    "open('/work/marker', 'w').write('used')\n"
)


@pytest.fixture(scope="module")
def pooled_server():
    require_docker()
    live = LiveServer("docker", "eventlet", {"CODYSKOOL_POOL_SIZES": "python=2"})
    yield live
    live.stop()
    assert live.containers() == [], "idle pool containers must be removed at shutdown"


def idle(server: LiveServer) -> int:
    return server.health()["pool"]["idle"].get("python", 0)


def test_every_run_gets_a_container_of_its_own(pooled_server: LiveServer) -> None:
    client = RunClient(pooled_server.url)
    try:
        seen = [client.run_to_exit(IDENTIFY).stdout.split() for _ in range(4)]
    finally:
        client.close()
    hosts = [host for host, _ in seen]
    assert len(set(hosts)) == 4, f"a container served two runs: {hosts}"
    assert [marker for _, marker in seen] == ["False"] * 4, "a run saw another run's files"


def test_the_pool_refills_after_runs(pooled_server: LiveServer) -> None:
    assert wait_until(lambda: idle(pooled_server) == 2, timeout=20)
    before = pooled_server.health()["pool"]["warm_starts"]
    client = RunClient(pooled_server.url)
    try:
        assert client.run_to_exit('print("warm")').stdout == "warm\n"
    finally:
        client.close()
    assert pooled_server.health()["pool"]["warm_starts"] == before + 1
    assert wait_until(lambda: idle(pooled_server) == 2, timeout=20)
    assert pooled_server.no_busy_containers()


def test_python_runs_as_main_in_a_clean_namespace(pooled_server: LiveServer) -> None:
    client = RunClient(pooled_server.url)
    try:
        result = client.run_to_exit(
            "print(sorted(globals()))\nimport sys\nprint(__name__, __file__, sys.argv)\n"
            "print([m for m in ('runner', 'codyskool') if m in sys.modules])",
            args=["x"],
        )
    finally:
        client.close()
    names, identity, runner_modules = result.stdout.splitlines()
    clean = ["__builtins__", "__doc__", "__file__", "__loader__", "__name__", "__package__", "__spec__"]
    assert names == str(clean)
    assert identity == "__main__ main.py ['main.py', 'x']"
    assert runner_modules == "[]"


@pytest.mark.live
def test_an_empty_pool_falls_back_to_cold_starts() -> None:
    require_docker()
    live = LiveServer("docker", "eventlet", {"CODYSKOOL_POOL_SIZES": "python=1"})
    clients = [RunClient(live.url) for _ in range(3)]
    try:
        assert wait_until(lambda: idle(live) == 1, timeout=20)
        results: list[str] = [""] * 3

        def run(index: int) -> None:
            code = f'import time\ntime.sleep(1)\nprint("run {index}")'
            results[index] = clients[index].run_to_exit(code).stdout

        threads = [threading.Thread(target=run, args=(index,)) for index in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert results == [f"run {index}\n" for index in range(3)]
        pool = live.health()["pool"]
        assert pool["cold_starts"] >= 1 and pool["warm_starts"] >= 1
        assert wait_until(lambda: idle(live) == 1, timeout=20)
        assert live.no_busy_containers()
    finally:
        for client in clients:
            client.close()
        live.stop()
    assert live.containers() == []


@pytest.mark.live
def test_the_pool_can_be_turned_off() -> None:
    require_docker()
    live = LiveServer("docker", "threading", {"CODYSKOOL_POOL_SIZES": "off"})
    try:
        assert live.health()["pool"] == {"enabled": False}
        client = RunClient(live.url)
        assert client.run_to_exit('print("cold")').stdout == "cold\n"
        client.close()
        assert wait_until(lambda: live.containers() == [], timeout=10)
    finally:
        live.stop()


def container_events(instance: str, event: str, since: float) -> list[str]:
    """Ids of this server's containers that had `event` in Docker's event log since `since`."""
    found = DOCKER.events(since, time.time(), label=f"{INSTANCE_LABEL}={instance}", event=event)
    return [record["Actor"]["ID"] for record in found]


@pytest.mark.live
def test_a_container_whose_program_ended_is_removed_without_a_kill() -> None:
    """Removing a container that still runs makes Docker kill it through one more runc process,
    which costs a busy host runs per second; one whose runner reported the end is let end."""
    require_docker()
    live = LiveServer("docker", "eventlet", {"CODYSKOOL_POOL_SIZES": "python=1"})
    since = time.time()
    try:
        client = RunClient(live.url)
        try:
            for code in ('print("one")', "import sys\nsys.exit(3)", "raise ValueError('x')"):
                client.run_to_exit(code)
            stopped = client.start("import time\nprint('up', flush=True)\ntime.sleep(60)")
            client.wait_for("output", stopped)
            client.send("kill", {})
            exit_payload, _ = client.wait_for("exit", stopped)
            assert exit_payload["reason"] == "killed"
        finally:
            client.close()
        assert live.no_busy_containers()
        destroyed = container_events(live.instance, "destroy", since)
        killed = container_events(live.instance, "kill", since)
    finally:
        live.stop()
    assert len(destroyed) >= 4, f"four runs, {len(destroyed)} containers removed"
    assert len(killed) == 1, f"only the stopped run's container is killed, not {len(killed)}"


@pytest.mark.live
def test_containers_of_a_crashed_server_are_removed_at_start_up() -> None:
    require_docker()
    crashed = LiveServer("docker", "eventlet", {"CODYSKOOL_POOL_SIZES": "python=2"})
    assert wait_until(lambda: len(crashed.containers()) == 2, timeout=20)
    orphans = set(crashed.containers())
    crashed.process.kill()  # no chance to clean up
    crashed.process.wait(10)
    assert set(crashed.containers()) == orphans
    successor = LiveServer(
        "docker", "eventlet", {"CODYSKOOL_INSTANCE": crashed.instance, "CODYSKOOL_POOL_SIZES": "off"}
    )
    successor.instance = crashed.instance
    try:
        assert not orphans & set(successor.containers())
    finally:
        successor.stop()
        crashed.log.close()
    assert successor.containers() == []


@pytest.mark.live
def test_a_server_stopped_amid_runs_leaves_no_container() -> None:
    """SIGTERM while containers are being created, run and removed: none may outlive the server."""
    require_docker()
    live = LiveServer("docker", "eventlet", {"CODYSKOOL_POOL_SIZES": "python=1"})
    stopping = threading.Event()

    def churn() -> None:
        while not stopping.is_set():
            try:
                requests.post(live.url + "/api/run", json={"language": "python", "code": "print(1)"},
                              timeout=30)
            except requests.RequestException:
                return  # the server has gone

    workers = [threading.Thread(target=churn) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        assert wait_until(lambda: len(live.containers()) >= 2, timeout=20)
    finally:
        live.stop()
        stopping.set()
        for worker in workers:
            worker.join(40)
    assert live.containers() == []


class InlineTasks:
    """Tasks for a pool driven by hand: sleeps are recorded, nothing runs in the background."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self.later: list[tuple[float, Callable[[], Any]]] = []

    def call_later(self, delay: float, callback: Callable[[], Any]) -> None:
        self.later.append((delay, callback))

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def spawn(self, target, *args) -> None:
        raise AssertionError("these tests call refill_forever themselves")


def test_refill_backs_off_while_docker_fails() -> None:
    delays: list[float] = []
    pool: WarmPool[str] = WarmPool({"python": 1}, create=fail, discard=lambda _: None, tasks=InlineTasks())

    def sleep_and_stop(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 8:
            pool.close()

    pool.sleep = sleep_and_stop
    pool.refill_forever()
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert pool.stats()["refill_failures"] == 8
    assert pool.take("python") is None and pool.stats()["cold_starts"] == 1


def test_a_pool_fills_to_its_size_and_discards_after_close() -> None:
    made: list[str] = []
    discarded: list[str] = []

    def create(language: str) -> str:
        made.append(f"{language}-{len(made)}")
        if len(made) == 3:
            pool.closed = True  # closed while the third was being made: it must be discarded
        return made[-1]

    pool: WarmPool[str] = WarmPool({"python": 2, "c": 1}, create, discarded.append, tasks=InlineTasks())
    pool.refill_forever()
    assert pool.stats()["idle"] == {"python": 2, "c": 0}
    assert discarded == ["c-2"]
    assert pool.take("python") == "python-0"
    pool.close()
    assert discarded == ["c-2", "python-1"]


def test_a_run_takes_from_the_first_of_its_pools_that_has_one() -> None:
    """A plot takes a sandbox that has imported matplotlib, else a plain one; a hello world
    never takes the preloaded one."""
    pool: WarmPool[str] = WarmPool({"python": 1, "python:graphics": 1}, lambda kind: kind,
                                   lambda _: None, InlineTasks())
    pool.idle["python"].append("plain")
    pool.idle["python:graphics"].extend(["graphics-1", "graphics-2"])
    assert pool.take("python") == "plain"
    assert pool.take("python") is None
    assert pool.take("python:graphics", "python") == "graphics-1"
    pool.idle["python"].append("plain-2")
    assert pool.take("python:graphics", "python") == "graphics-2"
    assert pool.take("python:graphics", "python") == "plain-2"
    assert pool.stats()["warm_starts"] == 4 and pool.stats()["cold_starts"] == 1


def test_what_was_taken_is_replaced_once_its_run_ends_or_after_a_delay() -> None:
    """A container started beside a hello world doubled the run's time under gVisor."""
    tasks = InlineTasks()
    pool: WarmPool[str] = WarmPool({"python": 1}, lambda language: language, lambda _: None, tasks)
    pool.idle["python"].append("warm")
    assert pool.take("python") == "warm"
    assert not pool.wanted.is_set(), "the refill must not start beside the run"
    assert [delay for delay, _ in tasks.later] == [pool_module.REFILL_DELAY_S]
    pool.refill()  # the run ended
    assert pool.wanted.is_set() and pool.claim_missing() == "python"
    tasks.later[0][1]()  # the delay passing after that changes nothing
    assert pool.claim_missing() is None


class GoneEngine:
    """An engine whose containers have all gone already."""

    def remove_container(self, container_id: str) -> None:
        raise NotFound(container_id)


def test_a_docker_run_asks_for_its_replacement_when_it_finishes() -> None:
    ours, theirs = socket.socketpair()
    theirs.close()
    asked: list[str] = []
    execution = DockerExecution(GoneEngine(), "c0ffee", ours, b"")  # type: ignore[arg-type]
    execution.on_finish = lambda: asked.append("refill")
    execution.finish(report=False)
    execution.finish(report=False)
    assert asked == ["refill"]


def fail(language: str) -> str:
    raise RuntimeError("Docker is down")


@pytest.mark.live
def test_a_warm_container_that_died_while_waiting_is_not_used() -> None:
    require_docker()
    live = LiveServer("docker", "eventlet", {"CODYSKOOL_POOL_SIZES": "python=1"})
    try:
        assert wait_until(lambda: idle(live) == 1, timeout=20)
        [waiting] = live.containers()
        DOCKER.kill(waiting)
        client = RunClient(live.url)
        try:
            result = client.run_to_exit('print("fresh")')
        finally:
            client.close()
        assert (result.stdout, result.exit["reason"]) == ("fresh\n", "exited")
        assert waiting not in live.containers()
    finally:
        live.stop()
