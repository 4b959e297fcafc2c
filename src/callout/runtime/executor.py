"""Running one request: bind, render, authorize, send, map, and say how it ended.

    plan + parameters + context
      -> bind       parameters checked against their declarations, defaults applied
      -> render     placeholders filled, each value encoded for where it lands
      -> authorize  the API's scheme adds its proof (auth/)
      -> send       over the shared HTTP client (guarded, retried as allowed, through the
                    API's circuit breaker and the client's cap), or a sample in mock mode
      -> map        response parameters read into outputs and alerts
      -> Outcome    success, failure or timeout, with the reason; steps when tracing

Every call ends in exactly one outcome; expected failures never raise out of `run`.
This is the hot path: anything that can be worked out once per plan is in the plan.
"""

import asyncio
import itertools
import logging
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Literal

from multidict import CIMultiDict

from callout.runtime import retry, templates
from callout.runtime.auth.base import AuthContext, CredentialSaver
from callout.runtime.auth.renewals import Renewals
from callout.runtime.auth.tokens import MemoryTokenStore, TokenStore
from callout.runtime.breaker import Breakers, Cap, Circuits, InFlight
from callout.runtime.errors import (
    AuthError,
    ExecutionError,
    MappingError,
    ParameterError,
    Timeout,
    UpstreamError,
)
from callout.runtime.http import HttpClient, Outgoing, Received
from callout.runtime.mapping import map_response
from callout.runtime.plan import Plan
from callout.runtime.render import bind, render, secret_values
from callout.runtime.retry import RetryPolicy
from callout.runtime.trace import Recorder, Redactor, RequestView, ResponseView, Step

log = logging.getLogger("callout.runtime")

Mode = Literal["live", "dry_run", "mock"]
OutcomeName = Literal["success", "failure", "timeout"]
# Invocation ids: unique per process by a counter, across processes by a random prefix.
_PROCESS = secrets.token_hex(4)
_COUNTER = itertools.count(1)


@dataclass(slots=True)
class Outcome:
    """How a call ended: the three branches a script follows, and what it gave."""

    outcome: OutcomeName
    invocation_id: str
    reason: str | None = None
    message: str | None = None
    status: int | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    request: RequestView | None = None
    response: ResponseView | None = None
    steps: list[Step] = field(default_factory=list)


