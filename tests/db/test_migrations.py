"""Migrations that rewrite stored rows: each one run over rows written before it."""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from callout.db import migrations
from callout.db.engine import Database
from callout.db.models import Base

NAME_KEYS = "0004"
FULLWIDTH_ECHO = "\uff25\uff43\uff48\uff4f"  # "Echo" in fullwidth letters
FULLWIDTH_SALES = "\uff33\uff41\uff4c\uff45\uff53"


def test_migrations_build_the_schema_the_models_declare(database: Database) -> None:
    """Tables, columns, types, keys and indexes: nothing declared in db/models.py is missing
    from the migrations, nor the other way round."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_name_keys_are_recomputed_nfkc_casefolded_and_a_clash_keeps_its_old_key(
    scratch_database: Database,
) -> None:
    engine = scratch_database.engine
    config = migrations.config(engine)
    before = ScriptDirectory.from_config(config).get_revision(NAME_KEYS).down_revision
    assert isinstance(before, str)
    command.downgrade(config, before)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        client_id = connection.execute(
            sa.text(
                "INSERT INTO clients (code, name, created_at) VALUES ('acme', 'Acme', :now)"
                " RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
        # Keys as written before: stripped and casefolded only.
        for name in ("Echo", FULLWIDTH_ECHO, FULLWIDTH_SALES):
            connection.execute(
                sa.text(
                    "INSERT INTO services (client_id, name, name_key, description, created_at)"
                    " VALUES (:client, :name, :key, '', :now)"
                ),
                {"client": client_id, "name": name, "key": name.casefold(), "now": now},
            )

    command.upgrade(config, "head")

    with engine.connect() as connection:
        keys: dict[str, str] = dict(
            connection.execute(sa.text("SELECT name, name_key FROM services ORDER BY id")).all()
        )
    assert keys == {
        "Echo": "echo",
        FULLWIDTH_ECHO: FULLWIDTH_ECHO.casefold(),  # "echo" is taken: kept as it was
        FULLWIDTH_SALES: "sales",
    }
