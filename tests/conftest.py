"""Live servers and real Socket.IO clients for the tests, and the split into a fast and a live tier.

A server runs as `python -m codyskool serve` in a subprocess (tests/live.py, the harness bench/
shares), on a free port, with its own container label, and with short limits so that timeouts are
quick to test. Docker tests fail instead of skipping when CODYSKOOL_REQUIRE_DOCKER is set (CI sets
it).

Tests that need a server, Docker, Chromium or PostgreSQL are marked `live`: those using a fixture in
LIVE_FIXTURES automatically, those that start a server by hand with `@pytest.mark.live`. With
CODYSKOOL_FAST=1, `pytest -m "not live"` runs the rest, and a test there that tries to start a
server, reach Docker, launch Chromium or start PostgreSQL fails, saying it needs the live tier.
"""

from __future__ import annotations

import os
import queue
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest
from live import DOCKER, INSTANCE_LABEL, ROOT, SANDBOX_LABEL, ServerProcess, SocketClient, wait_until

pytest_plugins = ["redteam_plugin", "inprocess"]  # the red team's tally line; the in-process fixtures
TEST_LIMITS = {
    "CODYSKOOL_WALL_TIME_LIMIT_S": "4",
    "CODYSKOOL_CPU_TIME_LIMIT_S": "3",
    "CODYSKOOL_PROMPT_IDLE_LIMIT_S": "6",
}
TEST_INSTANCE_PREFIX = "pytest-"
FAST = os.environ.get("CODYSKOOL_FAST", "") not in ("", "0")  # the fast tier: see the end of this file
SESSION_INSTANCES: set[str] = set()  # labels of this session's servers, swept at its end


def docker_required() -> bool:
    return os.environ.get("CODYSKOOL_REQUIRE_DOCKER", "") not in ("", "0")


def docker_available() -> bool:
    return DOCKER.available()


def require_docker() -> None:
    if docker_available():
        return
    message = "Docker engine or sandbox image not available (run scripts/setup-docker.sh)"
    if docker_required():
        pytest.fail(message)
    pytest.skip(message)


class LiveServer(ServerProcess):
    """A test server: the test limits, its own snippet database, ready when constructed."""

    def __init__(self, backend: str, async_mode: str, extra_env: dict[str, str] | None = None) -> None:
        if FAST:
            needs_live_tier("starts a CodySkool server")
        extra_env = extra_env or {}
        self.backend = backend
        self.async_mode = async_mode
        instance = extra_env.get("CODYSKOOL_INSTANCE") or f"{TEST_INSTANCE_PREFIX}{uuid.uuid4().hex[:8]}"
        SESSION_INSTANCES.add(instance)
        self.data_dir = tempfile.mkdtemp(prefix="codyskool-data-")
        env = {
            **TEST_LIMITS,
            "CODYSKOOL_BACKEND": backend,
            "CODYSKOOL_ASYNC_MODE": async_mode,
            "CODYSKOOL_DATA_DIR": self.data_dir,
            **extra_env,
        }
        super().__init__(instance, env, ROOT / ".pytest_cache" / f"server-{instance}.log")
        self.wait_ready(30)

    def stop(self, timeout: float = 10) -> None:
        super().stop(timeout)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def containers(self) -> list[str]:
        """This server's sandbox containers, running or not."""
        if self.backend != "docker":
            return []
        return DOCKER.ids(f"{INSTANCE_LABEL}={self.instance}")

    def busy_containers(self) -> int:
        """Containers of this server beyond the idle warm pool: those of runs, or leaked ones."""
        idle = sum(self.health().get("pool", {}).get("idle", {}).values())
        return len(self.containers()) - idle

    def no_busy_containers(self, timeout: float = 10) -> bool:
        return wait_until(lambda: self.busy_containers() == 0, timeout=timeout)


