"""The Docker Engine API calls the Docker backend makes, spoken over the engine's socket.

A run is five small requests (create, attach, start, remove; wait and inspect when it ended
oddly). Through docker-py (requests and urllib3) they cost the server about 7 ms of CPU per run;
with runs a dozen a second on two cores, that was a share of what the host could run. This client
sends HTTP/1.1 on kept-alive connections and returns the engine's JSON, and nothing more.

The engine is found as Docker's own tools find it: ``DOCKER_HOST`` (``unix://`` or plain
``tcp://``), else ``/var/run/docker.sock``. It needs Engine API 1.41 (Docker 20.10) or newer.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import threading
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

API_VERSION = "1.41"
DEFAULT_SOCKET = "/var/run/docker.sock"
IDLE_CONNECTIONS = 16  # kept for reuse; more may be open at once while runs start together
HTTP_HEADER_END = b"\r\n\r\n"
MAX_HEADER_BYTES = 65536
STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class EngineError(Exception):
    """The engine refused a request (``status`` is its HTTP status) or could not be reached (0)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class NotFound(EngineError):
    """No such container or image."""


def engine_address(docker_host: str | None = None) -> tuple[str, str | tuple[str, int]]:
    """("unix", path) or ("tcp", (host, port)) from DOCKER_HOST, as the docker CLI reads it."""
    value = docker_host if docker_host is not None else os.environ.get("DOCKER_HOST", "")
    if not value:
        return "unix", DEFAULT_SOCKET
    url = urlsplit(value)
    if url.scheme == "unix":
        return "unix", url.path or DEFAULT_SOCKET
    if url.scheme in ("tcp", "http") and url.hostname:
        if os.environ.get("DOCKER_TLS_VERIFY"):
            raise EngineError("DOCKER_HOST over TLS is not supported: use the engine's unix socket")
        return "tcp", (url.hostname, url.port or 2375)
    raise EngineError(f"DOCKER_HOST={value!r} is not supported: use unix:// or tcp://")


