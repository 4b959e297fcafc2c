"""Use cases for clients, services and API keys, with the rules of who may see what."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callout.audit import service as audit
from callout.clients.access import Principal, matches, new_key, prefix_of
from callout.clients.repository import ApiKeyRepository, ClientRepository, ServiceRepository
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
    stored = ApiKeyRepository(session).by_prefix(prefix) if prefix else None
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


def list_clients(session: Session, principal: Principal) -> list[ClientRead]:
    repo = ClientRepository(session)
    if principal.is_platform:
        clients = list(repo.all())
    else:
        own = repo.by_id(principal.client_id) if principal.client_id else None
        clients = [own] if own else []
    return [ClientRead.model_validate(c, from_attributes=True) for c in clients]


def create_client(session: Session, principal: Principal, data: ClientCreate) -> Client:
    principal.require("platform")
    if ClientRepository(session).by_code(data.code) is not None:
        raise Conflict.field("code", f"a client {data.code!r} exists already")
    client = Client(code=data.code, name=data.name)
    session.add(client)
    flush(session, taken=Conflict.field("code", f"a client {data.code!r} exists already"))
    return client


def update_client(
    session: Session, principal: Principal, client: Client, data: ClientUpdate
) -> Client:
    principal.require("admin")
    stored = ClientRepository(session).by_id(client.id)
    if stored is None:
        raise NotFound(f"no client {client.code!r}")
    stored.name = data.name
    session.flush()
    return stored


def list_services(session: Session, client: Client, limit: int, offset: int) -> Page[ServiceRead]:
    rows, total = ServiceRepository(session, client).page(limit, offset)
    items = [ServiceRead.model_validate(s, from_attributes=True) for s in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def get_service(session: Session, client: Client, service_id: int) -> Service:
    service = ServiceRepository(session, client).get(service_id)
    if service is None:
        raise NotFound(f"no service {service_id} in client {client.code!r}")
    return service


def create_service(
    session: Session, principal: Principal, client: Client, data: ServiceWrite
) -> Service:
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
    return service


def update_service(
    session: Session, principal: Principal, client: Client, service_id: int, data: ServiceWrite
) -> Service:
    principal.require("editor")
    service = get_service(session, client, service_id)
    _check_service_name(session, client, data.name, service)
    changed = [f for f in ("name", "description") if getattr(service, f) != getattr(data, f)]
    service.name, service.name_key = data.name, name_key(data.name)
    service.description = data.description
    if changed:  # a save that changes nothing is not an event of the audit
        flush(session, taken=_service_taken(data.name))
        audit.record(
            session, client.id, principal, "update", ("service", service.id, service.name), changed
        )
    return service


def delete_service(session: Session, principal: Principal, client: Client, service_id: int) -> None:
    principal.require("editor")
    service = get_service(session, client, service_id)
    in_use = ServiceRepository(session, client).api_count(service)
    if in_use:
        raise Conflict(
            f"service {service.name!r} is used by {in_use} API(s); move them to another "
            "service first"
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
    read = ApiKeyRead.model_validate(stored, from_attributes=True)
    return ApiKeyCreated(**read.model_dump(), key=key)


def list_api_keys(
    session: Session, principal: Principal, client: Client, limit: int, offset: int
) -> Page[ApiKeyRead]:
    principal.require("admin")
    rows, total = ApiKeyRepository(session).page_of_client(client, limit, offset)
    items = [ApiKeyRead.model_validate(k, from_attributes=True) for k in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def revoke_api_key(session: Session, principal: Principal, client: Client, key_id: int) -> None:
    principal.require("admin")
    stored = ApiKeyRepository(session).get(client, key_id)
    if stored is None:
        raise NotFound(f"no API key {key_id} in client {client.code!r}")
    if stored.revoked_at is None:
        stored.revoked_at = utcnow()
        audit.record(session, client.id, principal, "delete", ("api_key", stored.id, stored.name))
    session.flush()
