"""Use cases for APIs: list, read, create, update, copy, delete; and the rules every write
of an API or of its requests keeps (found for this client, not a system API, If-Match).

Rules that need the database (names unique per client, a service of the same client,
system APIs read-only, If-Match versions, secrets not sent somewhere new unseen) live here
and in `request_service.py`; the rest live in the schemas.
"""

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from callout.apis import mappers, names
from callout.apis import secret_fields as sf
from callout.apis.repository import ApiFilter, ApiRepository, RequestRepository
from callout.apis.schemas import ApiRead, ApiSummary, ApiWrite, RequestRead
from callout.audit import service as audit
from callout.clients.access import Principal
from callout.clients.repository import ServiceRepository
from callout.db.crypto import Keyring
from callout.db.engine import flush
from callout.db.models import Api, Client, Request, utcnow
from callout.db.secrets import Vault, api_owner, request_owner, stored_fields
from callout.designers import references
from callout.errors import (
    Conflict,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ReadOnly,
)
from callout.schemas import MAX_NAME, IfMatch, Page, name_key

COPY_PREFIX = "Copy of "
NEW_API = "New API"
# Where a new API points until it is edited: a reserved domain (RFC 2606), so nothing real.
PLACEHOLDER_BASE_URL = "https://api.example.com"
REFRESH_TOKEN = "authorization.refresh_token"  # noqa: S105 - a field name, not a secret


def find_api(session: Session, client: Client, api_id: int, *, with_requests: bool = False) -> Api:
    """The API, if this client may read it (its own or a system API); otherwise 404."""
    api = ApiRepository(session, client).get(api_id, with_requests=with_requests)
    if api is None:
        raise NotFound(f"no API {api_id} in client {client.code!r}")
    return api


def writable(api: Api) -> Api:
    """The API, if it is the client's own: a system API is read-only."""
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


