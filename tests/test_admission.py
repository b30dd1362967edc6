"""Admission control: the queue, the per-client share, rate limits and the connection cap.

The first half tests codyskool/admission.py on its own (threads stand in for the server's tasks);
the second half drives a live Docker server whose clients come from different addresses through
X-Forwarded-For (the server trusts one proxy).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio
from conftest import LiveServer, RunClient, require_docker, wait_until

from codyskool.admission import Admission, AdmissionSettings, RateLimiter, client_address
from codyskool.config import load_config
from codyskool.errors import Busy, ConfigError


class ThreadTasks:
    """The part of codyskool.concurrency.Tasks that Admission uses, on plain threads."""

    def event(self) -> threading.Event:
        return threading.Event()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def admission(**settings: Any) -> Admission:
    return Admission(AdmissionSettings.defaults(**settings), ThreadTasks())


def never() -> bool:
    return False


# --- who is a client ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "trusted", "expected"),
    [
        ({"REMOTE_ADDR": "203.0.113.9"}, 0, "203.0.113.9"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, 0, "127.0.0.1"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, 1, "203.0.113.9"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"}, 1, "203.0.113.9"),
        ({"REMOTE_ADDR": "::1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9, 10.0.0.2"}, 2, "203.0.113.9"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, 2, "127.0.0.1"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": ""}, 1, "127.0.0.1"),
        ({"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"}, 0, "2001:db8:1:2::/64"),
        ({"REMOTE_ADDR": "::ffff:203.0.113.9"}, 0, "203.0.113.9"),
        ({}, 0, "unknown"),
    ],
)
def test_client_address(environ: dict[str, str], trusted: int, expected: str) -> None:
    assert client_address(environ, trusted) == expected


def test_settings_come_from_the_environment() -> None:
    config = load_config({"CODYSKOOL_MAX_CONCURRENT_RUNS": "3", "CODYSKOOL_TRUST_PROXY": "1"})
    settings = AdmissionSettings.from_config(config)
    assert settings.max_concurrent_runs == 3 and settings.trust_proxy == 1
    assert settings.max_concurrent_runs_per_ip == 4 and settings.max_connections_per_ip == 50
    assert settings.shares_per_minute_per_ip == 30
    with pytest.raises(ConfigError, match="CODYSKOOL_TRUST_PROXY"):
        load_config({"CODYSKOOL_TRUST_PROXY": "-1"})
    with pytest.raises(ConfigError, match="CODYSKOOL_MAX_CONCURRENT_RUNS"):
        load_config({"CODYSKOOL_MAX_CONCURRENT_RUNS": "0"})


# --- rate limits ----------------------------------------------------------------------------------


def test_rate_limiter_is_a_sliding_window() -> None:
    clock = Clock()
    limiter = RateLimiter(3, window=60, clock=clock)
    for _ in range(3):
        assert limiter.allows("a")
        limiter.add("a")
        clock.now += 10
    assert not limiter.allows("a")
    assert limiter.allows("b"), "keys are independent"
    clock.now += 31  # the first hit is now 61 s old
    assert limiter.allows("a")


def test_rate_limiter_forgets_idle_keys() -> None:
    clock = Clock()
    limiter = RateLimiter(3, window=60, clock=clock)
    for key in range(1000):
        limiter.add(str(key))
    clock.now += 61
    limiter.add("fresh")
    assert list(limiter.hits) == ["fresh"]


def test_runs_per_minute_per_session_and_per_client() -> None:
    gate = admission(runs_per_minute_per_ip=5, runs_per_minute_per_session=3)
    for _ in range(3):
        gate.release(gate.request("1.1.1.1", "s1"))
    with pytest.raises(Busy, match="at most 3 a minute"):
        gate.request("1.1.1.1", "s1")
    for _ in range(2):
        gate.release(gate.request("1.1.1.1", "s2"))
    with pytest.raises(Busy, match="from your address: at most 5 a minute"):
        gate.request("1.1.1.1", "s3")
    gate.release(gate.request("2.2.2.2", "s4"))  # another client is not affected


# --- the queue --------------------------------------------------------------------------------------


def test_a_free_slot_is_taken_at_once_and_given_back_once() -> None:
    gate = admission(max_concurrent_runs=2)
    first, second = gate.request("a"), gate.request("b")
    heard: list[int] = []
    assert gate.wait(first, never, heard.append) and gate.wait(second, never, heard.append)
    assert heard == [], "a run that did not wait hears no position"
    assert gate.snapshot()["running"] == 2
    for _ in range(3):
        gate.release(first)
    assert gate.snapshot()["running"] == 1, "a second release must not free a slot twice"
    gate.release(second)
    assert gate.snapshot() == {"running": 0, "queued": 0, "running_by_client": {}}


class Waiter:
    """A ticket waiting for its slot on a thread, recording the positions it hears."""

    def __init__(self, gate: Admission, client: str, order: list[str], name: str) -> None:
        self.gate = gate
        self.ticket = gate.request(client)
        self.positions: list[int] = []
        self.stop = threading.Event()
        self.admitted: bool | None = None

        def wait() -> None:
            self.admitted = gate.wait(self.ticket, self.stop.is_set, self.positions.append)
            if self.admitted:
                order.append(name)

        self.thread = threading.Thread(target=wait, daemon=True)
        self.thread.start()

    def done(self, timeout: float = 5) -> bool:
        self.thread.join(timeout)
        return not self.thread.is_alive()


def test_queued_runs_go_in_order_and_hear_their_positions() -> None:
    gate = admission(max_concurrent_runs=1)
    holder = gate.request("x")
    assert gate.wait(holder, never)
    order: list[str] = []
    waiters = []
    for count in range(1, 4):
        waiters.append(Waiter(gate, f"c{count}", order, f"w{count - 1}"))
        assert wait_until(lambda n=count: gate.snapshot()["queued"] == n, timeout=2)
    assert wait_until(lambda: [w.positions[-1:] for w in waiters] == [[1], [2], [3]], timeout=2)
    gate.release(holder)
    for index, waiter in enumerate(waiters):
        assert waiter.done()
        behind = waiters[index + 1 :]
        assert wait_until(lambda b=behind: [w.positions[-1] for w in b] == list(range(1, len(b) + 1)))
        gate.release(waiter.ticket)
    assert order == ["w0", "w1", "w2"]
    assert [w.positions for w in waiters] == [[1], [2, 1], [3, 2, 1]]
    assert gate.snapshot()["running"] == 0


def test_a_client_over_its_share_waits_while_others_go_ahead() -> None:
    gate = admission(max_concurrent_runs=3, max_concurrent_runs_per_ip=2)
    busy = [gate.request("greedy") for _ in range(2)]
    assert all(gate.wait(ticket, never) for ticket in busy)
    order: list[str] = []
    third = Waiter(gate, "greedy", order, "greedy-3")
    assert wait_until(lambda: third.positions == [1], timeout=2)
    other = gate.request("polite")
    assert gate.wait(other, never), "another client must not wait behind the greedy one"
    assert third.admitted is None and gate.snapshot()["queued"] == 1
    gate.release(busy[0])
    assert third.done() and third.admitted
    assert gate.snapshot()["running_by_client"] == {"greedy": 2, "polite": 1}
    for ticket in (busy[1], other, third.ticket):
        gate.release(ticket)
    assert gate.snapshot()["running"] == 0


def test_stopped_while_queued_takes_no_slot_and_moves_the_others_up() -> None:
    gate = admission(max_concurrent_runs=1)
    holder = gate.request("x")
    assert gate.wait(holder, never)
    order: list[str] = []
    leaving = Waiter(gate, "a", order, "leaving")
    staying = Waiter(gate, "b", order, "staying")
    assert wait_until(lambda: staying.positions == [2], timeout=2)
    leaving.stop.set()
    assert leaving.done() and leaving.admitted is False
    assert wait_until(lambda: staying.positions == [2, 1], timeout=2)
    gate.release(leaving.ticket)  # the caller's `finally` releases again: nothing happens
    assert gate.snapshot()["running"] == 1
    gate.release(holder)
    assert staying.done() and staying.admitted and order == ["staying"]
    gate.release(staying.ticket)
    assert gate.snapshot()["running"] == 0 and gate.snapshot()["queued"] == 0


def test_runs_are_counted_in_the_queue_as_soon_as_they_are_accepted() -> None:
    """110 fire-and-forget requests from one address must not all pass a 100-place check before
    any of them reaches the queue; and one address may have only its share waiting."""
    gate = admission(max_concurrent_runs=1, max_queued_runs=5, max_queued_runs_per_ip=3)
    holder = gate.request("x")
    tickets = [gate.request("one") for _ in range(3)]  # nobody has waited on them yet
    assert gate.snapshot()["queued"] == 3
    with pytest.raises(Busy, match="from your address are waiting to run \\(at most 3\\)"):
        gate.request("one")
    tickets += [gate.request("two"), gate.request("three")]
    with pytest.raises(Busy, match="the server is busy"):
        gate.request("four")
    for ticket in [holder, *tickets]:
        gate.release(ticket)
    assert gate.snapshot() == {"running": 0, "queued": 0, "running_by_client": {}}


def test_a_full_queue_refuses_new_runs() -> None:
    gate = admission(max_concurrent_runs=1, max_queued_runs=2)
    holder = gate.request("x")
    assert gate.wait(holder, never)
    order: list[str] = []
    waiters = [Waiter(gate, f"c{i}", order, str(i)) for i in range(2)]
    assert wait_until(lambda: gate.snapshot()["queued"] == 2, timeout=2)
    with pytest.raises(Busy, match="busy"):
        gate.request("late")
    for waiter in waiters:
        waiter.stop.set()
        assert waiter.done()
    gate.release(holder)
    assert gate.snapshot()["running"] == 0 and gate.snapshot()["queued"] == 0


def test_many_tickets_from_many_threads_never_overbook() -> None:
    gate = admission(max_concurrent_runs=3, max_concurrent_runs_per_ip=2, max_queued_runs_per_ip=60)
    peak = {"all": 0, "per_client": 0}
    lock = threading.Lock()
    running: dict[str, int] = {}
    finished: list[str] = []
    failures: list[BaseException] = []

    def one(client: str) -> None:
        try:
            ticket = gate.request(client)
            try:
                if gate.wait(ticket, never):
                    with lock:
                        running[client] = running.get(client, 0) + 1
                        peak["all"] = max(peak["all"], sum(running.values()))
                        peak["per_client"] = max(peak["per_client"], running[client])
                    time.sleep(0.002)
                    with lock:
                        running[client] -= 1
                        finished.append(client)
            finally:
                gate.release(ticket)
        except BaseException as error:  # noqa: BLE001 - a thread's failure must fail the test
            failures.append(error)

    threads = [threading.Thread(target=one, args=(f"c{i % 4}",)) for i in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert failures == [] and len(finished) == 60, failures
    assert peak["all"] <= 3 and peak["per_client"] <= 2, peak
    assert gate.snapshot() == {"running": 0, "queued": 0, "running_by_client": {}}


# --- a live server --------------------------------------------------------------------------------

ADMISSION_ENV = {
    "CODYSKOOL_MAX_CONCURRENT_RUNS": "3",
    "CODYSKOOL_MAX_CONCURRENT_RUNS_PER_IP": "2",
    "CODYSKOOL_RUNS_PER_MINUTE_PER_SESSION": "5",
    "CODYSKOOL_RUNS_PER_MINUTE_PER_IP": "8",
    "CODYSKOOL_MAX_CONNECTIONS_PER_IP": "4",
    "CODYSKOOL_MAX_LINE_BYTES": "1024",
    "CODYSKOOL_TRUST_PROXY": "1",
    "CODYSKOOL_POOL_SIZES": "off",  # so that every container is a run's
}
LONG = 'import time\nprint("started", flush=True)\ntime.sleep(60)'
_addresses = itertools.count(1)


def new_address() -> str:
    number = next(_addresses)
    return f"198.51.{number // 250}.{number % 250 + 1}"


@pytest.fixture(scope="module")
def gated() -> Iterator[LiveServer]:
    require_docker()
    live = LiveServer("docker", "eventlet", ADMISSION_ENV)
    yield live
    live.stop()
    assert live.containers() == []


@pytest.fixture
def connect(gated: LiveServer) -> Iterator[Any]:
    clients: list[RunClient] = []

    def make(address: str | None = None) -> RunClient:
        client = RunClient(gated.url, headers={"X-Forwarded-For": address or new_address()})
        clients.append(client)
        return client

    yield make
    for client in clients:
        if client.sio.connected:
            client.close()
    assert wait_until(lambda: runs(gated) == {"running": 0, "queued": 0}, timeout=15), runs(gated)
    assert wait_until(lambda: gated.containers() == [], timeout=10)


def runs(server: LiveServer) -> dict[str, int]:
    return requests.get(server.url + "/api/health", timeout=5).json()["runs"]


def start_long(client: RunClient) -> str:
    run_id = client.start(LONG)
    client.wait_for("output", run_id, timeout=20)
    return run_id


def statuses(events: list[tuple[str, Any]], run_id: str) -> list[dict[str, Any]]:
    return [p for name, p in events if name == "status" and p.get("run_id") == run_id]


def test_runs_over_the_limit_queue_in_order(gated: LiveServer, connect: Any) -> None:
    holders = [connect() for _ in range(3)]
    held = [start_long(client) for client in holders]
    waiting = [connect() for _ in range(3)]
    run_ids = []
    for index, client in enumerate(waiting):
        started = time.monotonic()
        run_ids.append(client.start(f'print("queued {index}")'))
        assert time.monotonic() - started < 1, "the ack of a queued run comes at once"
        first, _ = client.wait_for("status", run_ids[-1], timeout=5)
        assert first == {"run_id": run_ids[-1], "phase": "queued", "position": index + 1}
    assert len(gated.containers()) == 3, "a queued run has no sandbox yet"
    assert runs(gated) == {"running": 3, "queued": 3}

    holders[0].send("kill", {})
    assert holders[0].wait_for("exit", held[0])[0]["reason"] == "killed"
    for index, client in enumerate(waiting):
        exit_payload, seen = client.wait_for("exit", run_ids[index], timeout=20)
        assert exit_payload["reason"] == "exited", seen
        assert "".join(p["data"] for name, p in seen if name == "output") == f"queued {index}\n"
        later = [s["position"] for s in statuses(seen, run_ids[index]) if s["phase"] == "queued"]
        positions = [index + 1, *later]
        assert positions[0] == index + 1 and positions[-1] == 1, positions
        assert positions == sorted(set(positions), reverse=True), positions
    assert runs(gated) == {"running": 2, "queued": 0}


def test_a_client_over_its_share_waits_while_another_runs(gated: LiveServer, connect: Any) -> None:
    greedy = new_address()
    first, second, third = connect(greedy), connect(greedy), connect(greedy)
    start_long(first)
    start_long(second)
    queued = third.start('print("my turn")')
    assert third.wait_for("status", queued, timeout=5)[0]["position"] == 1
    started = time.monotonic()
    other = connect()
    result = other.run_to_exit('print("not behind them")')
    assert result.stdout == "not behind them\n"
    assert [status["phase"] for status in result.of("status")] == ["running"], "it did not queue"
    assert time.monotonic() - started < 5
    assert runs(gated) == {"running": 2, "queued": 1}
    first.send("kill", {})
    exit_payload, seen = third.wait_for("exit", queued, timeout=20)
    assert exit_payload["reason"] == "exited"
    assert "my turn\n" in "".join(p["data"] for name, p in seen if name == "output")


def test_killed_or_gone_while_queued(gated: LiveServer, connect: Any) -> None:
    holders = [connect() for _ in range(3)]
    for client in holders:
        start_long(client)
    killed, leaving, last = connect(), connect(), connect()
    killed_id = killed.start('print("never")')
    killed.wait_for("status", killed_id, timeout=5)
    leaving_id = leaving.start('print("never")')
    leaving.wait_for("status", leaving_id, timeout=5)
    last_id = last.start('print("last")')
    assert last.wait_for("status", last_id, timeout=5)[0]["position"] == 3

    killed.send("kill", {})
    exit_payload, seen = killed.wait_for("exit", killed_id, timeout=5)
    assert exit_payload["reason"] == "killed" and exit_payload["code"] is None
    assert exit_payload["signal"] is None, "it never ran"
    assert not [p for name, p in seen if name == "output"]
    leaving.close()
    positions = []
    while positions[-1:] != [1]:
        positions.append(last.wait_for("status", last_id, timeout=5)[0]["position"])
    assert positions == [2, 1]
    assert runs(gated) == {"running": 3, "queued": 1}
    assert len(gated.containers()) == 3
    time.sleep(0.5)
    assert killed.events.empty(), "exactly one exit"

    holders[0].close()
    exit_payload, _ = last.wait_for("exit", last_id, timeout=20)
    assert exit_payload["reason"] == "exited"


def test_time_in_the_queue_is_not_wall_time(gated: LiveServer, connect: Any) -> None:
    holders = [connect() for _ in range(3)]
    for client in holders:
        start_long(client)
    patient = connect()
    run_id = patient.start('import time\ntime.sleep(2.5)\nprint("done")')
    patient.wait_for("status", run_id, timeout=5)
    time.sleep(2.5)  # with 2.5 s more of sleep, over the server's 4 s wall-clock limit
    holders[0].send("kill", {})
    exit_payload, seen = patient.wait_for("exit", run_id, timeout=20)
    assert exit_payload["reason"] == "exited", seen


def test_rate_limits(gated: LiveServer, connect: Any) -> None:
    address = new_address()
    first = connect(address)
    for _ in range(5):
        assert first.run_to_exit("pass").exit["reason"] == "exited"
    ack = first.run("pass")
    assert ack["ok"] is False and "too many runs: at most 5 a minute" in ack["error"]
    second = connect(address)
    for _ in range(3):
        assert second.run_to_exit("pass").exit["reason"] == "exited"
    ack = second.run("pass")
    assert ack["ok"] is False and "from your address: at most 8 a minute" in ack["error"]
    assert connect().run_to_exit('print("fine")').stdout == "fine\n", "other addresses are not limited"


def test_connections_per_address_are_capped(gated: LiveServer, connect: Any) -> None:
    address = new_address()
    clients = [connect(address) for _ in range(4)]
    message = refusal(gated, address)
    assert message == "too many connections from your address (at most 4); close some tabs and try again"
    assert refusal(gated, new_address()) is None, "other addresses can connect"
    clients[0].close()
    assert wait_until(lambda: refusal(gated, address) is None, timeout=5)


def refusal(server: LiveServer, address: str) -> str | None:
    """Connect from an address: None when accepted, else the message of the refusal."""
    messages: list[Any] = []
    sio = socketio.Client(reconnection=False)
    sio.on("connect_error", messages.append)
    try:
        sio.connect(server.url, headers={"X-Forwarded-For": address}, transports=["websocket"],
                    wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        assert messages, "refused without a message"
        return messages[0]["message"]
    sio.disconnect()
    return None


def test_a_line_of_input_over_the_limit(gated: LiveServer, connect: Any) -> None:
    client = connect()
    run_id = client.start("print(len(input()))")
    client.wait_for("prompt", run_id)
    client.send("stdin", {"data": "x" * 2000 + "\n"})
    error, _ = client.wait_for("error", timeout=5)
    assert error == {"message": "a line of input is over the limit of 1 KiB", "run_id": run_id}
    client.send("stdin", {"data": "x" * 1000 + "\n"})
    _, seen = client.wait_for("exit", run_id)
    assert "1000\n" in "".join(p["data"] for name, p in seen if name == "output")


def test_the_http_api_answers_429_over_the_rate_limit(gated: LiveServer) -> None:
    address = {"X-Forwarded-For": new_address()}  # the gated server allows 8 runs a minute per address
    hello = {"language": "python", "code": "print('ok')"}
    run_url = gated.url + "/api/run"
    answers = [requests.post(run_url, json=hello, headers=address, timeout=30) for _ in range(9)]
    assert [answer.status_code for answer in answers] == [200] * 8 + [429]
    assert "too many runs" in answers[-1].json()["error"]
    malformed = requests.post(run_url, json={"language": "python"}, headers=address, timeout=30)
    assert malformed.status_code == 400, "a bad request is still a bad request"
