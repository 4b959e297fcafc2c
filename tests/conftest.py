"""Fixtures shared by the whole suite.

Storage and REST tests take `database`, which runs them once on SQLite and once on
PostgreSQL (`CALLOUT_TEST_POSTGRES`; in CI a missing server fails the run instead of
skipping). Each test runs inside one transaction that is rolled back afterwards: the app's
own session dependency runs as in production, on savepoints of that transaction.
"""

import copy
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import fastapi.dependencies.models as fastapi_models
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from callout.apis import catalog
from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.schemas import ApiKeyCreate
from callout.db import migrations
from callout.db.crypto import KeySource, generate_entry
from callout.db.engine import Database
from callout.db.models import Client
from callout.runtime.guard import Guard
from callout.runtime.http import HttpClient
from callout.settings import Settings
from callout.web.app import create_app
from tests.cli import Installation, Terminal, copy_of, init
from tests.contract import Contract
from tests.factories import add_client
from tests.redis_peer import REDIS
from tests.upstream import Upstream

# FastAPI keeps the callables of every app it builds in module-level caches of 4,096 entries
# each (fastapi.dependencies.models): with an app built per test, some 75 apps stayed alive,
# gigabytes by the end of a run, and a full garbage collection of that heap stalled the test
# process (and the Redis proxies on its loop) for seconds. Production builds one app.
FASTAPI_CACHES = [f for f in vars(fastapi_models).values() if hasattr(f, "cache_clear")]


@pytest.fixture(autouse=True)
def _forget_built_apps() -> Iterator[None]:
    yield
    for cache in FASTAPI_CACHES:
        cache.cache_clear()


def postgres_url() -> str | None:
    url = os.environ.get("CALLOUT_TEST_POSTGRES")
    if not url and os.environ.get("CI"):
        pytest.fail("CI must set CALLOUT_TEST_POSTGRES: the storage tests run on PostgreSQL too")
    return url


def new_database(kind: str, folder: Path) -> Database:
    """A fresh, migrated database with the catalogue synced: a SQLite file or a new
    PostgreSQL database beside the one CALLOUT_TEST_POSTGRES names."""
    if kind == "sqlite":
        database = Database(f"sqlite:///{folder / 'callout.db'}")
    else:
        url = postgres_url()
        if not url:
            pytest.skip("CALLOUT_TEST_POSTGRES is unset: PostgreSQL tests skipped")
        name = f"callout_test_{secrets.token_hex(4)}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        database = Database(make_url(url).set(database=name).render_as_string(False))
    migrations.upgrade(database.engine)
    with database.transaction() as session:
        catalog.sync(session)
    return database


