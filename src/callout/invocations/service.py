"""Invoking a stored request: find its plan, run it, log it, and report the outcome."""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from callout.clients.access import Principal
from callout.db.admission import Admission
from callout.db.crypto import Keyring
from callout.db.models import Client
from callout.errors import InvocationFailed
from callout.invocations import prometheus
from callout.invocations.log import InvocationLog
from callout.invocations.plans import PlanCache
from callout.invocations.schemas import (
    CircuitRead,
    InvocationRead,
    InvokeBody,
    InvokeResult,
    RuntimeRead,
    TracedResult,
)
from callout.runtime.auth.base import CredentialSaver
from callout.runtime.auth.tokens import MemoryTokenStore
from callout.runtime.executor import Executor, Outcome
from callout.runtime.guard import Guard
from callout.runtime.http import HttpClient, Limits
from callout.schemas import Page
from callout.settings import Settings


@dataclass
class Runtime:
    """What invoking needs in a process: one executor, one plan cache, one log."""

    executor: Executor
    plans: PlanCache
    log: InvocationLog

    @classmethod
    async def start(cls, settings: Settings, saver: CredentialSaver | None = None) -> "Runtime":
        """`saver` keeps rotated refresh tokens; without one they live in memory only."""
        limits = Limits(
            connect_timeout=settings.outbound_connect_timeout,
            max_body=settings.outbound_max_body,
            ca_file=settings.outbound_ca_file,
        )
        http = HttpClient(Guard.from_entries(settings.outbound_allow), limits)
        await http.start()
        executor = Executor(
            http, MemoryTokenStore(), saver, max_in_flight=settings.client_max_in_flight
        )
        return cls(executor, PlanCache(ttl=settings.plan_ttl), InvocationLog())

    async def close(self) -> None:
        await self.executor.http.close()


async def invoke(
    runtime: Runtime,
    admission: Admission,
    keyring: Keyring,
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
    A plan not in the cache is read in a read-only unit of work that ends before the call
    goes out: the upstream may take seconds, during which no connection is held.
    """
    principal.require("editor")
    plan = None if trace else runtime.plans.cached(client, api_id, request_id)
    if plan is None:
        plan = await admission.lookup(
            lambda session: runtime.plans.plan(session, keyring, client, api_id, request_id)
        )
    outcome = await runtime.executor.run(
        plan,
        body.parameters,
        body.context.model_dump(),
        mode=body.mode,
        sample=body.sample,
        trace=trace,
    )
    prometheus.observe(client.code, plan, body.mode, trace, outcome)
    runtime.log.add(
        client.id,
        InvocationRead(
            invocation_id=outcome.invocation_id,
            at=datetime.now(UTC),
            actor=principal.actor,
            api_id=api_id,
            api_name=plan.api_name,
            request_id=request_id,
            request_name=plan.request_name,
            mode=body.mode,
            outcome=outcome.outcome,
            reason=outcome.reason,
            status=outcome.status,
            duration_ms=outcome.duration_ms,
        ),
    )
    return outcome


def result(outcome: Outcome) -> InvokeResult:
    """A success as the REST API answers it; a failure or timeout raises the problem."""
    plain = _plain(outcome)
    data = InvokeResult.model_validate({k: plain[k] for k in InvokeResult.model_fields})
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


def traced(outcome: Outcome) -> TracedResult:
    return TracedResult.model_validate(_plain(outcome))


def state(runtime: Runtime, client: Client) -> RuntimeRead:
    executor = runtime.executor
    circuits = [
        CircuitRead(
            api_id=api_id,
            state=breaker.state,
            failures_in_a_row=breaker.consecutive,
            retry_at=_moment(breaker.retry_at()),
        )
        for api_id, breaker in sorted(executor.breakers.of_client(client.id).items())
    ]
    return RuntimeRead(
        in_flight=executor.in_flight.counts.get(client.id, 0),
        max_in_flight=executor.in_flight.cap,
        failures={
            reason: count
            for (owner, reason), count in sorted(executor.failures.items())
            if owner == client.id
        },
        circuits=circuits,
    )


def _moment(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def log_page(runtime: Runtime, client: Client, limit: int, offset: int) -> Page[InvocationRead]:
    items, total = runtime.log.page(client.id, limit, offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


def _plain(outcome: Outcome) -> dict[str, object]:
    plain = asdict(outcome)
    for view in ("request", "response"):
        if plain[view] is not None:
            plain[view]["headers"] = [{"name": n, "value": v} for n, v in plain[view]["headers"]]
    return plain
