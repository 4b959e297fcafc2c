"""Running one request: bind, render, authorize, send, map, and say how it ended.

    plan + parameters + context
      -> bind       parameters checked against their declarations, defaults applied
      -> render     placeholders filled, each value encoded for where it lands
      -> authorize  the API's scheme adds its proof (auth/)
      -> send       over the shared HTTP client, or a sample response in mock mode
      -> map        response parameters read into outputs and alerts
      -> Outcome    success, failure or timeout, with the reason; steps when tracing

Every call ends in exactly one outcome; expected failures never raise out of `run`.
"""

import asyncio
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Literal
from urllib.parse import urlencode

from callout.runtime import templates
from callout.runtime.auth import SCHEMES
from callout.runtime.auth.base import AuthContext
from callout.runtime.errors import AuthError, ExecutionError, MappingError, ParameterError, Timeout
from callout.runtime.http import HttpClient, Outgoing, Received
from callout.runtime.mapping import map_response
from callout.runtime.plan import Parameter, Plan
from callout.runtime.trace import Recorder, Redactor, RequestView, ResponseView, Step

log = logging.getLogger("callout.runtime")

Mode = Literal["live", "dry_run", "mock"]
OutcomeName = Literal["success", "failure", "timeout"]
MAX_URL_CHARS = 8192


@dataclass
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
    """Runs plans; one per process, sharing one HTTP client."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

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
        secret_headers = [h.name for h in plan.headers if h.secret]
        recorder = Recorder(Redactor(plan.secrets, secret_headers), trace)
        outcome = Outcome("success", secrets.token_hex(8))
        try:
            scope = bind(plan, parameters, context)
            recorder.step("bind")
            outgoing = render(plan, scope)
            recorder.step("render")
            if mode == "live":
                received = await self._call(plan, outgoing, scope, recorder)
            else:  # nothing goes out, not even a token request: authorization comes when sent
                recorder.sent(outgoing)
                if mode == "dry_run":
                    outcome.request = recorder.view(outgoing)
                    return outcome
                received = _sample(plan, sample)
                recorder.step("sample", f"status {received.status}")
            recorder.received(received)
            self._conclude(plan, received, scope, outcome, recorder.redactor)
            recorder.step("map")
        except TimeoutError:
            _fail(outcome, Timeout(f"no complete answer within {plan.timeout:g} s"))
        except ExecutionError as error:
            _fail(outcome, error)
        finally:
            outcome.duration_ms = round((perf_counter() - started) * 1000, 3)
            outcome.steps, outcome.response = recorder.steps, recorder.response
            if trace:
                outcome.request = outcome.request or recorder.request
            _log(plan, mode, outcome)
        return outcome

    async def _call(
        self, plan: Plan, outgoing: Outgoing, scope: templates.Scope, recorder: Recorder
    ) -> Received:
        apply = SCHEMES.get(plan.authorization.type)
        if apply is None:
            raise AuthError(f"{plan.authorization.type} authorization cannot be sent yet")
        async with asyncio.timeout(plan.timeout):  # one deadline over every step that waits
            outgoing = await apply(plan, outgoing, AuthContext(scope, self.http, recorder))
            recorder.step("authorize")
            recorder.sent(outgoing)
            received = await self.http.send(outgoing, plan.timeout)
        recorder.step("send", f"status {received.status}")
        return received

    def _conclude(
        self,
        plan: Plan,
        received: Received,
        scope: templates.Scope,
        outcome: Outcome,
        redactor: Redactor,
    ) -> None:
        outcome.status = received.status
        success = plan.is_success(received.status)
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
            outcome.message = f"the upstream answered {received.status}"


def bind(plan: Plan, parameters: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """The scope placeholders read: the context's values and the checked parameters."""
    declared = {p.name: p for p in plan.parameters}
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ParameterError(
            f"unknown parameter {', '.join(unknown)}; this request takes "
            f"{', '.join(declared) or 'none'}"
        )
    scope = dict(context)
    for parameter in plan.parameters:
        value = parameters.get(parameter.name)
        if value is None:
            value = parameter.default
        if value is None and parameter.required:
            raise ParameterError(f"parameter {parameter.name} is required")
        # An optional parameter left out is null: empty in text, null in JSON.
        scope[parameter.name] = None if value is None else _typed(parameter, value)
    return scope


def _typed(parameter: Parameter, value: Any) -> Any:
    """The value in its declared type; text that spells one (as scripts send) is accepted."""
    kind = parameter.type
    if kind == "string" and isinstance(value, str | int | float) and not isinstance(value, bool):
        return templates.to_text(value)
    if kind == "number" and not isinstance(value, bool):
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                try:
                    number = float(value)
                except ValueError:
                    pass
                else:
                    if number == number and abs(number) != float("inf"):
                        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    if kind == "object" and isinstance(value, dict | list):
        return value
    raise ParameterError(f"parameter {parameter.name} must be a {kind}")


def render(plan: Plan, scope: templates.Scope) -> Outgoing:
    """The request with every placeholder filled for where it lands."""
    path = templates.path_of(plan.path, scope)
    if plan.base_path and not (path == plan.base_path or path.startswith(plan.base_path + "/")):
        raise ParameterError("the rendered URL left the API's base path")
    url = plan.origin + path
    if plan.query:
        url += "?" + urlencode([(name, templates.text_of(v, scope)) for name, v in plan.query])
    if len(url) > MAX_URL_CHARS:
        raise ParameterError(f"the rendered URL is longer than {MAX_URL_CHARS} characters")
    outgoing = Outgoing(
        plan.method,
        url,
        [(h.name, templates.header_of(h.name, h.value, scope)) for h in plan.headers],
    )
    if plan.content_type == "multipart":
        outgoing.form = tuple((name, templates.text_of(v, scope)) for name, v in plan.form)
    elif plan.content_type == "form":
        fields = [(name, templates.text_of(v, scope)) for name, v in plan.form]
        outgoing.body = urlencode(fields).encode()
    elif plan.body is not None:
        outgoing.body = _body(plan, scope).encode()
    return outgoing


def _body(plan: Plan, scope: templates.Scope) -> str:
    if plan.content_type == "json":
        try:
            return json.dumps(
                templates.json_of(plan.body, scope), ensure_ascii=False, allow_nan=False
            )
        except ValueError:
            raise ParameterError("a value is not valid in JSON (NaN or infinity)") from None
    assert isinstance(plan.body, tuple)
    if plan.content_type == "xml":
        return templates.xml_of(plan.body, scope)
    return templates.text_of(plan.body, scope)


def _sample(plan: Plan, name: str | None) -> Received:
    for sample in plan.samples:
        if name is None or sample.name == name:
            return Received(sample.status, sample.headers, sample.body)
    if name is None:
        raise ParameterError("mode mock needs a sample response, and this request has none")
    raise ParameterError(f"this request has no sample response named {name!r}")


def _fail(outcome: Outcome, error: ExecutionError) -> None:
    outcome.outcome = error.outcome
    outcome.reason, outcome.message = error.reason, error.message


def _log(plan: Plan, mode: Mode, outcome: Outcome) -> None:
    if log.isEnabledFor(logging.INFO):
        log.info(
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
