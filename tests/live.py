"""The live-server harness that the tests and the benchmark share.

- `ServerProcess`: `python -m codyskool serve` in a subprocess (eventlet patches the process it runs
  in, so a server cannot share its clients' process), on a free loopback port, ready when
  /api/health answers, its output in a log file, stopped with SIGTERM and then SIGKILL.
- `SocketClient`: a real python-socketio client over websockets that receives events in the order
  the server sent them (`deliver_in_order`).
- `DockerInspector`: what the tests look at in Docker (containers, their events, images), through
  docker-py: a client other than the server's own (codyskool/sandbox/engine.py), so that what the
  server did to Docker is checked by someone else.

tests/conftest.py builds its LiveServer and RunClient on these, bench/harness.py its BenchServer
and BenchClient (bench/__init__.py puts this folder on sys.path, as pytest does for the tests).
Nothing here knows pytest.
"""

from __future__ import annotations

import io
import os
import queue
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
IMAGE = os.environ.get("CODYSKOOL_SANDBOX_IMAGE", "codyskool-sandbox:latest")
SANDBOX_LABEL = "org.codyskool.sandbox"  # on every container a server makes
INSTANCE_LABEL = "org.codyskool.instance"  # its value: the server's CODYSKOOL_INSTANCE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float = 10, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def last_line(text: object, limit: int = 160) -> str:
    """The last non-empty line of an error (a traceback's message), shortened."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


# --- the server ------------------------------------------------------------------------------


class ServerStartError(RuntimeError):
    """The server exited at start or did not answer; the end of its log is the exception's note."""


class ServerProcess:
    """`python -m codyskool serve` with `env` on top of this process's environment.

    The constructor starts the process; `wait_ready()` waits for it to answer (and stops it if it
    never does), so that a caller can first note the server down for its own clean-up.
    """

    def __init__(
        self, instance: str, env: dict[str, str], log_path: Path, *,
        python: str = sys.executable, new_session: bool = False,
    ) -> None:  # fmt: skip
        self.instance = instance
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "CODYSKOOL_PORT": str(self.port), "CODYSKOOL_INSTANCE": instance}
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self.log = log_path.open("w+")
        self.process = subprocess.Popen(
            [python, "-m", "codyskool", "serve"], cwd=ROOT, env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=new_session,  # then a Ctrl-C at the terminal reaches only us
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 30) -> None:
        """Return once GET /api/health answers; else (ServerStartError, Ctrl-C) stop the server and raise."""
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self._start_error("exited at start")
            try:
                if requests.get(self.url + "/api/health", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise self._start_error(f"did not answer in {timeout:.0f} s")

    def _start_error(self, what: str) -> ServerStartError:
        output = self.output()
        error = ServerStartError(f"the server {what}: {last_line(output)}")
        error.add_note(f"the end of {self.log_path}:\n{output}")
        return error

    def output(self, limit: int = 5000) -> str:
        """The end of the server's log."""
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")[-limit:]

    def health(self) -> dict[str, Any]:
        response = requests.get(self.url + "/api/health", timeout=10)
        response.raise_for_status()
        return response.json()

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; the log is closed."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if not self.log.closed:
            self.log.close()


# --- the client ------------------------------------------------------------------------------


def deliver_in_order(client: socketio.Client) -> socketio.Client:
    """Make the client hand events to their handlers one by one, in the order they arrived.

    python-engineio's client runs each incoming message's handler in a thread of its own, so two
    events sent in order (an `output`, then the `exit`) can reach the handlers swapped. A browser's
    client delivers them in order, and so must a client that relies on the server's ordering.
    This patches a private method of engineio.Client: tests/test_live.py fails if it changes.
    """
    trigger = client.eio._trigger_event

    def trigger_in_order(event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message":
            kwargs["run_async"] = False
        return trigger(event, *args, **kwargs)

    client.eio._trigger_event = trigger_in_order
    return client


class SocketClient:
    """A python-socketio client over websockets; each server event goes to `events`, in order.

    `options` go to socketio.Client. Subclasses change what is recorded by overriding `_recorder`.
    """

    EVENTS = ("output", "display", "turtle", "prompt", "status", "diagnostics", "exit", "error")

    def __init__(
        self, url: str, headers: dict[str, str] | None = None, timeout: float = 10, **options: Any
    ) -> None:
        self.events: queue.Queue[Any] = queue.Queue()
        self.sio = deliver_in_order(socketio.Client(reconnection=False, **options))
        for name in self.EVENTS:
            self.sio.on(name, self._recorder(name))
        self.sio.connect(url, headers=headers or {}, transports=["websocket"], wait_timeout=timeout)

    def _recorder(self, name: str) -> Callable[..., None]:
        def record(payload: Any = None) -> None:
            self.events.put((name, payload))

        return record

    def close(self) -> None:
        self.sio.disconnect()


# --- Docker, as the tests see it -------------------------------------------------------------


class DockerInspector:
    """The few Docker calls the tests make, through one docker-py client made on first use."""

    def __init__(self, timeout: float = 60) -> None:
        self.timeout = timeout
        self._client: Any = None

    @property
    def client(self) -> Any:
        """docker-py's client (docker.DockerClient), found as the docker command finds the engine."""
        if self._client is None:
            import docker  # a test dependency: the server does not use it

            self._client = docker.from_env(timeout=self.timeout)
        return self._client

    @property
    def api(self) -> Any:
        return self.client.api

    def available(self, image: str = IMAGE) -> bool:
        """The engine answers and has the image."""
        try:
            self.api.ping()
            self.api.inspect_image(image)
            return True
        except Exception:  # noqa: BLE001 - any failure means "not usable here"
            self.close()
            return False

    def containers(self, *labels: str) -> list[dict[str, Any]]:
        """The containers, running or not, with all these labels ("key" or "key=value")."""
        return self.api.containers(all=True, filters={"label": list(labels)})

    def ids(self, *labels: str) -> list[str]:
        return [container["Id"] for container in self.containers(*labels)]

    def inspect(self, container: str) -> dict[str, Any] | None:
        """The container's inspection, or None when it is gone."""
        import docker

        try:
            return self.api.inspect_container(container)
        except docker.errors.NotFound:
            return None

    def kill(self, container: str) -> None:
        self.api.kill(container)

    def remove(self, *containers: str) -> None:
        """Force-remove the containers; those already gone or going are no error."""
        import docker

        for container in containers:
            try:
                self.api.remove_container(container, force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as error:
                if error.status_code != 409:  # 409: its removal is already in progress
                    raise

    def events(self, since: float, until: float, **filters: str) -> list[dict[str, Any]]:
        """Docker's events between two times (time.time()) that match the filters."""
        stream = self.api.events(since=f"{since:.3f}", until=f"{until:.3f}", filters=filters, decode=True)
        return list(stream)

    def build(self, dockerfile: str, tag: str) -> None:
        """Build an image from a Dockerfile alone (no context)."""
        self.client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)

    def remove_image(self, tag: str) -> None:
        import docker

        try:
            self.api.remove_image(tag, force=True)
        except docker.errors.NotFound:
            pass

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


DOCKER = DockerInspector()
