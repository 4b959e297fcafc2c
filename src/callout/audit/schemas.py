"""The audit trail: who changed what, when. Secret fields appear by name only."""

from datetime import datetime
from typing import Any, Literal

from callout.schemas import Model

Action = Literal["create", "update", "copy", "delete"]
ObjectType = Literal["api", "request", "service", "api_key", "designer"]


class AuditEventRead(Model):
    id: int
    at: datetime
    actor: str
    action: Action
    object_type: str
    object_id: int
    object_name: str
    changed: list[str]
    detail: dict[str, Any]
