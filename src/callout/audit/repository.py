"""Queries for the audit trail of one client."""

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from callout.db.models import AuditEvent, Client
from callout.db.paging import page


class AuditRepository:
    def __init__(self, session: Session, client: Client) -> None:
        self.session = session
        self.client = client

    def readable(self) -> Select[AuditEvent]:
        return select(AuditEvent).where(AuditEvent.client_id == self.client.id)

    def page(
        self,
        *,
        object_type: str | None,
        object_id: int | None,
        action: str | None,
        limit: int,
        offset: int,
    ) -> tuple[Sequence[AuditEvent], int]:
        """Newest first."""
        stmt = self.readable()
        if object_type is not None:
            stmt = stmt.where(AuditEvent.object_type == object_type)
        if object_id is not None:
            stmt = stmt.where(AuditEvent.object_id == object_id)
        if action is not None:
            stmt = stmt.where(AuditEvent.action == action)
        return page(self.session, stmt, [AuditEvent.id.desc()], limit, offset)
