"""Shared programs: validation, unguessable ids, and storage. Snippets never change once stored.

The store is bounded twice (docs/embed.md, "How long shared programs are kept"): all snippets
together may count at most CODYSKOOL_SNIPPETS_MAX_TOTAL_MB (``create`` refuses more), and a
snippet nobody has opened for CODYSKOOL_SNIPPET_RETENTION_DAYS is deleted (``purge_unvisited``,
run by codyskool/retention.py). Opening one (``load``) notes the visit, at most once a day.

The total is one row, ``snippet_usage``, changed in the same transaction as every insert and
delete, so checking the cap reads no snippet; ``reconcile_usage`` recounts it from the rows.

Nothing here knows about Flask: the share blueprint passes the engine, the languages and the limits.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from .config import Limits
from .errors import BadRequest, Busy
from .languages import Language
from .programs import Program, read_program

# 9 random bytes = 72 bits, written as 12 URL-safe base64 characters ([A-Za-z0-9_-]).
ID_BYTES = 9
ID_LENGTH = 12
ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{{ID_LENGTH}}}")
INSERT_ATTEMPTS = 5
# What a snippet counts against the total beyond its text: its id, language, times and index
# entries, so that a flood of tiny snippets is bounded too.
ROW_BYTES = 128
VISIT_RESOLUTION = timedelta(days=1)  # a visit is written at most this often per snippet
PURGE_BATCH = 200  # snippets deleted per transaction
USAGE_ROW = 1
FULL_WARNING_INTERVAL_S = 3600.0

log = logging.getLogger(__name__)
_full_warned_at: float | None = None

metadata = MetaData()

# The schema is made by migrations/ (Alembic); this describes it for queries and autogenerate.
snippets = Table(
    "snippets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("language", String(32), nullable=False),
    Column("code", Text(), nullable=False),
    Column("stdin", Text(), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_visited_at", DateTime(timezone=True), nullable=False),
    Column("stored_bytes", Integer(), nullable=False),  # what it counts against the total
    Index("ix_snippets_last_visited_at", "last_visited_at"),
)

# One row (id USAGE_ROW): the stored_bytes of all snippets.
usage = Table(
    "snippet_usage",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("total_bytes", BigInteger(), nullable=False),
)


@dataclass(frozen=True)
class Snippet:
    id: str
    language: str
    code: str
    stdin: str
    created_at: datetime
    last_visited_at: datetime

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "code": self.code,
            "stdin": self.stdin,
            "created_at": self.created_at.isoformat(),
        }


def new_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def valid_id(snippet_id: str) -> bool:
    return ID_PATTERN.fullmatch(snippet_id) is not None


def validate(payload: Any, languages: Mapping[str, Language], limits: Limits) -> Program:
    """The program a request to share names; raises BadRequest (TooLarge over a size limit)."""
    program = read_program(payload, languages, limits, request="share")
    if not program.code.strip():
        raise BadRequest("the program is empty: there is nothing to share")
    if "\0" in program.code or "\0" in program.stdin:  # PostgreSQL's text cannot hold them
        raise BadRequest("the program and stdin cannot contain NUL characters")
    return program


def stored_size(code: str, stdin: str) -> int:
    """What a snippet counts against CODYSKOOL_SNIPPETS_MAX_TOTAL_MB."""
    return len(code.encode()) + len(stdin.encode()) + ROW_BYTES


def store_full_message(max_total_bytes: int) -> str:
    return (f"the server's storage for shared programs is full ({max_total_bytes >> 20} MiB); "
            "a link that holds the program itself still works")  # fmt: skip


def create(engine: Engine, language: str, code: str, stdin: str = "", *, max_total_bytes: int = 0,
           now: datetime | None = None) -> Snippet:  # fmt: skip
    """Stores a new snippet under a fresh random id (a new id on the rare collision). Raises Busy
    when all snippets with this one would count more than max_total_bytes (0: no cap)."""
    created_at = now or datetime.now(UTC)
    size = stored_size(code, stdin)
    for _ in range(INSERT_ATTEMPTS):
        snippet = Snippet(new_id(), language, code, stdin, created_at, created_at)
        try:
            with engine.begin() as connection:
                if not _reserve(connection, size, max_total_bytes):
                    _warn_full(max_total_bytes)
                    raise Busy(store_full_message(max_total_bytes))
                connection.execute(
                    insert(snippets).values(
                        id=snippet.id, language=language, code=code, stdin=stdin, created_at=created_at,
                        last_visited_at=created_at, stored_bytes=size,
                    )
                )  # fmt: skip
        except IntegrityError:  # the reservation is rolled back with the insert
            continue
        return snippet
    raise RuntimeError("could not find a free snippet id")


def _reserve(connection: Connection, size: int, max_total_bytes: int) -> bool:
    """Adds size to the total if it stays within max_total_bytes: one statement, so that two
    servers sharing the database cannot both take the last room."""
    total = usage.c.total_bytes
    statement = update(usage).where(usage.c.id == USAGE_ROW).values(total_bytes=total + size)
    if max_total_bytes:
        statement = statement.where(total + size <= max_total_bytes)
    return connection.execute(statement).rowcount == 1


def _warn_full(max_total_bytes: int) -> None:
    global _full_warned_at
    now = time.monotonic()
    if _full_warned_at is None or now - _full_warned_at >= FULL_WARNING_INTERVAL_S:
        _full_warned_at = now
        log.warning("shared programs fill CODYSKOOL_SNIPPETS_MAX_TOTAL_MB (%d MiB): new shares are refused "
                    "until unvisited ones expire or the cap is raised", max_total_bytes >> 20)  # fmt: skip


def aware(moment: datetime) -> datetime:
    """SQLite keeps no time zone: the value was written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def load(engine: Engine, snippet_id: str, now: datetime | None = None) -> Snippet | None:
    """The snippet, its visit noted (written only when the last one is a day old or more)."""
    if not valid_id(snippet_id):
        return None
    with engine.connect() as connection:
        row = connection.execute(select(snippets).where(snippets.c.id == snippet_id)).first()
    if row is None:
        return None
    snippet = Snippet(row.id, row.language, row.code, row.stdin, aware(row.created_at),
                      aware(row.last_visited_at))  # fmt: skip
    now = now or datetime.now(UTC)
    if snippet.last_visited_at <= now - VISIT_RESOLUTION:
        with engine.begin() as connection:
            connection.execute(
                update(snippets)
                .where(snippets.c.id == snippet_id, snippets.c.last_visited_at <= now - VISIT_RESOLUTION)
                .values(last_visited_at=now)
            )
        snippet = replace(snippet, last_visited_at=now)
    return snippet


