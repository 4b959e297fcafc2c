"""Use cases for clients, services and API keys, with the rules of who may see what."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callout.audit import service as audit
from callout.clients.access import Principal, matches, new_key, prefix_of
from callout.clients.repository import (
    ApiKeyRepository,
    ClientRepository,
    ServiceRepository,
    key_by_prefix,
)
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
from callout.db.engine import flush
from callout.db.models import ApiKey, Client, Service, utcnow
from callout.errors import Conflict, NotFound, Unauthenticated
from callout.schemas import CONTROL, Page, name_key


def authenticate(session: Session, key: str | None) -> Principal:
    """The principal a presented key acts as; an unknown or revoked key is refused alike."""
    if not key:
        raise Unauthenticated("send an API key: Authorization: Bearer callout_...")
    prefix = prefix_of(key)
    stored = key_by_prefix(session, prefix) if prefix else None
    if stored is None or stored.revoked_at is not None or not matches(key, stored.digest):
        raise Unauthenticated("the API key is unknown or revoked")
    return Principal(name=stored.name, role=stored.role, client_id=stored.client_id)  # type: ignore[arg-type]


def visible_client(session: Session, principal: Principal, code: str) -> Client:
    """The client `code` names, if this principal may see it; otherwise 404, never 403,
    so a key cannot even learn which other clients exist."""
    # A code with a control character names no client (and PostgreSQL refuses NUL in text).
    client = None if CONTROL.search(code) else ClientRepository(session).by_code(code)
    return check_visible(principal, client, code)


def check_visible(principal: Principal, client: Client | None, code: str) -> Client:
    """`client` (found by `code`), if this principal may see it; otherwise 404."""
    if client is None or not (principal.is_platform or principal.client_id == client.id):
        raise NotFound(f"no client {code!r}")
    return client


# One mapper per row type: what a client, a service and an API key read as.


def _client(row: Client) -> ClientRead:
    return ClientRead.model_validate(row, from_attributes=True)


def _service(row: Service) -> ServiceRead:
    return ServiceRead.model_validate(row, from_attributes=True)


def _api_key(row: ApiKey) -> ApiKeyRead:
    return ApiKeyRead.model_validate(row, from_attributes=True)


def list_clients(session: Session, principal: Principal) -> list[ClientRead]:
    repo = ClientRepository(session)
    if principal.is_platform:
        clients = list(repo.all())
    else:
        own = repo.by_id(principal.client_id) if principal.client_id else None
        clients = [own] if own else []
    return [_client(c) for c in clients]


def get_client(client: Client) -> ClientRead:
    return _client(client)


def create_client(session: Session, principal: Principal, data: ClientCreate) -> ClientRead:
    principal.require("platform")
    if ClientRepository(session).by_code(data.code) is not None:
        raise _client_taken(data.code)
    client = Client(code=data.code, name=data.name)
    session.add(client)
    flush(session, taken=_client_taken(data.code))
    return _client(client)


def _client_taken(code: str) -> Conflict:
    return Conflict.field("code", f"a client {code!r} exists already")


def update_client(
    session: Session, principal: Principal, client: Client, data: ClientUpdate
) -> ClientRead:
    principal.require("admin")
    stored = ClientRepository(session).by_id(client.id)
    if stored is None:
        raise NotFound(f"no client {client.code!r}")
    stored.name = data.name
    session.flush()
    return _client(stored)


def list_services(session: Session, client: Client, limit: int, offset: int) -> Page[ServiceRead]:
    rows, total = ServiceRepository(session, client).page(limit, offset)
    return Page(items=[_service(s) for s in rows], total=total, limit=limit, offset=offset)


def get_service(session: Session, client: Client, service_id: int) -> ServiceRead:
    return _service(_find_service(session, client, service_id))


def _find_service(session: Session, client: Client, service_id: int) -> Service:
    service = ServiceRepository(session, client).get(service_id)
    if service is None:
        raise NotFound(f"no service {service_id} in client {client.code!r}")
    return service


def create_service(
    session: Session, principal: Principal, client: Client, data: ServiceWrite
) -> ServiceRead:
    principal.require("editor")
    _check_service_name(session, client, data.name, None)
    service = Service(
        client_id=client.id,
        name=data.name,
        name_key=name_key(data.name),
        description=data.description,
    )
    session.add(service)
    flush(session, taken=_service_taken(data.name))
    audit.record(
        session,
        client.id,
        principal,
        "create",
        ("service", service.id, service.name),
        ["name", "description"],
    )
    return _service(service)


def update_service(
    session: Session, principal: Principal, client: Client, service_id: int, data: ServiceWrite
) -> ServiceRead:
    principal.require("editor")
    service = _find_service(session, client, service_id)
    _check_service_name(session, client, data.name, service)
    before = _service(service)
    service.name, service.name_key = data.name, name_key(data.name)
    service.description = data.description
    changed = audit.changed(before.model_dump(), _service(service).model_dump())
    if changed:  # a save that changes nothing is not an event of the audit
        flush(session, taken=_service_taken(data.name))
        audit.record(
            session, client.id, principal, "update", ("service", service.id, service.name), changed
        )
    return _service(service)


def delete_service(session: Session, principal: Principal, client: Client, service_id: int) -> None:
    principal.require("editor")
    service = _find_service(session, client, service_id)
    services = ServiceRepository(session, client)
    in_use = [
        f"{count} {what}"
        for count, what in (
            (services.api_count(service), "API(s)"),
            (services.designer_count(service), "designer(s)"),
        )
        if count
    ]
    if in_use:
        raise Conflict(
            f"service {service.name!r} is used by {' and '.join(in_use)}; move them to "
            "another service first"
        )
    audit.record(session, client.id, principal, "delete", ("service", service.id, service.name))
    session.delete(service)
    flush(session)  # an API given this service meanwhile makes it a conflict, not a 500


def _service_taken(name: str) -> Conflict:
    return Conflict.field("name", f"a service named {name!r} exists already")


def _check_service_name(
    session: Session, client: Client, name: str, current: Service | None
) -> None:
    same = ServiceRepository(session, client).by_name_key(name_key(name))
    if same is not None and same is not current:
        raise _service_taken(same.name)


def create_api_key(
    session: Session, principal: Principal, client: Client | None, data: ApiKeyCreate
) -> ApiKeyCreated:
    """A new key for `client`, or a platform-admin key when `client` is None; shown once."""
    principal.require("platform" if client is None else "admin")
    key, prefix, key_digest = new_key()
    stored = ApiKey(
        client_id=client.id if client else None,
        name=data.name,
        role="platform" if client is None else data.role,
        prefix=prefix,
        digest=key_digest,
    )
    session.add(stored)
    try:
        session.flush()
    except IntegrityError:  # a prefix collision: 48 random bits, so astronomically rare
        raise Conflict("could not allot a key prefix; try again") from None
    if client is not None:
        audit.record(
            session,
            client.id,
            principal,
            "create",
            ("api_key", stored.id, stored.name),
            ["name", "role"],
        )
    return ApiKeyCreated(**_api_key(stored).model_dump(), key=key)


def list_api_keys(
    session: Session, principal: Principal, client: Client, limit: int, offset: int
) -> Page[ApiKeyRead]:
    principal.require("admin")
    rows, total = ApiKeyRepository(session, client).page(limit, offset)
    return Page(items=[_api_key(k) for k in rows], total=total, limit=limit, offset=offset)


def revoke_api_key(session: Session, principal: Principal, client: Client, key_id: int) -> None:
    principal.require("admin")
    stored = ApiKeyRepository(session, client).get(key_id)
    if stored is None:
        raise NotFound(f"no API key {key_id} in client {client.code!r}")
    if stored.revoked_at is None:
        stored.revoked_at = utcnow()
        audit.record(session, client.id, principal, "delete", ("api_key", stored.id, stored.name))
    session.flush()
