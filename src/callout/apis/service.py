"""Use cases for APIs and their requests: list, read, create, update, copy, delete.

Rules that need the database (names unique per client, a service of the same client,
system APIs read-only, If-Match versions) live here; the rest live in the schemas.
"""

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from callout.apis import secret_fields as sf
from callout.apis.fields import name_key
from callout.apis.repository import ApiFilter, ApiRepository, RequestRepository
from callout.apis.schemas import (
    ApiRead,
    ApiSummary,
    ApiWrite,
    RequestRead,
    RequestWrite,
)
from callout.audit import service as audit
from callout.clients.access import Principal
from callout.clients.repository import ServiceRepository
from callout.db.crypto import Keyring
from callout.db.models import Api, Client, Request, utcnow
from callout.db.secrets import Vault, api_owner, request_owner, stored_fields
from callout.errors import (
    Conflict,
    FieldProblem,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ReadOnly,
)
from callout.runtime.plan import join_url
from callout.schemas import Page

API_FIELDS = ("name", "description", "base_url", "type", "service_id")
REQUEST_FIELDS = (
    "name", "description", "method", "url_path", "endpoint_path", "query", "content_type",
    "body", "form", "parameters", "outputs", "timeout", "success_statuses", "samples",
)  # fmt: skip
COPY_PREFIX = "Copy of "


# Reading


