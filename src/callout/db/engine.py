"""Engines and sessions for the embedded SQLite default and for PostgreSQL.

Sessions are synchronous: SQLite's driver is synchronous (aiosqlite only moves it onto a
thread), and one code path then serves FastAPI's threadpool, the CLI and the tests alike.
The runtime's hot path reads no database, so nothing async waits on these.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from callout.errors import Conflict, PreconditionFailed
from callout.settings import Settings


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by the "begin" event
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Begin explicitly (pysqlite would let SELECTs run outside any transaction).

    A unit of work that may write takes SQLite's write lock as it begins (BEGIN IMMEDIATE):
    two of them queue instead of one failing half-way when it first writes. A unit of work
    that only reads begins deferred, so reads run side by side (WAL) and never wait on a write.
    """
    reads_only = connection.get_execution_options().get(READS_ONLY, False)
    connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


READS_ONLY = "callout_reads_only"


class Database:
    """One engine and its session factories: for units of work that write, and that read."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(**{READS_ONLY: True}), expire_on_commit=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        return cls(settings.resolved_database_url)

    @contextmanager
    def transaction(self, *, reads_only: bool = False) -> Iterator[Session]:
        """A unit of work: commits when the block ends, rolls back when it raises."""
        sessions = self.read_sessions if reads_only else self.sessions
        with sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def flush(session: Session, taken: Conflict | None = None, stale: str = "") -> None:
    """Flush, turning a lost race into the errors the checks before it would have given:
    a name taken meanwhile (`taken`), a row changed or deleted meanwhile (`stale` names it)."""
    try:
        session.flush()
    except IntegrityError as error:
        if taken is not None and "unique" in str(error.orig).lower():
            raise taken from None
        raise Conflict(
            "something this change refers to was changed or deleted meanwhile; reload and try again"
        ) from None
    except StaleDataError:
        raise PreconditionFailed(
            f"{stale} was changed or deleted by another writer just now; reload it"
        ) from None
