"""The red team's machinery: its servers, clients and helpers, and its tally.

Registered from conftest.py (`pytest_plugins`). Every test marked `attack` is one attack, contained
when it passes; a run that tried any ends with one line naming the runtimes its Docker servers
reported in /api/health (``auto`` resolves there): ``red team (runsc): 41 attacks tried, 41
contained``. The attacks themselves are in tests/test_redteam.py.

The test servers plant a secret in their environment and in a file on the host; no event any red
client receives may ever contain it (``LEAKS``). Clients come from different addresses through
X-Forwarded-For (the servers trust one proxy), so that the per-address limits apply to each
attacker and not to the bystander whose hello world must still finish in under a second.
"""

from __future__ import annotations

import itertools
import json
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from conftest import LiveServer, Result, RunClient, new_page, require_docker, wait_until

from codyskool.sandbox.runtimes import is_gvisor

# --- the tally ----------------------------------------------------------------------------------

_tally: dict[str, bool] = {}  # test id -> contained
_runtimes: dict[int, str] = {}  # id of a Docker server an attack ran against -> its runtime


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "attack(counted=True): one red-team attack, counted in the tally line unless counted=False"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("attack")
    if marker is None or not marker.kwargs.get("counted", True) or report.skipped:
        return
    if report.when == "call":
        note_runtimes(item)
    if report.when == "call" or report.failed:  # a failed setup or teardown counts too
        _tally[item.nodeid] = _tally.get(item.nodeid, True) and report.passed


def note_runtimes(item: pytest.Item) -> None:
    """The runtime each Docker server the attack used says it runs sandboxes under."""
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, LiveServer) and value.backend == "docker" and id(value) not in _runtimes:
            try:
                _runtimes[id(value)] = health(value).get("runtime") or "default"
            except (requests.RequestException, ValueError):
                pass


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _tally:
        contained = sum(_tally.values())
        runtimes = ", ".join(sorted(set(_runtimes.values())))
        label = f"red team ({runtimes})" if runtimes else "red team"
        terminalreporter.write_line(f"{label}: {len(_tally)} attacks tried, {contained} contained")


def runtime(server: LiveServer) -> str | None:
    """The runtime a server runs its sandboxes under, as it reports it (None: the local backend)."""
    return health(server).get("runtime")


def gvisor(server: LiveServer) -> bool:
    return is_gvisor(runtime(server))


# --- servers and clients ------------------------------------------------------------------------

SECRET = f"redteam-{secrets.token_hex(16)}"
HOST_SECRET_FILE = Path(tempfile.gettempdir()) / f"codyskool-redteam-{secrets.token_hex(4)}.txt"
WALL_S, CPU_S, IDLE_S = 4.0, 3.0, 3.0
MARGIN_S = 2.0  # how late after its limit an attack may end (container stop, event delivery)
OUTPUT_LIMIT = 1 << 20
RED_ENV = {
    "CODYSKOOL_WALL_TIME_LIMIT_S": str(WALL_S),
    "CODYSKOOL_CPU_TIME_LIMIT_S": str(CPU_S),
    "CODYSKOOL_PROMPT_IDLE_LIMIT_S": str(IDLE_S),
    "CODYSKOOL_TRUST_PROXY": "1",
    "CODYSKOOL_REDTEAM_SECRET": SECRET,
    "REDTEAM_SECRET_TOKEN": SECRET,
}
LEAKS: list[str] = []  # anything a client received that holds the secret


