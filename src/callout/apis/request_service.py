"""Use cases for the requests under an API: list, read, create, update, delete."""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from callout.apis import mappers, names
from callout.apis import secret_fields as sf
from callout.apis.repository import RequestRepository
from callout.apis.schemas import RequestRead, RequestWrite
from callout.apis.service import check_version, find_api, read_requests, seal, writable
from callout.audit import service as audit
from callout.audit.schemas import Action, ObjectType
from callout.clients.access import Principal
from callout.db.crypto import Keyring
from callout.db.engine import flush
from callout.db.models import Api, Client, Request, utcnow
from callout.db.secrets import Vault, request_owner, stored_fields
from callout.designers import references
from callout.errors import CalloutError, Conflict, Invalid, NotFound
from callout.schemas import IfMatch, Page, name_key

NEW_REQUEST = "New Request"
# A new request of a Slack or Teams API starts as a message its webhook takes.
STARTER_MESSAGES: dict[str, dict[str, str]] = {
    "slack": {"text": "New message"},
    "teams": {"@type": "MessageCard", "text": "New message"},
}


def list_requests(
    session: Session, client: Client, api_id: int, limit: int, offset: int
) -> Page[RequestRead]:
    api = find_api(session, client, api_id)
    rows, total = RequestRepository(session, client).page_of_api(api, limit, offset)
    items = read_requests(session, client, api, rows)
    return Page(items=items, total=total, limit=limit, offset=offset)


def get_request(session: Session, client: Client, api_id: int, request_id: int) -> RequestRead:
    api = find_api(session, client, api_id)
    return read_requests(session, client, api, [_find(session, client, api, request_id)])[0]


def _find(session: Session, client: Client, api: Api, request_id: int) -> Request:
    request = RequestRepository(session, client).get(api, request_id)
    if request is None:
        raise NotFound(f"no request {request_id} in API {api.name!r}")
    return request


def create_request(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    api_id: int,
    data: RequestWrite,
    *,
    incomplete: bool = False,
) -> RequestRead:
    """Create a request; `incomplete` (an import) lets secret header values be left out."""
    principal.require("editor")
    api = writable(find_api(session, client, api_id))
    _check_name(session, client, api, data.name, None)
    request, split = _new_row(api, data, incomplete)
    session.add(request)
    flush(session, taken=_taken(data.name))
    seal(session, keyring, client, api, request, split)
    _audit(session, principal, client, "create", api, request, data.model_fields_set | split.fields)
    return read_requests(session, client, api, [request])[0]


def create_requests(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    api_id: int,
    data: Sequence[RequestWrite],
    *,
    incomplete: bool = False,
) -> None:
    """Create many requests under one API at once, as an import does, by the rules of
    `create_request`: one query for the names taken and one flush, not a round of each per
    request (GitHub's 1,000 operations took 6.7 s one by one). A broken rule is raised
    with its request's place, `[3].method`."""
    principal.require("editor")
    api = writable(find_api(session, client, api_id))
    taken = RequestRepository(session, client).name_keys(api)
    rows = []
    for index, request in enumerate(data):
        try:
            if name_key(request.name) in taken:
                raise _taken(request.name)
            taken.add(name_key(request.name))
            rows.append((*_new_row(api, request, incomplete), request))
        except CalloutError as error:
            raise error.at(f"[{index}]") from None
    session.add_all(row for row, _, _ in rows)
    flush(session)
    vault = Vault(session, keyring, client.id)
    for row, split, request in rows:
        for field, value in split.new.items():
            vault.put(api.id, row.id, field, value)
        changed = request.model_fields_set | split.fields
        _audit(session, principal, client, "create", api, row, changed)


def _new_row(api: Api, data: RequestWrite, incomplete: bool) -> tuple[Request, sf.SecretSplit]:
    """A request's row and the secrets to seal with it, once its rules hold."""
    check_message(api, data)
    split = sf.SecretSplit(stored=set(), incomplete=incomplete)
    headers = split.headers(data.headers)
    split.check()
    return Request(api_id=api.id, headers=headers, **mappers.request_columns(data)), split


def new_request(
    session: Session, keyring: Keyring, principal: Principal, client: Client, api_id: int
) -> RequestRead:
    """Add Request: a request made at once under the API, named "New Request" or the first
    free "New Request N" in it: a GET with every setting at its default, or under a Slack or
    Teams API the POST of a message its webhook takes."""
    principal.require("editor")
    api = writable(find_api(session, client, api_id))
    requests = RequestRepository(session, client)
    message = STARTER_MESSAGES.get(api.type)
    settings = {"method": "GET"}
    if message is not None:
        settings = {"method": "POST", "content_type": "json", "body": json.dumps(message)}

    def create() -> RequestRead:
        taken = requests.name_keys_like(api, name_key(NEW_REQUEST))
        name = names.unique_name(NEW_REQUEST, taken, names.NEW_NUMBERING)
        data = RequestWrite.model_validate({"name": name, **settings})
        return create_request(session, keyring, principal, client, api.id, data)

    return names.on_a_free_name(session, create)


