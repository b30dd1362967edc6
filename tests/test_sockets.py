"""The Socket.IO handlers and the service behind them, in process, on the fake backend."""

from __future__ import annotations

import time

from fakes import FakeBackend
from inprocess import InProcessClient, text_of


def test_a_run_streams_its_output_then_exits_once(sio: InProcessClient, backend: FakeBackend) -> None:
    exit_payload, events = sio.run_to_exit("print('hi')")
    assert text_of(events) == "print('hi')"
    assert exit_payload["reason"] == "exited" and exit_payload["code"] == 0
    assert [name for name, _ in events] == ["status", "output", "exit"]
    assert events[0][1]["phase"] == "running"
    time.sleep(0.05)
    assert sio.received() == [], "nothing after the exit"
    assert backend.all_removed()


def test_input_reaches_a_program_waiting_at_a_prompt(sio: InProcessClient) -> None:
    run_id = sio.start("echo")
    prompt, _ = sio.wait_for("prompt", run_id)
    assert prompt["text"] == "Name? "
    sio.send("stdin", {"data": "Ada\n"})
    exit_payload, events = sio.wait_for("exit", run_id)
    assert "Hello, Ada\n" in text_of(events) and exit_payload["reason"] == "exited"


def test_stdin_given_at_the_start_is_read_first(sio: InProcessClient) -> None:
    _, events = sio.run_to_exit("echo", stdin="Grace\n")
    assert text_of(events) == "Name? Hello, Grace\n"


def test_kill_stops_the_run(sio: InProcessClient, backend: FakeBackend) -> None:
    run_id = sio.start("forever")
    sio.wait_for("output", run_id)
    sio.send("kill", {})
    exit_payload, _ = sio.wait_for("exit", run_id)
    assert exit_payload["reason"] == "killed" and exit_payload["signal"] == "SIGKILL"
    assert backend.executions[0].killed and backend.all_removed()


def test_a_new_run_replaces_the_old_one(sio: InProcessClient, backend: FakeBackend) -> None:
    first = sio.start("forever")
    sio.wait_for("output", first)
    second = sio.start("print(2)")
    first_exit, _ = sio.wait_for("exit", first)
    second_exit, events = sio.wait_for("exit", second)
    assert first_exit["reason"] == "killed" and second_exit["reason"] == "exited"
    assert text_of(events) == "print(2)"
    assert backend.all_removed()


def test_a_dropped_connection_stops_its_run(app, backend: FakeBackend) -> None:
    client = InProcessClient(app)
    run_id = client.start("forever")
    client.wait_for("output", run_id)
    client.disconnect()
    deadline = time.monotonic() + 5
    while backend.sandboxes_left() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert backend.executions[0].killed and backend.all_removed()
    assert app.extensions["codyskool"].connections == {}


def test_a_refused_run_is_reported_once_in_its_ack(sio: InProcessClient) -> None:
    ack = sio.call("run", {"language": "cobol", "code": "x"})
    assert ack == {"ok": False, "error": "unknown language 'cobol'"}
    time.sleep(0.02)
    assert sio.received() == [], "no `error` event as well"


def test_a_refused_run_without_an_ack_gets_an_error_event(sio: InProcessClient) -> None:
    sio.send("run", {"language": "python"})
    payload, _ = sio.wait_for("error")
    assert "needs 'code'" in payload["message"]


def test_over_sized_requests_are_refused_with_the_limit(sio: InProcessClient) -> None:
    ack = sio.call("run", {"language": "python", "code": "#" * (65 << 10)})
    assert ack["ok"] is False and "larger than the limit of 64 KiB" in ack["error"]
    run_id = sio.start("echo")
    sio.wait_for("prompt", run_id)
    sio.send("stdin", {"data": "z" * ((64 << 10) + 1)})
    error, _ = sio.wait_for("error")
    assert "over the limit of 64 KiB" in error["message"] and error["run_id"] == run_id