def rss_kb(server: LiveServer) -> int:
    with open(f"/proc/{server.process.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def health(server: LiveServer) -> dict[str, Any]:
    return requests.get(server.url + "/api/health", timeout=10).json()


def settled(server: LiveServer) -> bool:
    """Nothing running or queued, and no container but the idle warm pool's."""
    state = health(server)
    idle = sum(((state.get("pool") or {}).get("idle") or {}).values())
    return state["runs"] == {"running": 0, "queued": 0} and len(server.containers()) <= idle


@pytest.fixture(scope="module")
def red() -> Iterator[LiveServer]:
    require_docker()
    HOST_SECRET_FILE.write_text(SECRET)
    live = LiveServer("docker", "eventlet", RED_ENV)
    try:
        warm_up(live)
        live.baseline_kb = rss_kb(live)
        yield live
    finally:
        live.stop()
        HOST_SECRET_FILE.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def red_local() -> Iterator[LiveServer]:
    live = LiveServer("local", "eventlet", RED_ENV)
    yield live
    live.stop()


@pytest.fixture
def target(request: pytest.FixtureRequest) -> LiveServer:
    """The server of the backend a parametrized attack runs against."""
    return request.getfixturevalue({"docker": "red", "local": "red_local"}[request.param])


BOTH = pytest.mark.parametrize("target", ["docker", "local"], indirect=True)
_addresses = itertools.count(1)


def new_address() -> str:
    number = next(_addresses)
    return f"203.0.{number // 250}.{number % 250 + 1}"


class RedClient(RunClient):
    """A RunClient that notes any event carrying the planted secret."""

    def _recorder(self, name: str):
        def record(payload: Any = None) -> None:
            if SECRET in json.dumps(payload):
                LEAKS.append(f"{name}: {payload!r}"[:500])
            self.events.put((name, payload))

        return record


Connect = Callable[..., RedClient]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Opens clients from fresh addresses; afterwards they are closed and every server used must
    settle: nothing running, no container left, no secret seen."""
    made: list[tuple[LiveServer, RedClient]] = []

    def make(server: LiveServer, address: str | None = None) -> RedClient:
        client = RedClient(server.url, headers={"X-Forwarded-For": address or new_address()})
        made.append((server, client))
        return client

    yield make
    for _, client in made:
        if client.sio.connected:
            client.close()
    for server in {id(server): server for server, _ in made}.values():
        assert server.process.poll() is None, "the server died"
        assert wait_until(lambda s=server: settled(s), timeout=20), (health(server), server.containers())
    assert not LEAKS, LEAKS


def warm_up(server: LiveServer) -> None:
    """One of each kind of heavy request, so that the memory measured after it is the server's
    steady state: the allocator keeps what a peak took (Engine.IO frees a closed connection only
    at its next ping), so growth after this is what the attacks leave behind."""
    client = RedClient(server.url, headers={"X-Forwarded-For": "192.0.2.200"})
    try:
        for _ in range(4):
            client.run_to_exit('print("warm")')
        client.run_to_exit("import os\nwhile True:\n    os.write(1, b'w' * 65536)")
        client.run("#" * (10 << 20))
        run_id = client.start("input()")
        client.wait_for("prompt", run_id)
        client.send("stdin", {"data": "s" * (2 << 20)})
        client.send("kill", {})
        client.wait_for("exit", run_id)
        for _ in range(30):
            client.sio.emit("run", {"language": "python", "code": "pass"})
        sockets = [RawSocket(server, "192.0.2.201") for _ in range(200)]  # as the connection cap test
        for raw in sockets:
            raw.close()
    finally:
        client.close()
    assert wait_until(lambda: settled(server), timeout=30)


# --- attack helpers -----------------------------------------------------------------------------


def run_until(client: RunClient, run_id: str, phase: str, seen: list, timeout: float = 20) -> bool:
    """Wait for the run's `status` phase, adding the events on the way to `seen`; False when the
    run ended first (its exit is put back)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        name, payload = client.next_event(timeout=max(deadline - time.monotonic(), 0.01))
        if name == "exit" and payload["run_id"] == run_id:
            client.events.put((name, payload))
            return False
        seen.append((name, payload))
        if name == "status" and payload == {"run_id": run_id, "phase": phase}:
            return True
    raise AssertionError(f"no {phase!r} status within {timeout}s")


def hello_in_under_a_second(server: LiveServer, client: RunClient) -> float:
    started = time.monotonic()
    result = client.run_to_exit('print("Hello, world!")', timeout=10)
    elapsed = time.monotonic() - started
    assert result.stdout == "Hello, world!\n", result.events
    return elapsed


def exhaust(server: LiveServer, connect: Connect, code: str, language: str = "python", *,
            reason: str | tuple[str, ...], within: float, probe: bool = True, **extra: Any) -> Result:
    """Run an attack; while it runs, a bystander's hello world must finish in under a second.

    The attack must end with `reason` no later than `within` seconds (its limit) plus MARGIN_S
    after it started running (or after it was accepted, when it never ran).
    """
    attacker = connect(server)
    bystander = connect(server) if probe else None
    started = time.monotonic()
    run_id = attacker.start(code, language, **extra)
    early: list[tuple[str, Any]] = []
    running = run_until(attacker, run_id, "running", early)
    if running:
        started = time.monotonic()
    probe_s = None
    if bystander is not None:
        if running:
            time.sleep(0.5)  # let the attack get going
        probe_s = hello_in_under_a_second(server, bystander)
    exit_payload, seen = attacker.wait_for("exit", run_id, timeout=within + 30)
    elapsed = time.monotonic() - started
    result = Result(run_id, exit_payload, early + seen)
    reasons = (reason,) if isinstance(reason, str) else reason
    assert exit_payload["reason"] in reasons, (exit_payload, result.stderr[-2000:], result.stdout[-2000:])
    assert elapsed <= within + MARGIN_S, f"ended after {elapsed:.1f}s, limit {within}s"
    assert probe_s is None or probe_s < 1.0, f"a bystander's hello world took {probe_s:.2f}s"
    return result


# --- a Socket.IO connection by hand ------------------------------------------------------------


class RawSocket:
    """A Socket.IO connection by hand (Engine.IO 4 over a WebSocket), to send what no client would."""

    def __init__(self, server: LiveServer, address: str | None = None) -> None:
        url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        headers = [f"X-Forwarded-For: {address}"] if address else []
        self.ws = websocket.create_connection(url, header=headers, timeout=10)
        assert self.ws.recv().startswith("0"), "no Engine.IO open packet"
        self.ws.send("40")
        self.answer = self.ws.recv()  # 40{"sid": ...} when connected, 44{"message": ...} when refused

    @property
    def connected(self) -> bool:
        return self.answer.startswith("40")

    def messages(self, wait: float = 1.0) -> list[Any]:
        """What the server sends within `wait` seconds; "closed" when it hangs up."""
        received: list[Any] = []
        self.ws.settimeout(wait)
        try:
            while True:
                message = self.ws.recv()
                if message == "2":  # an Engine.IO ping
                    self.ws.send("3")
                elif message:
                    received.append(message)
                else:
                    received.append("closed")
                    return received
        except websocket.WebSocketTimeoutException:
            return received
        except (websocket.WebSocketException, OSError):
            received.append("closed")
            return received

    def close(self) -> None:
        try:
            self.ws.close()
        except (websocket.WebSocketException, OSError):
            pass


def still_serving(server: LiveServer, connect: Connect) -> None:
    assert server.process.poll() is None, "the server died"
    assert connect(server).run_to_exit('print("still here")').stdout == "still here\n"



# --- the browser --------------------------------------------------------------------------------


def open_ide(browser: Any, server: LiveServer) -> tuple[Any, Any, list[str]]:
    errors: list[str] = []
    page = new_page(browser, errors)
    context = page.context
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(server.url + "/")
    page.wait_for_selector("#run:enabled")
    return context, page, errors


def run_in_page(page: Any, code: str) -> None:
    page.evaluate("code => { window.codyskool.setLanguage('python'); window.codyskool.setCode(code); }", code)
    page.click("#run")
