"""name keys NFKC-casefolded: names differing only by compatibility forms are one name

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Recomputes `name_key` of services, APIs and requests. A row whose new key is taken in its
scope (two names that were distinct before, "Echo" and its fullwidth spelling) or would not
fit the column keeps its old key: both rows stay reachable, and no new name can join them.
"""

import unicodedata
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_KEY = 100
# (table, the column a name is unique within)
SCOPES = (("services", "client_id"), ("apis", "client_id"), ("requests", "api_id"))


def _key(name: str) -> str:
    """`callout.schemas.name_key` as of this revision (a migration keeps its own copy)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).strip()


def _old_key(name: str) -> str:
    return name.strip().casefold()


def upgrade() -> None:
    _rekey(_key)


def downgrade() -> None:
    _rekey(_old_key)


def _rekey(key_of: Callable[[str], str]) -> None:
    connection = op.get_bind()
    for table_name, scope_name in SCOPES:
        table = sa.table(
            table_name,
            sa.column("id", sa.Integer),
            sa.column(scope_name, sa.Integer),
            sa.column("name", sa.String),
            sa.column("name_key", sa.String),
        )
        scope = table.c[scope_name]
        rows = connection.execute(
            sa.select(table.c.id, scope, table.c.name, table.c.name_key).order_by(table.c.id)
        ).all()
        taken = {(row[1], row.name_key) for row in rows}
        for row in rows:
            key = key_of(row.name)
            if key == row.name_key or (row[1], key) in taken or len(key) > MAX_KEY:
                continue
            connection.execute(sa.update(table).where(table.c.id == row.id).values(name_key=key))
            taken.discard((row[1], row.name_key))
            taken.add((row[1], key))
