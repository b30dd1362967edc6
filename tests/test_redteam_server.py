"""The second red team's attacks on the server itself: its only thread, its sockets, its queue.

Each is one client (one address, or one address with many sockets) trying to stall the server
for everybody or hold its resources for ever; a bystander from another address must still get
its hello world in under two seconds. docs/security.md names each defence and its setting.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import websocket
from conftest import LiveServer, require_docker, wait_until
from redteam_plugin import RED_ENV, Connect, RawSocket, health, new_address, rss_kb, still_serving

pytestmark = pytest.mark.attack
BYSTANDER_S = 2.0
FROZEN_S = 1.0  # the longest a health check may wait while the server is under attack
HEADER_TIMEOUT_S, JOIN_TIMEOUT_S = 2.0, 2.0


@pytest.fixture(scope="module")
def guarded() -> Iterator[LiveServer]:
    """A server facing clients directly (no proxy), with short deadlines and small caps."""
    require_docker()
    live = LiveServer("docker", "eventlet", {
        **RED_ENV, "CODYSKOOL_TRUST_PROXY": "0", "CODYSKOOL_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "CODYSKOOL_JOIN_TIMEOUT_S": str(JOIN_TIMEOUT_S), "CODYSKOOL_MAX_SOCKETS_PER_IP": "20",
        "CODYSKOOL_MAX_SOCKETS": "64", "CODYSKOOL_MAX_CONNECTIONS_PER_IP": "4",
        "CODYSKOOL_LIFETIME_LIMIT_S": "8", "CODYSKOOL_PROMPT_IDLE_LIMIT_S": "3",
    })  # fmt: skip
    yield live
    live.stop()


def from_address(server: LiveServer, source: str) -> socket.socket:
    """A TCP connection to the server from another loopback address (127.0.0.0/8 is all ours)."""
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    return sock


def hello_takes(server: LiveServer, connect: Connect, address: str | None = None) -> float:
    client = connect(server, address) if address is not None else connect(server)
    started = time.monotonic()
    assert client.run_to_exit('print("Hello, world!")', timeout=15).stdout == "Hello, world!\n"
    return time.monotonic() - started


def closed_now(sock: socket.socket) -> bool:
    """Whether the server has closed the socket already (without waiting)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
        return True
    except (TimeoutError, OSError) as error:
        return not isinstance(error, TimeoutError)


# --- the server's only thread ---------------------------------------------------------------------

JAVA_STACK_LINE = """public class Main {
    public static void main(String[] args) {
        System.err.println("    at " + "(".repeat(131072));
        System.exit(1);
    }
}
"""


def warm_pool_full(server: LiveServer) -> bool:
    pool = health(server).get("pool") or {}
    return all(pool.get("idle", {}).get(name, 0) >= size for name, size in pool.get("sizes", {}).items())


class HubProbe:
    """Asks /api/health every 50 ms from its own thread: the longest answer is how long the
    server's one thread was frozen for."""

    def __init__(self, server: LiveServer) -> None:
        self.url, self.longest, self.done = server.url + "/api/health", 0.0, threading.Event()
        self.thread = threading.Thread(target=self.probe, daemon=True)
        self.thread.start()

    def probe(self) -> None:
        while not self.done.wait(0.05):
            started = time.monotonic()
            try:
                requests.get(self.url, timeout=30)
            except requests.RequestException:
                self.longest = float("inf")
                return
            self.longest = max(self.longest, time.monotonic() - started)

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return self.longest