def drop_database(database: Database) -> None:
    database.dispose()
    url = make_url(database.url)
    if url.get_backend_name() == "postgresql":
        admin = create_engine(postgres_url() or "", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One migrated database per kind for the whole run; tests roll their changes back."""
    database = new_database(request.param, tmp_path_factory.mktemp(request.param))
    yield database
    drop_database(database)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Settings for a `callout` process on an empty database of each kind (`callout
    init` migrates it)."""
    if request.param == "sqlite":
        yield {}
        return
    with empty_postgres() as url:
        yield {"CALLOUT_DATABASE_URL": url}


@contextmanager
def empty_postgres() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards; skips the test when
    CALLOUT_TEST_POSTGRES is unset."""
    url = postgres_url()
    if not url:
        pytest.skip("CALLOUT_TEST_POSTGRES is unset: PostgreSQL tests skipped")
    name = f"callout_serve_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def scratch_database(database: Database, tmp_path: Path) -> Iterator[Database]:
    """A database of the same kind that tests may commit to: for concurrency and rotation."""
    kind = make_url(database.url).get_backend_name()
    fresh = new_database(kind, tmp_path)
    yield fresh
    drop_database(fresh)


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    """A real HTTP server on loopback; see tests/upstream.py."""
    async with Upstream() as server:
        yield server


# The test peers listen on loopback, which the outbound guard refuses unless allowed.
LOOPBACK = ("127.0.0.0/8", "::1")


@pytest.fixture
async def outbound() -> AsyncIterator[HttpClient]:
    """A started outbound HTTP client for runtime tests, allowed to reach loopback peers;
    closed after the test."""
    client = HttpClient(Guard.from_entries(LOOPBACK))
    await client.start()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_keys=SecretStr(generate_entry()),
        environment="production",
        plan_ttl=0,
        outbound_allow=LOOPBACK,
        # The app's sessions share the test's one connection, which two threads must not use
        # at once: the history is written when a test calls `recorded`, never on its own.
        history_flush_seconds=60,
    )


@pytest.fixture
def keys(settings: Settings) -> KeySource:
    return settings.key_source()


@pytest.fixture
def bound_database(database: Database) -> Iterator[Database]:
    """`database` as the app sees it during one test: every session is a savepoint of one
    transaction that is rolled back when the test ends."""
    with database.engine.connect() as connection:
        transaction = connection.begin()
        bound = copy.copy(database)
        bound.sessions = bound.read_sessions = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        yield bound
        transaction.rollback()


class QueryCounter:
    """Counts the statements sent on any connection of an engine while it listens."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_: object) -> None:
        self.count += 1


@pytest.fixture
def queries(bound_database: Database) -> Iterator[QueryCounter]:
    """How many SQL statements the test's database runs."""
    counter = QueryCounter()
    engine = bound_database.engine
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
def session(bound_database: Database) -> Iterator[Session]:
    """A session inside the test's transaction, for arranging and checking stored state."""
    with bound_database.sessions() as session:
        yield session


@pytest.fixture
def app(settings: Settings, bound_database: Database, keys: KeySource) -> FastAPI:
    return create_app(settings, database=bound_database, keys=keys)


Recorded = Callable[[], Awaitable[None]]


@pytest.fixture
def recorded(app: FastAPI) -> Recorded:
    """Writes what the app's invocation history has buffered so far."""

    async def flush() -> None:
        await app.state.runtime.history.flush()

    return flush


@pytest.fixture(scope="session")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Contract]:
    """The app's OpenAPI document, which every response of `http` must follow."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("contract"), secret_keys=SecretStr(generate_entry())
    )
    database = Database("sqlite://")
    yield Contract(create_app(settings, database=database).openapi())
    database.dispose()


async def checked_client(app: FastAPI, contract: Contract) -> httpx.AsyncClient:
    """A client of the app whose every response is checked against the OpenAPI document."""

    async def check(response: httpx.Response) -> None:
        await response.aread()
        contract.check(response)

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://callout.test",
        event_hooks={"response": [check]},
    )


@pytest.fixture
async def http(app: FastAPI, contract: Contract) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app, inside the app's lifespan (which ASGITransport does not run);
    a response that breaks the OpenAPI document fails the test."""
    async with app.router.lifespan_context(app), await checked_client(app, contract) as client:
        yield client


@dataclass
class Tenant:
    client: Client
    admin: dict[str, str]
    editor: dict[str, str]
    viewer: dict[str, str]

    @property
    def code(self) -> str:
        return self.client.code

    @property
    def apis(self) -> str:
        return f"/api/v1/clients/{self.client.code}/apis"

    @property
    def designers(self) -> str:
        return f"/api/v1/clients/{self.client.code}/designers"


@dataclass
class Tenants:
    platform: dict[str, str]
    a: Tenant
    b: Tenant


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _tenant(session: Session, code: str) -> Tenant:
    client = add_client(session, code)
    keys = {
        role: bearer(
            clients.create_api_key(
                session, OPERATOR, client, ApiKeyCreate(name=f"{code}-{role}", role=role)
            ).key
        )
        for role in ("admin", "editor", "viewer")
    }
    return Tenant(client, keys["admin"], keys["editor"], keys["viewer"])


@pytest.fixture
def tenants(session: Session) -> Tenants:
    """Two clients, A (`acme`) and B (`globex`), with a key per role, and a platform key."""
    platform = clients.create_api_key(session, OPERATOR, None, ApiKeyCreate(name="platform"))
    tenants = Tenants(bearer(platform.key), _tenant(session, "acme"), _tenant(session, "globex"))
    session.commit()
    return tenants


@pytest.fixture(scope="module")
def installed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Installation:
    """One `callout init` per test module of the `callout` command, as an operator runs it."""
    return init(tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2]))


@pytest.fixture
def installation(installed: Installation, tmp_path: Path) -> Installation:
    """A private copy of the module's installation, for a test that changes it."""
    return copy_of(installed, tmp_path)


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail("CI must run Redis on 127.0.0.1:6379 (.ci/run starts it)")
        pytest.skip("no Redis on 127.0.0.1:6379: the tests of shared state skipped")
    return f"redis://{REDIS[0]}:{REDIS[1]}/0"


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    """Terminals a test opens; any still running at its end is stopped."""
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()
