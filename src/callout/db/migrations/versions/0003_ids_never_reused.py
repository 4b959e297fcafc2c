"""ids never reused: SQLite tables declared AUTOINCREMENT

A deleted row's id must never name a new row: ids reach compiled plans, token caches, URLs
and the audit trail. PostgreSQL's sequences never go back, so only SQLite changes: each table
is rebuilt with AUTOINCREMENT, its rows (and their ids) copied as they are. Ids deleted before
this migration are known only to the audit trail, so each audited table's counter starts past
the highest id the trail names too.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("clients", "services", "api_keys", "apis", "requests", "secrets", "audit_events")
AUDITED = {"services": "service", "api_keys": "api_key", "apis": "api", "requests": "request"}


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    for table, object_type in AUDITED.items():
        # sqlite_sequence has a row for a table once a row was inserted (the copy above).
        op.execute(
            f"INSERT INTO sqlite_sequence (name, seq) SELECT '{table}', 0 "  # noqa: S608
            f"WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = '{table}')"
        )
        op.execute(
            f"UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(object_id), 0) "  # noqa: S608
            f"FROM audit_events WHERE object_type = '{object_type}')) WHERE name = '{table}'"
        )


def downgrade() -> None:
    """Nothing to undo: the schema before this revision works the same on AUTOINCREMENT tables."""
