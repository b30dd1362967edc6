"""The harness itself (tests/live.py) and the tiers (tests/conftest.py), with no server and no Docker."""

from __future__ import annotations

import inspect
import socket
import threading

import engineio
import pytest
import socketio
from conftest import is_docker_engine, live_tier_action
from live import deliver_in_order

# --- deliver_in_order patches engineio.Client._trigger_event: fail when upstream changes it ------


def test_engineio_still_triggers_events_as_deliver_in_order_expects() -> None:
    """The method exists and takes (event, *args, run_async=...), and the client still calls it
    with run_async=True for each message: the thread per message that the patch undoes."""
    trigger = engineio.Client._trigger_event
    inspect.signature(trigger).bind(engineio.Client(), "message", {"x": 1}, run_async=False)
    assert "run_async" in inspect.getsource(trigger)
    assert "_trigger_event('message', pkt.data, run_async=True)" in inspect.getsource(
        engineio.Client._receive_packet
    )


def test_without_run_async_a_message_is_handled_in_the_caller_s_thread() -> None:
    client = engineio.Client()
    seen: list[threading.Thread] = []
    client.on("message", lambda data: seen.append(threading.current_thread()) or data)
    assert client._trigger_event("message", "hello", run_async=False) == "hello"
    assert seen == [threading.current_thread()]


def test_deliver_in_order_turns_off_run_async_for_messages_only() -> None:
    client = socketio.Client(reconnection=False)
    calls: list[tuple[str, dict]] = []
    client.eio._trigger_event = lambda event, *args, **kwargs: calls.append((event, kwargs))
    assert deliver_in_order(client) is client
    client.eio._trigger_event("message", "data", run_async=True)
    client.eio._trigger_event("connect", run_async=False, reraise=True)
    client.eio._trigger_event("disconnect", "reason")
    assert calls == [
        ("message", {"run_async": False}),
        ("connect", {"run_async": False, "reraise": True}),
        ("disconnect", {}),
    ]


# --- what the fast tier refuses ------------------------------------------------------------------


def popen(*argv: str) -> tuple[str, tuple]:
    return "subprocess.Popen", (argv[0], list(argv), None, None)


@pytest.mark.parametrize(
    ("event", "what"),
    [
        (popen("/usr/bin/python3", "-m", "codyskool", "serve"), "starts a CodySkool server"),
        (popen("docker", "ps", "-aq"), "runs the docker command"),
        (popen("/bin/sh", "-c", "docker rm -f abc"), "runs the docker command"),
        (popen("runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/initdb"), "starts PostgreSQL"),
        (popen("/usr/bin/node", "cli.js", "run-driver"), "launches Chromium"),
        (popen("/usr/bin/chromium", "--headless"), "launches Chromium"),
        (popen("/usr/bin/python3", "-c", "print(1)"), None),
        (popen("g++", "-o", "terminate.so"), None),
        (("socket.connect", (None, "/var/run/docker.sock")), "reaches the Docker engine"),
        (("socket.connect", (None, ("127.0.0.1", 5000))), None),
        (("socket.connect", (None, "/tmp/fake-engine.sock")), None),
        (("open", ("/var/run/docker.sock", "r", 0)), None),
    ],
)
def test_the_fast_tier_refuses_what_needs_the_live_tier(event: tuple[str, tuple], what: str | None) -> None:
    assert live_tier_action(*event, docker_host="") == what


def test_the_docker_engine_is_found_as_docker_host_names_it(tmp_path) -> None:
    engine = tmp_path / "docker.sock"
    assert is_docker_engine(str(engine), f"unix://{engine}")
    assert is_docker_engine(b"/run/docker.sock", f"unix://{engine}")
    assert not is_docker_engine(str(engine), "")
    assert is_docker_engine(("10.0.0.5", 2376), "tcp://10.0.0.5:2376")
    assert not is_docker_engine(("10.0.0.5", 80), "tcp://10.0.0.5:2376")
    assert not is_docker_engine(("10.0.0.5", 2376), "")
    assert not is_docker_engine(b"\0abstract", "")


def test_live_tests_are_marked_by_their_fixtures(request: pytest.FixtureRequest) -> None:
    """This test uses none of the live fixtures, so it is not marked; a socket to itself is fine."""
    assert request.node.get_closest_marker("live") is None
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        socket.create_connection(server.getsockname(), timeout=5).close()
