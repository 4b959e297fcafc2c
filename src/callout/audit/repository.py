"""Queries for the audit trail of one client."""

from collections.abc import Sequence

from sqlalchemy import Select, delete, select
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

    def oldest_first(self) -> Sequence[AuditEvent]:
        """The whole trail, in the order it was recorded: what a backup keeps."""
        return self.session.scalars(self.readable().order_by(AuditEvent.id)).all()

    def forget_all(self) -> None:
        """Remove the client's whole trail: a restore replaces what its own writes recorded
        with the trail it restores."""
        self.session.execute(delete(AuditEvent).where(AuditEvent.client_id == self.client.id))
