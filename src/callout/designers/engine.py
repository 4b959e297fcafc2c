"""Firing a designer's event: what the agent's desktop must do after it.

The event's conditions are evaluated in order against the context; each that holds (and
whose Stop flag is not set) runs its actions in order. A FUNCTION CALL runs through the
same path as a REST invoke (plan cache, guard, breaker, metrics, history), and its outputs
land in the context for every later condition and action, the platform's dynamic response:

    In Call:  Lookup(phone = call.ani)       -> fields.accountId = 42,
                                                responses.Lookup.accountId = 42
              Balance(id = responses.Lookup.accountId)   (the first call feeds the second)
              POP URL https://crm.example/accounts/${fields.accountId}

The answer lists the effects in order (fields set, alerts, URL to pop, page to show,
component to load) and a trace of each action. A failed call is in the answer; it ends the
event only when its action says `on_error: stop`. One deadline covers the whole fire: the
sum of its calls' own deadlines (and a second), at most CALLOUT_FIRE_DEADLINE.
"""

import asyncio
import contextlib
import functools
import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from time import perf_counter
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session

from callout.clients import service as clients
from callout.clients.access import Principal
from callout.db.admission import Admission
from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.db.models import Client
from callout.designers import conditions, service
from callout.designers.cache import DesignerCache
from callout.designers.effects import (
    ActionTrace,
    Alert,
    ConditionTrace,
    Effect,
    FireBody,
    FireOutcome,
    FireResult,
    LoadComponent,
    PopUrlEffect,
    SetField,
    ShowPage,
)
from callout.designers.schemas import (
    Action,
    ComponentLoad,
    Event,
    FunctionCall,
    PageTransition,
    PopUrl,
)
from callout.errors import CalloutError, NotFound
from callout.invocations import service as invocations
from callout.invocations.refresh_tokens import DatabaseCredentials
from callout.invocations.service import Runtime
from callout.runtime import templates
from callout.runtime.errors import BlockedAddress, ExecutionError, ParameterError
from callout.runtime.executor import Outcome
from callout.runtime.guard import Guard, advice
from callout.runtime.plan import Plan
from callout.schemas import name_key
from callout.settings import Settings

# Time a fire may take beyond its calls' own deadlines: each call ends at its deadline at
# the latest, so the fire's own is a backstop, never the first to end a call.
GRACE = 1.0

# Runs a plan with the parameters and the context as they stand.
Run = Callable[[Plan, Mapping[str, Any], Mapping[str, Any]], Awaitable[Outcome]]

# Conditions and paths are parsed once per text: both are immutable once parsed.
_condition = functools.lru_cache(maxsize=4096)(conditions.parse)
_template = functools.lru_cache(maxsize=4096)(templates.parse)


@functools.lru_cache(maxsize=4096)
def _path(path: str) -> templates.Placeholder:
    """A mapping's context path (`call.ani`) as the placeholder `${call.ani}`."""
    (placeholder,) = templates.placeholders("${" + path + "}")
    return placeholder


async def fire(
    runtime: Runtime,
    admission: Admission,
    keys: KeySource,
    designers: DesignerCache,
    principal: Principal,
    client: Client,
    designer_id: int,
    event_name: str,
    body: FireBody,
    max_deadline: float,
) -> FireResult:
    """Fire the event with the caller's context; editors and admins may, as they may invoke.
    A designer not in the cache is read in a read-only unit of work, as a plan is."""
    principal.require("editor")
    designer = designers.cached(client, designer_id)
    if designer is None:
        designer = await admission.lookup(
            lambda session: designers.load(session, client, designer_id)
        )
    event = next((e for e in designer.events if name_key(e.name) == name_key(event_name)), None)
    if event is None:
        names = ", ".join(e.name for e in designer.events) or "none"
        raise NotFound(f"designer {designer.name!r} has no such event (its events: {names})")
    calls = [action for _, action in event.actions() if isinstance(action, FunctionCall)]
    plans: dict[tuple[int, int], Plan | CalloutError] = {}
    for key in dict.fromkeys((call.api_id, call.request_id) for call in calls):
        try:
            plans[key] = await invocations.plan_of(runtime, admission, keys, client, *key)
        except CalloutError as error:  # deleted meanwhile, or unreadable: that call fails
            plans[key] = error
    budget = sum(_timeout(plans[(c.api_id, c.request_id)]) for c in calls) + GRACE
    deadline = min(budget, max_deadline)

    async def run(plan: Plan, parameters: Mapping[str, Any], context: Mapping[str, Any]) -> Outcome:
        return await invocations.call(
            runtime, principal, client, plan, parameters, context, mode=body.mode
        )

    firing = Firing(event, plans, run, runtime.executor.http.guard)
    return await firing.fire(designer_id, body.context.model_dump(), deadline)


async def fire_named(
    settings: Settings,
    database: Database,
    keys: KeySource,
    principal: Principal,
    client_code: str,
    designer_ref: str,
    event_name: str,
    body: FireBody,
) -> FireResult:
    """`callout fire`: an event of a designer named by id or name, fired in a Runtime of its
    own, so its calls are recorded as a server's are. Returns once the history is written."""
    admission = Admission(database)
    try:
        client, designer_id = await admission.lookup(
            lambda session: _named(session, principal, client_code, designer_ref)
        )
        saver = DatabaseCredentials(database, keys)
        async with await Runtime.start(settings, database, keys, saver) as runtime:
            return await fire(
                runtime,
                admission,
                keys,
                DesignerCache(),
                principal,
                client,
                designer_id,
                event_name,
                body,
                settings.fire_deadline,
            )
    finally:
        admission.close()


