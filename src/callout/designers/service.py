"""Use cases for designers: list, read, create, update, delete; which designers use an API;
and a condition checked as it is typed.

A designer is written whole. The rules that need no database live in its schemas; those that
do (names unique per client, a service of the same client, If-Match versions, FUNCTION CALLs
the client can make) live here and in `references.py`.
"""

from sqlalchemy.orm import Session

from callout.apis.definitions import did_you_mean
from callout.apis.service import check_version, find_api
from callout.audit import service as audit
from callout.audit.schemas import ObjectType
from callout.clients.access import Principal
from callout.clients.repository import ServiceRepository
from callout.db.engine import flush
from callout.db.models import Client, Designer, utcnow
from callout.designers import conditions, mappers, references
from callout.designers.repository import CallRepository, DesignerFilter, DesignerRepository
from callout.designers.schemas import (
    IN_CONTEXT,
    ConditionVerdict,
    DesignerRead,
    DesignerSummary,
    DesignerWrite,
    Usage,
    outside_context,
)
from callout.errors import Conflict, Invalid, NotFound
from callout.schemas import IfMatch, Page, id_named, name_key


def find_designer(session: Session, client: Client, designer_id: int) -> Designer:
    """The client's designer; otherwise 404, as for another client's."""
    designer = DesignerRepository(session, client).get(designer_id)
    if designer is None:
        raise NotFound(f"no designer {designer_id} in client {client.code!r}")
    return designer


def resolve(session: Session, client: Client, designer_ref: str) -> int:
    """A designer named by id or by name (ignoring case), as the CLI takes it."""
    designers = DesignerRepository(session, client)
    designer_id = id_named(designer_ref)
    found = designers.get(designer_id) if designer_id is not None else None
    found = found or designers.by_name_key(name_key(designer_ref))
    if found is None:
        close = did_you_mean(designer_ref, designers.names())
        raise NotFound(f"no designer {designer_ref!r} in client {client.code!r}{close}")
    return found.id


def list_designers(
    session: Session, client: Client, where: DesignerFilter, limit: int, offset: int
) -> Page[DesignerSummary]:
    rows, total = DesignerRepository(session, client).page(where, limit, offset)
    items = [mappers.summary(row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def get_designer(session: Session, client: Client, designer_id: int) -> DesignerRead:
    """The designer as saved: what a read answers and what an event is fired from."""
    return mappers.read(find_designer(session, client, designer_id))


def create_designer(
    session: Session, principal: Principal, client: Client, data: DesignerWrite
) -> DesignerRead:
    principal.require("editor")
    _check_name(session, client, data.name, None)
    _check_service(session, client, data.service_id)
    references.check_calls(session, client, data)
    designer = Designer(client_id=client.id, **mappers.columns(data))
    session.add(designer)
    flush(session, taken=_taken(data.name))
    _write_calls(session, client, designer, data)
    audit.record(session, client.id, principal, "create", _about(designer), data.model_fields_set)
    return mappers.read(designer)


def update_designer(
    session: Session,
    principal: Principal,
    client: Client,
    designer_id: int,
    if_match: IfMatch | None,
    data: DesignerWrite,
) -> DesignerRead:
    """Replace the designer's pages and events; a save that changes nothing writes nothing."""
    principal.require("editor")
    designer = find_designer(session, client, designer_id)
    check_version("designer", designer.name, designer.version, if_match)
    _check_name(session, client, data.name, designer)
    _check_service(session, client, data.service_id)
    references.check_calls(session, client, data)
    before = mappers.stored(designer)
    for column, value in mappers.columns(data).items():
        setattr(designer, column, value)
    changed = audit.changed(before, mappers.stored(designer))
    if changed:
        designer.updated_at = utcnow()
        flush(session, taken=_taken(data.name), stale=f"designer {designer.name!r}")
        if "events" in changed:
            _write_calls(session, client, designer, data)
        audit.record(session, client.id, principal, "update", _about(designer), changed)
    return mappers.read(designer)


def _write_calls(session: Session, client: Client, designer: Designer, data: DesignerWrite) -> None:
    """Store what the designer's FUNCTION CALLs call. An API or request deleted since it was
    checked fails the flush on its foreign key: a conflict, reload and try again."""
    CallRepository(session, client).replace(designer, mappers.calls(designer, data))
    flush(session)


def delete_designer(
    session: Session,
    principal: Principal,
    client: Client,
    designer_id: int,
    if_match: IfMatch | None,
) -> None:
    principal.require("editor")
    designer = find_designer(session, client, designer_id)
    check_version("designer", designer.name, designer.version, if_match)
    audit.record(session, client.id, principal, "delete", _about(designer))
    session.delete(designer)  # its calls go with it (ON DELETE CASCADE)
    flush(session, stale=f"designer {designer.name!r}")


def check_condition(expression: str) -> ConditionVerdict:
    """A condition's text judged as a save judges it (the same parser, the same context
    rule), so an editor can check it as it is typed: a refusal is a verdict, not an error."""
    try:
        conditions.parse(expression)
    except conditions.ConditionError as error:
        return ConditionVerdict(
            valid=False, message=error.message, line=error.line, column=error.column
        )
    outside = outside_context(expression)
    if outside is not None:
        return ConditionVerdict(valid=False, message=IN_CONTEXT, line=outside[0], column=outside[1])
    return ConditionVerdict(valid=True)


def list_usages(
    session: Session, client: Client, api_id: int, limit: int, offset: int
) -> Page[Usage]:
    """The FUNCTION CALLs of this client's designers that call the API (the client's own or
    a system API), by designer name."""
    api = find_api(session, client, api_id)
    rows, total = CallRepository(session, client).page_of_api(api.id, limit, offset)
    items = [mappers.usage(row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def _about(designer: Designer) -> tuple[ObjectType, int, str]:
    return ("designer", designer.id, designer.name)


def _check_name(session: Session, client: Client, name: str, current: Designer | None) -> None:
    same = DesignerRepository(session, client).by_name_key(name_key(name))
    if same is not None and same is not current:
        raise _taken(same.name)


def _taken(name: str) -> Conflict:
    return Conflict.field("name", f"a designer named {name!r} exists already")


def _check_service(session: Session, client: Client, service_id: int | None) -> None:
    if service_id is not None and ServiceRepository(session, client).get(service_id) is None:
        raise Invalid.field("service_id", f"no service {service_id} in client {client.code!r}")