def test_stdin_without_a_run_and_unknown_events(sio: InProcessClient) -> None:
    for event, payload, message in [
        ("stdin", {"data": "x\n"}, "no program is running"),
        ("stdin", {"data": 5}, "needs 'data'"),
        ("stdin", {}, "needs 'data' or 'eof'"),
        ("launch_missiles", {}, "unknown event 'launch_missiles'"),
    ]:
        sio.send(event, payload)
        error, _ = sio.wait_for("error")
        assert message in error["message"], (event, error)
    sio.send("run", {"language": "python", "code": "x"}, "extra")
    error, _ = sio.wait_for("error")
    assert "takes one argument" in error["message"]


def test_the_connection_cap_per_address(tmp_path, backend: FakeBackend) -> None:
    from inprocess import make_app

    app = make_app(tmp_path, backend, MAX_CONNECTIONS_PER_IP=2)
    clients = [InProcessClient(app) for _ in range(3)]
    assert [client.connected for client in clients] == [True, True, False]
    clients[0].disconnect()
    assert InProcessClient(app).connected, "a closed connection frees its place"


def test_a_queued_run_hears_its_place_then_runs(tmp_path, backend: FakeBackend) -> None:
    from inprocess import make_app

    app = make_app(tmp_path, backend, MAX_CONCURRENT_RUNS=1)
    first, second = InProcessClient(app), InProcessClient(app)
    holding = first.start("forever")
    first.wait_for("output", holding)
    waiting = second.start("print(3)")
    status, _ = second.wait_for("status", waiting)
    assert status == {"run_id": waiting, "phase": "queued", "position": 1}
    first.send("kill", {})
    exit_payload, events = second.wait_for("exit", waiting)
    assert exit_payload["reason"] == "exited" and text_of(events) == "print(3)"


def test_a_run_stopped_while_queued_still_exits(tmp_path, backend: FakeBackend) -> None:
    from inprocess import make_app

    app = make_app(tmp_path, backend, MAX_CONCURRENT_RUNS=1)
    first, second = InProcessClient(app), InProcessClient(app)
    first.wait_for("output", first.start("forever"))
    waiting = second.start("print(3)")
    second.wait_for("status", waiting)
    second.send("kill", {})
    exit_payload, _ = second.wait_for("exit", waiting)
    assert exit_payload["reason"] == "killed" and exit_payload["signal"] is None
    assert len(backend.executions) == 1, "no sandbox was started for it"
    first.send("kill", {})


def test_rate_limit_per_connection(tmp_path, backend: FakeBackend) -> None:
    from inprocess import make_app

    app = make_app(tmp_path, backend, RUNS_PER_MINUTE_PER_SESSION=2)
    client = InProcessClient(app)
    for _ in range(2):
        client.run_to_exit("print(1)")
    ack = client.call("run", {"language": "python", "code": "print(1)"})
    assert ack["ok"] is False and "too many runs" in ack["error"]


def test_engineio_connections_that_leave_the_namespace_are_counted_again(tmp_path) -> None:
    """Joining, then leaving the namespace while the Engine.IO connection stays open, must not take
    a connection out of every count (it would then be held for ever)."""
    from inprocess import make_app

    from codyskool.extensions import socketio

    make_app(tmp_path, FakeBackend(), MAX_CONNECTIONS_PER_IP=2, JOIN_TIMEOUT_S=60)
    gate = socketio.server.transport_gate
    environ = {"REMOTE_ADDR": "198.51.100.7"}
    assert gate.opened("a", environ) and gate.opened("b", environ)
    assert not gate.opened("x", environ), "two waiting to join is the cap"
    gate.joined("a")
    gate.joined("b")
    gate.left("a")  # a DISCONNECT packet for the namespace; the Engine.IO connection stays
    assert gate.opened("c", environ)
    assert not gate.opened("d", environ), "the one that left waits to join again, counted"
    gate.closed("a")
    assert gate.opened("d", environ)
