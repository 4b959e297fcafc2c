"""Invoking a stored request: find its plan, run it, record it, and report the outcome;
and reading what was recorded: the history and each API's metrics."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from callout.apis import definitions
from callout.apis.service import find_api
from callout.clients import service as clients
from callout.clients.access import Principal
from callout.db.admission import Admission
from callout.db.broadcast import Broadcast
from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.db.models import Client, Invocation
from callout.errors import InvocationFailed, NotFound
from callout.invocations import prometheus
from callout.invocations.history import History
from callout.invocations.plans import PlanCache
from callout.invocations.refresh_tokens import DatabaseCredentials
from callout.invocations.repository import Figures, InvocationFilter, InvocationRepository
from callout.invocations.schemas import (
    ApiMetrics,
    CallMetrics,
    CircuitRead,
    InvocationDetail,
    InvocationRead,
    InvokeBody,
    InvokeResult,
    Mode,
    RequestMetrics,
    RequestView,
    RuntimeRead,
    Window,
    outcome_fields,
)
from callout.invocations.shared import shared_store
from callout.runtime.auth.base import CredentialSaver
from callout.runtime.auth.tokens import MemoryTokenStore
from callout.runtime.executor import Executor, Outcome
from callout.runtime.guard import Guard
from callout.runtime.http import HttpClient, Limits
from callout.runtime.plan import Plan
from callout.runtime.shared.limits import SharedLimits
from callout.runtime.shared.link import Link
from callout.schemas import Page
from callout.settings import Settings


@dataclass
class Runtime:
    """What invoking needs in a process: one executor, one plan cache, one history."""

    executor: Executor
    plans: PlanCache
    history: History
    link: Link | None = None  # Redis, when CALLOUT_REDIS_URL is set
    broadcast: Broadcast | None = None  # set by the app when CALLOUT_REDIS_URL is
    limits: SharedLimits | None = None  # breakers and caps over every process, through `link`

    @classmethod
    async def start(
        cls,
        settings: Settings,
        database: Database,
        keys: KeySource,
        saver: CredentialSaver | None = None,
    ) -> "Runtime":
        """`saver` keeps rotated refresh tokens; without one they live in memory only.
        The history is written to `database` by a task that runs until `close`. With
        CALLOUT_REDIS_URL, tokens and sessions are kept in Redis for every process, sealed
        with `keys`; otherwise in this process's memory."""
        limits = Limits(
            connect_timeout=settings.outbound_connect_timeout,
            max_body=settings.outbound_max_body,
            ca_file=settings.outbound_ca_file,
        )
        http = HttpClient(Guard.from_entries(settings.outbound_allow), limits)
        await http.start()
        link, store, shared = None, None, None
        if settings.redis_url:
            link, store, shared = await shared_store(settings, keys)
        executor = Executor(
            http,
            store or MemoryTokenStore(),
            saver,
            breakers=shared.breakers if shared else None,
            in_flight=shared.in_flight if shared else None,
            max_in_flight=settings.client_max_in_flight,
        )
        history = History(
            database,
            flush_every=settings.history_flush_seconds,
            keep_days=settings.history_days,
            keep_rows=settings.history_rows,
        )
        history.start()
        return cls(executor, PlanCache(ttl=settings.plan_ttl), history, link, limits=shared)

    @property
    def redis(self) -> Literal["off", "connected", "disconnected"]:
        """Connected while every use of Redis is (commits heard, runtime state shared)."""
        links = [link for link in (self.link, self.broadcast) if link is not None]
        if not links:
            return "off"
        return "connected" if all(link.state == "connected" for link in links) else "disconnected"

    async def close(self) -> None:
        await self.history.close()
        if self.limits is not None:  # gives its slots back, through the link
            await self.limits.close()
        if self.link is not None:
            await self.link.close()
        await self.executor.http.close()

    async def __aenter__(self) -> "Runtime":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def invoke(
    runtime: Runtime,
    admission: Admission,
    keys: KeySource,
    principal: Principal,
    client: Client,
    api_id: int,
    request_id: int,
    body: InvokeBody,
    *,
    trace: bool = False,
) -> Outcome:
    """Run the request; a test (`trace`) always reads the stored version, never a cached one.

    Editors and admins may call: a call acts on an external system with the stored secrets.
    """
    principal.require("editor")
    plan = await plan_of(runtime, admission, keys, client, api_id, request_id, fresh=trace)
    return await call(
        runtime,
        principal,
        client,
        plan,
        body.parameters,
        body.context.model_dump(),
        mode=body.mode,
        sample=body.sample,
        trace=trace,
    )


async def plan_of(
    runtime: Runtime,
    admission: Admission,
    keys: KeySource,
    client: Client,
    api_id: int,
    request_id: int,
    *,
    fresh: bool = False,
) -> Plan:
    """The request's plan, cached (unless `fresh`) or read in a read-only unit of work that
    ends before the call goes out: the upstream may take seconds, during which no
    connection is held."""
    plan = None if fresh else runtime.plans.cached(client, api_id, request_id)
    if plan is None:
        plan = await admission.lookup(
            lambda session: runtime.plans.plan(session, keys.keyring(), client, api_id, request_id)
        )
    return plan


