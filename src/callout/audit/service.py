"""Recording and reading the audit trail."""

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from callout.audit.repository import AuditRepository
from callout.audit.schemas import Action, AuditEventRead, ObjectType
from callout.clients.access import Principal
from callout.db.models import AuditEvent, Client
from callout.schemas import Page


def record(
    session: Session,
    client_id: int,
    principal: Principal,
    action: Action,
    obj: tuple[ObjectType, int, str],
    changed: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one event; `obj` is (type, id, name). Pass field names in `changed`, never values."""
    object_type, object_id, object_name = obj
    session.add(
        AuditEvent(
            client_id=client_id,
            actor=principal.actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_name=object_name,
            changed=sorted(changed),
            detail=detail or {},
        )
    )


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    """The fields whose values differ between two states of an object: what an update names."""
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def list_events(
    session: Session,
    client: Client,
    *,
    object_type: ObjectType | None = None,
    object_id: int | None = None,
    action: Action | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[AuditEventRead]:
    rows, total = AuditRepository(session, client).page(
        object_type=object_type, object_id=object_id, action=action, limit=limit, offset=offset
    )
    items = [AuditEventRead.model_validate(row, from_attributes=True) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)
