"""What a serving process does once, before it takes requests (create_app only builds the app)."""

from __future__ import annotations

import logging

from flask import Flask

from . import db
from .memory import start_releasing_memory
from .retention import start_retention
from .sandbox.runtimes import describe
from .service import RunService

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def describe_backend(health: dict) -> str:
    """The start-up log's line on what runs the code, e.g. "docker, runtime runsc (gVisor)"."""
    if health.get("runtime"):
        runtime = health["runtime"]
        return f"{health['backend']}, runtime {runtime} ({describe(runtime)}), image {health['image']}"
    return f"{health['backend']} ({health.get('isolation', 'no isolation')})"


def start(app: Flask) -> RunService:
    """Log, sweep sandboxes a crashed server left, migrate the database, start background work
    (the warm pool, giving memory back, expiring unvisited snippets)."""
    logging.basicConfig(level=app.config["LOG_LEVEL"], format=LOG_FORMAT)
    service: RunService = app.extensions["codyskool"]
    app.logger.info("sandboxes: %s", describe_backend(service.backend.health()))
    removed = service.backend.remove_leftovers()
    if removed:
        app.logger.warning("removed %d sandboxes left over from an earlier server", removed)
    engine = db.engine_of(app)
    db.upgrade(engine)
    service.backend.start_background(service.tasks)
    start_releasing_memory(service.tasks)
    start_retention(engine, app.config["SNIPPET_RETENTION_DAYS"], service.tasks)
    return service
