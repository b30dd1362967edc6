"""What a serving process does once, before it takes requests (create_app only builds the app)."""

from __future__ import annotations

import logging

from flask import Flask

from . import db
from .memory import start_releasing_memory
from .retention import start_retention
from .service import RunService

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def start(app: Flask) -> RunService:
    """Log, sweep sandboxes a crashed server left, migrate the database, start background work
    (the warm pool, giving memory back, expiring unvisited snippets)."""
    logging.basicConfig(level=app.config["LOG_LEVEL"], format=LOG_FORMAT)
    service: RunService = app.extensions["codyskool"]
    removed = service.backend.remove_leftovers()
    if removed:
        app.logger.warning("removed %d sandboxes left over from an earlier server", removed)
    engine = db.engine_of(app)
    db.upgrade(engine)
    service.backend.start_background(service.tasks)
    start_releasing_memory(service.tasks)
    start_retention(engine, app.config["SNIPPET_RETENTION_DAYS"], service.tasks)
    return service