class RunClient(SocketClient):
    """A real python-socketio client that records every event it receives, in order, as (name, payload)."""

    def run(self, code: str, language: str = "python", **extra: Any) -> dict[str, Any]:
        return self.sio.call("run", {"language": language, "code": code, **extra}, timeout=15)

    def start(self, code: str, language: str = "python", **extra: Any) -> str:
        ack = self.run(code, language, **extra)
        assert ack["ok"], ack
        return ack["run_id"]

    def send(self, event: str, payload: Any = None) -> None:
        self.sio.emit(event, payload)

    def next_event(self, timeout: float = 15) -> tuple[str, Any]:
        return self.events.get(timeout=timeout)

    def wait_for(self, name: str, run_id: str | None = None, timeout: float = 20) -> tuple[Any, list]:
        """Events up to and including the first `name` event (of run_id, when given)."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = self.events.get(timeout=max(remaining, 0))
            except queue.Empty:
                raise AssertionError(f"no {name!r} within {timeout}s; saw {brief(seen)}") from None
            seen.append(event)
            if event[0] == name and (run_id is None or (event[1] or {}).get("run_id") == run_id):
                return event[1], seen

    def run_to_exit(self, code: str, language: str = "python", timeout: float = 30, **extra: Any) -> Result:
        run_id = self.start(code, language, **extra)
        exit_payload, seen = self.wait_for("exit", run_id, timeout)
        return Result(run_id, exit_payload, seen)


def brief(events: list[tuple[str, Any]], limit: int = 2000) -> str:
    text = repr(events)
    return text if len(text) <= limit else f"{text[: limit // 2]} ... {text[-limit // 2 :]}"


class Result:
    def __init__(self, run_id: str, exit: dict[str, Any], events: list[tuple[str, Any]]) -> None:
        self.run_id = run_id
        self.exit = exit
        self.events = [(name, p) for name, p in events if (p or {}).get("run_id") in (run_id, None)]

    def text(self, stream: str) -> str:
        return "".join(p["data"] for name, p in self.events if name == "output" and p["stream"] == stream)

    @property
    def stdout(self) -> str:
        return self.text("stdout")

    @property
    def stderr(self) -> str:
        return self.text("stderr")

    def of(self, name: str) -> list[Any]:
        return [payload for event, payload in self.events if event == name]


SERVER_KINDS = {
    "docker-eventlet": ("docker", "eventlet"),
    "docker-threading": ("docker", "threading"),
    "local-eventlet": ("local", "eventlet"),
}


@pytest.fixture(scope="session", params=list(SERVER_KINDS))
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A live server of each kind the protocol must work on."""
    backend, async_mode = SERVER_KINDS[request.param]
    if backend == "docker":
        require_docker()
    live = LiveServer(backend, async_mode)
    yield live
    live.stop()
    assert live.containers() == [], "containers left after the server stopped"


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The base URL of a live server with the Docker backend (for browser tests)."""
    require_docker()
    live = LiveServer("docker", "eventlet")
    yield live.url
    live.stop()


@pytest.fixture(scope="session")
def docker_server() -> Iterator[LiveServer]:
    require_docker()
    live = LiveServer("docker", "eventlet")
    yield live
    live.stop()


@pytest.fixture
def client(server: LiveServer) -> Iterator[RunClient]:
    run_client = RunClient(server.url)
    yield run_client
    run_client.close()


@pytest.fixture(scope="session", autouse=True)
def sweep_test_containers() -> Iterator[None]:
    """Remove any container this session's servers left behind, after the whole session.

    Only theirs: another test session may be running on the same engine at the same time."""
    yield
    if FAST or not SESSION_INSTANCES or not docker_available():
        return
    leftovers = [
        container["Id"] for container in DOCKER.containers(SANDBOX_LABEL)
        if (container.get("Labels") or {}).get(INSTANCE_LABEL) in SESSION_INSTANCES
    ]  # fmt: skip
    try:
        DOCKER.remove(*leftovers)
    except Exception as error:  # noqa: BLE001 - the sweep is best effort
        print(f"could not remove this session's leftover containers: {error}", file=sys.stderr)
    DOCKER.close()


# --- the browser: Debian's Chromium driven by Playwright ---------------------------------------

CHROMIUM = os.environ.get("CODYSKOOL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
BROWSER_TIMEOUT_MS = 30_000  # a cold Docker sandbox may take a few seconds to start


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium; where it is missing the test skips, unless CODYSKOOL_REQUIRE_BROWSER (CI)."""
    if FAST:
        needs_live_tier("launches Chromium")
    if os.environ.get("CODYSKOOL_REQUIRE_BROWSER", "") in ("", "0") and not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def app_url(request: pytest.FixtureRequest) -> str:
    """The live server's URL, or CODYSKOOL_TEST_URL to point browser tests at a running server."""
    url = os.environ.get("CODYSKOOL_TEST_URL") or request.getfixturevalue("live_server")
    return str(url).rstrip("/")


