"""What the web layer calls to run programs: requests in, Runs out, whichever backend runs them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from . import protocol
from .concurrency import Tasks
from .config import Limits
from .languages import Language
from .runs import Emit, Run
from .sandbox import Backend


@dataclass
class RunService:
    backend: Backend
    limits: Limits
    languages: dict[str, Language]
    tasks: Tasks

    def start(self, payload: Any, emit: Emit, replacing: Run | None = None) -> Run:
        """Validate a `run` request and start it; raises ProtocolError for a refused one."""
        request = protocol.parse_run(payload, self.languages, self.limits)
        run = Run(request, self.backend, self.limits, emit, self.tasks, after=replacing)
        run.start()
        return run

    def public_languages(self) -> list[dict[str, Any]]:
        return [language.public() for language in self.languages.values()]

    def health(self) -> dict[str, Any]:
        return {"status": "ok", **self.backend.health()}


def init_app(app: Flask, service: RunService) -> None:
    app.extensions["codyskool"] = service


def get_service() -> RunService:
    return current_app.extensions["codyskool"]
