"""Snippets: when each was last visited and what it counts against the total cap, and the total.

Existing snippets count as visited when they were created, and count their code and stdin in UTF-8
bytes plus ROW_BYTES, as codyskool/snippets.py counts new ones; snippet_usage starts at their sum.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ROW_BYTES = 128  # snippets.ROW_BYTES when this migration was written (a migration does not change)


def upgrade() -> None:
    with op.batch_alter_table("snippets") as batch:
        batch.add_column(sa.Column("last_visited_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stored_bytes", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        octets = "octet_length(code) + octet_length(stdin)"
    else:  # SQLite: the length of a BLOB is in bytes
        octets = "length(CAST(code AS BLOB)) + length(CAST(stdin AS BLOB))"
    op.execute(f"UPDATE snippets SET last_visited_at = created_at, stored_bytes = {octets} + {ROW_BYTES}")
    with op.batch_alter_table("snippets") as batch:
        batch.alter_column("last_visited_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.alter_column("stored_bytes", existing_type=sa.Integer(), nullable=False)
        batch.create_index("ix_snippets_last_visited_at", ["last_visited_at"])
    op.create_table(
        "snippet_usage",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
    )
    op.execute(
        "INSERT INTO snippet_usage (id, total_bytes) SELECT 1, COALESCE(SUM(stored_bytes), 0) FROM snippets"
    )


def downgrade() -> None:
    op.drop_table("snippet_usage")
    with op.batch_alter_table("snippets") as batch:
        batch.drop_index("ix_snippets_last_visited_at")
        batch.drop_column("stored_bytes")
        batch.drop_column("last_visited_at")
