"""Queries for clients, services and API keys."""

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from callout.db.models import Api, ApiKey, Client, Service
from callout.db.paging import page


class ClientRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> Client | None:
        return self.session.scalar(select(Client).where(Client.code == code.lower()))

    def by_id(self, client_id: int) -> Client | None:
        return self.session.get(Client, client_id)

    def existing(self, client_ids: Iterable[int]) -> set[int]:
        """Which of these clients still exist."""
        return set(self.session.scalars(select(Client.id).where(Client.id.in_(client_ids))))

    def all(self) -> Sequence[Client]:
        return self.session.scalars(select(Client).order_by(Client.code)).all()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Client)) or 0


class ServiceRepository:
    """Services of one client: every query starts from `readable()`."""

    def __init__(self, session: Session, client: Client) -> None:
        self.session = session
        self.client = client

    def readable(self) -> Select[Service]:
        return select(Service).where(Service.client_id == self.client.id)

    def page(self, limit: int, offset: int) -> tuple[Sequence[Service], int]:
        """By name."""
        return page(self.session, self.readable(), [Service.name_key, Service.id], limit, offset)

    def get(self, service_id: int) -> Service | None:
        return self.session.scalar(self.readable().where(Service.id == service_id))

    def by_name_key(self, key: str) -> Service | None:
        return self.session.scalar(self.readable().where(Service.name_key == key))

    def api_count(self, service: Service) -> int:
        stmt = select(func.count()).select_from(Api).where(Api.service_id == service.id)
        return self.session.scalar(stmt) or 0


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_prefix(self, prefix: str) -> ApiKey | None:
        return self.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))

    def page_of_client(
        self, client: Client, limit: int, offset: int
    ) -> tuple[Sequence[ApiKey], int]:
        """Oldest first."""
        stmt = select(ApiKey).where(ApiKey.client_id == client.id)
        return page(self.session, stmt, [ApiKey.id], limit, offset)

    def get(self, client: Client, key_id: int) -> ApiKey | None:
        stmt = select(ApiKey).where(ApiKey.client_id == client.id, ApiKey.id == key_id)
        return self.session.scalar(stmt)
