"""REST routes for clients, their services and their API keys."""

from fastapi import APIRouter, Response, status

from callout.clients import service
from callout.clients.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    ClientCreate,
    ClientRead,
    ClientUpdate,
    ServiceRead,
    ServiceWrite,
)
from callout.schemas import Page
from callout.web.deps import ClientDep, IdPath, LimitQuery, OffsetQuery, PrincipalDep, SessionDep

router = APIRouter(prefix="/clients", tags=["clients"])


@router.get("")
def list_clients(session: SessionDep, principal: PrincipalDep) -> list[ClientRead]:
    """Every client for a platform key; a client's own key sees only its client."""
    return service.list_clients(session, principal)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_client(session: SessionDep, principal: PrincipalDep, data: ClientCreate) -> ClientRead:
    return service.create_client(session, principal, data)


@router.get("/{client}")
def get_client(client: ClientDep) -> ClientRead:
    return service.get_client(client)


@router.put("/{client}")
def update_client(
    session: SessionDep, principal: PrincipalDep, client: ClientDep, data: ClientUpdate
) -> ClientRead:
    return service.update_client(session, principal, client, data)


@router.get("/{client}/services", tags=["services"])
def list_services(
    session: SessionDep,
    client: ClientDep,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> Page[ServiceRead]:
    """By name."""
    return service.list_services(session, client, limit, offset)


@router.post("/{client}/services", status_code=status.HTTP_201_CREATED, tags=["services"])
def create_service(
    session: SessionDep, principal: PrincipalDep, client: ClientDep, data: ServiceWrite
) -> ServiceRead:
    return service.create_service(session, principal, client, data)


@router.get("/{client}/services/{service_id}", tags=["services"])
def get_service(session: SessionDep, client: ClientDep, service_id: IdPath) -> ServiceRead:
    return service.get_service(session, client, service_id)


@router.put("/{client}/services/{service_id}", tags=["services"])
def update_service(
    session: SessionDep,
    principal: PrincipalDep,
    client: ClientDep,
    service_id: IdPath,
    data: ServiceWrite,
) -> ServiceRead:
    return service.update_service(session, principal, client, service_id, data)


@router.delete(
    "/{client}/services/{service_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["services"],
)
def delete_service(
    session: SessionDep, principal: PrincipalDep, client: ClientDep, service_id: IdPath
) -> Response:
    service.delete_service(session, principal, client, service_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{client}/api-keys", tags=["api keys"])
def list_api_keys(
    session: SessionDep,
    principal: PrincipalDep,
    client: ClientDep,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> Page[ApiKeyRead]:
    """Oldest first, revoked ones included."""
    return service.list_api_keys(session, principal, client, limit, offset)


@router.post("/{client}/api-keys", status_code=status.HTTP_201_CREATED, tags=["api keys"])
def create_api_key(
    session: SessionDep, principal: PrincipalDep, client: ClientDep, data: ApiKeyCreate
) -> ApiKeyCreated:
    """A new key for this client; the key itself is in this answer only."""
    return service.create_api_key(session, principal, client, data)


@router.delete(
    "/{client}/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["api keys"],
)
def revoke_api_key(
    session: SessionDep, principal: PrincipalDep, client: ClientDep, key_id: IdPath
) -> Response:
    service.revoke_api_key(session, principal, client, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
