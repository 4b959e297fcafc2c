"""The stored shape of Callout's objects (SQLAlchemy ORM), apart from their API schemas.

Relationships are `lazy="raise"`: a query says what it loads, so no page of 50 APIs turns into
51 queries by accident. Names are unique per client ignoring case through `name_key`, the
casefolded name, because SQLite's `lower()` folds ASCII only.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JSONColumn = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps kept in UTC on SQLite (which drops the zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# An id reaches caches (compiled plans, tokens), URLs and the audit trail, so a deleted row's id
# must never name a new row. PostgreSQL's sequences never go back; SQLite reuses the highest
# id after a delete unless the table is declared AUTOINCREMENT.
NEVER_REUSED: dict[str, Any] = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    # Named constraints, so later migrations can alter them (SQLite rebuilds tables by name).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONColumn}


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("client_id", "name_key"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An access key; only its SHA-256 digest is kept. No client means a platform-admin key."""

    __tablename__ = "api_keys"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(24), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Api(Base):
    """A client API, or a system API (no client, a catalogue `slug`, read-only)."""

    __tablename__ = "apis"
    __table_args__ = (
        UniqueConstraint("client_id", "name_key"),
        Index("ix_apis_client_type", "client_id", "type"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    slug: Mapped[str | None] = mapped_column(String(100), unique=True)
    catalog_digest: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    base_url: Mapped[str] = mapped_column(String(2048))
    type: Mapped[str] = mapped_column(String(10))
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="RESTRICT"), index=True
    )
    # Headers and authorization without their secret values, which live in `secrets`.
    headers: Mapped[list[dict[str, Any]]] = mapped_column(JSONColumn, default=list)
    authorization: Mapped[dict[str, Any]] = mapped_column(JSONColumn)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    requests: Mapped[list["Request"]] = relationship(
        back_populates="api", lazy="raise", order_by="Request.id", passive_deletes=True
    )

    # Optimistic concurrency: every UPDATE and DELETE carries `WHERE version = <read>` and
    # raises StaleDataError when another writer got there first.
    __mapper_args__ = {"version_id_col": version}


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (UniqueConstraint("api_id", "name_key"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_id: Mapped[int] = mapped_column(ForeignKey("apis.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(String(10))
    url_path: Mapped[str] = mapped_column(String(2048), default="")
    endpoint_path: Mapped[str] = mapped_column(String(2048), default="")
    query: Mapped[list[dict[str, Any]]] = mapped_column(JSONColumn, default=list)
    headers: Mapped[list[dict[str, Any]]] = mapped_column(JSONColumn, default=list)
    content_type: Mapped[str] = mapped_column(String(20))
    body: Mapped[str | None] = mapped_column(Text)
    form: Mapped[list[dict[str, Any]]] = mapped_column(JSONColumn, default=list)
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSONColumn, default=list)
    outputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONColumn, default=list)
    timeout: Mapped[float | None] = mapped_column()
    success_statuses: Mapped[list[int]] = mapped_column(JSONColumn, default=list)
    samples: Mapped[list[dict[str, Any]]] = mapped_column(JSONColumn, default=list)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    api: Mapped[Api] = relationship(back_populates="requests", lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class Designer(Base):
    """A client's desktop script; its pages and events are stored whole, as validated."""

    __tablename__ = "designers"
    __table_args__ = (UniqueConstraint("client_id", "name_key"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="RESTRICT"), index=True
    )
    pages: Mapped[list[dict[str, Any]]] = mapped_column(JSONColumn, default=list)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSONColumn, default=list)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class DesignerCall(Base):
    """One FUNCTION CALL of a designer's event: which request it calls and which of its
    parameters it maps. Rewritten with each save of the designer.

    The API and request keys are NO ACTION, not CASCADE: the database itself refuses to
    delete a request a designer calls, even when the save and the delete race. NO ACTION
    (unlike RESTRICT) is checked at the end of the statement, so deleting a client, whose
    designers and APIs cascade away together, still goes through.
    """

    __tablename__ = "designer_calls"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    designer_id: Mapped[int] = mapped_column(
        ForeignKey("designers.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(100))
    api_id: Mapped[int] = mapped_column(ForeignKey("apis.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    parameters: Mapped[list[str]] = mapped_column(JSONColumn, default=list)


class Secret(Base):
    """One encrypted secret value; `owner` and `field` are also its AES-GCM associated data.

    Rows are rewritten with a compare-and-swap on `ciphertext`, so a key rotation and an edit
    that race each other never lose the edit nor leave it under the retired key.
    """

    __tablename__ = "secrets"
    __table_args__ = (UniqueConstraint("owner", "field"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    api_id: Mapped[int] = mapped_column(ForeignKey("apis.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    owner: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(40), index=True)
    ciphertext: Mapped[str] = mapped_column(Text)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_client_at", "client_id", "id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column()
    object_name: Mapped[str] = mapped_column(String(200))
    changed: Mapped[list[str]] = mapped_column(JSONColumn, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONColumn, default=dict)


class Invocation(Base):
    """One recorded call of a request (an invoke or a test; never a dry run or a mock).

    Names are kept as they were at the call, and API and request ids are not foreign keys:
    the history of a call outlives an edit or a delete of what it called. The trace is kept
    only for a failed test, masked as the test answered it.
    """

    __tablename__ = "invocations"
    __table_args__ = (
        Index("ix_invocations_client_id", "client_id", "id"),  # the list, newest first
        Index("ix_invocations_client_api_at", "client_id", "api_id", "at"),  # metrics
        Index("ix_invocations_at", "at"),  # retention by age
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    invocation_id: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(120))
    api_id: Mapped[int] = mapped_column()
    api_name: Mapped[str] = mapped_column(String(100))
    request_id: Mapped[int] = mapped_column()
    request_name: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[int | None] = mapped_column()
    duration_ms: Mapped[float] = mapped_column(Float)
    trace: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
    )