def _named(
    session: Session, principal: Principal, client_code: str, designer_ref: str
) -> tuple[Client, int]:
    client = clients.visible_client(session, principal, client_code)
    return client, service.resolve(session, client, designer_ref)


def _timeout(plan: Plan | CalloutError) -> float:
    return plan.timeout if isinstance(plan, Plan) else 0.0


class Firing:
    """One fire of one event: the context as it grows, and what the desktop is told."""

    def __init__(
        self,
        event: Event,
        plans: Mapping[tuple[int, int], Plan | CalloutError],
        run: Run,
        guard: Guard,
    ) -> None:
        self.event = event
        self.plans = plans
        self.run = run
        self.guard = guard
        self.effects: list[Effect] = []
        self.conditions: list[ConditionTrace] = []
        self.actions: list[ActionTrace] = []
        self.outcome: FireOutcome = "completed"

    async def fire(self, designer_id: int, context: dict[str, Any], deadline: float) -> FireResult:
        started = perf_counter()
        try:
            async with asyncio.timeout(deadline):
                await self._conditions(context, deadline)
        except TimeoutError:
            self.outcome = "deadline"
        reached = len(self.conditions)
        self.conditions += [
            ConditionTrace(position=p, state="not_reached")
            for p in range(reached, len(self.event.conditions))
        ]
        return FireResult(
            designer_id=designer_id,
            event=self.event.name,
            outcome=self.outcome,
            effects=self.effects,
            conditions=self.conditions,
            actions=self.actions,
            fields=context["fields"],
            responses=context["responses"],
            duration_ms=round((perf_counter() - started) * 1000, 3),
        )

    async def _conditions(self, context: dict[str, Any], deadline: float) -> None:
        for position, condition in enumerate(self.event.conditions):
            if condition.stop:
                self.conditions.append(ConditionTrace(position=position, state="stopped"))
                continue
            held = _condition(condition.expression).holds(context)
            state = "held" if held else "not_held"
            self.conditions.append(ConditionTrace(position=position, state=state))
            if not held:
                continue
            for number, action in enumerate(condition.actions):
                trace = await self._act(position, number, action, context, deadline)
                self.actions.append(trace)
                if trace.outcome != "success" and action.on_error == "stop":
                    self.outcome = "stopped"
                    return

    async def _act(
        self,
        position: int,
        number: int,
        action: Action,
        context: dict[str, Any],
        deadline: float,
    ) -> ActionTrace:
        started = perf_counter()
        trace = ActionTrace(
            condition=position, action=number, kind=action.kind, outcome="success", duration_ms=0
        )
        try:
            if isinstance(action, FunctionCall):
                await self._call(action, context, trace)
            elif isinstance(action, PopUrl):
                self.effects.append(PopUrlEffect(url=self._url(action.url, context)))
            elif isinstance(action, PageTransition):
                self.effects.append(ShowPage(page=action.page))
            elif isinstance(action, ComponentLoad):
                self.effects.append(LoadComponent(page=action.page, component=action.component))
        except ExecutionError as error:
            trace.outcome, trace.reason, trace.message = error.outcome, error.reason, error.message
        except asyncio.CancelledError:  # the fire's deadline passed during this action
            trace.outcome, trace.reason = "timeout", "deadline"
            trace.message = f"the event's deadline of {deadline:g} s passed"
            self.actions.append(_timed(trace, started))
            raise
        return _timed(trace, started)

    async def _call(
        self, action: FunctionCall, context: dict[str, Any], trace: ActionTrace
    ) -> None:
        plan = self.plans[(action.api_id, action.request_id)]
        if isinstance(plan, CalloutError):
            trace.outcome, trace.reason, trace.message = "failure", plan.type, plan.detail
            return
        parameters = {}
        for mapping in action.parameters:
            if mapping.path is None:
                parameters[mapping.name] = mapping.value
                continue
            # Missing: the request's default, or its own error if the parameter is required.
            with contextlib.suppress(ParameterError):
                parameters[mapping.name] = templates.lookup(_path(mapping.path), context)
        outcome = await self.run(plan, parameters, context)
        trace.outcome, trace.reason, trace.message = (
            outcome.outcome,
            outcome.reason,
            outcome.message,
        )
        trace.invocation_id = outcome.invocation_id
        if outcome.outcome != "success":
            return
        # Outputs are keyed by data field; `responses` keys them by output name.
        answered = {
            o.name: outcome.outputs[o.field] for o in plan.outputs if o.field in outcome.outputs
        }
        context["responses"][plan.request_name] = answered
        for field, value in outcome.outputs.items():
            context["fields"][field] = value
            self.effects.append(SetField(field=field, value=value))
        self.effects += [Alert(message=alert) for alert in outcome.alerts]

    def _url(self, url: str, context: Mapping[str, Any]) -> str:
        """The URL with each value percent-encoded whole: a value cannot add a `/`, `?`,
        `&` or `#`, nor change the fixed origin. A host given as an IP address is judged
        by the guard, as any address Callout calls would be."""
        text = "".join(
            part if isinstance(part, str) else quote(templates.value_of(part, context), safe="")
            for part in _template(url)
        )
        host = urlsplit(text).hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return text  # a name: the desktop resolves it, Callout never connects to it
        verdict = self.guard.judge(host)
        if not verdict.allowed:
            refusal = f"{host} ({verdict.why})"
            raise BlockedAddress(f"the URL leads to {refusal}{advice(refusal)}")
        return text


def _timed(trace: ActionTrace, started: float) -> ActionTrace:
    trace.duration_ms = round((perf_counter() - started) * 1000, 3)
    return trace