def update_request(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    api_id: int,
    request_id: int,
    if_match: IfMatch | None,
    data: RequestWrite,
) -> RequestRead:
    principal.require("editor")
    api = writable(find_api(session, client, api_id))
    request = _find(session, client, api, request_id)
    check_version("request", request.name, request.version, if_match)
    _check_name(session, client, api, data.name, request)
    check_message(api, data)
    owner = request_owner(request.id)
    split = sf.SecretSplit(stored=stored_fields(session, client.id, [owner])[owner])
    headers = split.headers(data.headers)
    split.check()
    before = _stored(request)
    for column, value in mappers.request_columns(data).items():
        setattr(request, column, value)
    request.headers = headers
    # Nothing changed, nothing written: see `update_api`.
    changed = audit.changed(before, _stored(request)) | split.changed()
    if changed:
        request.updated_at = utcnow()
        # The row first: its versioned UPDATE is where a concurrent save of the same version
        # loses.
        flush(session, taken=_taken(data.name), stale=f"request {request.name!r}")
        if "parameters" in changed:
            # After the row's UPDATE: on PostgreSQL that waits for a designer save holding
            # the request (FOR SHARE), whose mappings this then sees.
            references.refuse_broken_calls(session, client, request, data.parameters)
        seal(session, keyring, client, api, request, split)
        _audit(session, principal, client, "update", api, request, changed)
    return read_requests(session, client, api, [request])[0]


def delete_request(
    session: Session,
    principal: Principal,
    client: Client,
    api_id: int,
    request_id: int,
    if_match: IfMatch | None,
) -> None:
    principal.require("editor")
    api = writable(find_api(session, client, api_id))
    request = _find(session, client, api, request_id)
    check_version("request", request.name, request.version, if_match)
    references.refuse_request_use(session, client, request)
    _audit(session, principal, client, "delete", api, request)
    session.delete(request)  # its secrets go with it (ON DELETE CASCADE)
    what = f"request {request.name!r}"
    flush(session, stale=what, used=references.used_meanwhile(what))


def _audit(
    session: Session,
    principal: Principal,
    client: Client,
    action: Action,
    api: Api,
    request: Request,
    changed: Iterable[str] = (),
) -> None:
    """One event of the audit about a request, naming its API."""
    about: tuple[ObjectType, int, str] = ("request", request.id, request.name)
    audit.record(session, client.id, principal, action, about, changed, detail={"api": api.id})


def _stored(request: Request) -> dict[str, Any]:
    """The request's settings as stored, for the audit to compare."""
    return {c: getattr(request, c) for c in (*mappers.REQUEST_COLUMNS, "headers")}


def _check_name(
    session: Session, client: Client, api: Api, name: str, current: Request | None
) -> None:
    same = RequestRepository(session, client).by_name_key(api, name_key(name))
    if same is not None and same is not current:
        raise _taken(same.name)


def _taken(name: str) -> Conflict:
    return Conflict.field("name", f"a request named {name!r} exists already in this API")


def check_message(api: Api, data: RequestWrite) -> None:
    """A Slack or Teams API posts messages to an incoming webhook: each of its requests is a
    POST of a JSON message (Slack: `text` and/or `blocks`; Teams: a MessageCard or a message
    carrying Adaptive Card attachments)."""
    if api.type not in ("slack", "teams"):
        return
    if data.method != "POST":
        raise Invalid.field("method", f"a {api.type} webhook takes POST")
    if data.content_type != "json" or not data.body:
        raise Invalid.field("body", f"a {api.type} message is a JSON body")
    message = json.loads(data.body)
    if not isinstance(message, dict):
        raise Invalid.field("body", f"a {api.type} message is a JSON object")
    if api.type == "slack" and not ({"text", "blocks"} & message.keys()):
        raise Invalid.field("body", "a Slack message needs `text` or `blocks`")
    if api.type == "teams" and not (
        message.get("@type") == "MessageCard"
        or (message.get("type") == "message" and "attachments" in message)
    ):
        raise Invalid.field(
            "body",
            'a Teams message is a MessageCard ("@type": "MessageCard") or a "message" '
            "with Adaptive Card attachments",
        )