async def call(
    runtime: Runtime,
    principal: Principal,
    client: Client,
    plan: Plan,
    parameters: Mapping[str, Any],
    context: Mapping[str, Any],
    *,
    mode: Mode = "live",
    sample: str | None = None,
    trace: bool = False,
) -> Outcome:
    """Run a plan, counted in the metrics and recorded in the history: what every call
    does, whether a REST invoke or a designer's FUNCTION CALL made it."""
    outcome = await runtime.executor.run(
        plan, parameters, context, mode=mode, sample=sample, trace=trace
    )
    prometheus.observe(client.code, plan, mode, trace, outcome)
    runtime.history.record(plan, principal.actor, mode, outcome, test=trace)
    return outcome


async def send(
    settings: Settings,
    database: Database,
    keys: KeySource,
    principal: Principal,
    client_code: str,
    api_ref: str,
    request_ref: str,
    body: InvokeBody,
) -> Outcome:
    """`callout send`: a test of a request named by id or name, through `invoke` in a Runtime
    of its own, so it is recorded and counted as a test through REST is. Returns once the
    history is written; a refresh token the provider rotates meanwhile is stored, as the
    server stores it."""
    admission = Admission(database)
    try:
        client, api_id, request_id = await admission.lookup(
            lambda session: _named(session, principal, client_code, api_ref, request_ref)
        )
        saver = DatabaseCredentials(database, keys)
        async with await Runtime.start(settings, database, keys, saver) as runtime:
            return await invoke(
                runtime, admission, keys, principal, client, api_id, request_id, body, trace=True
            )
    finally:
        admission.close()


def _named(
    session: Session, principal: Principal, client_code: str, api_ref: str, request_ref: str
) -> tuple[Client, int, int]:
    client = clients.visible_client(session, principal, client_code)
    return client, *definitions.resolve(session, client, api_ref, request_ref)


def result(outcome: Outcome) -> InvokeResult:
    """A success as the REST API answers it; a failure or timeout raises the problem.

    Built field by field from the executor's typed outcome and not validated again (that
    took twice as long as building and serializing it), rather than through `asdict`, which
    copies the whole trace: this runs for every invoke.
    """
    request = None
    if outcome.request is not None:  # a dry run's request, in the shape of the schema
        request = RequestView.model_validate(outcome_fields(outcome)["request"])
    data = InvokeResult.model_construct(
        invocation_id=outcome.invocation_id,
        outcome=outcome.outcome,
        reason=outcome.reason,
        message=outcome.message,
        status=outcome.status,
        outputs=outcome.outputs,
        alerts=outcome.alerts,
        warnings=outcome.warnings,
        duration_ms=outcome.duration_ms,
        request=request,
    )
    if outcome.outcome != "success":
        extensions = data.model_dump(
            mode="json",
            include={
                "invocation_id",
                "outcome",
                "reason",
                "outputs",
                "alerts",
                "warnings",
                "duration_ms",
            },
        )
        extensions["upstream_status"] = outcome.status
        raise InvocationFailed(outcome.message or outcome.outcome, outcome.reason or "", extensions)
    return data


async def state(runtime: Runtime, client: Client) -> RuntimeRead:
    """The client's calls in flight and circuits, over every process while Redis is
    connected (`shared/limits.py`); failures by reason in this process."""
    executor = runtime.executor
    circuits = [
        CircuitRead(
            api_id=api_id,
            state=breaker.state,
            failures_in_a_row=breaker.consecutive,
            retry_at=_moment(breaker.retry_at()),
        )
        for api_id, breaker in sorted((await executor.breakers.view(client.id)).items())
    ]
    return RuntimeRead(
        in_flight=await executor.in_flight.count(client.id),
        max_in_flight=executor.in_flight.cap,
        failures={
            reason: count
            for (owner, reason), count in sorted(executor.failures.items())
            if owner == client.id
        },
        circuits=circuits,
        redis=runtime.redis,
    )


def _moment(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def list_invocations(
    session: Session, client: Client, where: InvocationFilter, limit: int, offset: int
) -> Page[InvocationRead]:
    rows, total = InvocationRepository(session, client).page(where, limit, offset)
    items = [InvocationRead.model_validate(_fields(row)) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def get_invocation(session: Session, client: Client, invocation_id: str) -> InvocationDetail:
    row = InvocationRepository(session, client).find(invocation_id)
    if row is None:
        raise NotFound(f"no such invocation in client {client.code!r}")
    return InvocationDetail.model_validate(_fields(row) | {"trace": row.trace})


WINDOWS: dict[Window, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


def api_metrics(
    session: Session, client: Client, api_id: int, window: Window, now: datetime | None = None
) -> ApiMetrics:
    """The client's invokes of one of its APIs or of a system API, over the window."""
    find_api(session, client, api_id)
    until = now or datetime.now(UTC)
    since = until - WINDOWS[window]
    requests, total = InvocationRepository(session, client).figures(api_id, since)
    return ApiMetrics(
        api_id=api_id,
        window=window,
        since=since,
        until=until,
        total=CallMetrics.model_validate(_metrics(total)),
        requests=[
            RequestMetrics.model_validate(
                _metrics(figures)
                | {"request_id": figures.request_id, "request_name": figures.request_name}
            )
            for figures in requests
        ],
    )


def _metrics(figures: Figures) -> dict[str, object]:
    return {
        "calls": sum(figures.outcomes.values()),
        "outcomes": figures.outcomes,
        "reasons": figures.reasons,
        **{f"p{p}_ms": figures.percentiles.get(p) for p in (50, 95, 99)},
    }


def _fields(row: Invocation) -> dict[str, object]:
    return {name: getattr(row, name) for name in InvocationRead.model_fields}
