"""The Docker Engine API client: how the engine is found, its errors, kept-alive connections.

The calls themselves run against the real engine; a fake engine on a unix socket plays the cases
the real one does not produce on demand (a dropped kept-alive connection, a stream that starts in
the same packet as the attach response).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator

import pytest
from conftest import require_docker

from codyskool.config import Limits
from codyskool.sandbox.docker_backend import sandbox_config, sandbox_host_config
from codyskool.sandbox.engine import DEFAULT_SOCKET, Engine, EngineError, NotFound, engine_address

IMAGE = os.environ.get("CODYSKOOL_SANDBOX_IMAGE", "codyskool-sandbox:latest")
LABEL = "org.codyskool.test-engine"


def test_the_engine_is_found_as_the_docker_cli_finds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    assert engine_address("") == ("unix", DEFAULT_SOCKET)
    assert engine_address("unix:///run/user/1000/docker.sock") == ("unix", "/run/user/1000/docker.sock")
    assert engine_address("tcp://10.0.0.5:2376") == ("tcp", ("10.0.0.5", 2376))
    with pytest.raises(EngineError, match="not supported"):
        engine_address("ssh://me@host")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    with pytest.raises(EngineError, match="TLS"):
        engine_address("tcp://10.0.0.5:2376")


def test_an_engine_that_is_not_there_is_an_engine_error() -> None:
    engine = Engine(f"unix://{tempfile.gettempdir()}/no-such-engine.sock", timeout=2)
    with pytest.raises(EngineError) as raised:
        engine.ping()
    assert raised.value.status == 0
    assert "/_ping" in str(raised.value)
    with pytest.raises(EngineError, match="cannot attach"):
        engine.attach("abc")


@pytest.mark.live
def test_a_container_lives_and_goes_through_the_engine() -> None:
    require_docker()
    engine = Engine()
    host_config = sandbox_host_config(Limits.defaults())
    config = sandbox_config(IMAGE, ["sh", "-c", "read line; echo got $line"], host_config, {LABEL: "1"})
    container_id = engine.create_container(config)
    try:
        sock, head = engine.attach(container_id)
        engine.start(container_id)
        sock.sendall(b"hello\n")
        stream = head
        while b"got hello" not in stream:
            chunk = sock.recv(4096)
            assert chunk, f"the stream ended early: {stream!r}"
            stream += chunk
        assert engine.wait(container_id, timeout=30)["StatusCode"] == 0
        state = engine.inspect_container(container_id)["State"]
        assert state["Status"] == "exited" and not state["OOMKilled"]
        assert [c["Id"] for c in engine.containers({"label": [LABEL]})] == [container_id]
        sock.close()
    finally:
        engine.remove_container(container_id)
    with pytest.raises(NotFound):
        engine.inspect_container(container_id)
    assert engine.containers({"label": [LABEL]}) == []
    engine.close()


@pytest.mark.live
def test_the_engine_s_refusals_keep_its_message() -> None:
    require_docker()
    engine = Engine()
    with pytest.raises(NotFound, match="no-such-image"):
        engine.inspect_image("codyskool-no-such-image:latest")
    host_config = {**sandbox_host_config(Limits.defaults()), "Runtime": "no-such-runtime"}
    bad = sandbox_config(IMAGE, ["true"], host_config, {})
    with pytest.raises(EngineError, match="no-such-runtime") as raised:
        engine.create_container(bad)
    assert raised.value.status >= 400
    engine.close()


# --- a fake engine -------------------------------------------------------------------------


class FakeEngine:
    """A unix socket whose every connection is handed to `handler` in a thread of its own."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self.folder = tempfile.mkdtemp(prefix="codyskool-fake-engine-")
        self.path = os.path.join(self.folder, "docker.sock")
        self.docker_host = f"unix://{self.path}"
        self.connections = 0
        self.handler = handler
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.handler, args=(connection,), daemon=True).start()

    def close(self) -> None:
        self.listener.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def fake_engine() -> Iterator[Callable[[Callable[[socket.socket], None]], FakeEngine]]:
    started: list[FakeEngine] = []

    def start(handler: Callable[[socket.socket], None]) -> FakeEngine:
        started.append(FakeEngine(handler))
        return started[-1]

    yield start
    for fake in started:
        fake.close()


def read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            return b""
        data += chunk
    return data


def test_a_dropped_kept_alive_connection_is_replaced(fake_engine: Callable[..., FakeEngine]) -> None:
    def answer_once_then_hang_up(connection: socket.socket) -> None:
        if read_request(connection):
            body = b'{"Id": "abc"}'
            connection.sendall(
                b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
        read_request(connection)  # the next request on this connection is never answered
        connection.close()

    fake = fake_engine(answer_once_then_hang_up)
    engine = Engine(fake.docker_host, timeout=5)
    assert engine.create_container({"Image": "x"}) == "abc"
    assert engine.create_container({"Image": "x"}) == "abc"  # on a new connection
    assert fake.connections == 2
    engine.close()


def test_the_attach_stream_keeps_what_came_with_the_response(fake_engine: Callable[..., FakeEngine]) -> None:
    frame = b"\x01\x00\x00\x00\x00\x00\x00\x05ready"

    def upgrade(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + frame)
        connection.recv(1)
        connection.close()

    engine = Engine(fake_engine(upgrade).docker_host, timeout=5)
    sock, head = engine.attach("abc")
    assert head == frame
    sock.close()


def test_an_attach_the_engine_refuses_is_an_engine_error(fake_engine: Callable[..., FakeEngine]) -> None:
    def refuse(connection: socket.socket) -> None:
        read_request(connection)
        body = b'{"message": "No such container: abc"}'
        connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        connection.close()

    engine = Engine(fake_engine(refuse).docker_host, timeout=5)
    with pytest.raises(NotFound, match="No such container: abc"):
        engine.attach("abc")


def test_an_answer_that_is_not_json_is_an_engine_error(fake_engine: Callable[..., FakeEngine]) -> None:
    def garble(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{oops"
        )
        connection.close()

    engine = Engine(fake_engine(garble).docker_host, timeout=5)
    with pytest.raises(EngineError, match="not JSON"):
        engine.inspect_container("abc")