class Executor:
    """Runs plans; one per process, sharing one HTTP client.

    `store` keeps tokens and sessions between calls, and `renewals` the token renewals this
    executor runs in the background. `breakers` and `in_flight` are this process's own
    unless given (shared by every process through Redis: `shared/limits.py`). `failures`
    counts the real calls that did not succeed, by client and reason. A test (`trace=True`),
    a dry run or a mock leaves what real calls see alone: the counts, the client's cap (a test
    has a cap of its own) and the API's breaker, which a test neither moves nor asks (it goes
    through an open circuit, and shows whether the API is back).
    """

    def __init__(
        self,
        http: HttpClient,
        store: TokenStore | None = None,
        saver: CredentialSaver | None = None,
        *,
        retries: RetryPolicy | None = None,
        breakers: Circuits | None = None,
        in_flight: Cap | None = None,
        max_in_flight: int = 100,
    ) -> None:
        self.http = http
        self.store = store or MemoryTokenStore()
        self.saver = saver
        self.renewals = Renewals()
        self.retries = retries or RetryPolicy()
        self.breakers: Circuits = breakers or Breakers()
        self.in_flight: Cap = in_flight or InFlight(max_in_flight)
        self.testing = InFlight(max_in_flight)  # in this process only, whatever is shared
        self.failures: Counter[tuple[int, str]] = Counter()

    async def run(
        self,
        plan: Plan,
        parameters: Mapping[str, Any],
        context: Mapping[str, Any],
        *,
        mode: Mode = "live",
        sample: str | None = None,
        trace: bool = False,
    ) -> Outcome:
        started = perf_counter()
        recorder = Recorder(plan.redactor, trace)
        outcome = Outcome("success", f"{_PROCESS}{next(_COUNTER):08x}")
        refused = False
        try:
            # Steps are timed only when tracing: the hot path pays no clock for them.
            scope = bind(plan, parameters, context)
            if plan.secret_parameters:
                recorder.redactor = recorder.redactor.including(
                    secret_values(plan, scope), shortest=1
                )
            if trace:
                recorder.step("bind")
            outgoing = render(plan, scope)
            if trace:
                recorder.step("render")
            if mode == "live":
                received, refused = await self._live(plan, outgoing, scope, recorder)
            else:  # nothing goes out, not even a token request: authorization comes when sent
                recorder.sent(outgoing)
                if mode == "dry_run":
                    outcome.request = recorder.view(outgoing)
                    return outcome
                received = _sample(plan, sample)
                recorder.step("sample", "status", received.status)
            if trace:
                recorder.received(received)
            _conclude(plan, received, scope, outcome, recorder.redactor, refused)
            if trace:
                recorder.step("map")
        except ExecutionError as error:
            # A peer's words can quote what it was sent: the message is masked like the trace.
            outcome.outcome, outcome.reason, outcome.message = (
                error.outcome,
                error.reason,
                recorder.redactor.text(error.message),
            )
            if trace:
                recorder.step(error.reason)  # where it ended
        finally:
            if outcome.reason is not None and mode == "live" and not trace:
                self.failures[(plan.key.client_id, outcome.reason)] += 1
            outcome.duration_ms = round((perf_counter() - started) * 1000, 3)
            if trace:
                outcome.steps, outcome.response = recorder.steps, recorder.response
                outcome.request = outcome.request or recorder.request
            # A success is recorded in the invocation history and the metrics; a log line for
            # each would cost the hot path as much as its breaker and mapping together.
            level = logging.DEBUG if outcome.outcome == "success" else logging.INFO
            if log.isEnabledFor(level):
                _log(level, plan, mode, outcome)
        return outcome

    async def _live(
        self, plan: Plan, outgoing: Outgoing, scope: templates.Scope, recorder: Recorder
    ) -> tuple[Received, bool]:
        """Send for real, within the client's cap and through the API's breaker; a test
        within its own cap, past the breaker."""
        if plan.unset is not None:  # an empty secret header is never sent
            raise AuthError(plan.unset)
        client = plan.key.client_id
        slots = await (self.testing if recorder.tracing else self.in_flight).enter(client)
        try:
            if recorder.tracing:
                return await self._send(plan, outgoing, scope, recorder)
            admitted = await self.breakers.admit(client, plan.key.api_id)
            failed: bool | None = None  # no verdict unless the API answered or could not
            try:
                received, refused = await self._send(plan, outgoing, scope, recorder)
                failed = received.status >= 500
            except UpstreamError:
                # The API could not answer. (A refusal on this side, by the guard, a cap or
                # the authorization, or a cancelled call, says nothing of its health.)
                failed = True
                raise
            finally:
                await admitted.record(failed)
            return received, refused
        finally:
            slots.leave(client)

    async def _send(
        self, plan: Plan, outgoing: Outgoing, scope: templates.Scope, recorder: Recorder
    ) -> tuple[Received, bool]:
        if not plan.authorized:
            return await self._authorized(plan, outgoing, scope, recorder)
        # Fixed headers prove it all: the hot path.
        if recorder.tracing:
            recorder.step("authorize", plan.authorization.type)
            recorder.sent(outgoing)
        received = await retry.send(
            self.http, outgoing, plan.timeout, self.retries, _retried(recorder)
        )
        if recorder.tracing:
            recorder.step("send", "status", received.status)
        return received, False

    async def _authorized(
        self, plan: Plan, outgoing: Outgoing, scope: templates.Scope, recorder: Recorder
    ) -> tuple[Received, bool]:
        """Send with the API's scheme at work; when the answer says the credentials were
        refused or expired, renew them and send once more. One deadline covers it all.

        Also says whether the renewed credentials were refused as well: then the call failed,
        whatever the status (an expiry signal comes in a 200)."""
        scheme = plan.authorization
        ctx = AuthContext(
            plan.key.owner,
            scope,
            self.http,
            self.store,
            self.saver,
            recorder,
            asyncio.get_running_loop().time() + plan.timeout,
            self.renewals,
        )
        try:
            async with asyncio.timeout_at(ctx.deadline):
                received = await self._send_authorized(plan, outgoing, ctx)
                if not await scheme.expire_refused(ctx, received):
                    return received, False
                recorder.step("renew", "status", received.status)
                received = await self._send_authorized(plan, outgoing, ctx)
                return received, await scheme.expire_refused(ctx, received)
        except TimeoutError:
            raise Timeout(f"no complete answer within {plan.timeout:g} s") from None

    async def _send_authorized(self, plan: Plan, outgoing: Outgoing, ctx: AuthContext) -> Received:
        sent = await plan.authorization.apply(outgoing.copy(), ctx)
        if ctx.secrets:  # credentials the plan does not know: fetched tokens, sessions
            ctx.recorder.redactor = ctx.recorder.redactor.including(ctx.secrets)
        ctx.recorder.step("authorize", plan.authorization.type)
        ctx.recorder.sent(sent)
        received = await retry.send(
            self.http, sent, ctx.remaining(), self.retries, _retried(ctx.recorder)
        )
        ctx.recorder.step("send", "status", received.status)
        return received


