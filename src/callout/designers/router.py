"""REST routes for a client's designers.

Reads answer with an ETag; writes of an existing designer need it back in If-Match.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import AfterValidator

from callout.designers import engine, service
from callout.designers.effects import FireBody, FireResult
from callout.designers.repository import DesignerFilter
from callout.designers.schemas import (
    ConditionCheck,
    ConditionVerdict,
    DesignerRead,
    DesignerSummary,
    DesignerWrite,
)
from callout.schemas import Page, no_control
from callout.web.deps import (
    CallerDep,
    ClientDep,
    DesignersDep,
    IdPath,
    IdQuery,
    IfMatchDep,
    LimitQuery,
    OffsetQuery,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    located,
)

router = APIRouter(prefix="/clients/{client}/designers", tags=["designers"])


@router.get("")
def list_designers(
    session: SessionDep,
    client: ClientDep,
    service_id: IdQuery = None,
    search: Annotated[
        Annotated[str, AfterValidator(no_control)] | None,
        Query(max_length=100, description="Part of the name."),
    ] = None,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> Page[DesignerSummary]:
    """By name."""
    where = DesignerFilter(service_id=service_id, search=search)
    return service.list_designers(session, client, where, limit, offset)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_designer(
    session: SessionDep,
    principal: PrincipalDep,
    client: ClientDep,
    data: DesignerWrite,
    response: Response,
) -> DesignerRead:
    """Every FUNCTION CALL must name an API and request the client can call, and map each
    required parameter that has no default."""
    designer = service.create_designer(session, principal, client, data)
    location = f"/api/v1/clients/{client.code}/designers/{designer.id}"
    located(response, designer.version, location)
    return designer


# Before the `/{designer_id}` routes, so that no id pattern ever captures it.
@router.post("/conditions/check", response_model_exclude_none=True)
def check_condition(client: ClientDep, body: ConditionCheck) -> ConditionVerdict:
    """Whether a save would take this condition, and if not why and where: answered 200
    either way, so an editor can ask as the user types. Any key of the client may ask."""
    return service.check_condition(body.expression)


@router.get("/{designer_id}")
def get_designer(
    session: SessionDep, client: ClientDep, designer_id: IdPath, response: Response
) -> DesignerRead:
    designer = service.get_designer(session, client, designer_id)
    located(response, designer.version)
    return designer


@router.put("/{designer_id}")
def update_designer(
    session: SessionDep,
    principal: PrincipalDep,
    client: ClientDep,
    designer_id: IdPath,
    if_match: IfMatchDep,
    data: DesignerWrite,
    response: Response,
) -> DesignerRead:
    """Replace the designer whole: its pages, events, conditions and actions."""
    designer = service.update_designer(session, principal, client, designer_id, if_match, data)
    located(response, designer.version)
    return designer


@router.delete("/{designer_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_designer(
    session: SessionDep,
    principal: PrincipalDep,
    client: ClientDep,
    designer_id: IdPath,
    if_match: IfMatchDep,
) -> Response:
    service.delete_designer(session, principal, client, designer_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


EventPath = Annotated[
    str,
    Path(min_length=1, max_length=100, description="Login, In Call... or a user event's name."),
]


@router.post(
    "/{designer_id}/events/{event}/fire",
    response_model=FireResult,
    responses={404: {"description": "No such designer, or no such event in it."}},
)
async def fire(
    caller: CallerDep,
    designers: DesignersDep,
    settings: SettingsDep,
    designer_id: IdPath,
    event: EventPath,
    body: Annotated[FireBody | None, Body()] = None,
) -> Response:
    """Fire the event with the contact's context: its conditions are evaluated in order and
    the actions of each that holds run in order, each FUNCTION CALL's outputs feeding the
    later ones. Answers the effects the desktop must apply, in order, and how each action
    went; a failed call is in the answer, not an error status."""
    result = await engine.fire(
        caller.runtime,
        caller.admission,
        caller.keys,
        designers,
        caller.principal,
        caller.client,
        designer_id,
        event,
        body or FireBody(),
        settings.fire_deadline,
    )
    # Serialized here, once: the result was validated as it was built.
    return Response(result.model_dump_json(), media_type="application/json")
