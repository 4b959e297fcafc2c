"""Clients (tenants), their services, and the API keys that act for them."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from callout.schemas import Description, Model, Name

Code = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$"),
    Field(description="Short lowercase identifier used in URLs: letters, digits and '-'."),
]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Role = Literal["viewer", "editor", "admin"]


class ClientCreate(Model):
    code: Code
    name: DisplayName


class ClientUpdate(Model):
    name: DisplayName


class ClientRead(Model):
    code: str
    name: str
    created_at: datetime


class ServiceWrite(Model):
    name: Name
    description: Description = ""


class ServiceRead(ServiceWrite):
    id: int
    created_at: datetime


class ApiKeyCreate(Model):
    name: Name
    role: Role = "viewer"


class ApiKeyRead(Model):
    id: int
    name: str
    role: str
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key itself; shown this once, only its hash is kept.")
