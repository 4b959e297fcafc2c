"""Queries for APIs and requests, always through one client's `readable()` statement.

A client reads its own APIs and the system APIs; it writes only its own. No query here
starts anywhere else, so none can forget the client.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from callout.db.models import Api, Client, Request


@dataclass(frozen=True)
class ApiFilter:
    kind: str = "all"  # "client", "system" or "all"
    type: str | None = None
    service_id: int | None = None
    search: str | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ApiRepository:
    def __init__(self, session: Session, client: Client) -> None:
        self.session = session
        self.client = client

    def readable(self) -> Select[Api]:
        return select(Api).where(or_(Api.client_id == self.client.id, Api.client_id.is_(None)))

    def get(self, api_id: int, *, with_requests: bool = False) -> Api | None:
        stmt = self.readable().where(Api.id == api_id)
        if with_requests:
            stmt = stmt.options(selectinload(Api.requests))
        return self.session.scalar(stmt)

    def by_name_key(self, key: str) -> Api | None:
        """A client API of this client with this name, ignoring case."""
        stmt = self.readable().where(Api.client_id == self.client.id, Api.name_key == key)
        return self.session.scalar(stmt)

    def name_keys_like(self, prefix_key: str) -> set[str]:
        stmt = (
            select(Api.name_key)
            .where(Api.client_id == self.client.id)
            .where(Api.name_key.like(_escape_like(prefix_key) + "%", escape="\\"))
        )
        return set(self.session.scalars(stmt))

    def page(self, where: ApiFilter, limit: int, offset: int) -> tuple[Sequence[Api], int]:
        stmt = self.readable()
        if where.kind == "client":
            stmt = stmt.where(Api.client_id == self.client.id)
        elif where.kind == "system":
            stmt = stmt.where(Api.client_id.is_(None))
        if where.type:
            stmt = stmt.where(Api.type == where.type)
        if where.service_id is not None:
            stmt = stmt.where(Api.service_id == where.service_id)
        if where.search:
            pattern = "%" + _escape_like(where.search.strip().casefold()) + "%"
            stmt = stmt.where(Api.name_key.like(pattern, escape="\\"))
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        # Client APIs first, then system APIs; by name within each.
        ordered = stmt.order_by(Api.client_id.is_(None), Api.name_key, Api.id)
        return self.session.scalars(ordered.limit(limit).offset(offset)).all(), total


class RequestRepository:
    def __init__(self, session: Session, client: Client) -> None:
        self.session = session
        self.client = client

    def readable(self) -> Select[Request]:
        return (
            select(Request)
            .join(Api, Request.api_id == Api.id)
            .where(or_(Api.client_id == self.client.id, Api.client_id.is_(None)))
        )

    def of_api(self, api: Api) -> Sequence[Request]:
        return self.session.scalars(
            self.readable().where(Request.api_id == api.id).order_by(Request.id)
        ).all()

    def get(self, api: Api, request_id: int) -> Request | None:
        stmt = self.readable().where(Request.api_id == api.id, Request.id == request_id)
        return self.session.scalar(stmt)

    def by_name_key(self, api: Api, key: str) -> Request | None:
        stmt = self.readable().where(Request.api_id == api.id, Request.name_key == key)
        return self.session.scalar(stmt)
