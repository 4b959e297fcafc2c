"""Queries for APIs and requests, always through one client's `readable()` statement.

A client reads its own APIs and the system APIs; it writes only its own. No query here
starts anywhere else, so none can forget the client; the one exception is named for it:
`every_system_api()`, for the catalogue sync that writes the system APIs.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from callout.db.models import Api, Client, Request, Secret
from callout.db.paging import escape_like, page
from callout.schemas import name_key


@dataclass(frozen=True)
class ApiFilter:
    kind: str = "all"  # "client", "system" or "all"
    type: str | None = None
    service_id: int | None = None
    search: str | None = None


def every_system_api() -> Select[Api]:
    """Every system API, platform-wide by design: they belong to no client, and the
    catalogue sync that writes them answers to none."""
    return select(Api).where(Api.client_id.is_(None))


class SystemApiRepository:
    """The stored catalogue, as the sync brings it in line with the files."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_slug(self) -> dict[str | None, Api]:
        """Every system API with its requests, by its catalogue slug."""
        stmt = every_system_api().options(selectinload(Api.requests))
        return {api.slug: api for api in self.session.scalars(stmt)}


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

    def among(self, api_ids: Collection[int]) -> dict[int, Api]:
        """The APIs this client may read among these ids, by id."""
        stmt = self.readable().where(Api.id.in_(api_ids))
        return {api.id: api for api in self.session.scalars(stmt)}

    def by_name_key(self, key: str) -> Api | None:
        """A client API of this client with this name, ignoring case."""
        stmt = self.readable().where(Api.client_id == self.client.id, Api.name_key == key)
        return self.session.scalar(stmt)

    def named(self, key: str) -> Api | None:
        """The API with this name key: the client's own, else a system API of that name."""
        stmt = self.readable().where(Api.name_key == key).order_by(Api.client_id.is_(None))
        return self.session.scalars(stmt.limit(1)).first()

    def names(self) -> list[str]:
        """The names of every API this client may read: its own and the system APIs."""
        return list(self.session.scalars(self.readable().with_only_columns(Api.name)))

    def name_keys_like(self, prefix_key: str) -> set[str]:
        """Names of the client's own APIs that start like this one."""
        stmt = (
            self.readable()
            .where(Api.client_id == self.client.id)
            .where(Api.name_key.like(escape_like(prefix_key) + "%", escape="\\"))
            .with_only_columns(Api.name_key)
        )
        return set(self.session.scalars(stmt))

    def own_name_keys(self) -> set[str]:
        """The name keys of the client's own APIs."""
        stmt = self.readable().where(Api.client_id == self.client.id)
        return set(self.session.scalars(stmt.with_only_columns(Api.name_key)))

    def own_with_requests(self) -> Sequence[Api]:
        """The client's own APIs with their requests, by name."""
        stmt = self.readable().where(Api.client_id == self.client.id)
        stmt = stmt.options(selectinload(Api.requests)).order_by(Api.name_key)
        return self.session.scalars(stmt).all()

    def page(self, where: ApiFilter, limit: int, offset: int) -> tuple[Sequence[Api], int]:
        """One page: the client's APIs first, then the system APIs, by name within each.

        The two parts are queried apart: each then reads in the order of the
        (client_id, name_key) index and stops at the page, where one query ordered by
        "system last" would sort every readable row for every page.
        """
        parts = []
        if where.kind in ("all", "client"):
            parts.append(self._filtered(where, Api.client_id == self.client.id))
        if where.kind in ("all", "system"):
            parts.append(self._filtered(where, Api.client_id.is_(None)))
        rows: list[Api] = []
        total = 0
        for stmt in parts:
            count = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            start = max(offset - total, 0)
            wanted = limit - len(rows)
            if wanted > 0 and start < count:
                page = stmt.order_by(Api.name_key, Api.id).limit(wanted).offset(start)
                rows.extend(self.session.scalars(page))
            total += count
        return rows, total

    def _filtered(self, where: ApiFilter, owner: ColumnElement[bool]) -> Select[Api]:
        stmt = self.readable().where(owner)
        if where.type:
            stmt = stmt.where(Api.type == where.type)
        if where.service_id is not None:
            stmt = stmt.where(Api.service_id == where.service_id)
        if where.search:
            pattern = "%" + escape_like(name_key(where.search)) + "%"
            stmt = stmt.where(Api.name_key.like(pattern, escape="\\"))
        return stmt


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

    def among(self, request_ids: Collection[int]) -> dict[int, Request]:
        """The requests this client may read among these ids, by id; on PostgreSQL each is
        held (FOR SHARE) until the unit of work ends, so no edit drops one of their
        parameters meanwhile."""
        stmt = self.readable().where(Request.id.in_(request_ids))
        locked = stmt.with_for_update(read=True, of=Request)
        return {request.id: request for request in self.session.scalars(locked)}

    def with_api(self, api_id: int, request_id: int) -> tuple[Request, Api] | None:
        """A request with its API, both as stored."""
        stmt = self._in_api(api_id, request_id).add_columns(Api)
        row = self.session.execute(stmt).first()
        return None if row is None else (row[0], row[1])

    def versions(self, api_id: int, request_id: int) -> tuple[int, int] | None:
        """The current versions of a request's API and of the request."""
        stmt = self._in_api(api_id, request_id).with_only_columns(Api.version, Request.version)
        row = self.session.execute(stmt).first()
        return None if row is None else (row[0], row[1])

    def _in_api(self, api_id: int, request_id: int) -> Select[Request]:
        return self.readable().where(Request.id == request_id, Request.api_id == api_id)

    def of_api(self, api: Api) -> Sequence[Request]:
        return self.session.scalars(
            self.readable().where(Request.api_id == api.id).order_by(Request.id)
        ).all()

    def page_of_api(self, api: Api, limit: int, offset: int) -> tuple[Sequence[Request], int]:
        """In the order they were made."""
        stmt = self.readable().where(Request.api_id == api.id)
        return page(self.session, stmt, [Request.id], limit, offset)

    def get(self, api: Api, request_id: int) -> Request | None:
        stmt = self.readable().where(Request.api_id == api.id, Request.id == request_id)
        return self.session.scalar(stmt)

    def by_name_key(self, api: Api, key: str) -> Request | None:
        stmt = self.readable().where(Request.api_id == api.id, Request.name_key == key)
        return self.session.scalar(stmt)

    def name_keys(self, api: Api) -> set[str]:
        """The name keys of the API's requests."""
        stmt = self.readable().where(Request.api_id == api.id).with_only_columns(Request.name_key)
        return set(self.session.scalars(stmt))

    def names(self, api: Api) -> list[str]:
        """The names of the API's requests."""
        stmt = self.readable().where(Request.api_id == api.id).with_only_columns(Request.name)
        return list(self.session.scalars(stmt))

    def name_keys_like(self, api: Api, prefix_key: str) -> set[str]:
        """Names of the API's requests that start like this one."""
        stmt = (
            self.readable()
            .where(Request.api_id == api.id)
            .where(Request.name_key.like(escape_like(prefix_key) + "%", escape="\\"))
            .with_only_columns(Request.name_key)
        )
        return set(self.session.scalars(stmt))

    def with_secrets(self, api: Api) -> list[str]:
        """Names of the API's requests that hold a secret."""
        stmt = (
            self.readable()
            .where(Request.api_id == api.id)
            .join(Secret, Secret.request_id == Request.id)
            .with_only_columns(Request.name)
            .distinct()
        )
        return list(self.session.scalars(stmt))
