"""FastAPI dependencies, as `Annotated` aliases so routes read as plain signatures."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from sqlalchemy.orm import Session

from callout.clients import service as clients
from callout.clients.access import Principal
from callout.db.crypto import Keyring, KeySource
from callout.db.engine import Database
from callout.db.models import Client
from callout.errors import Invalid
from callout.invocations.service import Runtime


def _session(request: Request) -> Iterator[Session]:
    """One unit of work per HTTP request: committed before the response is sent."""
    database: Database = request.app.state.database
    with database.sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(_session, scope="function")]


def _keyring(request: Request) -> Keyring:
    keys: KeySource = request.app.state.keys
    return keys.keyring()


KeyringDep = Annotated[Keyring, Depends(_keyring)]


def _principal(
    session: SessionDep,
    authorization: Annotated[
        str | None, Header(description="`Bearer callout_...`: an API key.")
    ] = None,
) -> Principal:
    key = None
    if authorization and authorization[:7].lower() == "bearer ":
        key = authorization[7:].strip()
    return clients.authenticate(session, key)


PrincipalDep = Annotated[Principal, Depends(_principal)]


def _client(
    session: SessionDep,
    principal: PrincipalDep,
    client: Annotated[str, Path(description="The client's code.", max_length=40)],
) -> Client:
    return clients.visible_client(session, principal, client)


ClientDep = Annotated[Client, Depends(_client)]


def _if_match(
    if_match: Annotated[
        str | None,
        Header(description='The ETag from your last read, e.g. `"3"`: refused when stale.'),
    ] = None,
) -> int | None:
    if if_match is None:
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise Invalid.field("If-Match", 'must be the ETag you read, e.g. "3"')
    return int(tag)


IfMatchDep = Annotated[int | None, Depends(_if_match)]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def etag(version: int) -> str:
    return f'"{version}"'
