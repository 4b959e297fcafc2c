"""REST routes that run requests (invoke, test) and read what they did (the invocation
history, each API's metrics)."""

import asyncio
from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import AwareDatetime

from callout.invocations import authorize as authorize_flow
from callout.invocations import service
from callout.invocations.repository import InvocationFilter
from callout.invocations.schemas import (
    ApiMetrics,
    AuthorizeBody,
    AuthorizeDone,
    AuthorizeStart,
    InvocationDetail,
    InvocationRead,
    InvokeBody,
    InvokeResult,
    OutcomeName,
    RuntimeRead,
    TracedResult,
    Window,
)
from callout.runtime.executor import Outcome
from callout.schemas import Page
from callout.web.deps import (
    Caller,
    CallerDep,
    ClientDep,
    DatabaseDep,
    IdPath,
    IdQuery,
    KeyringDep,
    KeysDep,
    OffsetQuery,
    PrincipalDep,
    RuntimeDep,
    SessionDep,
    SettingsDep,
)

router = APIRouter(prefix="/clients/{client}", tags=["invocations"])
REQUEST = "/apis/{api_id}/requests/{request_id}"


@router.post(
    REQUEST + "/invoke",
    response_model=InvokeResult,
    responses={
        422: {"description": "A parameter is missing or of the wrong type."},
        429: {"description": "The client has as many calls in flight as it may."},
        502: {"description": "The upstream failed: its status, a transport error, mapping."},
        503: {"description": "The API's circuit is open after repeated failures."},
        504: {"description": "The call's deadline passed."},
    },
)
async def invoke(
    caller: CallerDep, api_id: IdPath, request_id: IdPath, body: InvokeBody
) -> Response:
    """Call the request. Success answers 200; a failure or timeout answers problem+json
    with `outcome`, `reason` and `upstream_status`, so a script can take its branch."""
    outcome = await _run(caller, api_id, request_id, body)
    # Serialized here, once: the result was validated as it was built (FastAPI would
    # validate and encode it again).
    return Response(service.result(outcome).model_dump_json(), media_type="application/json")


@router.post(REQUEST + "/test")
async def test(
    caller: CallerDep, api_id: IdPath, request_id: IdPath, body: InvokeBody
) -> TracedResult:
    """Call the request and answer 200 whatever the outcome, with the whole trace: the
    request as sent, each step's timing, the response and the outputs, secrets masked."""
    return TracedResult.of(await _run(caller, api_id, request_id, body, trace=True))


def _run(
    caller: Caller, api_id: int, request_id: int, body: InvokeBody, *, trace: bool = False
) -> Awaitable[Outcome]:
    return service.invoke(
        caller.runtime,
        caller.admission,
        caller.keys,
        caller.principal,
        caller.client,
        api_id,
        request_id,
        body,
        trace=trace,
    )


Moment = Annotated[AwareDatetime | None, Query(description="RFC 3339, e.g. 2026-12-05T09:00:00Z")]


@router.get("/invocations")
def invocations(
    session: SessionDep,
    client: ClientDep,
    api_id: IdQuery = None,
    request_id: IdQuery = None,
    outcome: OutcomeName | None = None,
    since: Moment = None,
    until: Moment = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: OffsetQuery = 0,
) -> Page[InvocationRead]:
    """The client's invokes and tests from every process, newest first; `since` inclusive,
    `until` exclusive. A call shows here within CALLOUT_HISTORY_FLUSH_SECONDS."""
    where = InvocationFilter(
        api_id=api_id, request_id=request_id, outcome=outcome, since=since, until=until
    )
    return service.list_invocations(session, client, where, limit, offset)


@router.get("/invocations/{invocation_id}")
def invocation(
    session: SessionDep,
    client: ClientDep,
    invocation_id: Annotated[str, Path(pattern="^[0-9a-f]{1,40}$")],
) -> InvocationDetail:
    """One call, with the trace of a failed test."""
    return service.get_invocation(session, client, invocation_id)


@router.get("/apis/{api_id}/metrics")
def api_metrics(
    session: SessionDep,
    client: ClientDep,
    api_id: IdPath,
    window: Window = "1h",
) -> ApiMetrics:
    """How the client's invokes of the API went over the last hour, day or week, per
    request and in total: calls by outcome and by reason, and p50/p95/p99 duration."""
    return service.api_metrics(session, client, api_id, window)


@router.get("/runtime")
async def runtime_state(runtime: RuntimeDep, client: ClientDep) -> RuntimeRead:
    """The client's calls: how many are in flight against the cap, how many failed by reason
    in this process (blocked_address, too_large, circuit_open, too_many_calls, timeout...),
    each API's circuit breaker, and whether this process hears the other processes' commits
    through Redis. With Redis, calls in flight and circuits are those of every process."""
    return await service.state(runtime, client)


@router.post("/apis/{api_id}/authorize", tags=["oauth"])
async def authorize(
    runtime: RuntimeDep,
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    settings: SettingsDep,
    api_id: IdPath,
    body: Annotated[AuthorizeBody | None, Body()] = None,
) -> AuthorizeStart:
    """Start the authorization_code flow: open `authorization_url` in a browser; the
    provider sends it back to `redirect_uri`, where Callout keeps the refresh token."""
    redirect_uri = (body.redirect_uri if body else None) or settings.oauth_callback
    start, pending = await asyncio.to_thread(
        authorize_flow.prepare, session, keyring, principal, client, api_id, redirect_uri
    )
    await authorize_flow.remember(runtime.executor.store, start.state, pending)
    return start


# The provider's redirect carries no API key: the one-time state is what it proves.
callback_router = APIRouter(tags=["oauth"])


@callback_router.get("/oauth/callback")
async def oauth_callback(
    runtime: RuntimeDep,
    database: DatabaseDep,
    keys: KeysDep,
    state: Annotated[str, Query(max_length=200)],
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> AuthorizeDone:
    """Where the provider sends the browser back after an authorization."""
    return await authorize_flow.complete(
        runtime.executor.store, runtime.executor.http, database, keys, state, code, error
    )
