"""Alembic's entry point. The server runs it at start-up through codyskool.db.upgrade, with an
open connection; `alembic upgrade head` or `alembic revision --autogenerate -m "..."` from the
repository root use the URL the server would use (CODYSKOOL_DATABASE_URL, DATABASE_URL, or the
SQLite file under CODYSKOOL_DATA_DIR)."""

from __future__ import annotations

from alembic import context

from codyskool.snippets import metadata

target_metadata = metadata


def run_with(connection) -> None:  # noqa: ANN001 - a SQLAlchemy Connection
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    from codyskool.config import load_config
    from codyskool.db import create_db_engine, database_url

    url = context.config.get_main_option("sqlalchemy.url") or database_url(load_config())
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            run_with(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations()