def test_a_programs_output_cannot_freeze_the_server(red: LiveServer, connect: Connect) -> None:
    """javac's stack-frame pattern was quadratic on such a line: 3-4 s of a frozen server a run.

    The hub is measured directly, and each bystander finds the warm pool refilled: under gVisor,
    three Java runs on two cores make a cold start alone take over a second, which is the pool's
    depth and not the server freezing."""
    assert wait_until(lambda: warm_pool_full(red), timeout=30)
    hub = HubProbe(red)
    attackers = [connect(red) for _ in range(3)]
    runs = [attacker.start(JAVA_STACK_LINE, "java") for attacker in attackers]
    slowest = 0.0
    for _ in range(4):
        assert wait_until(lambda: warm_pool_full(red), timeout=30)
        slowest = max(slowest, hello_takes(red, connect))
    for attacker, run_id in zip(attackers, runs, strict=True):
        assert attacker.wait_for("exit", run_id, timeout=60)[0]["reason"] == "exited"
    frozen = hub.stop()
    slowest = max(slowest, hello_takes(red, connect))
    assert frozen < FROZEN_S, f"the server did not answer for {frozen:.1f}s"
    assert slowest < BYSTANDER_S, f"a bystander's hello world took {slowest:.1f}s"


def test_a_legacy_websocket_handshake_is_refused(red: LiveServer, connect: Connect) -> None:
    """Without Sec-WebSocket-Version eventlet spoke hixie-76, whose buffer is unbounded."""
    sock = socket.create_connection(("127.0.0.1", red.port), timeout=10)
    sock.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
                 b"Upgrade: WebSocket\r\nConnection: Upgrade\r\nOrigin: http://x\r\n"
                 b"Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n"
                 b"^n:ds[4U")  # fmt: skip
    answer = b""
    while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"Traceback" not in answer
    still_serving(red, connect)


def test_a_fragmented_message_is_bounded(red: LiveServer, connect: Connect) -> None:
    """The size limit held per frame: continuation frames assembled 400 MB in 4 s."""
    before = rss_kb(red)
    raw = RawSocket(red, new_address())
    chunk = b"x" * (1 << 20)
    raw.ws.send_frame(websocket.ABNF.create_frame(b'42["stdin",{"data":"', websocket.ABNF.OPCODE_TEXT, fin=0))
    try:
        for _ in range(64):
            raw.ws.send_frame(websocket.ABNF.create_frame(chunk, websocket.ABNF.OPCODE_CONT, fin=0))
    except (websocket.WebSocketException, OSError):
        pass  # hung up on: fine
    assert "closed" in raw.messages(2)
    grown_mb = (rss_kb(red) - before) / 1024
    raw.close()
    assert grown_mb < 40, f"the server held {grown_mb:.0f} MB of one fragmented message"
    still_serving(red, connect)


def test_headers_sent_slowly_time_out(guarded: LiveServer, connect: Connect) -> None:
    sock = from_address(guarded, "127.0.0.3")
    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    for _ in range(int(HEADER_TIMEOUT_S * 4)):  # a header line every quarter of a second
        try:
            sock.sendall(b"X-Slow: 1\r\n")
        except OSError:
            break
        time.sleep(0.25)
        if closed_within(sock, 0.01):
            break
    assert closed_within(sock, HEADER_TIMEOUT_S), "the server still waits for the headers"
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 1.5
    sock.close()


def test_one_address_cannot_hold_every_socket(guarded: LiveServer, connect: Connect) -> None:
    """1,024 idle sockets locked everyone out; one address may hold MAX_SOCKETS_PER_IP (20) of the
    server's MAX_SOCKETS (64). Without the cap these 100 would fill the pool until their headers
    time out, and the bystander's request would wait for that."""
    idle = [from_address(guarded, "127.0.0.4") for _ in range(100)]
    try:
        time.sleep(0.3)  # far less than the 2 s header deadline
        closed = sum(closed_now(sock) for sock in idle)
        assert closed == 80, f"{closed} of 100 idle sockets from one address were closed at once"
        assert requests.get(guarded.url + "/api/health", timeout=1).ok
        assert hello_takes(guarded, connect, address="") < BYSTANDER_S
    finally:
        for sock in idle:
            sock.close()


