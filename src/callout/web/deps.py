"""FastAPI dependencies, as `Annotated` aliases so routes read as plain signatures."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request, Response
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session
from starlette.convertors import Convertor, register_url_convertor

from callout.clients import service as clients
from callout.clients.access import Principal
from callout.clients.access_cache import AccessCache
from callout.db.admission import Admission
from callout.db.crypto import Keyring, KeySource
from callout.db.engine import Database
from callout.db.models import Client
from callout.designers.cache import DesignerCache
from callout.errors import Invalid, NotFound, Unauthenticated
from callout.invocations.service import Runtime
from callout.schemas import MAX_ID, MAX_OFFSET, IfMatch
from callout.settings import Settings


def _held(name: str) -> Any:
    """A dependency on what the app holds under `name` (set up in `web.app`).

    `async def`: FastAPI runs a plain `def` dependency in a worker thread, a hop for nothing.
    """

    async def held(request: Request) -> Any:
        return getattr(request.app.state, name)

    return Depends(held)


AdmissionDep = Annotated[Admission, _held("admission")]
DatabaseDep = Annotated[Database, _held("database")]
KeysDep = Annotated[KeySource, _held("keys")]
SettingsDep = Annotated[Settings, _held("settings")]
RuntimeDep = Annotated[Runtime, _held("runtime")]
DesignersDep = Annotated[DesignerCache, _held("designers")]


async def _session(request: Request, admission: AdmissionDep) -> AsyncIterator[Session]:
    """One unit of work per HTTP request that needs one: committed before the response is
    sent. A GET only reads, and says so, so it never waits on SQLite's write lock."""
    async with admission.session(reads_only=request.method in ("GET", "HEAD")) as session:
        yield session


SessionDep = Annotated[Session, Depends(_session, scope="function")]


async def _keyring(request: Request) -> Keyring:
    keys: KeySource = request.app.state.keys
    return keys.keyring()


KeyringDep = Annotated[Keyring, Depends(_keyring)]


def _access(request: Request) -> AccessCache:
    access: AccessCache = request.app.state.access
    return access


# Who calls, and which client: from the access cache, or else read in short read-only units of
# work of their own, so a route that needs no database after them (invoke) holds none.
async def principal_of(request: Request, admission: AdmissionDep) -> Principal:
    """The caller, from `Authorization: Bearer callout_...` (read from the request itself: the
    OpenAPI document names it as the security scheme, and a declared header costs a
    validation on every call)."""
    authorization = request.headers.get("authorization")
    key = None
    if authorization and authorization[:7].lower() == "bearer ":
        key = authorization[7:].strip()
    access = _access(request)
    known = access.principal(key) if key else None
    if known is not None:
        return known
    generation = access.generation
    try:
        principal = await admission.lookup(lambda session: clients.authenticate(session, key))
    except Unauthenticated:
        access.drop(key)
        raise
    if key:
        access.keep_principal(key, principal, generation)
    return principal


PrincipalDep = Annotated[Principal, Depends(principal_of)]


ClientCode = Annotated[str, Path(description="The client's code.", max_length=40)]


async def client_of(
    request: Request, admission: AdmissionDep, principal: PrincipalDep, client: ClientCode
) -> Client:
    access = _access(request)
    known = access.client(client)
    if known is not None:
        return clients.check_visible(principal, known, client)
    generation = access.generation
    try:
        found = await admission.lookup(
            lambda session: clients.visible_client(session, principal, client)
        )
    except NotFound:
        access.drop(None, client)
        raise
    access.keep_client(client, found, generation)
    return found


ClientDep = Annotated[Client, Depends(client_of)]


@dataclass(frozen=True, slots=True)
class Caller:
    """What a route that runs a call needs, resolved by one dependency instead of five.

    Invoke is the route a waiting customer pays for, and FastAPI's solving costs per
    dependency: measured on the route alone (no work in it), 232 us a call with the five (and
    the admission under two of them) against 146 us with this one.
    """

    runtime: Runtime
    admission: Admission
    keys: KeySource
    principal: Principal
    client: Client


async def _caller(request: Request, client: ClientCode) -> Caller:
    state = request.app.state
    principal = await principal_of(request, state.admission)
    found = await client_of(request, state.admission, principal, client)
    return Caller(state.runtime, state.admission, state.keys, principal, found)


CallerDep = Annotated[Caller, Depends(_caller)]


# The ETags Callout gives: a version in quotes. Versions are 64-bit at most, so an ETag of
# more digits is not one Callout gave (and int() would refuse thousands of them).
ETAG = re.compile(r'"([0-9]{1,18})"')


async def _if_match(
    if_match: Annotated[
        str | None,
        Header(description='The ETag from your last read, e.g. `"3"`: refused when stale.'),
    ] = None,
) -> IfMatch | None:
    if if_match is None:
        return None
    if if_match.strip() == "*":
        return IfMatch(frozenset(), anything=True)
    versions = set()
    for tag in (t.strip() for t in if_match.split(",")):
        if tag.startswith("W/"):
            continue  # weak: never matches a strong comparison
        found = ETAG.fullmatch(tag)
        if found is None:
            raise Invalid.field("If-Match", 'must be the ETag you read, e.g. "3"')
        versions.add(int(found[1]))
    return IfMatch(frozenset(versions))


IfMatchDep = Annotated[IfMatch | None, Depends(_if_match)]


DIGITS = re.compile(r"[0-9]+")


def _plain_id(value: Any) -> Any:
    """An id as the URL spells it: decimal digits only (their range is checked next).
    Pydantic would also read `1.0`, ` 1` or other scripts' digits as 1."""
    if isinstance(value, str) and not DIGITS.fullmatch(value):
        raise PydanticCustomError("id", "must be a whole number written in digits 0-9 only")
    return value


IdPath = Annotated[int, BeforeValidator(_plain_id), Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, BeforeValidator(_plain_id), Query(ge=1, le=MAX_ID)]
# A page holds 1 to 200 objects (50 unless asked).
LimitQuery = Annotated[int, Query(ge=1, le=200)]
OffsetQuery = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description="How many matching objects to skip.")
]


class _IdSegment(Convertor[str]):
    """An id's path segment (`/apis/{api_id:id}`): any segment but `new`, the word of Add
    API's and Add Request's own routes (`/apis/new`, `.../requests/new`). It is handed on as
    text for `IdPath` to read and, when it is no id, to name in a 422; `GET /apis/new` thus
    finds only Add API's route and answers 405 with `Allow: POST`, not a 422 saying that
    "new" is no `api_id`. Registered as this module is imported, before a router uses it."""

    regex = "(?!new(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("id", _IdSegment())


def etag(version: int) -> str:
    return f'"{version}"'


def located(response: Response, version: int, location: str | None = None) -> None:
    """Answer with the object's ETag, and where it now lives when a write made it."""
    response.headers["ETag"] = etag(version)
    if location:
        response.headers["Location"] = location
