"""Stored APIs and requests as schemas, and schemas as the columns they are stored in: one
mapper per row type each way, so a column is read and written in one place.

A row becomes whichever schema asks for it: a list line (`ApiSummary`), a read with every
secret masked (`ApiRead`, `RequestRead`), or the settings with their secrets opened for the
runtime (`ApiFields`, `RequestFields`).
"""

from collections.abc import Mapping, Sequence, Set
from typing import Any, TypeVar

from callout.apis import secret_fields as sf
from callout.apis.schemas import ApiWrite, RequestRead, RequestWrite
from callout.db.models import Api, Request
from callout.runtime.plan import join_url
from callout.schemas import Model, name_key

S = TypeVar("S", bound=Model)

# The plain columns a write sets: not headers or authorization, which hold secrets.
API_COLUMNS = ("name", "description", "base_url", "type", "service_id")
REQUEST_COLUMNS = (
    "name", "description", "method", "url_path", "endpoint_path", "query", "content_type",
    "body", "form", "parameters", "outputs", "timeout", "success_statuses", "samples",
)  # fmt: skip


def api(
    schema: type[S],
    row: Api,
    *,
    opened: Mapping[str, str] | None = None,
    stored: Set[str] = frozenset(),
    requests: Sequence[RequestRead] = (),
) -> S:
    """The API as `schema`. Its secrets are the `opened` ones (for the runtime), or else,
    for a read, the mask for each field `stored` holds."""
    wanted = schema.model_fields
    values: dict[str, Any] = {column: getattr(row, column) for column in API_COLUMNS} | {
        "id": row.id,
        "system": row.client_id is None,
        "authorization_type": row.authorization["type"],
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "requests": list(requests),
    }
    if "headers" in wanted:
        values["headers"] = sf.headers_of(row.headers, opened, stored)
    if "authorization" in wanted:
        shown = sf.masks(stored) if opened is None else opened
        values["authorization"] = sf.authorization_of(row.authorization, shown)
    return schema.model_validate({name: values[name] for name in wanted})


def request(
    schema: type[S],
    api: Api,
    row: Request,
    *,
    opened: Mapping[str, str] | None = None,
    stored: Set[str] = frozenset(),
) -> S:
    """The request as `schema`; its secret headers `opened` (for the runtime) or, for a
    read, masked where `stored` holds a value."""
    wanted = schema.model_fields
    values: dict[str, Any] = {column: getattr(row, column) for column in REQUEST_COLUMNS} | {
        "headers": sf.headers_of(row.headers, opened, stored),
        "id": row.id,
        "api_id": api.id,
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }
    if "url" in wanted:
        values["url"] = join_url(api.base_url, row.url_path, row.endpoint_path)
    return schema.model_validate({name: values[name] for name in wanted})


def api_columns(data: ApiWrite) -> dict[str, Any]:
    """The API's plain columns (not headers or authorization, which hold secrets)."""
    return {f: getattr(data, f) for f in API_COLUMNS} | {"name_key": name_key(data.name)}


def request_columns(data: RequestWrite) -> dict[str, Any]:
    """The request's plain columns (not headers, which may hold secrets)."""
    dumped = data.model_dump(mode="json", include=set(REQUEST_COLUMNS))
    return dumped | {"name_key": name_key(data.name)}
