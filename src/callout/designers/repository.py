"""Queries for designers and their FUNCTION CALLs, always through one client's `readable()`.

A client reads and writes only its own designers. The one exception is named for it:
`every_call_of_system_apis()`, for the catalogue sync, which changes the system APIs that
any client's designers may call.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, Select, delete, func, select
from sqlalchemy.orm import Session, defer

from callout.db.models import Api, Client, Designer, DesignerCall
from callout.db.paging import escape_like, page
from callout.schemas import name_key

# A FUNCTION CALL with the name of its designer: what a usage is read from.
Use = Row[DesignerCall, str]


@dataclass(frozen=True)
class DesignerFilter:
    service_id: int | None = None
    search: str | None = None


def every_call_of_system_apis() -> Select[DesignerCall, str, str]:
    """Every FUNCTION CALL of a system API, with its designer's name and client's code,
    platform-wide by design: the catalogue sync that changes system APIs answers to no
    client, and must know every designer it would break."""
    return (
        select(DesignerCall, Designer.name, Client.code)
        .join(Designer, DesignerCall.designer_id == Designer.id)
        .join(Client, DesignerCall.client_id == Client.id)
        .join(Api, DesignerCall.api_id == Api.id)
        .where(Api.client_id.is_(None))
        .order_by(Client.code, Designer.name_key, DesignerCall.id)
    )


class DesignerRepository:
    def __init__(self, session: Session, client: Client) -> None:
        self.session = session
        self.client = client

    def readable(self) -> Select[Designer]:
        return select(Designer).where(Designer.client_id == self.client.id)

    def get(self, designer_id: int) -> Designer | None:
        return self.session.scalar(self.readable().where(Designer.id == designer_id))

    def by_name_key(self, key: str) -> Designer | None:
        return self.session.scalar(self.readable().where(Designer.name_key == key))

    def names(self) -> list[str]:
        """The names of the client's designers."""
        return list(self.session.scalars(self.readable().with_only_columns(Designer.name)))

    def all(self) -> Sequence[Designer]:
        """Every designer of the client, by name, pages and all: what a backup keeps."""
        return self.session.scalars(self.readable().order_by(Designer.name_key)).all()

    def version(self, designer_id: int) -> int | None:
        """The designer's version alone: what a cached copy is checked against."""
        stmt = self.readable().with_only_columns(Designer.version)
        return self.session.scalar(stmt.where(Designer.id == designer_id))

    def page(
        self, where: DesignerFilter, limit: int, offset: int
    ) -> tuple[Sequence[Designer], int]:
        """By name; the pages are not read (a list line names only the events)."""
        stmt = self.readable().options(defer(Designer.pages, raiseload=True))
        if where.service_id is not None:
            stmt = stmt.where(Designer.service_id == where.service_id)
        if where.search:
            pattern = "%" + escape_like(name_key(where.search)) + "%"
            stmt = stmt.where(Designer.name_key.like(pattern, escape="\\"))
        return page(self.session, stmt, [Designer.name_key, Designer.id], limit, offset)


class CallRepository:
    """The FUNCTION CALLs of one client's designers."""

    def __init__(self, session: Session, client: Client) -> None:
        self.session = session
        self.client = client

    def readable(self) -> Select[DesignerCall]:
        return select(DesignerCall).where(DesignerCall.client_id == self.client.id)

    def replace(self, designer: Designer, calls: Iterable[DesignerCall]) -> None:
        """The designer's calls become `calls`."""
        self.session.execute(
            delete(DesignerCall).where(
                DesignerCall.client_id == self.client.id, DesignerCall.designer_id == designer.id
            )
        )
        self.session.add_all(calls)

    def _uses(self) -> Select[DesignerCall, str]:
        """Calls with their designer's name, by designer name, then as they were saved."""
        return (
            self.readable()
            .join(Designer, DesignerCall.designer_id == Designer.id)
            .add_columns(Designer.name)
            .order_by(Designer.name_key, Designer.id, DesignerCall.id)
        )

    def of_api(self, api_id: int) -> Sequence[Use]:
        return self.session.execute(self._uses().where(DesignerCall.api_id == api_id)).all()

    def of_request(self, request_id: int) -> Sequence[Use]:
        stmt = self._uses().where(DesignerCall.request_id == request_id)
        return self.session.execute(stmt).all()

    def page_of_api(self, api_id: int, limit: int, offset: int) -> tuple[Sequence[Use], int]:
        """One page of the calls of an API, and how many there are."""
        counted = self.readable().where(DesignerCall.api_id == api_id).subquery()
        total = self.session.scalar(select(func.count()).select_from(counted)) or 0
        if offset >= total:
            return [], total
        stmt = self._uses().where(DesignerCall.api_id == api_id).limit(limit).offset(offset)
        return self.session.execute(stmt).all(), total
