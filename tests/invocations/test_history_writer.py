"""The history's writer: retention by age and by count in short batches, a database that
cannot take writes, and an invoke that never waits on the history's writes."""

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import event, func, make_url, select

from callout.apis.schemas import ApiWrite, RequestWrite
from callout.db.crypto import generate_entry
from callout.db.engine import Database
from callout.db.models import Client, Invocation
from callout.invocations import history as history_module
from callout.invocations import repository
from callout.invocations.compile import compile_plan
from callout.invocations.history import PRUNE_BATCH, History
from callout.runtime.executor import Outcome
from callout.runtime.plan import PlanKey
from callout.settings import Settings
from callout.web.app import create_app
from tests.cli import free_port
from tests.conftest import LOOPBACK, _tenant
from tests.db.test_engine import QUICK, write_lock_held
from tests.factories import invoke_url
from tests.invocations.test_history import row
from tests.invocations.test_router import crm, customer
from tests.runtime.conftest import api_def, request_def
from tests.upstream import Upstream

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def new_client(database: Database, code: str) -> Client:
    with database.transaction() as session:
        client = Client(code=code, name=code.title())
        session.add(client)
    return client


def stored(database: Database, client: Client | None = None) -> list[int]:
    """The ids of the stored calls, of one client or all, oldest first."""
    with database.transaction(reads_only=True) as session:
        stmt = select(Invocation.id).order_by(Invocation.id)
        if client is not None:
            stmt = stmt.where(Invocation.client_id == client.id)
        return list(session.scalars(stmt))


def history_of(database: Database, *, keep_days: int = 30, keep_rows: int = 100_000) -> History:
    return History(database, flush_every=60, keep_days=keep_days, keep_rows=keep_rows)


@pytest.fixture
def deletes(scratch_database: Database) -> Iterator[list[int]]:
    """How many rows each DELETE the database runs removes."""
    counts: list[int] = []

    def seen(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            counts.append(cursor.rowcount)

    event.listen(scratch_database.engine, "after_cursor_execute", seen)
    yield counts
    event.remove(scratch_database.engine, "after_cursor_execute", seen)


async def test_calls_older_than_the_retention_age_go_in_short_batches(
    scratch_database: Database, deletes: list[int]
) -> None:
    acme = new_client(scratch_database, "acme")
    old = [row(acme, at=NOW - timedelta(days=30, seconds=1)) for _ in range(2 * PRUNE_BATCH + 5)]
    kept = [row(acme, at=NOW - timedelta(days=30)), row(acme, at=NOW)]
    with scratch_database.transaction() as session:
        repository.append(session, old + kept)
    newest = stored(scratch_database)[-2:]

    removed = await history_of(scratch_database, keep_days=30).prune(NOW)

    assert removed == len(old)
    assert stored(scratch_database) == newest
    assert deletes == [PRUNE_BATCH, PRUNE_BATCH, 5]  # one short transaction each


async def test_each_client_keeps_its_newest_calls_up_to_the_count(
    scratch_database: Database, deletes: list[int]
) -> None:
    acme, globex = new_client(scratch_database, "acme"), new_client(scratch_database, "globex")
    with scratch_database.transaction() as session:
        for i in range(PRUNE_BATCH + 150):  # interleaved, as two clients' calls are
            repository.append(session, [row(acme, at=NOW - timedelta(seconds=i))])
            if i < 120:
                repository.append(session, [row(globex, at=NOW)])
    acme_newest = stored(scratch_database, acme)[-120:]
    globex_all = stored(scratch_database, globex)

    removed = await history_of(scratch_database, keep_rows=120).prune(NOW)

    assert stored(scratch_database, acme) == acme_newest
    assert stored(scratch_database, globex) == globex_all  # exactly at the count: kept
    assert removed == PRUNE_BATCH + 150 - 120
    assert max(deletes) <= PRUNE_BATCH


async def test_a_database_that_cannot_take_writes_loses_only_the_oldest_past_the_cap(
    scratch_database: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = new_client(scratch_database, "acme")
    monkeypatch.setattr(history_module, "BUFFER_CAP", 10)
    down = Database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/callout")
    history = history_of(down)
    key = PlanKey(client_id=acme.id, api_id=1, request_id=1, api_version=1, request_version=1)
    plan = compile_plan(key, *_definitions())
    caplog.set_level(logging.WARNING, logger="callout.history")

    for i in range(15):
        history.record(plan, "key:x", "live", Outcome("success", f"{i:04x}"), test=False)
    await history.flush()
    for i in range(15, 18):
        history.record(plan, "key:x", "live", Outcome("timeout", f"{i:04x}"), test=False)
    await history.flush()

    assert (history.buffered, history.dropped) == (10, 8)
    warnings = [r.getMessage() for r in caplog.records]
    assert sum("cannot write" in w for w in warnings) == 1  # once per outage, not per try
    assert sum("dropping the oldest" in w for w in warnings) == 1
    down.dispose()

    history.database = scratch_database  # the database is back
    await history.flush()

    with scratch_database.transaction(reads_only=True) as session:
        ids = list(session.scalars(select(Invocation.invocation_id).order_by(Invocation.id)))
    assert ids == [f"{i:04x}" for i in range(8, 18)]  # the newest ten, in order
    assert history.buffered == 0
    assert "written up; 8 call(s) dropped" in caplog.records[-1].getMessage()


def _definitions() -> tuple[ApiWrite, RequestWrite]:
    return ApiWrite.model_validate(api_def()), RequestWrite.model_validate(request_def())


async def test_invokes_answer_while_the_history_cannot_get_the_write_lock(
    request: pytest.FixtureRequest, database: Database, upstream: Upstream, tmp_path: Any
) -> None:
    """On SQLite a writer holds the one write lock; the history waits for it in its own
    thread, and invokes go on answering meanwhile, their calls buffered."""
    if make_url(database.url).get_backend_name() != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    scratch: Database = request.getfixturevalue("scratch_database")
    settings = Settings(
        data_dir=tmp_path / "data",
        secret_keys=SecretStr(generate_entry()),
        outbound_allow=LOOPBACK,
        history_flush_seconds=0.05,
    )
    with scratch.transaction() as session:
        acme = _tenant(session, "acme")
    app = create_app(settings, database=scratch, keys=settings.key_source())
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://callout.test") as http,
    ):
        api_id, request_id = await crm(http, acme, upstream)
        upstream.answer(200, {"name": "Ann"})
        url = invoke_url(acme, api_id, request_id)
        warm = await http.post(url, json=customer(), headers=acme.editor)  # plan cached
        assert warm.status_code == 200, warm.text

        with write_lock_held(scratch):
            started = time.monotonic()
            answers = [
                await http.post(url, json=customer(), headers=acme.editor) for _ in range(20)
            ]
            elapsed = time.monotonic() - started
            written_meanwhile = len(stored(scratch))

        assert [a.status_code for a in answers] == [200] * 20
        assert elapsed < QUICK
        assert written_meanwhile <= 1  # at most the warm-up call, written before the lock
        deadline = time.monotonic() + 10
        while len(stored(scratch)) < 21 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(stored(scratch)) == 21
    with scratch.transaction(reads_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Invocation)) == 21