def test_engineio_connections_must_join_the_namespace(guarded: LiveServer) -> None:
    url = guarded.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    waiting = []
    for _ in range(4):
        ws = websocket.create_connection(url, timeout=10)
        assert ws.recv().startswith("0")  # Engine.IO open; the namespace is never joined
        waiting.append(ws)
    with pytest.raises(websocket.WebSocketBadStatusException):  # over the per-address cap
        websocket.create_connection(url, timeout=10)
    started = time.monotonic()
    for ws in waiting:
        ws.settimeout(JOIN_TIMEOUT_S + 5)
        with pytest.raises((websocket.WebSocketConnectionClosedException, OSError)):
            while True:
                if ws.recv() in ("", None):
                    raise websocket.WebSocketConnectionClosedException("closed")
    assert time.monotonic() - started < JOIN_TIMEOUT_S + 3
    assert wait_until(lambda: can_open(url), timeout=5), "closed connections free their places"


def can_open(url: str) -> bool:
    try:
        websocket.create_connection(url, timeout=5).close()
        return True
    except websocket.WebSocketException:
        return False


def test_a_huge_request_body_is_refused_unread(red: LiveServer) -> None:
    """300 MB bodies were read into memory and run."""
    sock = socket.create_connection(("127.0.0.1", red.port), timeout=10)
    sock.sendall(b"POST /api/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 314572800\r\n\r\n" + b'{"language": "python", "code": "' + b"#" * 65536)
    answer = sock.recv(65536)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


# --- fair shares --------------------------------------------------------------------------------


def test_one_address_cannot_fill_the_queue(red: LiveServer, connect: Connect) -> None:
    """110 fire-and-forget POST /api/run from one address filled the 100-place queue."""
    address = new_address()
    statuses: list[int] = []

    def fire() -> None:
        try:
            answer = requests.post(red.url + "/api/run", timeout=30, headers={"X-Forwarded-For": address},
                                   json={"language": "python", "code": "import time\ntime.sleep(3)"})
            statuses.append(answer.status_code)
        except requests.RequestException:
            statuses.append(0)

    threads = [threading.Thread(target=fire) for _ in range(40)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    assert hello_takes(red, connect) < BYSTANDER_S + 3, "another address is not starved"
    for thread in threads:
        thread.join(60)
    assert statuses.count(429) >= 20, statuses
    assert statuses.count(200) <= 4 + 10 + 5, "its runs and queue places, and no more (with rate slack)"


def test_a_rest_run_stops_when_its_client_hangs_up(red: LiveServer) -> None:
    sock = socket.create_connection(("127.0.0.1", red.port), timeout=10)
    body = b'{"language": "python", "code": "import time\\nprint(1, flush=True)\\ntime.sleep(60)"}'
    sock.sendall(b"POST /api/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"X-Forwarded-For: " + new_address().encode() + b"\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert wait_until(lambda: health(red)["runs"]["running"] == 1, timeout=15)
    sock.close()
    assert wait_until(lambda: health(red)["runs"]["running"] == 0, timeout=5), "the run went on alone"


# --- limits that hold whatever the program does -------------------------------------------------


def test_prompt_text_is_output(red: LiveServer, connect: Connect) -> None:
    """Prompt text was not counted: 100 MiB reached a client under a 1 MiB limit."""
    client = connect(red)
    result = client.run_to_exit("while True:\n    input('x' * 60000)", stdin="\n" * 1000, timeout=60)
    assert result.exit["reason"] == "output_limit", result.exit
    assert sum(len(p["text"]) for p in result.of("prompt")) <= 1 << 20


def test_no_run_outlives_its_lifetime(guarded: LiveServer, connect: Connect) -> None:
    """Prompt time does not count as run time; a run answered slowly for ever still ends."""
    client = connect(guarded, "")
    run_id = client.start("while True:\n    input()")
    started = time.monotonic()
    while True:
        name, payload = client.next_event(timeout=15)
        if name == "exit" and payload["run_id"] == run_id:
            break
        if name == "prompt":
            time.sleep(2)  # under the 3 s prompt idle limit every time
            client.send("stdin", {"data": "\n"})
    assert payload["reason"] == "timeout"
    elapsed = time.monotonic() - started
    assert 8 - 1 <= elapsed < 8 + 3, f"ended after {elapsed:.1f} s: the 8 s lifetime, not the 4 s wall clock"
