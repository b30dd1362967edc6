"""Shared programs on PostgreSQL, the database for hosting.

Each run makes a throwaway cluster: initdb into a temporary dir (as the `postgres` user when the
tests run as root, since PostgreSQL refuses to run as root), pg_ctl start on a free loopback port,
and removal at the end. Live servers reach it through DATABASE_URL, as a host would set it.

Skipped when PostgreSQL is not installed or cannot start, unless CODYSKOOL_REQUIRE_DOCKER is set
(CI sets it, and scripts/setup-system.sh --postgres installs Debian's postgresql): then it fails.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from conftest import LiveServer, docker_required
from live import free_port

USER = "codyskool"


def unavailable(message: str) -> None:
    if docker_required():
        pytest.fail(f"PostgreSQL is required here: {message} (run scripts/setup-system.sh --postgres)")
    pytest.skip(message)


def postgres_bindir() -> Path | None:
    """The newest installed server's bin dir (Debian keeps it off PATH)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                      if p.parent.name.isdigit() else 0)  # fmt: skip
    for bindir in [*reversed(versions), *(Path(p).parent for p in [shutil.which("pg_ctl")] if p)]:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


class Cluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="codyskool-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")  # KeyError: no such user
            os.chown(self.dir, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def run(self, *command: str, timeout: float = 120) -> None:
        result = subprocess.run([*self.prefix, *command], capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            output = f"{result.stdout}\n{result.stderr}\n{self.server_log()}"
            raise RuntimeError(f"{' '.join(command)} failed:\n{output}")

    def server_log(self) -> str:
        try:
            return self.log.read_text()[-3000:]
        except OSError:
            return ""

    def start(self) -> None:
        self.run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8",
                 "--no-sync")  # fmt: skip
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -F"
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                 "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        try:
            pg_ctl = str(self.bindir / "pg_ctl")
            self.run(pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg().connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def psycopg():
    import psycopg as module

    return module


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    bindir = postgres_bindir()
    if bindir is None:
        unavailable("PostgreSQL (initdb, pg_ctl) is not installed")
    try:
        psycopg()
    except ImportError:
        unavailable("the psycopg package is not installed")
    try:
        running = Cluster(bindir)
        running.start()
    except (RuntimeError, KeyError, OSError, subprocess.TimeoutExpired) as error:
        unavailable(f"a PostgreSQL cluster could not be started: {error}")
    yield running
    running.stop()


def server_on(url: str) -> LiveServer:
    # DATABASE_URL, the name hosting platforms use, with CODYSKOOL_DATABASE_URL left empty.
    return LiveServer("local", "eventlet", {"DATABASE_URL": url, "CODYSKOOL_DATABASE_URL": ""})


@pytest.fixture(scope="module")
def pg_server(cluster: Cluster) -> Iterator[LiveServer]:
    live = server_on(cluster.create_database("snippets"))
    yield live
    live.stop()


def test_store_and_load_on_postgresql(pg_server: LiveServer, cluster: Cluster):
    code = 'print("Grüße aus PostgreSQL 🐘")\n' + "# padding\n" * 6000
    payload = {"language": "python", "code": code, "stdin": "line 1\nline 2\n"}
    created = requests.post(pg_server.url + "/api/snippets", json=payload, timeout=10)
    assert created.status_code == 201, created.text
    snippet_id = created.json()["id"]

    loaded = requests.get(f"{pg_server.url}/api/snippets/{snippet_id}", timeout=10)
    assert loaded.status_code == 200
    body = loaded.json()
    assert (body["language"], body["code"], body["stdin"]) == ("python", code, "line 1\nline 2\n")
    assert body["created_at"].endswith("+00:00")
    assert requests.get(f"{pg_server.url}/s/{snippet_id}", timeout=10).status_code == 200
    assert requests.get(f"{pg_server.url}/api/snippets/AAAAAAAAAAAA", timeout=10).status_code == 404

    # The rows are in PostgreSQL, in the schema Alembic made.
    from test_snippets import latest_revision

    with psycopg().connect(cluster.url("snippets")) as connection:
        versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        assert versions == [(latest_revision(),)]
        query = "SELECT language, length(code) FROM snippets WHERE id = %s"
        row = connection.execute(query, (snippet_id,)).fetchone()
        assert row == ("python", len(code))
        columns = {name for (name,) in connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'snippets'")}  # fmt: skip
    assert columns == {"id", "language", "code", "stdin", "created_at", "last_visited_at", "stored_bytes"}


def test_limits_on_postgresql(pg_server: LiveServer):
    over = requests.post(pg_server.url + "/api/snippets", timeout=10,
                         json={"language": "python", "code": "#" * ((64 << 10) + 1)})  # fmt: skip
    assert over.status_code == 413


def test_servers_starting_together_migrate_once(cluster: Cluster):
    url = cluster.create_database("race")
    with ThreadPoolExecutor(2) as pool:
        starts = [pool.submit(server_on, url) for _ in range(2)]
    servers = [start.result() for start in starts if start.exception() is None]
    try:
        for start in starts:
            start.result()  # raises the error of a server that did not start
        created = requests.post(servers[0].url + "/api/snippets", timeout=10,
                                json={"language": "bash", "code": "echo shared\n"}).json()  # fmt: skip
        loaded = requests.get(f"{servers[1].url}/api/snippets/{created['id']}", timeout=10)
        assert loaded.json()["code"] == "echo shared\n"
    finally:
        for server in servers:
            server.stop()


def test_the_store_bounds_on_postgresql(cluster: Cluster):
    """The migration of existing rows (octet_length), the total cap, visits, the purge and the
    recount, on PostgreSQL (on SQLite: tests/test_snippet_storage.py)."""
    from datetime import UTC, datetime, timedelta

    from alembic import command
    from sqlalchemy import text

    from codyskool import db, snippets
    from codyskool.errors import Busy

    engine = db.create_db_engine(db.database_url({"DATABASE_URL": cluster.create_database("store")}, {}))
    try:
        config = db.alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
            connection.execute(text(
                "INSERT INTO snippets (id, language, code, stdin, created_at) VALUES"
                " ('AAAAAAAAAAAA', 'python', 'print(\"ü\")', 'ä', now() - interval '2 years')"))  # fmt: skip
        db.upgrade(engine)
        old = snippets.load(engine, "AAAAAAAAAAAA", now=datetime(2000, 1, 1, tzinfo=UTC))  # no visit
        assert old.last_visited_at == old.created_at
        assert snippets.stored_total(engine) == snippets.stored_size('print("ü")', "ä")

        cap = snippets.stored_total(engine) + snippets.stored_size("x" * 100, "")
        kept = snippets.create(engine, "python", "x" * 100, max_total_bytes=cap)
        with pytest.raises(Busy):
            snippets.create(engine, "python", "y", max_total_bytes=cap)

        now = datetime.now(UTC)
        assert snippets.purge_unvisited(engine, now - timedelta(days=365)) == 1
        assert snippets.load(engine, "AAAAAAAAAAAA") is None
        later = now + timedelta(days=2)
        assert snippets.load(engine, kept.id, now=later).last_visited_at == later
        assert snippets.stored_total(engine) == snippets.stored_size("x" * 100, "")
        assert snippets.reconcile_usage(engine) == snippets.stored_size("x" * 100, "")
    finally:
        engine.dispose()
