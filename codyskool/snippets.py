"""Shared programs: validation, unguessable ids, and storage. Snippets never change once stored.

Nothing here knows about Flask: the share blueprint passes the engine, the languages and the limits.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, Text, insert, select
from sqlalchemy.exc import IntegrityError

from .config import Limits
from .errors import BadRequest
from .languages import Language
from .programs import Program, read_program

# 9 random bytes = 72 bits, written as 12 URL-safe base64 characters ([A-Za-z0-9_-]).
ID_BYTES = 9
ID_LENGTH = 12
ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{{ID_LENGTH}}}")
INSERT_ATTEMPTS = 5

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
)


@dataclass(frozen=True)
class Snippet:
    id: str
    language: str
    code: str
    stdin: str
    created_at: datetime

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


def create(engine: Engine, language: str, code: str, stdin: str = "") -> Snippet:
    """Stores a new snippet under a fresh random id (a new id on the rare collision)."""
    created_at = datetime.now(UTC)
    for _ in range(INSERT_ATTEMPTS):
        snippet = Snippet(new_id(), language, code, stdin, created_at)
        try:
            with engine.begin() as connection:
                connection.execute(
                    insert(snippets).values(
                        id=snippet.id, language=language, code=code, stdin=stdin, created_at=created_at
                    )
                )
        except IntegrityError:
            continue
        return snippet
    raise RuntimeError("could not find a free snippet id")


def load(engine: Engine, snippet_id: str) -> Snippet | None:
    if not valid_id(snippet_id):
        return None
    with engine.connect() as connection:
        row = connection.execute(select(snippets).where(snippets.c.id == snippet_id)).first()
    if row is None:
        return None
    created_at = row.created_at
    if created_at.tzinfo is None:  # SQLite keeps no time zone: the value was written in UTC
        created_at = created_at.replace(tzinfo=UTC)
    return Snippet(row.id, row.language, row.code, row.stdin, created_at)
