"""invocation history: every invoke and test, kept in the database

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("invocation_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("api_id", sa.Integer(), nullable=False),
        sa.Column("api_name", sa.String(length=100), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("request_name", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("trace", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_invocations_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invocations")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.create_index("ix_invocations_client_id", ["client_id", "id"], unique=False)
        batch_op.create_index(
            "ix_invocations_client_api_at", ["client_id", "api_id", "at"], unique=False
        )
        batch_op.create_index("ix_invocations_at", ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invocations_invocation_id"), ["invocation_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("invocations")
