"""Invoking a request through the REST API, and what comes back."""

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, computed_field

from callout.apis.fields import Writable
from callout.interchange import curl
from callout.runtime.executor import Outcome
from callout.schemas import Model

Mode = Literal["live", "dry_run", "mock"]
OutcomeName = Literal["success", "failure", "timeout"]
HistoryMode = Literal["invoke", "test"]


class Context(Model):
    """What the caller knows, for `${loginData.agentId}`, `${responses.Login.sessionId}`...

    Empty by default through factories: a `{}` default is deep-copied at each validation, and
    a body on the invoke path took 15 us to validate with them against 5 us with factories.
    """

    loginData: dict[str, Any] = Field(default_factory=dict)  # noqa: N815 - the platform's own name
    call: dict[str, Any] = Field(default_factory=dict)
    account: dict[str, Any] = Field(default_factory=dict)
    fields: dict[str, Any] = Field(default_factory=dict)
    responses: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Outputs of earlier requests, by request name."
    )


class InvokeBody(Model):
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Values of the request parameters."
    )
    context: Context = Field(default_factory=Context)
    mode: Mode = Field(
        default="live",
        description="live sends; dry_run returns the rendered request without sending; "
        "mock maps one of the request's sample responses instead of calling out.",
    )
    sample: str | None = Field(default=None, description="Sample response to use in mock mode.")


class HeaderView(Model):
    name: str
    value: str


class RequestView(Writable):
    """The request as sent (or, on a dry run, as it would be), secrets masked; read back
    (a stored trace, `callout send --json`), its `curl` is made again."""

    method: str
    url: str
    headers: list[HeaderView]
    body: str | None

    @computed_field(description="The request as one cURL command line, secrets masked.")  # type: ignore[prop-decorator]
    @property
    def curl(self) -> str:
        """Written by the server's one cURL writer, so the UI and `callout send --curl` agree."""
        headers = [(h.name, h.value) for h in self.headers]
        return curl.command(self.method, self.url, headers, self.body)


class ResponseView(Model):
    status: int
    headers: list[HeaderView]
    body: str = Field(description="The first 4 KiB, decoded as UTF-8.")
    truncated: bool


class StepView(Model):
    name: str
    duration_ms: float
    detail: str


class InvokeResult(Model):
    invocation_id: str
    outcome: OutcomeName
    reason: str | None
    message: str | None
    status: int | None = Field(description="The upstream's HTTP status.")
    outputs: dict[str, Any]
    alerts: list[str]
    warnings: list[str]
    duration_ms: float
    request: RequestView | None = Field(default=None, description="Dry run: what would be sent.")


class TracedResult(InvokeResult):
    """An invocation with its whole trace, secrets masked."""

    steps: list[StepView]
    response: ResponseView | None

    @classmethod
    def of(cls, outcome: Outcome) -> "TracedResult":
        return cls.model_validate(outcome_fields(outcome))


def outcome_fields(outcome: Outcome) -> dict[str, Any]:
    """An outcome as plain data in the shape of these schemas."""
    plain = asdict(outcome)
    for view in ("request", "response"):
        if plain[view] is not None:
            plain[view]["headers"] = [{"name": n, "value": v} for n, v in plain[view]["headers"]]
    return plain


class InvocationRead(Model):
    """One recorded call; names are as they were when it ran."""

    invocation_id: str
    at: datetime
    actor: str
    api_id: int
    api_name: str
    request_id: int
    request_name: str
    mode: HistoryMode = Field(
        description="invoke: a script's call; test: POST .../test or `callout send`."
    )
    outcome: OutcomeName
    reason: str | None
    status: int | None = Field(description="The upstream's HTTP status.")
    duration_ms: float


class InvocationDetail(InvocationRead):
    trace: TracedResult | None = Field(
        description="A failed test's whole trace as it answered, secrets masked; "
        "nothing is kept of other calls."
    )


Window = Literal["1h", "24h", "7d"]


class CallMetrics(Model):
    """Calls in a window: how they ended, and how long they took (nearest-rank percentiles,
    of the calls themselves, in milliseconds; null when there were none)."""

    calls: int
    outcomes: dict[OutcomeName, int]
    reasons: dict[str, int] = Field(description="Calls that did not succeed, by reason.")
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class RequestMetrics(CallMetrics):
    request_id: int
    request_name: str = Field(description="As of its latest call in the window.")


class ApiMetrics(Model):
    """What the client's invokes of one API did in the window (tests are not counted)."""

    api_id: int
    window: Window
    since: datetime
    until: datetime
    total: CallMetrics
    requests: list[RequestMetrics]


class CircuitRead(Model):
    """One API's circuit breaker: this process's, or every process's with Redis."""

    api_id: int
    state: Literal["closed", "open", "half_open"]
    failures_in_a_row: int
    retry_at: datetime | None = Field(description="While open: when a probe may go.")


class RuntimeRead(Model):
    """How the client's calls stand: in flight and circuits (over every process with
    Redis), and failed in this process."""

    in_flight: int
    max_in_flight: int
    failures: dict[str, int] = Field(description="Calls that did not succeed, by reason.")
    circuits: list[CircuitRead]
    redis: Literal["off", "connected", "disconnected"] = Field(
        description="Whether this process shares its state with the others through Redis "
        "(CALLOUT_REDIS_URL): off when unset; disconnected while Redis is lost, when this "
        "process keeps its own tokens, sessions, hold-offs, breakers and cap, and sees edits "
        "made through other processes after plan_ttl instead of at once.",
    )


class AuthorizeBody(Model):
    redirect_uri: str | None = Field(
        default=None,
        description="Where the provider sends the browser back; empty: Callout's own "
        "/api/v1/oauth/callback on CALLOUT_PUBLIC_URL.",
    )


class AuthorizeStart(Model):
    authorization_url: str = Field(description="Open this in a browser to authorize the API.")
    state: str
    redirect_uri: str
    expires_in: int = Field(description="Seconds the authorization may take.")


class AuthorizeDone(Model):
    api_id: int
    refresh_token_stored: bool
    message: str