def list_apis(
    session: Session, client: Client, where: ApiFilter, limit: int, offset: int
) -> Page[ApiSummary]:
    rows, total = ApiRepository(session, client).page(where, limit, offset)
    items = [
        ApiSummary(
            id=api.id,
            name=api.name,
            description=api.description,
            base_url=api.base_url,
            type=api.type,
            service_id=api.service_id,
            authorization_type=api.authorization["type"],
            system=api.client_id is None,
            version=api.version,
            updated_at=api.updated_at,
        )
        for api in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


def get_api(session: Session, client: Client, api_id: int) -> ApiRead:
    api = _api(session, client, api_id, with_requests=True)
    return _api_read(session, api, api.requests)


def list_requests(session: Session, client: Client, api_id: int) -> list[RequestRead]:
    api = _api(session, client, api_id)
    return [_request_read(api, r) for r in RequestRepository(session, client).of_api(api)]


def get_request(session: Session, client: Client, api_id: int, request_id: int) -> RequestRead:
    api = _api(session, client, api_id)
    return _request_read(api, _request(session, client, api, request_id))


# Writing APIs


def create_api(
    session: Session, keyring: Keyring, principal: Principal, client: Client, data: ApiWrite
) -> ApiRead:
    principal.require("editor")
    _check_api_name(session, client, data.name, None)
    _check_service(session, client, data.service_id)
    changes, headers, authorization = _split_api(data, stored=set())
    api = Api(
        client_id=client.id,
        headers=headers,
        authorization=authorization,
        **api_columns(data),
    )
    session.add(api)
    _flush(session, "name", f"an API named {data.name!r} exists already")
    _seal(Vault(session, keyring), client, api, None, changes)
    audit.record(
        session,
        client.id,
        principal,
        "create",
        ("api", api.id, api.name),
        _set_fields(data) | changes.fields,
    )
    return _api_read(session, api, [])


def update_api(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    api_id: int,
    if_match: int | None,
    data: ApiWrite,
) -> ApiRead:
    principal.require("editor")
    api = _writable(_api(session, client, api_id))
    _check_version("API", api.name, api.version, if_match)
    _check_api_name(session, client, data.name, api)
    _check_service(session, client, data.service_id)
    owner = api_owner(api.id)
    stored = stored_fields(session, [owner])[owner]
    changes, headers, authorization = _split_api(data, stored)
    before = _api_snapshot(api)
    # Secrets first: the API row is then written in one flush, so its version moves by one.
    _seal(Vault(session, keyring), client, api, None, changes)
    for name, value in api_columns(data).items():
        setattr(api, name, value)
    api.headers, api.authorization, api.updated_at = headers, authorization, utcnow()
    _flush(session, "name", f"an API named {data.name!r} exists already", stale=("API", api.name))
    changed = _diff(before, _api_snapshot(api)) | changes.changed(stored)
    audit.record(session, client.id, principal, "update", ("api", api.id, api.name), changed)
    return _api_read(session, api, RequestRepository(session, client).of_api(api))


def delete_api(
    session: Session, principal: Principal, client: Client, api_id: int, if_match: int | None
) -> None:
    principal.require("editor")
    api = _writable(_api(session, client, api_id))
    _check_version("API", api.name, api.version, if_match)
    audit.record(session, client.id, principal, "delete", ("api", api.id, api.name))
    session.delete(api)  # its requests and secrets go with it (ON DELETE CASCADE)
    _flush(session, "name", "", stale=("API", api.name))


def offered_copy_name(session: Session, client: Client, api_id: int) -> str:
    """The name the copy prompt offers: "Copy of NAME", made unique in the client's library."""
    api = _api(session, client, api_id)
    base = (COPY_PREFIX + api.name)[:100]
    taken = ApiRepository(session, client).name_keys_like(name_key(base))
    if name_key(base) not in taken:
        return base
    number = 2
    while True:
        suffix = f" ({number})"
        candidate = base[: 100 - len(suffix)] + suffix
        if name_key(candidate) not in taken:
            return candidate
        number += 1


def copy_api(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    api_id: int,
    name: str | None,
) -> ApiRead:
    """Duplicate an API (a client's own or a system API) with all its requests and secrets."""
    principal.require("editor")
    source = _api(session, client, api_id, with_requests=True)
    new_name = name or offered_copy_name(session, client, api_id)
    _check_api_name(session, client, new_name, None)
    vault = Vault(session, keyring)
    copy = Api(
        client_id=client.id,
        name=new_name,
        name_key=name_key(new_name),
        headers=source.headers,
        authorization=source.authorization,
        **{f: getattr(source, f) for f in ("description", "base_url", "type")},
        # A system API's copy, or one whose service is not this client's, starts without one.
        service_id=source.service_id if source.client_id == client.id else None,
    )
    session.add(copy)
    _flush(session, "name", f"an API named {new_name!r} exists already")
    for field, value in vault.reveal_all(api_owner(source.id)).items():
        vault.put(client.id, copy.id, None, field, value)
    for request in source.requests:
        twin = Request(api_id=copy.id, **{c: getattr(request, c) for c in _REQUEST_COLUMNS})
        session.add(twin)
        session.flush()
        for field, value in vault.reveal_all(request_owner(request.id)).items():
            vault.put(client.id, copy.id, twin.id, field, value)
    audit.record(
        session,
        client.id,
        principal,
        "copy",
        ("api", copy.id, copy.name),
        detail={
            "from_api": source.id,
            "from_name": source.name,
            "from_system": source.client_id is None,
        },
    )
    return get_api(session, client, copy.id)


# Writing requests


def create_request(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    api_id: int,
    data: RequestWrite,
) -> RequestRead:
    principal.require("editor")
    api = _writable(_api(session, client, api_id))
    _check_request_name(session, client, api, data.name, None)
    changes, problems = sf.SecretChanges(), list[FieldProblem]()
    headers = sf.split_headers(data.headers, set(), changes, problems)
    sf.raise_problems(problems)
    request = Request(api_id=api.id, headers=headers, **request_columns(data))
    session.add(request)
    _flush(session, "name", f"a request named {data.name!r} exists already in this API")
    _seal(Vault(session, keyring), client, api, request, changes)
    audit.record(
        session,
        client.id,
        principal,
        "create",
        ("request", request.id, request.name),
        _set_fields(data) | changes.fields,
        detail={"api": api.id},
    )
    return _request_read(api, request)


def update_request(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    api_id: int,
    request_id: int,
    if_match: int | None,
    data: RequestWrite,
) -> RequestRead:
    principal.require("editor")
    api = _writable(_api(session, client, api_id))
    request = _request(session, client, api, request_id)
    _check_version("request", request.name, request.version, if_match)
    _check_request_name(session, client, api, data.name, request)
    owner = request_owner(request.id)
    stored = stored_fields(session, [owner])[owner]
    changes, problems = sf.SecretChanges(), list[FieldProblem]()
    headers = sf.split_headers(data.headers, stored, changes, problems)
    sf.raise_problems(problems)
    before = _request_snapshot(request)
    _seal(Vault(session, keyring), client, api, request, changes)
    for column, value in request_columns(data).items():
        setattr(request, column, value)
    request.headers, request.updated_at = headers, utcnow()
    _flush(
        session,
        "name",
        f"a request named {data.name!r} exists already in this API",
        stale=("request", request.name),
    )
    changed = _diff(before, _request_snapshot(request)) | changes.changed(stored)
    audit.record(
        session,
        client.id,
        principal,
        "update",
        ("request", request.id, request.name),
        changed,
        detail={"api": api.id},
    )
    return _request_read(api, request)


def delete_request(
    session: Session,
    principal: Principal,
    client: Client,
    api_id: int,
    request_id: int,
    if_match: int | None,
) -> None:
    principal.require("editor")
    api = _writable(_api(session, client, api_id))
    request = _request(session, client, api, request_id)
    _check_version("request", request.name, request.version, if_match)
    audit.record(
        session,
        client.id,
        principal,
        "delete",
        ("request", request.id, request.name),
        detail={"api": api.id},
    )
    session.delete(request)
    _flush(session, "name", "", stale=("request", request.name))


# Helpers


_REQUEST_COLUMNS = (*REQUEST_FIELDS, "name_key", "headers")


def _api(session: Session, client: Client, api_id: int, *, with_requests: bool = False) -> Api:
    api = ApiRepository(session, client).get(api_id, with_requests=with_requests)
    if api is None:
        raise NotFound(f"no API {api_id} in client {client.code!r}")
    return api


def _request(session: Session, client: Client, api: Api, request_id: int) -> Request:
    request = RequestRepository(session, client).get(api, request_id)
    if request is None:
        raise NotFound(f"no request {request_id} in API {api.name!r}")
    return request


def _writable(api: Api) -> Api:
    if api.client_id is None:
        raise ReadOnly(
            f"{api.name!r} is a system API: it is read-only. Copy it into your library to "
            "change it."
        )
    return api


def _check_version(what: str, name: str, current: int, if_match: int | None) -> None:
    if if_match is None:
        raise PreconditionRequired(
            f"send If-Match with the ETag you read, so a change made meanwhile in another "
            f"tab is not overwritten ({what} {name!r} is at version {current})"
        )
    if if_match != current:
        raise PreconditionFailed(
            f"{what} {name!r} changed since you read it (you have version {if_match}, it is "
            f"at version {current}); reload it and apply your change again"
        )


def _flush(session: Session, field: str, taken: str, stale: tuple[str, str] | None = None) -> None:
    """Flush, turning a lost race into the errors the checks before it would have given:
    a name taken meanwhile (`field`, `taken`) or a row changed meanwhile (`stale`)."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict.field(field, taken) from None
    except StaleDataError:
        what, name = stale or ("object", "")
        raise PreconditionFailed(
            f"{what} {name!r} was changed or deleted by another writer just now; reload it"
        ) from None


def _check_api_name(session: Session, client: Client, name: str, current: Api | None) -> None:
    same = ApiRepository(session, client).by_name_key(name_key(name))
    if same is not None and same is not current:
        raise Conflict.field("name", f"an API named {same.name!r} exists already")


def _check_request_name(
    session: Session, client: Client, api: Api, name: str, current: Request | None
) -> None:
    same = RequestRepository(session, client).by_name_key(api, name_key(name))
    if same is not None and same is not current:
        raise Conflict.field("name", f"a request named {same.name!r} exists already in this API")


def _check_service(session: Session, client: Client, service_id: int | None) -> None:
    if service_id is not None and ServiceRepository(session, client).get(service_id) is None:
        raise Invalid.field("service_id", f"no service {service_id} in client {client.code!r}")


def _split_api(
    data: ApiWrite, stored: set[str]
) -> tuple[sf.SecretChanges, list[dict[str, Any]], dict[str, Any]]:
    changes, problems = sf.SecretChanges(), list[FieldProblem]()
    headers = sf.split_headers(data.headers, stored, changes, problems)
    authorization = sf.split_authorization(data.authorization, stored, changes, problems)
    sf.raise_problems(problems)
    return changes, headers, authorization


def _seal(
    vault: Vault, client: Client, api: Api, request: Request | None, changes: sf.SecretChanges
) -> None:
    request_id = request.id if request else None
    for field, value in changes.new.items():
        vault.put(client.id, api.id, request_id, field, value)
    vault.keep_only(request_owner(request.id) if request else api_owner(api.id), changes.fields)


def api_columns(data: ApiWrite) -> dict[str, Any]:
    """The API's plain columns (not headers or authorization, which hold secrets)."""
    return {f: getattr(data, f) for f in API_FIELDS} | {"name_key": name_key(data.name)}


def request_columns(data: RequestWrite) -> dict[str, Any]:
    """The request's plain columns (not headers, which may hold secrets)."""
    dumped = data.model_dump(mode="json", include=set(REQUEST_FIELDS))
    return dumped | {"name_key": name_key(data.name)}


def _set_fields(data: ApiWrite | RequestWrite) -> set[str]:
    """The fields a new object was given, for the audit of its creation."""
    return set(data.model_fields_set)


def _api_snapshot(api: Api) -> dict[str, Any]:
    flat = {f: getattr(api, f) for f in API_FIELDS} | {"headers": api.headers}
    return flat | {f"authorization.{k}": v for k, v in api.authorization.items()}


def _request_snapshot(request: Request) -> dict[str, Any]:
    return {c: getattr(request, c) for c in (*REQUEST_FIELDS, "headers")}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def _api_read(session: Session, api: Api, requests: Any) -> ApiRead:
    stored = stored_fields(session, [api_owner(api.id)])
    return ApiRead(
        id=api.id,
        name=api.name,
        description=api.description,
        base_url=api.base_url,
        type=api.type,
        service_id=api.service_id,
        headers=sf.headers_of(api.headers, None),
        authorization=sf.authorization_of(api.authorization, sf.masks(stored[api_owner(api.id)])),
        system=api.client_id is None,
        version=api.version,
        created_at=api.created_at,
        updated_at=api.updated_at,
        requests=[_request_read(api, r) for r in requests],
    )


def _request_read(api: Api, request: Request) -> RequestRead:
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