def list_apis(
    session: Session, client: Client, where: ApiFilter, limit: int, offset: int
) -> Page[ApiSummary]:
    rows, total = ApiRepository(session, client).page(where, limit, offset)
    items = [mappers.api(ApiSummary, row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def get_api(session: Session, client: Client, api_id: int) -> ApiRead:
    api = find_api(session, client, api_id, with_requests=True)
    return _read(session, client, api, api.requests)


def _read(session: Session, client: Client, api: Api, requests: Sequence[Request]) -> ApiRead:
    """The API as read: its secrets masked, with its requests."""
    owner = api_owner(api.id)
    return mappers.api(
        ApiRead,
        api,
        stored=stored_fields(session, client.id, [owner])[owner],
        requests=read_requests(session, client, api, requests),
    )


def read_requests(
    session: Session, client: Client, api: Api, requests: Sequence[Request]
) -> list[RequestRead]:
    """Requests as read: a secret header shows the mask where a value is stored, nothing
    where none was ever entered."""
    owners = [request_owner(r.id) for r in requests if any(h["secret"] for h in r.headers)]
    stored = stored_fields(session, client.id, owners)
    return [
        mappers.request(RequestRead, api, r, stored=stored.get(request_owner(r.id), set()))
        for r in requests
    ]


def create_api(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    data: ApiWrite,
    *,
    incomplete: bool = False,
) -> ApiRead:
    """Create an API; `incomplete` (an import) lets secrets be left out (`SecretSplit`)."""
    principal.require("editor")
    _check_name(session, client, data.name, None)
    _check_service(session, client, data.service_id)
    split = sf.SecretSplit(stored=set(), incomplete=incomplete)
    headers, authorization = split.headers(data.headers), split.authorization(data.authorization)
    split.check()
    api = Api(
        client_id=client.id,
        headers=headers,
        authorization=authorization,
        **mappers.api_columns(data),
    )
    session.add(api)
    flush(session, taken=_taken(data.name))
    seal(session, keyring, client, api, None, split)
    given = data.model_fields_set | split.fields
    audit.record(session, client.id, principal, "create", ("api", api.id, api.name), given)
    return _read(session, client, api, [])


def update_api(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    api_id: int,
    if_match: IfMatch | None,
    data: ApiWrite,
) -> ApiRead:
    principal.require("editor")
    api = writable(find_api(session, client, api_id))
    check_version("API", api.name, api.version, if_match)
    _check_name(session, client, data.name, api)
    _check_service(session, client, data.service_id)
    owner = api_owner(api.id)
    moved = _moved(api, data)
    split = sf.SecretSplit(
        stored=stored_fields(session, client.id, [owner])[owner],
        headers_resent=moved,
        authorization_resent=moved or _reauthorized(api, data),
    )
    headers, authorization = split.headers(data.headers), split.authorization(data.authorization)
    split.check()
    if moved:
        _check_no_request_secrets(session, client, api, data.base_url)
    before = _stored(api)
    for name, value in mappers.api_columns(data).items():
        setattr(api, name, value)
    api.headers, api.authorization = headers, authorization
    # A PUT that changes nothing writes nothing: the version, the ETag and the cached plans
    # stay. A secret sent in clear counts as changed even when it is the stored one: it is
    # sealed anew, and the new version lets credentials refused before be tried at once.
    changed = audit.changed(before, _stored(api)) | split.changed()
    if changed:
        api.updated_at = utcnow()
        # The row first: its versioned UPDATE is where a concurrent save of the same version
        # loses.
        flush(session, taken=_taken(data.name), stale=f"API {api.name!r}")
        seal(session, keyring, client, api, None, split)
        audit.record(session, client.id, principal, "update", ("api", api.id, api.name), changed)
    return _read(session, client, api, RequestRepository(session, client).of_api(api))


def _stored(api: Api) -> dict[str, Any]:
    """The API's settings as stored, each field apart, for the audit to compare."""
    flat = {f: getattr(api, f) for f in mappers.API_COLUMNS} | {"headers": api.headers}
    return flat | {f"authorization.{k}": v for k, v in api.authorization.items()}


def delete_api(
    session: Session, principal: Principal, client: Client, api_id: int, if_match: IfMatch | None
) -> None:
    principal.require("editor")
    api = writable(find_api(session, client, api_id))
    check_version("API", api.name, api.version, if_match)
    references.refuse_api_use(session, client, api)
    audit.record(session, client.id, principal, "delete", ("api", api.id, api.name))
    session.delete(api)  # its requests and secrets go with it (ON DELETE CASCADE)
    what = f"API {api.name!r}"
    flush(session, stale=what, used=references.used_meanwhile(what))


def offered_copy_name(session: Session, client: Client, api_id: int) -> str:
    """The name the copy prompt offers: "Copy of NAME", made unique in the client's library."""
    api = find_api(session, client, api_id)
    base = names.cut(COPY_PREFIX + api.name, MAX_NAME)
    taken = ApiRepository(session, client).name_keys_like(name_key(base))
    return names.unique_name(base, taken, names.COPY_NUMBERING)


def new_api(session: Session, keyring: Keyring, principal: Principal, client: Client) -> ApiRead:
    """Add API: an API made at once, named "New API" or the first free "New API N", with
    every setting at its default and a placeholder base URL, ready to edit."""
    principal.require("editor")
    library = ApiRepository(session, client)

    def create() -> ApiRead:
        taken = library.name_keys_like(name_key(NEW_API))
        name = names.unique_name(NEW_API, taken, names.NEW_NUMBERING)
        data = ApiWrite(name=name, base_url=PLACEHOLDER_BASE_URL)
        return create_api(session, keyring, principal, client, data)

    return names.on_a_free_name(session, create)


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
    source = find_api(session, client, api_id, with_requests=True)
    new_name = name or offered_copy_name(session, client, api_id)
    _check_name(session, client, new_name, None)
    copy = Api(
        client_id=client.id,
        name=new_name,
        name_key=name_key(new_name),
        headers=source.headers,
        authorization=source.authorization,
        **{f: getattr(source, f) for f in ("description", "base_url", "type")},
        # A system API's copy starts without a service: services are the client's own.
        service_id=source.service_id if source.client_id == client.id else None,
    )
    session.add(copy)
    flush(session, taken=_taken(new_name))
    vault = Vault(session, keyring, client.id)
    for field, value in vault.reveal_all(api_owner(source.id)).items():
        vault.put(copy.id, None, field, value)
    columns = (*mappers.REQUEST_COLUMNS, "name_key", "headers")
    for request in source.requests:
        twin = Request(api_id=copy.id, **{c: getattr(request, c) for c in columns})
        session.add(twin)
        session.flush()
        for field, value in vault.reveal_all(request_owner(request.id)).items():
            vault.put(copy.id, twin.id, field, value)
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


def _check_name(session: Session, client: Client, name: str, current: Api | None) -> None:
    same = ApiRepository(session, client).by_name_key(name_key(name))
    if same is not None and same is not current:
        raise _taken(same.name)


def _taken(name: str) -> Conflict:
    return Conflict.field("name", f"an API named {name!r} exists already")


def _check_service(session: Session, client: Client, service_id: int | None) -> None:
    if service_id is not None and ServiceRepository(session, client).get(service_id) is None:
        raise Invalid.field("service_id", f"no service {service_id} in client {client.code!r}")


def _origin(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}".lower()


# An editor cannot read a stored secret; without the next two rules one could keep one (by
# sending the mask back) while pointing the API at a host of their own.


def _moved(api: Api, data: ApiWrite) -> str | None:
    """Why every secret would now go somewhere new: the base URL's origin changed."""
    if _origin(api.base_url) != _origin(data.base_url):
        return f"the base URL now points at {_origin(data.base_url)}"
    return None


def _reauthorized(api: Api, data: ApiWrite) -> str | None:
    """Why the authorization's secrets would now go somewhere new, or serve another scheme."""
    stored, new = api.authorization, data.authorization
    if stored["type"] != new.type:
        return f"the authorization changed from {stored['type']} to {new.type}"
    for endpoint in ("token_url", "authorization_url"):
        if _origin(stored.get(endpoint)) != _origin(getattr(new, endpoint, None)):
            return f"the {endpoint.replace('_', ' ')} now points elsewhere"
    return None


def _check_no_request_secrets(session: Session, client: Client, api: Api, new_base: str) -> None:
    names = RequestRepository(session, client).with_secrets(api)
    if names:
        raise Conflict.field(
            "base_url",
            f"requests {', '.join(sorted(names))} hold secret headers that would now go to "
            f"{_origin(new_base)}: remove those headers, move the API, then enter them again",
        )


def store_refresh_token(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    api_id: int,
    refresh_token: str | None,
) -> int:
    """Keep what an authorization (the authorization_code flow) gave: the refresh token,
    sealed. The API's version moves, as for any change of its credentials; returns it."""
    principal.require("editor")
    api = writable(find_api(session, client, api_id))
    if refresh_token:
        Vault(session, keyring, client.id).put(api.id, None, REFRESH_TOKEN, refresh_token)
    api.updated_at = utcnow()
    flush(session, stale=f"API {api.name!r}")
    audit.record(
        session, client.id, principal, "update", ("api", api.id, api.name), {REFRESH_TOKEN}
    )
    return api.version
