"""Fixtures for the in-process tier: the real app on a fake backend, driven through Flask's and
Flask-SocketIO's test clients. No Docker, no server process, no browser.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fakes import FakeBackend
from flask import Flask
from flask_socketio import SocketIOTestClient

from codyskool.app import create_app
from codyskool.extensions import socketio

FAST_LIMITS = {
    "ASYNC_MODE": "threading",
    "WALL_TIME_LIMIT_S": 2.0,
    "CPU_TIME_LIMIT_S": 3.0,
    "PROMPT_IDLE_LIMIT_S": 2.0,
    "OUTPUT_LIMIT_BYTES": 64 << 10,
}


def make_app(tmp_path: Any, backend: FakeBackend, **config: Any) -> Flask:
    settings = {**FAST_LIMITS, "DATA_DIR": str(tmp_path), "DATABASE_URL": "", **config}
    return create_app(settings, backend=backend)


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def app(tmp_path: Any, backend: FakeBackend) -> Iterator[Flask]:
    flask_app = make_app(tmp_path, backend)
    yield flask_app
    service = flask_app.extensions["codyskool"]
    for connection in list(service.connections.values()):
        if connection.run is not None:
            connection.run.stop()
            connection.run.wait(5)


class InProcessClient:
    """Flask-SocketIO's test client, with waiting for the events a run sends from its tasks."""

    def __init__(self, app: Flask, headers: dict[str, str] | None = None) -> None:
        self.client = SocketIOTestClient(app, socketio, headers=headers,
                                         flask_test_client=app.test_client())
        self.pending: list[tuple[str, Any]] = []

    @property
    def connected(self) -> bool:
        return self.client.is_connected()

    def call(self, event: str, payload: Any = None) -> Any:
        """Send an event asking for its acknowledgement; returns the acknowledgement."""
        return self.client.emit(event, payload, callback=True)

    def send(self, event: str, *args: Any) -> None:
        self.client.emit(event, *args)

    def start(self, code: str, language: str = "python", **extra: Any) -> str:
        ack = self.call("run", {"language": language, "code": code, **extra})
        assert ack["ok"], ack
        return ack["run_id"]

    def received(self) -> list[tuple[str, Any]]:
        """Events that arrived since the last look (they are also kept for ``wait_for``)."""
        fresh = [(item["name"], item["args"][0] if item["args"] else None)
                 for item in self.client.get_received()]
        self.pending += fresh
        return fresh

    def wait_for(self, name: str, run_id: str | None = None, timeout: float = 10) -> tuple[Any, list]:
        """Events up to and including the first `name` event (of run_id, when given), taken from
        those not yet taken, in order."""
        deadline = time.monotonic() + timeout
        taken: list[tuple[str, Any]] = []
        while True:
            while self.pending:
                event, payload = self.pending.pop(0)
                taken.append((event, payload))
                if event == name and (run_id is None or (payload or {}).get("run_id") == run_id):
                    return payload, taken
            if time.monotonic() > deadline:
                raise AssertionError(f"no {name!r} within {timeout}s; saw {taken}")
            if not self.received():
                time.sleep(0.005)

    def run_to_exit(self, code: str, language: str = "python", **extra: Any) -> tuple[dict, list]:
        run_id = self.start(code, language, **extra)
        exit_payload, events = self.wait_for("exit", run_id)
        return exit_payload, [(name, p) for name, p in events if (p or {}).get("run_id") in (run_id, None)]

    def disconnect(self) -> None:
        self.client.disconnect()


def text_of(events: list[tuple[str, Any]], stream: str = "stdout") -> str:
    return "".join(p["data"] for name, p in events if name == "output" and p["stream"] == stream)


@pytest.fixture
def sio(app: Flask) -> Iterator[InProcessClient]:
    client = InProcessClient(app)
    yield client
    if client.connected:
        client.disconnect()
