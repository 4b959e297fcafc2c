"""Alembic migrations, run from code: `callout db upgrade`, `callout init` and the tests.

No alembic.ini: the script location is this package and the URL comes from the caller.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

HERE = Path(__file__).parent


def config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(config(engine), revision)


def is_current(engine: Engine) -> bool:
    """Whether the database is migrated to the newest revision this code knows."""
    heads = set(ScriptDirectory.from_config(config(engine)).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads
