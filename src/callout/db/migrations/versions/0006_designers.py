"""designers: desktop scripts, and the requests their FUNCTION CALLs call

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "designers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column(
            "pages", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "events", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_designers_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_designers_service_id_services"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designers")),
        sa.UniqueConstraint("client_id", "name_key", name=op.f("uq_designers_client_id_name_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("designers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_designers_service_id"), ["service_id"], unique=False)

    # The API and request keys take the default, NO ACTION: see `DesignerCall`.
    op.create_table(
        "designer_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("designer_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("api_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "parameters", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["api_id"], ["apis.id"], name=op.f("fk_designer_calls_api_id_apis")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_designer_calls_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["designer_id"],
            ["designers.id"],
            name=op.f("fk_designer_calls_designer_id_designers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_designer_calls_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designer_calls")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("designer_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_designer_calls_api_id"), ["api_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_designer_calls_designer_id"), ["designer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_designer_calls_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("designer_calls")
    op.drop_table("designers")
