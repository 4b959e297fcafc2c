"""Stored designers as schemas, and schemas as the rows they are stored in: a column is read
and written in one place."""

from typing import Any

from callout.db.models import Designer, DesignerCall
from callout.designers.repository import Use
from callout.designers.schemas import (
    DesignerFields,
    DesignerRead,
    DesignerSummary,
    FunctionCall,
    Usage,
)
from callout.schemas import name_key

COLUMNS = ("name", "description", "service_id", "pages", "events")


def read(row: Designer) -> DesignerRead:
    return DesignerRead.model_validate(
        {column: getattr(row, column) for column in COLUMNS}
        | {
            "id": row.id,
            "version": row.version,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


def summary(row: Designer) -> DesignerSummary:
    return DesignerSummary(
        id=row.id,
        name=row.name,
        description=row.description,
        service_id=row.service_id,
        events=[event["name"] for event in row.events],
        version=row.version,
        updated_at=row.updated_at,
    )


def columns(data: DesignerFields) -> dict[str, Any]:
    """The designer's columns: the document as validated, in JSON."""
    dumped = data.model_dump(mode="json", include=set(COLUMNS))
    return dumped | {"name_key": name_key(data.name)}


def stored(row: Designer) -> dict[str, Any]:
    """The designer as stored, field by field, for the audit to compare."""
    return {column: getattr(row, column) for column in COLUMNS}


def calls(row: Designer, data: DesignerFields) -> list[DesignerCall]:
    """One row per FUNCTION CALL of the designer's events."""
    return [
        DesignerCall(
            designer_id=row.id,
            client_id=row.client_id,
            event=event.name,
            api_id=action.api_id,
            request_id=action.request_id,
            parameters=[mapping.name for mapping in action.parameters],
        )
        for event in data.events
        for _, action in event.actions()
        if isinstance(action, FunctionCall)
    ]


def usage(use: Use) -> Usage:
    call, designer_name = use
    return Usage(
        designer_id=call.designer_id,
        designer_name=designer_name,
        event=call.event,
        request_id=call.request_id,
        parameters=call.parameters,
    )
