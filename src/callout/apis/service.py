"""Use cases for APIs: list, read, create, update, copy, delete.

Rules that need the database (names unique per client, a service of the same client,
system APIs read-only, If-Match versions, secrets not sent somewhere new unseen) live here
and in `request_service.py`; the rest live in the schemas.
"""

from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from callout.apis import records
from callout.apis import secret_fields as sf
from callout.apis.repository import ApiFilter, ApiRepository, RequestRepository
from callout.apis.schemas import ApiRead, ApiSummary, ApiWrite
from callout.audit import service as audit
from callout.clients.access import Principal
from callout.clients.repository import ServiceRepository
from callout.db.crypto import Keyring
from callout.db.engine import flush
from callout.db.models import Api, Client, Request, utcnow
from callout.db.secrets import Vault, api_owner, request_owner, stored_fields
from callout.errors import Conflict, Invalid
from callout.schemas import MAX_NAME, IfMatch, Page, name_key

COPY_PREFIX = "Copy of "
REFRESH_TOKEN = "authorization.refresh_token"  # noqa: S105 - a field name, not a secret


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
    api = records.find_api(session, client, api_id, with_requests=True)
    return records.api_read(session, client, api, api.requests)


def create_api(
    session: Session, keyring: Keyring, principal: Principal, client: Client, data: ApiWrite
) -> ApiRead:
    principal.require("editor")
    _check_name(session, client, data.name, None)
    _check_service(session, client, data.service_id)
    split = sf.SecretSplit(stored=set())
    headers, authorization = split.headers(data.headers), split.authorization(data.authorization)
    split.check()
    api = Api(
        client_id=client.id,
        headers=headers,
        authorization=authorization,
        **records.api_columns(data),
    )
    session.add(api)
    flush(session, taken=records.api_taken(data.name))
    records.seal(session, keyring, client, api, None, split)
    audit.record(
        session,
        client.id,
        principal,
        "create",
        ("api", api.id, api.name),
        set(data.model_fields_set) | split.fields,
    )
    return records.api_read(session, client, api, [])


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
    api = records.writable(records.find_api(session, client, api_id))
    records.check_version("API", api.name, api.version, if_match)
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
    before = records.api_snapshot(api)
    for name, value in records.api_columns(data).items():
        setattr(api, name, value)
    api.headers, api.authorization = headers, authorization
    # A PUT that changes nothing writes nothing: the version, the ETag and the cached plans
    # stay. A secret sent in clear counts as changed even when it is the stored one: it is
    # sealed anew, and the new version lets credentials refused before be tried at once.
    changed = records.diff(before, records.api_snapshot(api)) | split.changed()
    if changed:
        api.updated_at = utcnow()
        # The row first: its versioned UPDATE is where a concurrent save of the same version
        # loses.
        flush(session, taken=records.api_taken(data.name), stale=f"API {api.name!r}")
        records.seal(session, keyring, client, api, None, split)
        audit.record(session, client.id, principal, "update", ("api", api.id, api.name), changed)
    return records.api_read(session, client, api, RequestRepository(session, client).of_api(api))


def delete_api(
    session: Session, principal: Principal, client: Client, api_id: int, if_match: IfMatch | None
) -> None:
    principal.require("editor")
    api = records.writable(records.find_api(session, client, api_id))
    records.check_version("API", api.name, api.version, if_match)
    audit.record(session, client.id, principal, "delete", ("api", api.id, api.name))
    session.delete(api)  # its requests and secrets go with it (ON DELETE CASCADE)
    flush(session, stale=f"API {api.name!r}")


def offered_copy_name(session: Session, client: Client, api_id: int) -> str:
    """The name the copy prompt offers: "Copy of NAME", made unique in the client's library."""
    api = records.find_api(session, client, api_id)
    base = _cut(COPY_PREFIX + api.name, MAX_NAME)
    taken = ApiRepository(session, client).name_keys_like(name_key(base))
    if name_key(base) not in taken:
        return base
    number = 2
    while True:
        suffix = f" ({number})"
        candidate = _cut(base, MAX_NAME - len(suffix)) + suffix
        if name_key(candidate) not in taken:
            return candidate
        number += 1


def _cut(name: str, room: int) -> str:
    """`name` cut to `room` characters, and shorter while its key is longer (a ligature such
    as "ﬁ" is one character in a name and two in its key)."""
    name = name[:room].rstrip()
    while len(name_key(name)) > room:
        name = name[:-1].rstrip()
    return name


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
    source = records.find_api(session, client, api_id, with_requests=True)
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
    flush(session, taken=records.api_taken(new_name))
    vault = Vault(session, keyring, client.id)
    for field, value in vault.reveal_all(api_owner(source.id)).items():
        vault.put(copy.id, None, field, value)
    columns = (*records.REQUEST_FIELDS, "name_key", "headers")
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
        raise records.api_taken(same.name)


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
    api = records.writable(records.find_api(session, client, api_id))
    if refresh_token:
        Vault(session, keyring, client.id).put(api.id, None, REFRESH_TOKEN, refresh_token)
    api.updated_at = utcnow()
    flush(session, stale=f"API {api.name!r}")
    audit.record(
        session, client.id, principal, "update", ("api", api.id, api.name), {REFRESH_TOKEN}
    )
    return api.version