def _retried(recorder: Recorder) -> retry.Retried | None:
    """The trace's note of each retry, when tracing."""
    if not recorder.tracing:
        return None
    return lambda why, wait: recorder.step("retry", why, f"after {wait * 1000:.0f} ms")


def _sample(plan: Plan, name: str | None) -> Received:
    for sample in plan.samples:
        if name is None or sample.name == name:
            return Received(sample.status, CIMultiDict(sample.headers), sample.body)
    if name is None:
        raise ParameterError("mode mock needs a sample response, and this request has none")
    raise ParameterError(f"this request has no sample response named {name!r}")


def _conclude(
    plan: Plan,
    received: Received,
    scope: templates.Scope,
    outcome: Outcome,
    redactor: Redactor,
    refused: bool = False,
) -> None:
    outcome.status = received.status
    success = not refused and _succeeded(plan, received)
    try:
        mapped = map_response(plan, received, scope)
    except MappingError as error:
        if success:
            raise
        outcome.warnings.append(error.message)  # an error page need not be readable
    else:  # what goes back to the desktop is masked like the trace: no secret returns
        outcome.outputs = redactor.data(mapped.outputs)
        outcome.alerts = [redactor.text(alert) for alert in mapped.alerts]
        outcome.warnings = mapped.warnings
    if not success:
        outcome.outcome, outcome.reason = "failure", "status"
        outcome.message = (
            f"the upstream refused renewed {plan.authorization.type} credentials too "
            f"(status {received.status})"
            if refused
            else _refusal(plan, received, redactor)
        )


PROVIDERS = {"slack": "Slack", "teams": "Teams"}
# A Teams incoming webhook (Office 365 connector) answers 200 at once and reports Teams' own
# refusal (400, 413, 429...) in the body (MicrosoftDocs/msteams-docs#1810 and #7425).
TEAMS_WRAPPED_FAILURE = b"Webhook message delivery failed"


def _succeeded(plan: Plan, received: Received) -> bool:
    if plan.api_type == "slack":  # an incoming webhook answers 200 "ok", and nothing else
        return received.status == 200 and received.body.strip() == b"ok"
    if plan.api_type == "teams" and received.body.lstrip().startswith(TEAMS_WRAPPED_FAILURE):
        return False
    return plan.is_success(received.status)


def _refusal(plan: Plan, received: Received, redactor: Redactor) -> str:
    """Why the status is a failure; a messaging provider's own answer is quoted as it is
    (Slack says `invalid_payload`, `channel_not_found`...)."""
    provider = PROVIDERS.get(plan.api_type)
    if provider is None:
        return f"the upstream answered {received.status}"
    said = redactor.cut(received.body, 300).strip()
    return f"{provider} answered {received.status}: {said or '(an empty body)'}"


def _log(level: int, plan: Plan, mode: Mode, outcome: Outcome) -> None:
    log.log(
        level,
        "invocation=%s client=%s api=%r request=%r mode=%s outcome=%s reason=%s status=%s "
        "duration_ms=%.1f",
        outcome.invocation_id,
        plan.key.client_id,
        plan.api_name,
        plan.request_name,
        mode,
        outcome.outcome,
        outcome.reason or "-",
        outcome.status or "-",
        outcome.duration_ms,
    )
