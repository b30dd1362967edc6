"""What the web layer calls to run programs: requests in, Runs out, whichever backend runs them.

Every run goes through admission control (codyskool/admission.py) first: the rate limits may
refuse it at once; otherwise it is accepted and waits, as a queued run, for a free slot before its
sandbox is created. A run stopped while it waits still ends with its one `exit` (reason `killed`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_request_context, request

from . import protocol
from .admission import Admission, AdmissionSettings, Ticket, client_address
from .concurrency import Tasks
from .config import Limits
from .languages import Language
from .protocol import ProtocolError, StdinRequest
from .runs import Emit, Run
from .sandbox import Backend

log = logging.getLogger(__name__)


@dataclass
class RunService:
    backend: Backend
    limits: Limits
    languages: dict[str, Language]
    tasks: Tasks
    admission: Admission | None = None  # init_app sets it from the settings
    max_line_bytes: int = 64 << 10

    def __post_init__(self) -> None:
        if self.admission is None:
            self.admission = Admission(AdmissionSettings(), self.tasks)

    # --- connections ----------------------------------------------------------------------

    def connect(self, session: str) -> None:
        """Count a Socket.IO connection against its client; raises Refused over the cap."""
        self.admission.connect(session, self.client())

    def disconnect(self, session: str) -> None:
        self.admission.disconnect(session)

    def client(self) -> str:
        """The client the current request counts against (see admission.client_address)."""
        environ = request.environ if has_request_context() else {}
        return client_address(environ, self.admission.settings.trusted_proxies)

    # --- runs -----------------------------------------------------------------------------

    def start(self, payload: Any, emit: Emit, replacing: Run | None = None,
              session: str | None = None) -> Run:
        """Validate a `run` request and accept it; raises ProtocolError for a refused one.

        The run starts once admission control gives it a slot; until then it is queued, and
        hears its place in line through `status` events.
        """
        run_request = protocol.parse_run(payload, self.languages, self.limits)
        client = (self.admission.client_of(session) if session else None) or self.client()
        ticket = self.admission.request(client, session)
        run = Run(run_request, self.backend, self.limits, emit, self.tasks, after=replacing)
        self.tasks.spawn(self._admit_and_start, run, ticket)
        return run

    def _admit_and_start(self, run: Run, ticket: Ticket) -> None:
        """The run's admission: wait for a slot, start the run, hold the slot until it has ended."""
        def queued(position: int) -> None:
            run.emit(protocol.STATUS, {"phase": "queued", "position": position})

        try:
            self.tasks.sleep(0)  # let the handler send the `run` ack before a `queued` status
            try:  # the run's clocks start in Run._supervise, so time in the queue is not its time
                self.admission.wait(ticket, stopped=lambda: run.stop_reason is not None, on_queued=queued)
            except Exception:
                log.exception("run %s: admission failed", run.id)
                run.stop("error")
            run.start()  # a run stopped while queued starts only to end with its `exit`
            run.wait()
        finally:
            self.admission.release(ticket)

    def parse_stdin(self, payload: Any) -> StdinRequest:
        stdin = protocol.parse_stdin(payload)
        if len(stdin.data) > self.max_line_bytes or len(stdin.data.encode()) > self.max_line_bytes:
            raise ProtocolError(f"a line of input is over the limit of {self.max_line_bytes // 1024} KiB")
        return stdin

    # --- pages and the JSON API -------------------------------------------------------------

    def public_languages(self) -> list[dict[str, Any]]:
        return [language.public() for language in self.languages.values()]

    def health(self) -> dict[str, Any]:
        snapshot = self.admission.snapshot()
        runs = {"running": snapshot["running"], "queued": snapshot["queued"]}
        return {"status": "ok", **self.backend.health(), "runs": runs}


def init_app(app: Flask, service: RunService) -> None:
    service.admission = Admission(AdmissionSettings.from_config(app.config), service.tasks)
    service.max_line_bytes = app.config["MAX_LINE_BYTES"]
    app.extensions["codyskool"] = service


def get_service() -> RunService:
    return current_app.extensions["codyskool"]
