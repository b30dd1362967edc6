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


class SnippetError(ValueError):
    """A snippet that cannot be stored; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


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


def _size(text: str, what: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise SnippetError(f"{what} is not valid UTF-8 text") from None


def validate(payload: Any, languages: Mapping[str, Any], limits: Limits) -> tuple[str, str, str]:
    """(language, code, stdin) of a request to share a program; raises SnippetError."""
    if not isinstance(payload, Mapping):
        raise SnippetError("expected a JSON object with 'language' and 'code'")
    language = payload.get("language")
    if not isinstance(language, str) or not language:
        raise SnippetError("'language' must be a language id from /api/languages")
    if language not in languages:
        raise SnippetError(f"unknown language {language[:40]!r}")
    code = payload.get("code")
    if not isinstance(code, str):
        raise SnippetError("'code' must be a string")
    if not code.strip():
        raise SnippetError("'code' is empty")
    stdin = payload.get("stdin") or ""
    if not isinstance(stdin, str):
        raise SnippetError("'stdin' must be a string")
    if _size(code, "the program") > limits.code_bytes:
        raise SnippetError(f"the program is larger than the limit of {limits.code_bytes // 1024} KiB", 413)
    if _size(stdin, "stdin") > limits.stdin_bytes:
        raise SnippetError(f"stdin is larger than the limit of {limits.stdin_bytes // 1024} KiB", 413)
    if "\0" in code or "\0" in stdin:
        raise SnippetError("the program and stdin cannot contain NUL characters")
    return language, code, stdin


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
