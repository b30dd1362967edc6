"""What the web layer calls to run programs: requests in, Runs out, whichever backend runs them.

The service is the one owner of connections and their runs: a connection (a Socket.IO session)
has at most one run, and starting another replaces it, decided here under one lock. Every run goes
through admission control (codyskool/admission.py) first: the rate limits may refuse it at once;
otherwise it is accepted and waits, queued, for a free slot before its sandbox is created.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_request_context, request

from . import protocol
from .admission import Admission, AdmissionSettings, client_address, decrement
from .concurrency import Tasks
from .config import Limits
from .drawing import parse_canvas_event
from .errors import BadRequest, Busy
from .jobs import run_limits
from .languages import Language
from .programs import read_program
from .protocol import Emit, ExitReason
from .runs import Run, RunState
from .sandbox import Backend

log = logging.getLogger(__name__)


@dataclass
class Connection:
    client: str
    run: Run | None = None

    def current_run(self) -> Run | None:
        run = self.run
        return run if run is not None and run.state != RunState.ENDED else None


@dataclass
class RunService:
    backend: Backend
    limits: Limits
    languages: dict[str, Language]
    tasks: Tasks
    admission: Admission
    connections: dict[str, Connection] = field(default_factory=dict)  # by Socket.IO session id
    connections_by_client: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- connections ----------------------------------------------------------------------

    def connect(self, session: str) -> None:
        """Count a Socket.IO connection against its client; raises Busy over the cap."""
        client = self.client()
        cap = self.admission.settings.max_connections_per_ip
        with self.lock:
            if session in self.connections:
                return
            count = self.connections_by_client.get(client, 0)
            if count >= cap:
                raise Busy(f"too many connections from your address (at most {cap}); "
                           "close some tabs and try again")
            self.connections[session] = Connection(client)
            self.connections_by_client[client] = count + 1

    def disconnect(self, session: str) -> None:
        """The connection went away: its run is stopped, its counts forgotten."""
        with self.lock:
            connection = self.connections.pop(session, None)
            if connection is not None:
                decrement(self.connections_by_client, connection.client)
        self.admission.forget_session(session)
        if connection is not None and connection.run is not None:
            connection.run.stop(ExitReason.KILLED)

    def current_run(self, session: str) -> Run | None:
        connection = self.connections.get(session)
        return connection.current_run() if connection else None

    def client(self) -> str:
        """The client the current request counts against (see admission.client_address)."""
        environ = request.environ if has_request_context() else {}
        return client_address(environ, self.admission.settings.trust_proxy)

    # --- runs -----------------------------------------------------------------------------

    def run_for(self, session: str, payload: Any, emit: Emit) -> Run:
        """Start a connection's run, replacing the one it has; raises BadRequest or Busy."""
        with self.lock:
            connection = self.connections.get(session)
            if connection is None:
                raise BadRequest("this connection is closing")
            previous = connection.current_run()
            run = self.start(payload, emit, connection.client, session, after=previous)
            connection.run = run
        if previous is not None:
            previous.stop(ExitReason.KILLED)
        return run

    def start(self, payload: Any, emit: Emit, client: str | None = None, session: str | None = None,
              after: Run | None = None) -> Run:
        """Validate a run request and accept it; raises BadRequest, or Busy over a rate limit.

        The run starts once admission control gives it a slot; until then it is queued, and
        hears its place in line through `status` events.
        """
        program = read_program(payload, self.languages, self.limits)
        ticket = self.admission.request(client or self.client(), session)
        run = Run(program, self.backend, run_limits(program, self.limits), emit, self.tasks,
                  self.admission, ticket, after=after, canvas=session is not None)
        run.start()
        return run

    def send_stdin(self, session: str, payload: Any) -> None:
        stdin = protocol.parse_stdin(payload, self.limits)
        run = self.current_run(session)
        if run is None:
            raise BadRequest("no program is running")
        run.send_stdin(stdin)

    def send_canvas(self, session: str, payload: Any) -> None:
        event = parse_canvas_event(payload)
        run = self.current_run(session)
        if run is None:
            raise BadRequest("no program is running")
        run.send_canvas(event)

    def kill(self, session: str) -> None:
        run = self.current_run(session)
        if run is not None:
            run.stop(ExitReason.KILLED)

    # --- pages and the JSON API -------------------------------------------------------------

    def public_languages(self) -> list[dict[str, Any]]:
        return [language.public() for language in self.languages.values()]

    def health(self) -> dict[str, Any]:
        snapshot = self.admission.snapshot()
        runs = {"running": snapshot["running"], "queued": snapshot["queued"]}
        return {"status": "ok", **self.backend.health(), "runs": runs, "connections": len(self.connections)}


def init_app(app: Flask, backend: Backend, languages: dict[str, Language], tasks: Tasks) -> RunService:
    service = RunService(backend, Limits.from_config(app.config), languages, tasks,
                         Admission(AdmissionSettings.from_config(app.config), tasks))
    app.extensions["codyskool"] = service
    return service


def get_service() -> RunService:
    return current_app.extensions["codyskool"]
