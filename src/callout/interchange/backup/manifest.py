"""The files of a backup besides the APIs' own: `callout-backup.yaml`, which names the
clients and their services, and each client's `audit.yaml`.

API keys are not in a backup: only their digests are stored, which would let nobody in,
and a restored installation is one to issue new keys for.
"""

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator

from callout.audit.schemas import Action, ObjectType
from callout.clients.schemas import Code, DisplayName, ServiceWrite
from callout.errors import FieldProblem, Invalid
from callout.schemas import Model, name_key
from callout.validation import validation_problems

BACKUP_FORMAT = 1
M = TypeVar("M", bound=Model)
MANIFEST = "callout-backup.yaml"


class ClientEntry(Model):
    code: Code
    name: DisplayName
    services: Annotated[list[ServiceWrite], Field(max_length=1000)] = []

    @field_validator("services")
    @classmethod
    def _unique_services(cls, value: list[ServiceWrite]) -> list[ServiceWrite]:
        seen: set[str] = set()
        for service in value:
            if name_key(service.name) in seen:
                raise ValueError(f"service {service.name!r} is named twice")
            seen.add(name_key(service.name))
        return value


class Manifest(Model):
    """`callout-backup.yaml`: the format's version and every client, by code."""

    callout_backup: Literal[1] = Field(description="The backup format's version: 1.")
    clients: Annotated[list[ClientEntry], Field(max_length=100_000)] = []

    @field_validator("clients")
    @classmethod
    def _unique_codes(cls, value: list[ClientEntry]) -> list[ClientEntry]:
        codes = [client.code for client in value]
        for code in codes:
            if codes.count(code) > 1:
                raise ValueError(f"client {code!r} is named twice")
        return value


class AuditRecord(Model):
    """One event of a client's audit trail as it was recorded; `object_id` is the id the
    object had in the installation backed up."""

    at: datetime
    actor: Annotated[str, Field(max_length=120)]
    action: Action
    object_type: ObjectType
    object_id: int
    object_name: Annotated[str, Field(max_length=200)]
    changed: list[str] = []
    detail: dict[str, Any] = {}


class AuditTrail(Model):
    """`<client>/audit.yaml`: the client's audit events, oldest first."""

    callout_backup: Literal[1]
    events: list[AuditRecord] = []


class RestoredClient(Model):
    """What a restore wrote for one client."""

    code: str
    services: int
    apis: int
    requests: int
    designers: int
    audit_events: int
    missing_secrets: list[str] = Field(
        description="Secrets the backup left out, to enter before calling: `API: field`."
    )


def validated(model: type[M], data: Any, source: str) -> M:
    """`data` as `model`, or an error naming the file and each broken rule's place in it."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [
            FieldProblem(f"{source}: {p.field}", p.message)
            for p in validation_problems(error.errors())
        ]
        raise Invalid.of(problems) from None
