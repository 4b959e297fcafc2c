"""Engines and sessions for the embedded SQLite default and for PostgreSQL.

Sessions are synchronous: SQLite's driver is synchronous (aiosqlite only moves it onto a
thread), and one code path then serves FastAPI's threadpool, the CLI and the tests alike.
The runtime's hot path reads no database, so nothing async waits on these.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from callout.db.models import Api, ApiKey, Client, Request, Secret
from callout.errors import Conflict, PreconditionFailed
from callout.settings import Settings

# Units of work the server admits at once (db/admission.py): lookups, reads, and writes
# (SQLite has one writer). The pool holds them all, plus a few for work outside a request
# (credential saves, the OAuth callback), so an admitted unit of work never waits for one.
LOOKUP_SLOTS = 8
READ_SLOTS = 16
WRITE_SLOTS = {"sqlite": 1, "postgresql": 8}
SPARE_CONNECTIONS = 4


def make_engine(url: str, pool_size: int) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
        in_memory = path in ("", ":memory:")  # one connection, no pool to size
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        pool = {} if in_memory else {"pool_size": pool_size, "max_overflow": SPARE_CONNECTIONS}
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **pool
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=SPARE_CONNECTIONS
    )


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


@dataclass(frozen=True)
class Changes:
    """What one committed unit of work wrote, for whoever keeps something built from it."""

    apis: frozenset[int] = frozenset()  # an API, one of its requests or its secrets
    keys: frozenset[str] = frozenset()  # API keys (their digests): created, revoked, renamed
    clients: frozenset[int] = frozenset()


Listener = Callable[[Changes], None]
CHANGES = "callout_changes"


class Database:
    """One engine and its session factories: for units of work that write, and that read.

    Whoever keeps something built from stored rows (compiled plans, resolved keys) subscribes
    with `on_commit` and hears, after each commit in this process, what it touched.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        self.lookup_slots = LOOKUP_SLOTS
        self.read_slots = READ_SLOTS
        self.write_slots = WRITE_SLOTS[dialect]
        self.engine = make_engine(
            url, pool_size=self.lookup_slots + self.read_slots + self.write_slots
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(**{READS_ONLY: True}), expire_on_commit=False
        )
        self._listeners: list[Listener] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        return cls(settings.resolved_database_url)

    def session(self, *, reads_only: bool = False) -> Session:
        """A session for a unit of work the caller commits or rolls back and closes."""
        return (self.read_sessions if reads_only else self.sessions)()

    @contextmanager
    def transaction(self, *, reads_only: bool = False) -> Iterator[Session]:
        """A unit of work: commits when the block ends, rolls back when it raises."""
        with self.session(reads_only=reads_only) as session:
            with session.begin():
                yield session
            self.committed(session)

    def __copy__(self) -> "Database":
        """The same storage as another process sees it: no listeners of its own yet."""
        copied = object.__new__(Database)
        copied.__dict__.update(self.__dict__)
        copied._listeners = []
        return copied

    def on_commit(self, listener: Listener) -> Callable[[], None]:
        """Hear what each commit changed; returns the call that stops listening."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def committed(self, session: Session) -> None:
        """Tell the listeners what the session's committed unit of work changed."""
        noted: dict[str, set[Any]] | None = session.info.pop(CHANGES, None)
        if noted:
            changes = Changes(**{kind: frozenset(found) for kind, found in noted.items()})
            for listener in list(self._listeners):
                listener(changes)

    def dispose(self) -> None:
        self.engine.dispose()


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _flush: UOWTransaction) -> None:
    """Remember what this flush wrote (a request or a secret is part of its API)."""
    noted: dict[str, set[Any]] = session.info.setdefault(CHANGES, {})
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Api):
            noted.setdefault("apis", set()).add(row.id)
        elif isinstance(row, Request | Secret):
            noted.setdefault("apis", set()).add(row.api_id)
        elif isinstance(row, ApiKey):
            noted.setdefault("keys", set()).add(row.digest)
        elif isinstance(row, Client):
            noted.setdefault("clients", set()).add(row.id)


def flush(
    session: Session, taken: Conflict | None = None, stale: str = "", used: Conflict | None = None
) -> None:
    """Flush, turning a lost race into the errors the checks before it would have given:
    a name taken meanwhile (`taken`), a row changed or deleted meanwhile (`stale` names it),
    a row put to use meanwhile by one whose foreign key now refuses the delete (`used`)."""
    try:
        session.flush()
    except IntegrityError as error:
        broken = str(error.orig).lower()
        if taken is not None and "unique" in broken:
            raise taken from None
        if used is not None and "foreign key" in broken:
            raise used from None
        raise Conflict(
            "something this change refers to was changed or deleted meanwhile; reload and try again"
        ) from None
    except StaleDataError:
        raise PreconditionFailed(
            f"{stale} was changed or deleted by another writer just now; reload it"
        ) from None
