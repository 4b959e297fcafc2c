"""REST routes for a client's APIs (its own and the system ones) and their requests.

Reads answer with an ETag; writes of an existing API or request need it back in If-Match.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response, status
from pydantic import AfterValidator

from callout.apis import request_service, service
from callout.apis.api_types import ApiType
from callout.apis.repository import ApiFilter
from callout.apis.schemas import (
    ApiRead,
    ApiSummary,
    ApiWrite,
    Blank,
    CopyApi,
    CopyName,
    RequestRead,
    RequestWrite,
)
from callout.designers import service as designers
from callout.designers.schemas import Usage
from callout.schemas import Page, no_control
from callout.web.deps import (
    ClientDep,
    IdPath,
    IdQuery,
    IfMatchDep,
    KeyringDep,
    LimitQuery,
    OffsetQuery,
    PrincipalDep,
    SessionDep,
    located,
)

router = APIRouter(prefix="/clients/{client}/apis", tags=["apis"])


@router.get("")
def list_apis(
    session: SessionDep,
    client: ClientDep,
    kind: Literal["all", "client", "system"] = "all",
    type: ApiType | None = None,
    service_id: IdQuery = None,
    search: Annotated[
        Annotated[str, AfterValidator(no_control)] | None,
        Query(max_length=100, description="Part of the name."),
    ] = None,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> Page[ApiSummary]:
    """The client's own APIs first, then the system APIs, each by name."""
    where = ApiFilter(kind=kind, type=type, service_id=service_id, search=search)
    return service.list_apis(session, client, where, limit, offset)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_api(
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    data: ApiWrite,
    response: Response,
) -> ApiRead:
    api = service.create_api(session, keyring, principal, client, data)
    located(response, api.version, f"/api/v1/clients/{client.code}/apis/{api.id}")
    return api


@router.post("/new", status_code=status.HTTP_201_CREATED)
def new_api(
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    response: Response,
    blank: Annotated[Blank | None, Body()] = None,
) -> ApiRead:
    """Add API: an API made at once, named "New API" or the first free "New API N", of type
    api without authorization, pointing at a placeholder base URL until edited."""
    api = service.new_api(session, keyring, principal, client)
    located(response, api.version, f"/api/v1/clients/{client.code}/apis/{api.id}")
    return api


@router.get("/{api_id:id}")
def get_api(session: SessionDep, client: ClientDep, api_id: IdPath, response: Response) -> ApiRead:
    """The API with its requests; secrets read as a mask plus `has_<field>`."""
    api = service.get_api(session, client, api_id)
    located(response, api.version)
    return api


@router.put("/{api_id:id}")
def update_api(
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    api_id: IdPath,
    if_match: IfMatchDep,
    data: ApiWrite,
    response: Response,
) -> ApiRead:
    """Replace the API's settings; a secret sent back as the mask keeps its stored value."""
    api = service.update_api(session, keyring, principal, client, api_id, if_match, data)
    located(response, api.version)
    return api


@router.delete("/{api_id:id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_api(
    session: SessionDep,
    principal: PrincipalDep,
    client: ClientDep,
    api_id: IdPath,
    if_match: IfMatchDep,
) -> Response:
    service.delete_api(session, principal, client, api_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{api_id:id}/usages")
def list_usages(
    session: SessionDep,
    client: ClientDep,
    api_id: IdPath,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> Page[Usage]:
    """The FUNCTION CALLs of the client's designers that call this API, by designer name:
    what must change before the API, or one of its requests, can be deleted."""
    return designers.list_usages(session, client, api_id, limit, offset)


@router.get("/{api_id:id}/copy-name")
def offered_copy_name(session: SessionDep, client: ClientDep, api_id: IdPath) -> CopyName:
    """The name the copy prompt offers: "Copy of NAME", made unique."""
    return CopyName(name=service.offered_copy_name(session, client, api_id))


@router.post("/{api_id:id}/copy", status_code=status.HTTP_201_CREATED)
def copy_api(
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    api_id: IdPath,
    response: Response,
    data: Annotated[CopyApi | None, Body()] = None,
) -> ApiRead:
    """Copy an API (the client's own or a system API) with its requests into the library."""
    name = data.name if data else None
    api = service.copy_api(session, keyring, principal, client, api_id, name)
    located(response, api.version, f"/api/v1/clients/{client.code}/apis/{api.id}")
    return api


@router.get("/{api_id:id}/requests", tags=["requests"])
def list_requests(
    session: SessionDep,
    client: ClientDep,
    api_id: IdPath,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> Page[RequestRead]:
    """In the order they were made."""
    return request_service.list_requests(session, client, api_id, limit, offset)


@router.post("/{api_id:id}/requests", status_code=status.HTTP_201_CREATED, tags=["requests"])
def create_request(
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    api_id: IdPath,
    data: RequestWrite,
    response: Response,
) -> RequestRead:
    request = request_service.create_request(session, keyring, principal, client, api_id, data)
    location = f"/api/v1/clients/{client.code}/apis/{api_id}/requests/{request.id}"
    located(response, request.version, location)
    return request


@router.post("/{api_id:id}/requests/new", status_code=status.HTTP_201_CREATED, tags=["requests"])
def new_request(
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    api_id: IdPath,
    response: Response,
    blank: Annotated[Blank | None, Body()] = None,
) -> RequestRead:
    """Add Request: a GET made at once under the API, named "New Request" or the first free
    "New Request N" in it (under a Slack or Teams API, the POST of a message)."""
    request = request_service.new_request(session, keyring, principal, client, api_id)
    location = f"/api/v1/clients/{client.code}/apis/{api_id}/requests/{request.id}"
    located(response, request.version, location)
    return request


@router.get("/{api_id:id}/requests/{request_id:id}", tags=["requests"])
def get_request(
    session: SessionDep, client: ClientDep, api_id: IdPath, request_id: IdPath, response: Response
) -> RequestRead:
    request = request_service.get_request(session, client, api_id, request_id)
    located(response, request.version)
    return request


@router.put("/{api_id:id}/requests/{request_id:id}", tags=["requests"])
def update_request(
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    api_id: IdPath,
    request_id: IdPath,
    if_match: IfMatchDep,
    data: RequestWrite,
    response: Response,
) -> RequestRead:
    request = request_service.update_request(
        session, keyring, principal, client, api_id, request_id, if_match, data
    )
    located(response, request.version)
    return request


@router.delete(
    "/{api_id:id}/requests/{request_id:id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["requests"],
)
def delete_request(
    session: SessionDep,
    principal: PrincipalDep,
    client: ClientDep,
    api_id: IdPath,
    request_id: IdPath,
    if_match: IfMatchDep,
) -> Response:
    request_service.delete_request(session, principal, client, api_id, request_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
