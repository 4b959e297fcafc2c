"""Queries for clients, services and API keys.

A client's services and API keys are read through that client's `readable()` statement.
Two statements are platform-wide by design, and named for it: `every_client()` (a request
names its client before any client is known) and `every_key()` (a request presents its key
before any client is known).
"""

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from callout.db.models import Api, ApiKey, Client, Designer, Service
from callout.db.paging import page


def every_client() -> Select[Client]:
    """Every client, platform-wide by design: the clients are the tenants themselves, found
    by the code a request names, or all listed to a platform key."""
    return select(Client)


def every_key() -> Select[ApiKey]:
    """Every API key, platform-wide by design: authentication finds a key by its prefix
    before it knows the client, and a platform key belongs to no client."""
    return select(ApiKey)


class ClientRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> Client | None:
        return self.session.scalar(every_client().where(Client.code == code.lower()))

    def by_id(self, client_id: int) -> Client | None:
        return self.session.scalar(every_client().where(Client.id == client_id))

    def existing(self, client_ids: Iterable[int]) -> set[int]:
        """Which of these clients still exist."""
        stmt = every_client().where(Client.id.in_(client_ids)).with_only_columns(Client.id)
        return set(self.session.scalars(stmt))

    def all(self) -> Sequence[Client]:
        return self.session.scalars(every_client().order_by(Client.code)).all()

    def count(self) -> int:
        return self.session.scalar(every_client().with_only_columns(func.count(Client.id))) or 0


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

    def all(self) -> Sequence[Service]:
        """By name."""
        return self.session.scalars(self.readable().order_by(Service.name_key)).all()

    def get(self, service_id: int) -> Service | None:
        return self.session.scalar(self.readable().where(Service.id == service_id))

    def by_name_key(self, key: str) -> Service | None:
        return self.session.scalar(self.readable().where(Service.name_key == key))

    def api_count(self, service: Service) -> int:
        """How many APIs the service has."""
        stmt = (
            self.readable()
            .where(Service.id == service.id)
            .join(Api, Api.service_id == Service.id)
            .with_only_columns(func.count(Api.id))
        )
        return self.session.scalar(stmt) or 0

    def designer_count(self, service: Service) -> int:
        """How many designers the service has."""
        stmt = (
            self.readable()
            .where(Service.id == service.id)
            .join(Designer, Designer.service_id == Service.id)
            .with_only_columns(func.count(Designer.id))
        )
        return self.session.scalar(stmt) or 0


class ApiKeyRepository:
    """API keys of one client: every query starts from `readable()`."""

    def __init__(self, session: Session, client: Client) -> None:
        self.session = session
        self.client = client

    def readable(self) -> Select[ApiKey]:
        return select(ApiKey).where(ApiKey.client_id == self.client.id)

    def page(self, limit: int, offset: int) -> tuple[Sequence[ApiKey], int]:
        """Oldest first."""
        return page(self.session, self.readable(), [ApiKey.id], limit, offset)

    def get(self, key_id: int) -> ApiKey | None:
        return self.session.scalar(self.readable().where(ApiKey.id == key_id))


def key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    """The key with this prefix, whichever client it belongs to (see `every_key`)."""
    return session.scalar(every_key().where(ApiKey.prefix == prefix))
