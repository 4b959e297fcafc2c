"""Invoking a request through the REST API, and what comes back."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from callout.schemas import Model

Mode = Literal["live", "dry_run", "mock"]
OutcomeName = Literal["success", "failure", "timeout"]


class Context(Model):
    """What the caller knows, for `${loginData.agentId}`, `${responses.Login.sessionId}`..."""

    loginData: dict[str, Any] = {}  # noqa: N815 - the platform's own name
    call: dict[str, Any] = {}
    account: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    responses: dict[str, dict[str, Any]] = Field(
        default={}, description="Outputs of earlier requests, by request name."
    )


class InvokeBody(Model):
    parameters: dict[str, Any] = Field(default={}, description="Values of the request parameters.")
    context: Context = Context()
    mode: Mode = Field(
        default="live",
        description="live sends; dry_run returns the rendered request without sending; "
        "mock maps one of the request's sample responses instead of calling out.",
    )
    sample: str | None = Field(default=None, description="Sample response to use in mock mode.")


class HeaderView(Model):
    name: str
    value: str


class RequestView(Model):
    method: str
    url: str
    headers: list[HeaderView]
    body: str | None


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


class InvocationRead(Model):
    """One line of the invocation log."""

    invocation_id: str
    at: datetime
    actor: str
    api_id: int
    api_name: str
    request_id: int
    request_name: str
    mode: Mode
    outcome: OutcomeName
    reason: str | None
    status: int | None
    duration_ms: float


class CircuitRead(Model):
    """One API's circuit breaker in this process."""

    api_id: int
    state: Literal["closed", "open", "half_open"]
    failures_in_a_row: int
    retry_at: datetime | None = Field(description="While open: when a probe may go.")


class RuntimeRead(Model):
    """How the client's calls stand in this process: in flight, failed, and circuits."""

    in_flight: int
    max_in_flight: int
    failures: dict[str, int] = Field(description="Calls that did not succeed, by reason.")
    circuits: list[CircuitRead]


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
