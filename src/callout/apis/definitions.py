"""An API and one of its requests as the runtime needs them: with their secrets opened.

This is the one place stored secrets are decrypted for sending; what it returns goes
straight into a request plan and nowhere else.
"""

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from callout.apis import mappers
from callout.apis import secret_fields as sf
from callout.apis.repository import ApiRepository, RequestRepository
from callout.apis.schemas import ApiFields, RequestFields
from callout.apis.service import find_api, writable
from callout.db.crypto import Keyring
from callout.db.models import Api, Client
from callout.db.secrets import Vault, api_owner, request_owner
from callout.errors import NotFound
from callout.schemas import MAX_NAME, id_named, name_key

# Names a "did you mean" offers at most.
SUGGESTIONS = 3


@dataclass(frozen=True)
class Versions:
    api_version: int
    request_version: int


@dataclass(frozen=True)
class Unset:
    """The secret headers with no value stored (an import leaves secrets out, for the admin
    to enter), by `name_key`: the API's and the request's. A call is refused while one is
    sent."""

    api: frozenset[str] = frozenset()
    request: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Definition:
    api: ApiFields
    request: RequestFields
    versions: Versions
    unset: Unset


def versions(session: Session, client: Client, api_id: int, request_id: int) -> Versions:
    """The current versions of a request and its API, if this client may call it."""
    found = RequestRepository(session, client).versions(api_id, request_id)
    if found is None:
        raise _no_request(client, api_id, request_id)
    return Versions(*found)


def load(
    session: Session, keyring: Keyring, client: Client, api_id: int, request_id: int
) -> Definition:
    found = RequestRepository(session, client).with_api(api_id, request_id)
    if found is None:
        raise _no_request(client, api_id, request_id)
    request, api = found
    vault = Vault(session, keyring, client.id)
    api_secrets = vault.reveal_all(api_owner(api.id))
    request_secrets = vault.reveal_all(request_owner(request.id))
    return Definition(
        mappers.api(ApiFields, api, opened=api_secrets),
        mappers.request(RequestFields, api, request, opened=request_secrets),
        Versions(api.version, request.version),
        Unset(
            sf.unset_headers(api.headers, api_secrets.keys()),
            sf.unset_headers(request.headers, request_secrets.keys()),
        ),
    )


def _no_request(client: Client, api_id: int, request_id: int) -> NotFound:
    return NotFound(f"no request {request_id} in API {api_id} for client {client.code!r}")


def resolve(session: Session, client: Client, api_ref: str, request_ref: str) -> tuple[int, int]:
    """An API and one of its requests named by id or by name (ignoring case), as the CLI
    takes them; the client's own API wins over a system API of the same name."""
    api = _api_named(session, client, api_ref)
    requests = RequestRepository(session, client)
    request_id = id_named(request_ref)
    request = requests.get(api, request_id) if request_id is not None else None
    request = request or requests.by_name_key(api, name_key(request_ref))
    if request is None:
        close = did_you_mean(request_ref, requests.names(api))
        raise NotFound(f"no request {request_ref!r} in API {api.name!r}{close}")
    return api.id, request.id


def resolve_api(session: Session, client: Client, api_ref: str) -> int:
    """An API named by id or by name, as `resolve` finds it."""
    return _api_named(session, client, api_ref).id


def _api_named(session: Session, client: Client, api_ref: str) -> Api:
    apis = ApiRepository(session, client)
    api_id = id_named(api_ref)
    api = apis.get(api_id) if api_id is not None else None
    api = api or apis.named(name_key(api_ref))
    if api is None:
        close = did_you_mean(api_ref, apis.names())
        raise NotFound(f"no API {api_ref!r} in client {client.code!r}{close}")
    return api


def did_you_mean(ref: str, names: Iterable[str]) -> str:
    """What to add to "no such name" when names come close (difflib's ratio) or hold the
    one given, ignoring case as names are compared: `did_you_mean("custmer crm",
    ["Customer CRM", "Billing"])` is `"; did you mean 'Customer CRM'?"`, and "slack" finds
    "Slack incoming webhook"; nothing when none does."""
    key = name_key(ref)
    if not key or len(key) > MAX_NAME:  # no name is that long; difflib's work grows with it
        return ""
    by_key = {name_key(name): name for name in names}
    holding = sorted(k for k in by_key if key in k)
    keys = dict.fromkeys([*difflib.get_close_matches(key, by_key), *holding])
    close = [repr(by_key[k]) for k in list(keys)[:SUGGESTIONS]]
    if not close:
        return ""
    listed = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    return f"; did you mean {listed}?"


def load_api(
    session: Session, keyring: Keyring, client: Client, api_id: int
) -> tuple[ApiFields, Api]:
    """A client's own API with its secrets opened, and its row (for its id and version)."""
    api = writable(find_api(session, client, api_id))
    secrets = Vault(session, keyring, client.id).reveal_all(api_owner(api.id))
    return mappers.api(ApiFields, api, opened=secrets), api
