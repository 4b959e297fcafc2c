"""REST route for a client's audit trail."""

from fastapi import APIRouter

from callout.audit import service
from callout.audit.schemas import Action, AuditEventRead, ObjectType
from callout.schemas import Page
from callout.web.deps import ClientDep, IdQuery, LimitQuery, OffsetQuery, SessionDep

router = APIRouter(prefix="/clients/{client}/audit", tags=["audit"])


@router.get("")
def list_events(
    session: SessionDep,
    client: ClientDep,
    object_type: ObjectType | None = None,
    object_id: IdQuery = None,
    action: Action | None = None,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> Page[AuditEventRead]:
    """Newest first."""
    return service.list_events(
        session,
        client,
        object_type=object_type,
        object_id=object_id,
        action=action,
        limit=limit,
        offset=offset,
    )
