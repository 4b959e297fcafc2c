"""Queries for the invocation history: one client's calls through `readable()`, and the
writes and retention that span every client, through `every_clients_calls()` (the history's
own upkeep, never a route's)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from psycopg import Connection, sql
from psycopg.types.json import Jsonb
from sqlalchemy import CursorResult, Select, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from callout.clients.repository import ClientRepository
from callout.db.models import Client, Invocation
from callout.db.paging import page

# Percentiles by nearest rank: the p-th is the value at rank ceil(p * n / 100) of the n calls
# sorted by duration, i.e. a duration that really happened. ceil is written as integer
# division, (p * n + 99) // 100, which SQLite and PostgreSQL both do on integers (SQLite has
# no ceil() unless built with its math functions). E.g. n = 7: p50 is rank 4, p95 and p99
# rank 7, the slowest. One query serves both databases, where PostgreSQL's percentile_cont
# would interpolate between calls and SQLite has no counterpart.
PERCENTILES = (50, 95, 99)


@dataclass(frozen=True, kw_only=True)
class InvocationFilter:
    """Which calls a page lists: `since` inclusive, `until` exclusive."""

    api_id: int | None = None
    request_id: int | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Figures:
    """One request's calls (or the API's, with `request_id` None) in a window."""

    request_id: int | None
    request_name: str | None
    outcomes: dict[str, int]
    reasons: dict[str, int]
    percentiles: dict[int, float]


class InvocationRepository:
    def __init__(self, session: Session, client: Client) -> None:
        self.session = session
        self.client = client

    def readable(self) -> Select[Invocation]:
        return select(Invocation).where(Invocation.client_id == self.client.id)

    def page(
        self, where: InvocationFilter, limit: int, offset: int
    ) -> tuple[Sequence[Invocation], int]:
        """Newest first, as recorded (the (client_id, id) index's order)."""
        stmt = self.readable()
        if where.api_id is not None:
            stmt = stmt.where(Invocation.api_id == where.api_id)
        if where.request_id is not None:
            stmt = stmt.where(Invocation.request_id == where.request_id)
        if where.outcome is not None:
            stmt = stmt.where(Invocation.outcome == where.outcome)
        if where.since is not None:
            stmt = stmt.where(Invocation.at >= where.since)
        if where.until is not None:
            stmt = stmt.where(Invocation.at < where.until)
        return page(self.session, stmt, [Invocation.id.desc()], limit, offset)

    def find(self, invocation_id: str) -> Invocation | None:
        stmt = self.readable().where(Invocation.invocation_id == invocation_id).limit(1)
        return self.session.scalar(stmt)

    def figures(self, api_id: int, since: datetime) -> tuple[list[Figures], Figures]:
        """The API's invokes since `since`: per request, in total, and each request's name
        as of its latest call."""
        calls = self.readable().where(
            Invocation.api_id == api_id, Invocation.mode == "invoke", Invocation.at >= since
        )
        counted = self.session.execute(
            calls.with_only_columns(
                Invocation.request_id, Invocation.outcome, Invocation.reason, func.count()
            ).group_by(Invocation.request_id, Invocation.outcome, Invocation.reason)
        ).all()
        per_request = _percentiles(self.session, calls, by_request=True)
        overall = _percentiles(self.session, calls, by_request=False)
        latest = calls.with_only_columns(func.max(Invocation.id)).group_by(Invocation.request_id)
        named = (
            self.readable()
            .where(Invocation.id.in_(latest))
            .with_only_columns(Invocation.request_id, Invocation.request_name)
        )
        names: dict[int, str] = dict(self.session.execute(named).all())
        requests = []
        for request_id in sorted(names):
            mine = [row for row in counted if row[0] == request_id]
            requests.append(
                _figures(request_id, names[request_id], mine, per_request.get(request_id, {}))
            )
        return requests, _figures(None, None, counted, overall.get(None, {}))


def _figures(
    request_id: int | None,
    request_name: str | None,
    counted: Sequence[Any],
    percentiles: dict[int, float],
) -> Figures:
    outcomes: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for _, outcome, reason, count in counted:
        outcomes[outcome] = outcomes.get(outcome, 0) + count
        if reason is not None:
            reasons[reason] = reasons.get(reason, 0) + count
    return Figures(request_id, request_name, outcomes, reasons, percentiles)


def _percentiles(
    session: Session, calls: Select[Invocation], *, by_request: bool
) -> dict[int | None, dict[int, float]]:
    """Exact percentiles of duration in one query: each call ranked within its request (or
    the whole API), keeping only the rows at the wanted ranks."""
    partition = [Invocation.request_id] if by_request else []
    ranked = calls.with_only_columns(
        Invocation.request_id,
        Invocation.duration_ms,
        func.row_number()
        .over(partition_by=partition, order_by=[Invocation.duration_ms, Invocation.id])
        .label("rank"),
        func.count().over(partition_by=partition).label("calls"),
    ).subquery()
    ranks = [(ranked.c.calls * p + 99) // 100 for p in PERCENTILES]
    rows = session.execute(
        select(ranked.c.request_id, ranked.c.rank, ranked.c.calls, ranked.c.duration_ms).where(
            or_(*(ranked.c.rank == rank for rank in ranks))
        )
    ).all()
    found: dict[int | None, dict[int, float]] = {}
    for request_id, rank, count, duration in rows:
        key = request_id if by_request else None
        for p in PERCENTILES:
            if rank == (count * p + 99) // 100:
                found.setdefault(key, {})[p] = duration
    return found


def every_clients_calls() -> Select[Invocation]:
    """Platform-wide, by design: the history's own upkeep (writing what every client's calls
    left in a process's buffer, and retention) spans every client. No route starts here:
    routes read one client's calls through `InvocationRepository.readable()`."""
    return select(Invocation)


def append(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert recorded calls, leaving out those of clients deleted since they ran (their
    history went with them); how many were inserted."""
    existing = ClientRepository(session).existing({row["client_id"] for row in rows})
    kept = [row for row in rows if row["client_id"] in existing]
    if not kept:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, kept)
    else:
        session.execute(insert(Invocation), kept)
    return len(kept)


_COPY_COLUMNS = tuple(column.name for column in Invocation.__table__.columns if column.name != "id")
_COPY = sql.SQL("COPY {} ({}) FROM STDIN").format(
    sql.Identifier(Invocation.__tablename__),
    sql.SQL(", ").join(map(sql.Identifier, _COPY_COLUMNS)),
)
_TRACE = _COPY_COLUMNS.index("trace")


def _copy(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """PostgreSQL's COPY, where an executemany sends one INSERT a row: measured with 500-row
    batches, 7.5 us of this process's CPU a row against 35-50 us, which is CPU the invoke path
    shares with the writer. SQLite's executemany already runs in C and keeps the insert."""
    connection = cast(Connection[Any], session.connection().connection.driver_connection)
    with connection.cursor() as cursor, cursor.copy(_COPY) as copy:
        for row in rows:
            values = [row[name] for name in _COPY_COLUMNS]
            if values[_TRACE] is not None:
                values[_TRACE] = Jsonb(values[_TRACE])
            copy.write_row(values)


def prune_older(session: Session, before: datetime, batch: int) -> int:
    """Delete up to `batch` calls made before `before`; how many went."""
    doomed = every_clients_calls().where(Invocation.at < before)
    return _delete(session, doomed, batch)


def crowded(session: Session, keep: int) -> list[tuple[int, int]]:
    """Clients with more than `keep` calls, each with the id of its newest call to delete."""
    over = (
        every_clients_calls()
        .with_only_columns(Invocation.client_id)
        .group_by(Invocation.client_id)
        .having(func.count() > keep)
        .order_by(Invocation.client_id)
    )
    found = []
    for client_id in session.scalars(over).all():
        last = session.scalar(
            every_clients_calls()
            .where(Invocation.client_id == client_id)
            .with_only_columns(Invocation.id)
            .order_by(Invocation.id.desc())
            .offset(keep)
            .limit(1)
        )
        if last is not None:
            found.append((client_id, last))
    return found


def prune_through(session: Session, client_id: int, last: int, batch: int) -> int:
    """Delete up to `batch` of the client's calls with ids up to `last`; how many went."""
    doomed = every_clients_calls().where(Invocation.client_id == client_id, Invocation.id <= last)
    return _delete(session, doomed, batch)


def _delete(session: Session, doomed: Select[Invocation], batch: int) -> int:
    ids = doomed.with_only_columns(Invocation.id).limit(batch)
    result = session.execute(
        delete(Invocation)
        .where(Invocation.id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount
