"""Stored APIs and requests: finding one for a client, checking a write may go ahead,
writing its row and sealing its secrets, and reading it back as a schema.

Shared by the API and request use cases (`service.py`, `request_service.py`).
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from callout.apis import secret_fields as sf
from callout.apis.repository import ApiRepository, RequestRepository
from callout.apis.schemas import ApiRead, ApiWrite, RequestRead, RequestWrite
from callout.db.crypto import Keyring
from callout.db.models import Api, Client, Request
from callout.db.secrets import Vault, api_owner, request_owner, stored_fields
from callout.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired, ReadOnly
from callout.runtime.plan import join_url
from callout.schemas import IfMatch, name_key

API_FIELDS = ("name", "description", "base_url", "type", "service_id")
REQUEST_FIELDS = (
    "name", "description", "method", "url_path", "endpoint_path", "query", "content_type",
    "body", "form", "parameters", "outputs", "timeout", "success_statuses", "samples",
)  # fmt: skip


def find_api(session: Session, client: Client, api_id: int, *, with_requests: bool = False) -> Api:
    api = ApiRepository(session, client).get(api_id, with_requests=with_requests)
    if api is None:
        raise NotFound(f"no API {api_id} in client {client.code!r}")
    return api


def find_request(session: Session, client: Client, api: Api, request_id: int) -> Request:
    request = RequestRepository(session, client).get(api, request_id)
    if request is None:
        raise NotFound(f"no request {request_id} in API {api.name!r}")
    return request


def writable(api: Api) -> Api:
    if api.client_id is None:
        raise ReadOnly(
            f"{api.name!r} is a system API: it is read-only. Copy it into your library to "
            "change it."
        )
    return api


def check_version(what: str, name: str, current: int, if_match: IfMatch | None) -> None:
    """If-Match must name the version the writer read (None: the header was missing)."""
    if if_match is None:
        raise PreconditionRequired(
            f"send If-Match with the ETag you read, so a change made meanwhile in another "
            f"tab is not overwritten ({what} {name!r} is at version {current})"
        )
    if not if_match.matches(current):
        raise PreconditionFailed(
            f"{what} {name!r} changed since you read it (you have {if_match}, it is at "
            f"version {current}); reload it and apply your change again"
        )


def api_taken(name: str) -> Conflict:
    return Conflict.field("name", f"an API named {name!r} exists already")


def request_taken(name: str) -> Conflict:
    return Conflict.field("name", f"a request named {name!r} exists already in this API")


def seal(
    session: Session,
    keyring: Keyring,
    client: Client,
    api: Api,
    request: Request | None,
    split: sf.SecretSplit,
) -> None:
    """Seal the new secrets of an API or request whose row is written, drop unused ones."""
    vault = Vault(session, keyring, client.id)
    request_id = request.id if request else None
    for field, value in split.new.items():
        vault.put(api.id, request_id, field, value)
    vault.keep_only(request_owner(request.id) if request else api_owner(api.id), split.fields)


def api_columns(data: ApiWrite) -> dict[str, Any]:
    """The API's plain columns (not headers or authorization, which hold secrets)."""
    return {f: getattr(data, f) for f in API_FIELDS} | {"name_key": name_key(data.name)}


def request_columns(data: RequestWrite) -> dict[str, Any]:
    """The request's plain columns (not headers, which may hold secrets)."""
    dumped = data.model_dump(mode="json", include=set(REQUEST_FIELDS))
    return dumped | {"name_key": name_key(data.name)}


def api_snapshot(api: Api) -> dict[str, Any]:
    flat = {f: getattr(api, f) for f in API_FIELDS} | {"headers": api.headers}
    return flat | {f"authorization.{k}": v for k, v in api.authorization.items()}


def request_snapshot(request: Request) -> dict[str, Any]:
    return {c: getattr(request, c) for c in (*REQUEST_FIELDS, "headers")}


def diff(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    """The fields whose values differ, for the audit."""
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def api_read(session: Session, client: Client, api: Api, requests: Sequence[Request]) -> ApiRead:
    owner = api_owner(api.id)
    stored = stored_fields(session, client.id, [owner])[owner]
    return ApiRead(
        id=api.id,
        name=api.name,
        description=api.description,
        base_url=api.base_url,
        type=api.type,
        service_id=api.service_id,
        headers=sf.headers_of(api.headers, None),
        authorization=sf.authorization_of(api.authorization, sf.masks(stored)),
        system=api.client_id is None,
        version=api.version,
        created_at=api.created_at,
        updated_at=api.updated_at,
        requests=[request_read(api, r) for r in requests],
    )


def request_read(api: Api, request: Request) -> RequestRead:
    values = {c: getattr(request, c) for c in REQUEST_FIELDS}
    return RequestRead.model_validate(
        values
        | {
            "headers": sf.headers_of(request.headers, None),
            "id": request.id,
            "api_id": api.id,
            "url": join_url(api.base_url, request.url_path, request.endpoint_path),
            "version": request.version,
            "created_at": request.created_at,
            "updated_at": request.updated_at,
        }
    )
