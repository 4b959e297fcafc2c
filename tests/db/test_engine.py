"""SQLite's one write lock: a unit of work that may write queues for it (BEGIN IMMEDIATE),
one that only reads begins deferred and reads the last commit beside the writer (WAL)."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import make_url, select, text

from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.schemas import ApiKeyCreate
from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.db.models import Client
from callout.settings import Settings
from callout.web.app import create_app
from tests.conftest import bearer
from tests.factories import add_client

QUICK = 2.0  # seconds: far under the 30 s busy timeout a waiting unit of work would use


@pytest.fixture
def sqlite_database(request: pytest.FixtureRequest, database: Database) -> Database:
    """A scratch SQLite database; PostgreSQL locks rows, not the whole database."""
    if make_url(database.url).get_backend_name() != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    scratch: Database = request.getfixturevalue("scratch_database")
    return scratch


@contextmanager
def write_lock_held(database: Database) -> Iterator[None]:
    """A unit of work that has written and stays open, in another thread and connection."""
    held, release, failed = threading.Event(), threading.Event(), list[BaseException]()

    def hold() -> None:
        try:
            with database.transaction() as session:
                session.add(Client(code="holder", name="Holder"))
                session.flush()
                held.set()
                release.wait(timeout=60)
        except BaseException as error:  # reported by the test, not lost in the thread
            failed.append(error)
            held.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(timeout=10)
        assert not failed, failed
        yield
    finally:
        release.set()
        thread.join(timeout=60)
    assert not failed, failed


def test_a_unit_of_work_that_only_reads_does_not_wait_on_a_held_write_lock(
    sqlite_database: Database,
) -> None:
    with sqlite_database.transaction() as session:
        session.add(Client(code="acme", name="Acme"))

    with write_lock_held(sqlite_database):
        started = time.monotonic()
        with sqlite_database.transaction(reads_only=True) as session:
            codes = session.scalars(select(Client.code).order_by(Client.code)).all()
        elapsed = time.monotonic() - started

    assert elapsed < QUICK
    assert codes == ["acme"]  # the last commit: the writer's row is not committed yet


def test_a_second_writer_waits_for_the_held_write_lock(sqlite_database: Database) -> None:
    """The control for the case above: the lock is really held, and a writer queues for it."""
    done = threading.Event()

    def write() -> None:
        with sqlite_database.transaction() as session:
            session.execute(text("SELECT 1"))
        done.set()

    second = threading.Thread(target=write)
    with write_lock_held(sqlite_database):
        second.start()
        assert not done.wait(timeout=0.5)
    assert done.wait(timeout=10)
    second.join(timeout=10)


async def test_a_get_answers_while_a_write_transaction_is_held_open(
    sqlite_database: Database, settings: Settings, keys: KeySource
) -> None:
    with sqlite_database.transaction() as session:
        client = add_client(session, "acme")
        viewer = clients.create_api_key(
            session, OPERATOR, client, ApiKeyCreate(name="viewer", role="viewer")
        ).key
    app = create_app(settings, database=sqlite_database, keys=keys)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://callout.test") as http:
        with write_lock_held(sqlite_database):
            started = time.monotonic()
            response = await http.get("/api/v1/clients/acme/apis", headers=bearer(viewer))
            elapsed = time.monotonic() - started

    assert response.status_code == 200, response.text
    assert elapsed < QUICK
