"""The store of shared programs stays bounded: a cap on the total (CODYSKOOL_SNIPPETS_MAX_TOTAL_MB),
visits noted at most once a day, and snippets nobody opened for CODYSKOOL_SNIPPET_RETENTION_DAYS
deleted at start-up and then periodically. In process: SQLite in tmp_path, the fake backend.
(The same on PostgreSQL: tests/test_snippets_postgres.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from conftest import wait_until
from fakes import FakeBackend
from inprocess import make_app
from sqlalchemy import Engine, select, text

from codyskool import db, retention, snippets
from codyskool.errors import Busy

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'codyskool.db'}")
    db.upgrade(engine)
    yield engine
    engine.dispose()


def visited_at(engine: Engine, snippet_id: str) -> datetime:
    with engine.connect() as connection:
        row = connection.execute(select(snippets.snippets.c.last_visited_at)
                                 .where(snippets.snippets.c.id == snippet_id)).scalar_one()  # fmt: skip
    return snippets.aware(row)


def ids(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(select(snippets.snippets.c.id)).scalars())


class StepTasks:
    """Tasks that run a spawned target at once and stop it at its n-th long sleep."""

    def __init__(self, long_sleeps: int = 1) -> None:
        self.sleeps: list[float] = []
        self.long_sleeps = long_sleeps

    def spawn(self, target: Any, *args: Any) -> None:
        try:
            target(*args)
        except StopIteration:
            pass

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds and len([s for s in self.sleeps if s]) >= self.long_sleeps:
            raise StopIteration


# ---- the total and its cap -----------------------------------------------------------------------


def test_the_total_counts_the_text_in_bytes_and_each_row(engine: Engine):
    assert snippets.stored_total(engine) == 0
    snippets.create(engine, "python", "print('é')", "ünput\n")
    snippets.create(engine, "bash", "echo 1")
    expected = (len("print('é')".encode()) + len("ünput\n".encode()) + len("echo 1")) + 2 * snippets.ROW_BYTES
    assert snippets.stored_total(engine) == expected
    assert snippets.stored_size("é", "") == 2 + snippets.ROW_BYTES


def test_a_snippet_over_the_cap_is_refused(engine: Engine):
    cap = 3 * snippets.stored_size("#" * 1000, "")
    for _ in range(3):
        snippets.create(engine, "python", "#" * 1000, max_total_bytes=cap)
    with pytest.raises(Busy, match="storage for shared programs is full"):
        snippets.create(engine, "python", "#", max_total_bytes=cap)
    assert snippets.stored_total(engine) == cap and len(ids(engine)) == 3
    snippets.create(engine, "python", "#")  # no cap: 0


def test_sharing_past_the_cap_is_a_429_with_a_message(tmp_path: Path, backend: FakeBackend):
    app = make_app(tmp_path, backend, SNIPPETS_MAX_TOTAL_MB=1)
    db.upgrade(db.engine_of(app))
    client = app.test_client()
    code = "#" * (60 << 10)
    answers = [client.post("/api/snippets", json={"language": "python", "code": code}) for _ in range(18)]
    fits = (1 << 20) // snippets.stored_size(code, "")
    assert [a.status_code for a in answers] == [201] * fits + [429] * (18 - fits)
    assert answers[-1].get_json()["error"] == (
        "the server's storage for shared programs is full (1 MiB); a link that holds the program itself "
        "still works")  # fmt: skip
    assert snippets.stored_total(db.engine_of(app)) <= 1 << 20
    # What is left still takes a small program, and reading is never refused.
    assert client.post("/api/snippets", json={"language": "python", "code": "print(1)"}).status_code == 201
    assert client.get(answers[0].headers["Location"]).status_code == 200


def test_the_total_can_be_recounted(engine: Engine):
    kept = snippets.create(engine, "python", "print(1)")
    gone = snippets.create(engine, "python", "print(2)")
    with engine.begin() as connection:  # an administrator deletes a row by hand
        connection.execute(text("DELETE FROM snippets WHERE id = :id"), {"id": gone.id})
    assert snippets.stored_total(engine) == 2 * snippets.stored_size("print(1)", "")
    assert snippets.reconcile_usage(engine) == snippets.stored_size("print(1)", "")
    assert snippets.load(engine, kept.id) is not None


# ---- visits --------------------------------------------------------------------------------------


def test_a_visit_is_written_at_most_once_a_day(engine: Engine):
    snippet = snippets.create(engine, "python", "print(1)", now=T0)
    assert visited_at(engine, snippet.id) == T0
    assert snippets.load(engine, snippet.id, now=T0 + timedelta(hours=23)).last_visited_at == T0
    assert visited_at(engine, snippet.id) == T0, "no write within a day"
    later = T0 + timedelta(hours=25)
    assert snippets.load(engine, snippet.id, now=later).last_visited_at == later
    assert visited_at(engine, snippet.id) == later
    snippets.load(engine, snippet.id, now=later + timedelta(hours=1))
    assert visited_at(engine, snippet.id) == later
    assert snippets.load(engine, snippet.id).created_at == T0  # created_at never moves


def test_every_way_of_opening_a_snippet_is_a_visit(tmp_path: Path, backend: FakeBackend):
    app = make_app(tmp_path, backend)
    engine = db.engine_of(app)
    db.upgrade(engine)
    client = app.test_client()
    for path in ["/s/{}", "/embed/{}", "/api/snippets/{}"]:
        snippet = snippets.create(engine, "python", "print(1)", now=T0)
        assert client.get(path.format(snippet.id)).status_code == 200
        assert visited_at(engine, snippet.id) > T0 + 200 * DAY, path


# ---- retention -----------------------------------------------------------------------------------


def test_only_snippets_unvisited_for_the_retention_time_are_deleted(engine: Engine):
    now = T0 + 400 * DAY
    old = snippets.create(engine, "python", "print('old')", now=T0)
    revisited = snippets.create(engine, "python", "print('revisited')", now=T0)
    snippets.load(engine, revisited.id, now=now - 10 * DAY)
    recent = snippets.create(engine, "python", "print('recent')", now=now - 300 * DAY)
    removed = retention.purge_expired(engine, 365, StepTasks(), now=now)
    assert removed == 1
    assert ids(engine) == {revisited.id, recent.id}
    assert snippets.load(engine, old.id) is None
    assert snippets.stored_total(engine) == snippets.reconcile_usage(engine)
    assert snippets.stored_total(engine) == (snippets.stored_size("print('revisited')", "")
                                             + snippets.stored_size("print('recent')", ""))  # fmt: skip


def test_a_large_purge_goes_in_batches_that_let_other_work_run(engine: Engine, monkeypatch):
    monkeypatch.setattr(snippets, "PURGE_BATCH", 3)
    for n in range(10):
        snippets.create(engine, "python", f"print({n})", now=T0)
    tasks = StepTasks()
    assert retention.purge_expired(engine, 30, tasks, now=T0 + 31 * DAY) == 10
    assert tasks.sleeps == [0, 0, 0]  # after the three full batches of 3
    assert ids(engine) == set() and snippets.stored_total(engine) == 0


def test_the_task_purges_at_once_and_then_every_interval(engine: Engine, monkeypatch):
    stale = snippets.create(engine, "python", "print(1)", now=datetime.now(UTC) - 40 * DAY)
    tasks = StepTasks(long_sleeps=2)
    passes = []
    real = retention.purge_expired
    monkeypatch.setattr(retention, "purge_expired", lambda *args: passes.append(1) or real(*args))
    retention.start_retention(engine, 30, tasks)
    assert len(passes) == 2 and tasks.sleeps == [retention.PURGE_INTERVAL_S] * 2
    assert snippets.load(engine, stale.id) is None


def test_zero_days_keeps_snippets_for_ever(engine: Engine):
    old = snippets.create(engine, "python", "print(1)", now=T0 - 3650 * DAY)
    tasks = StepTasks()
    retention.start_retention(engine, 0, tasks)
    assert tasks.sleeps == [] and ids(engine) == {old.id}


def test_start_up_starts_the_purge(tmp_path: Path, backend: FakeBackend, monkeypatch):
    from codyskool.startup import start

    monkeypatch.setattr(retention, "PURGE_INTERVAL_S", 0.05)
    app = make_app(tmp_path / "data", backend, SNIPPET_RETENTION_DAYS=30)
    engine = db.engine_of(app)
    db.upgrade(engine)
    first = snippets.create(engine, "python", "print(1)", now=datetime.now(UTC) - 31 * DAY)
    start(app)
    # (Watched without load(), which would count as a visit.)
    assert wait_until(lambda: first.id not in ids(engine), timeout=5), "purged at start-up"
    later = snippets.create(engine, "python", "print(2)", now=datetime.now(UTC) - 31 * DAY)
    assert wait_until(lambda: later.id not in ids(engine), timeout=5), "and again later"


# ---- the migration -------------------------------------------------------------------------------


def test_the_migration_gives_existing_snippets_their_created_at_and_size(tmp_path: Path):
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = db.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text(
            "INSERT INTO snippets (id, language, code, stdin, created_at) VALUES"
            " ('AAAAAAAAAAAA', 'python', 'print(\"ü\")', 'ä', '2025-01-02 03:04:05.000000'),"
            " ('BBBBBBBBBBBB', 'bash', 'echo', '', '2025-06-01 00:00:00.000000')"))  # fmt: skip
    db.upgrade(engine)
    first = snippets.load(engine, "AAAAAAAAAAAA", now=datetime(2025, 1, 2, 4, tzinfo=UTC))
    assert first.created_at == first.last_visited_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert visited_at(engine, "BBBBBBBBBBBB") == datetime(2025, 6, 1, tzinfo=UTC)
    sizes = snippets.stored_size('print("ü")', "ä") + snippets.stored_size("echo", "")
    assert snippets.stored_total(engine) == sizes == snippets.reconcile_usage(engine)
    engine.dispose()