def purge_unvisited(engine: Engine, before: datetime, batch: int = PURGE_BATCH) -> int:
    """Deletes up to `batch` snippets last visited before `before`, taking them off the total in
    the same transaction; returns how many. One DELETE statement: a snippet visited meanwhile, or
    deleted by another server, is left alone and not counted twice."""
    unvisited = snippets.c.last_visited_at < before
    doomed = select(snippets.c.id).where(unvisited).limit(batch)
    with engine.begin() as connection:
        freed = connection.execute(
            delete(snippets).where(snippets.c.id.in_(doomed), unvisited).returning(snippets.c.stored_bytes)
        ).scalars().all()  # fmt: skip
        if freed:
            left = usage.c.total_bytes - sum(freed)
            connection.execute(update(usage).where(usage.c.id == USAGE_ROW).values(total_bytes=left))
    return len(freed)


def stored_total(engine: Engine) -> int:
    """What all snippets count against the cap, as the usage row says."""
    with engine.connect() as connection:
        return connection.execute(select(usage.c.total_bytes).where(usage.c.id == USAGE_ROW)).scalar_one()


def reconcile_usage(engine: Engine) -> int:
    """Recounts the total from the snippets themselves (after rows were deleted by hand, say);
    returns it."""
    with engine.begin() as connection:
        if connection.dialect.name != "sqlite":
            # Every insert and delete takes this row first: holding it, the sum below (a statement
            # of its own, so a fresh snapshot) sees all that committed and nothing half-done.
            connection.execute(select(usage.c.id).where(usage.c.id == USAGE_ROW).with_for_update())
        total = select(func.coalesce(func.sum(snippets.c.stored_bytes), 0)).scalar_subquery()
        connection.execute(update(usage).where(usage.c.id == USAGE_ROW).values(total_bytes=total))
    return stored_total(engine)
