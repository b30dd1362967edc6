"""The database: one SQLAlchemy engine per app, its schema kept by Alembic (``migrations/``).

``init_app`` brings the schema to the newest revision when the server starts, so a new SQLite file
(the default, under DATA_DIR) or an empty PostgreSQL database needs no extra command. Tables are
only ever created or changed by migrations.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from .config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
SQLITE_FILE = "codyskool.db"
SQLITE_BUSY_TIMEOUT_S = 15
# Any number that no other program takes on the same PostgreSQL server: two servers starting at
# once wait for each other instead of both creating the tables.
MIGRATION_LOCK_ID = 0x636F6479


def database_url(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> str:
    """CODYSKOOL_DATABASE_URL, else DATABASE_URL (the name hosts set), else SQLite in DATA_DIR."""
    environ = os.environ if environ is None else environ
    url = config.get("DATABASE_URL") or environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{Path(config['DATA_DIR']).resolve() / SQLITE_FILE}"
    # Hosts hand out postgres:// and postgresql:// URLs; the driver we install is psycopg 3.
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


def create_db_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a writer
    cursor.close()


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration the database does not have yet (`alembic upgrade head`); an SQLite
    database's folder is made first."""
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def init_app(app: Flask) -> None:
    """The engine only: nothing is connected to until start-up migrates (``upgrade``) or a request
    asks."""
    app.extensions["codyskool.db"] = create_db_engine(database_url(app.config))


def engine_of(app: Flask) -> Engine:
    return app.extensions["codyskool.db"]


def get_engine() -> Engine:
    return engine_of(current_app)