def new_page(browser: Any, errors: list[str] | None = None, **options: Any) -> Any:
    """A page in a fresh browser context; JavaScript errors are collected into `errors`."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, **options)
    page = context.new_page()
    page.set_default_timeout(BROWSER_TIMEOUT_MS)
    if errors is not None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """The IDE, connected to its server; any JavaScript error on it fails the test."""
    from playwright.sync_api import expect

    errors: list[str] = []
    ide = new_page(browser, errors)
    ide.goto(app_url + "/")
    expect(ide.locator("#run")).to_be_enabled()  # the socket is connected
    yield ide
    ide.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


# --- the tiers: what is live, and a fast tier that refuses what live tests need ---------------

# Fixtures that start a server, Chromium or PostgreSQL, or reach Docker (here and in test modules).
# A test that uses one, directly or through other fixtures, is marked `live`. Fixtures that get one
# with request.getfixturevalue are named too: pytest cannot see through that.
LIVE_FIXTURES = frozenset({
    "server", "live_server", "docker_server", "browser", "app_url",  # here
    "red", "red_local", "target",  # tests/redteam_plugin.py
    "guarded",  # test_redteam_server.py
    "gated",  # test_admission.py
    "gallery_server",  # test_gallery.py
    "graphics_server",  # test_graphics_live.py
    "lang_server",  # test_languages.py
    "pooled_server",  # test_pool.py
    "app_server", "configured_server",  # test_snippets.py
    "cluster", "pg_server",  # test_snippets_postgres.py
})  # fmt: skip
DOCKER_COMMANDS = frozenset({"docker", "dockerd"})
POSTGRES_COMMANDS = frozenset({"initdb", "pg_ctl", "pg_ctlcluster", "postgres", "postmaster"})
# run-driver: the Playwright driver, which is what launches the browser
CHROMIUM_COMMANDS = frozenset({"chromium", "chrome", "headless_shell", "run-driver"})


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if LIVE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)


def pytest_configure(config: pytest.Config) -> None:
    if FAST:
        sys.addaudithook(refuse_in_fast_tier)  # hooks stay for the life of the process


def needs_live_tier(what: str) -> NoReturn:
    pytest.fail(
        f"this test {what}, so it needs the live tier: mark it @pytest.mark.live, or name the "
        "fixture that does it in LIVE_FIXTURES (tests/conftest.py). CODYSKOOL_FAST=1 is the fast tier."
    )


def refuse_in_fast_tier(event: str, args: tuple[Any, ...]) -> None:
    """An audit hook (sys.addaudithook): fail the test that tries what only the live tier may do."""
    if event in ("socket.connect", "subprocess.Popen"):
        what = live_tier_action(event, args)
        if what is not None:
            needs_live_tier(what)


def live_tier_action(event: str, args: tuple[Any, ...], docker_host: str | None = None) -> str | None:
    """What the audited action does that needs the live tier; None when the fast tier may do it."""
    if event == "socket.connect":
        return "reaches the Docker engine" if is_docker_engine(args[1], docker_host) else None
    if event != "subprocess.Popen":
        return None
    executable, argv = args[0], args[1]
    names = {os.path.basename(word) for arg in (executable or "", *argv) for word in os.fsdecode(arg).split()}
    if {"codyskool", "serve"} <= names:
        return "starts a CodySkool server"
    if names & DOCKER_COMMANDS:
        return "runs the docker command"
    if names & POSTGRES_COMMANDS:
        return "starts PostgreSQL"
    if names & CHROMIUM_COMMANDS:
        return "launches Chromium"
    return None


def is_docker_engine(address: Any, docker_host: str | None = None) -> bool:
    """Whether a socket address is the Docker engine's (DOCKER_HOST, or its default socket)."""
    host = os.environ.get("DOCKER_HOST", "") if docker_host is None else docker_host
    if isinstance(address, tuple):
        if not host.startswith("tcp://"):
            return False
        name, _, port = host.removeprefix("tcp://").partition(":")
        return address[:2] == (name, int(port or 2375))
    if not isinstance(address, (str, bytes)) or address[:1] in ("\0", b"\0"):  # abstract: no path
        return False
    path = os.fsdecode(address)
    sockets = [host.removeprefix("unix://")] if host.startswith("unix://") else []
    sockets += ["/var/run/docker.sock", "/run/docker.sock"]
    return os.path.realpath(path) in {os.path.realpath(socket_path) for socket_path in sockets}
