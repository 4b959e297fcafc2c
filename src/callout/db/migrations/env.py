"""Alembic environment: migrate the engine the caller handed over in `config.attributes`.

On SQLite a migration may rebuild a table (batch mode: copy, drop, rename). Dropping a table
that others reference would run their ON DELETE CASCADE, so foreign keys are off while the
migrations run (SQLite ignores the pragma inside a transaction, hence before it begins) and
checked whole before the transaction commits.
"""

from alembic import context
from sqlalchemy import Connection

from callout.db.models import Base

engine = context.config.attributes["engine"]


def _foreign_keys(connection: Connection, on: bool) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _foreign_keys(connection, on=False)
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            context.run_migrations()
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise RuntimeError("a migration left rows whose foreign keys point nowhere")
    finally:
        if sqlite:
            _foreign_keys(connection, on=True)
