"""How long shared programs are kept: a background task that deletes snippets nobody has opened
for CODYSKOOL_SNIPPET_RETENTION_DAYS, at start-up and then every PURGE_INTERVAL_S.

It deletes in small batches (snippets.PURGE_BATCH) and lets other work run between them, so a
large purge never holds up the server's other clients. A database that cannot be reached is
logged and tried again at the next interval.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from . import snippets
from .concurrency import Tasks

log = logging.getLogger(__name__)

PURGE_INTERVAL_S = 3600.0


def purge_expired(engine: Engine, retention_days: int, tasks: Tasks, now: datetime | None = None) -> int:
    """Deletes every snippet last visited more than retention_days ago; returns how many."""
    before = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    removed = 0
    while True:
        batch = snippets.purge_unvisited(engine, before, snippets.PURGE_BATCH)
        removed += batch
        if batch < snippets.PURGE_BATCH:
            return removed
        tasks.sleep(0)  # the hub's other work between batches


def start_retention(engine: Engine, retention_days: int, tasks: Tasks) -> None:
    """Recount the stored total once, then purge now and every PURGE_INTERVAL_S (unless 0 days:
    snippets are kept for ever)."""

    def keep() -> None:
        try:
            snippets.reconcile_usage(engine)
        except SQLAlchemyError:
            log.exception("could not recount the size of the shared programs")
        while retention_days:
            try:
                removed = purge_expired(engine, retention_days, tasks)
                if removed:
                    log.info("deleted %d shared programs not opened for %d days", removed, retention_days)
            except SQLAlchemyError:
                log.exception("could not delete expired shared programs; trying again later")
            tasks.sleep(PURGE_INTERVAL_S)

    tasks.spawn(keep)