class EngineConnection(http.client.HTTPConnection):
    """HTTP/1.1 to the engine, over its unix socket or TCP."""

    def __init__(self, address: tuple[str, str | tuple[str, int]], timeout: float) -> None:
        kind, where = address
        host, port = where if kind == "tcp" else ("localhost", None)
        super().__init__(host, port, timeout=timeout)
        self.unix_path = where if kind == "unix" else None

    def connect(self) -> None:
        if self.unix_path is None:
            super().connect()
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class Engine:
    """A Docker engine. Safe to use from many greenlets or threads at once."""

    def __init__(self, docker_host: str | None = None, timeout: float = 30.0) -> None:
        self.address = engine_address(docker_host)
        self.timeout = timeout
        self.idle: list[EngineConnection] = []
        self.lock = threading.Lock()  # green under eventlet's monkey-patching, real otherwise

    # --- HTTP ------------------------------------------------------------------------------

    def request(self, method: str, path: str, query: dict[str, Any] | None = None,
                body: Any = None, timeout: float | None = None) -> Any:
        """One API call; the engine's JSON answer (None when it sent none)."""
        url = f"/v{API_VERSION}{path}" + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for fresh in (False, True):
            reused, connection = self._connection(fresh)
            try:
                connection.timeout = timeout or self.timeout
                if connection.sock is not None:
                    connection.sock.settimeout(connection.timeout)
                connection.request(method, url, body=data, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                break
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                if not (reused and isinstance(error, STALE_CONNECTION)):
                    raise EngineError(f"{method} {path}: {error or type(error).__name__}") from None
                # the engine had closed that kept-alive connection: once more on a new one
        self._release(connection, response)
        if response.status >= 400:
            raise self._error(response.status, payload)
        if not (payload and response.getheader("Content-Type", "").startswith("application/json")):
            return None
        try:
            return json.loads(payload)
        except ValueError:
            raise EngineError(f"{method} {path}: the engine's answer is not JSON", response.status) from None

    def _connection(self, fresh: bool) -> tuple[bool, EngineConnection]:
        """(reused, connection): a kept-alive one unless `fresh` is asked for."""
        with self.lock:
            if self.idle and not fresh:
                return True, self.idle.pop()
        return False, EngineConnection(self.address, self.timeout)

    def _release(self, connection: EngineConnection, response: http.client.HTTPResponse) -> None:
        with self.lock:
            if not response.will_close and len(self.idle) < IDLE_CONNECTIONS:
                self.idle.append(connection)
                return
        connection.close()

    @staticmethod
    def _error(status: int, payload: bytes) -> EngineError:
        try:
            message = json.loads(payload).get("message") or ""
        except (ValueError, AttributeError):
            message = payload.decode("utf-8", "replace")[:500]
        kind = NotFound if status == 404 else EngineError
        return kind(message or f"HTTP {status}", status)

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for connection in idle:
            connection.close()

    # --- the calls the backend makes --------------------------------------------------------

    def ping(self) -> None:
        self.request("GET", "/_ping")

    def info(self) -> dict[str, Any]:
        return self.request("GET", "/info")

    def inspect_image(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"/images/{quote(name, safe='')}/json")

    def create_container(self, config: dict[str, Any], name: str = "") -> str:
        """Create a container from a full config (Image, Cmd, HostConfig...); its id."""
        created = self.request("POST", "/containers/create", {"name": name} if name else None, config)
        return created["Id"]

    def attach(self, container_id: str) -> tuple[socket.socket, bytes]:
        """The container's stdin, stdout and stderr as one socket (Docker's multiplexed stream),
        and the first bytes of that stream if they came with the response's header."""
        request = (
            f"POST /v{API_VERSION}/containers/{container_id}/attach"
            "?stdin=1&stdout=1&stderr=1&stream=1 HTTP/1.1\r\n"
            "Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
        )
        connection = EngineConnection(self.address, self.timeout)
        try:
            connection.connect()
            raw = connection.sock
            raw.sendall(request.encode())
            head = b""
            while HTTP_HEADER_END not in head and len(head) < MAX_HEADER_BYTES:
                chunk = raw.recv(4096)
                if not chunk:
                    raise ConnectionResetError("the engine closed the connection")
                head += chunk
            head, _, rest = head.partition(HTTP_HEADER_END)
            status_line, _, header_block = head.partition(b"\r\n")
            status = status_line.split()[1:2]
            if status in ([b"101"], [b"200"]):
                return raw, rest
            headers = http.client.parse_headers(io.BytesIO(header_block + HTTP_HEADER_END))
            length = headers.get("Content-Length", "")
            body = self._rest_of_body(raw, rest, int(length) if length.isdigit() else 0)
            code = int(status[0]) if status and status[0].isdigit() else 0
        except OSError as error:
            connection.close()
            raise EngineError(f"cannot attach: {error}") from None
        connection.close()
        raise self._error(code, body)

    @staticmethod
    def _rest_of_body(raw: socket.socket, body: bytes, length: int) -> bytes:
        try:
            while len(body) < min(length, MAX_HEADER_BYTES):
                chunk = raw.recv(4096)
                if not chunk:
                    break
                body += chunk
        except OSError:
            pass
        return body

    def start(self, container_id: str) -> None:
        self.request("POST", f"/containers/{container_id}/start")

    def kill(self, container_id: str) -> None:
        self.request("POST", f"/containers/{container_id}/kill")

    def wait(self, container_id: str, timeout: float) -> dict[str, Any]:
        return self.request("POST", f"/containers/{container_id}/wait", timeout=timeout)

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        return self.request("GET", f"/containers/{container_id}/json")

    def remove_container(self, container_id: str) -> None:
        """Remove it, killing it first if it still runs."""
        self.request("DELETE", f"/containers/{container_id}", {"force": "1"})

    def containers(self, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Every container, running or not, that matches all the filters (as `docker ps -a -f`)."""
        return self.request("GET", "/containers/json", {"all": "1", "filters": json.dumps(filters)})
