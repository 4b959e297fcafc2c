"""REST routes that run requests: invoke, test, and the invocation log."""

from typing import Annotated

from fastapi import APIRouter, Query

from callout.invocations import service
from callout.invocations.schemas import InvocationRead, InvokeBody, InvokeResult, TracedResult
from callout.schemas import Page
from callout.web.deps import ClientDep, IdPath, KeyringDep, PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/clients/{client}", tags=["invocations"])
REQUEST = "/apis/{api_id}/requests/{request_id}"


@router.post(
    REQUEST + "/invoke",
    responses={
        422: {"description": "A parameter is missing or of the wrong type."},
        502: {"description": "The upstream failed: its status, a transport error, mapping."},
        504: {"description": "The call's deadline passed."},
    },
)
async def invoke(
    runtime: RuntimeDep,
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    api_id: IdPath,
    request_id: IdPath,
    body: InvokeBody,
) -> InvokeResult:
    """Call the request. Success answers 200; a failure or timeout answers problem+json
    with `outcome`, `reason` and `upstream_status`, so a script can take its branch."""
    outcome = await service.invoke(
        runtime, session, keyring, principal, client, api_id, request_id, body
    )
    return service.result(outcome)


@router.post(REQUEST + "/test")
async def test(
    runtime: RuntimeDep,
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    api_id: IdPath,
    request_id: IdPath,
    body: InvokeBody,
) -> TracedResult:
    """Call the request and answer 200 whatever the outcome, with the whole trace: the
    request as sent, each step's timing, the response and the outputs, secrets masked."""
    outcome = await service.invoke(
        runtime,
        session,
        keyring,
        principal,
        client,
        api_id,
        request_id,
        body,
        trace=True,
    )
    return service.traced(outcome)


@router.get("/invocations")
def invocations(
    runtime: RuntimeDep,
    client: ClientDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[InvocationRead]:
    """This process's latest calls for the client, newest first."""
    return service.log_page(runtime, client, limit, offset)
