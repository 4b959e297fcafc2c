"""Two writers of one API: If-Match lets the first save win and refuses the second, over
HTTP and when both race through the service at the same moment, on committed data (also
when both add a secret never stored before)."""

import threading
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from callout.apis import service
from callout.apis.schemas import ApiWrite
from callout.clients import service as clients
from callout.clients.access import OPERATOR, Principal
from callout.clients.schemas import ApiKeyCreate
from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.db.models import Api, AuditEvent, Client
from callout.db.secrets import Vault, api_owner
from callout.errors import PreconditionFailed
from callout.schemas import IfMatch
from callout.settings import Settings
from callout.web.app import create_app
from tests.conftest import bearer
from tests.factories import add_client, api_body


def committed_client(database: Database) -> tuple[Client, dict[str, str], dict[str, str]]:
    """A client with two editor keys, committed, as two people in two browsers have."""
    with database.transaction() as session:
        client = add_client(session, "acme")
        one, two = (
            clients.create_api_key(
                session, OPERATOR, client, ApiKeyCreate(name=name, role="editor")
            ).key
            for name in ("writer-one", "writer-two")
        )
    return client, bearer(one), bearer(two)


async def test_second_writer_with_a_stale_etag_is_refused_and_the_first_change_kept(
    scratch_database: Database, settings: Settings, keys: KeySource
) -> None:
    client, one, two = committed_client(scratch_database)
    app = create_app(settings, database=scratch_database, keys=keys)
    apis = f"/api/v1/clients/{client.code}/apis"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://callout.test") as http:
        created = await http.post(apis, json=api_body(), headers=one)
        assert created.status_code == 201, created.text
        url = f"{apis}/{created.json()['id']}"

        read_one, read_two = await http.get(url, headers=one), await http.get(url, headers=two)
        assert read_one.headers["ETag"] == read_two.headers["ETag"] == '"1"'

        saved = await http.put(
            url,
            json=api_body(description="writer one"),
            headers=one | {"If-Match": read_one.headers["ETag"]},
        )
        assert saved.status_code == 200, saved.text
        assert saved.headers["ETag"] == '"2"'

        refused = await http.put(
            url,
            json=api_body(description="writer two"),
            headers=two | {"If-Match": read_two.headers["ETag"]},
        )
        assert refused.status_code == 412, refused.text
        assert "changed since you read it" in refused.json()["detail"]

        after = await http.get(url, headers=two)
        assert after.headers["ETag"] == '"2"'
        assert after.json()["description"] == "writer one"

    with scratch_database.transaction() as session:
        api = session.scalar(select(Api).where(Api.client_id == client.id))
        assert api is not None
        assert (api.description, api.version) == ("writer one", 2)
        updates = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.action == "update")
        ).all()
        assert updates == ["key:writer-one"]


def _write(
    database: Database,
    keys: KeySource,
    client_id: int,
    api_id: int,
    if_match: int,
    writer: str,
    data: ApiWrite,
    barrier: threading.Barrier,
    outcomes: dict[str, str],
) -> None:
    """One editor's save: read, check If-Match and write, in its own session."""
    principal = Principal(name=writer, role="editor", client_id=client_id)
    keyring = keys.keyring()
    try:
        barrier.wait(timeout=10)
        with database.transaction() as session:
            client = session.get(Client, client_id)
            assert client is not None
            service.update_api(
                session, keyring, principal, client, api_id, IfMatch(frozenset({if_match})), data
            )
    except PreconditionFailed:
        outcomes[writer] = "refused"
    except Exception as error:  # reported by the test, not lost in the thread
        outcomes[writer] = f"unexpected {error!r}"
    else:
        outcomes[writer] = "saved"


def _described(writer: str, version: int) -> dict[str, Any]:
    # Each save changes something: a save that changes nothing writes nothing, so never loses.
    return api_body(description=f"by {writer} from {version}")


def _with_new_secrets(writer: str, version: int) -> dict[str, Any]:
    """A save that adds a secret header never stored before, and a new token."""
    return api_body(
        description=f"by {writer}",
        headers=[{"name": f"X-Round-{version}", "value": f"{writer}-{version}", "secret": True}],
        authorization={"type": "bearer", "token": f"{writer}-token-{version}"},
    )


def race(
    database: Database,
    keys: KeySource,
    client_id: int,
    api_id: int,
    version: int,
    body: Callable[[str, int], dict[str, Any]],
) -> str:
    """Two editors, "one" and "two", each save `body(writer, version)` over `version` at the
    same moment: one save is refused and the other kept. Returns who won."""
    barrier, outcomes = threading.Barrier(2), dict[str, str]()
    threads = [
        threading.Thread(
            target=_write,
            args=(
                database,
                keys,
                client_id,
                api_id,
                version,
                writer,
                ApiWrite.model_validate(body(writer, version)),
                barrier,
                outcomes,
            ),
        )
        for writer in ("one", "two")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["refused", "saved"], outcomes
    [winner] = [w for w, outcome in outcomes.items() if outcome == "saved"]
    return winner


def test_racing_writers_with_the_same_if_match_let_exactly_one_win(
    scratch_database: Database, keys: KeySource
) -> None:
    client, _, _ = committed_client(scratch_database)
    with scratch_database.transaction() as session:
        owner = session.get(Client, client.id)
        assert owner is not None
        api_id = service.create_api(
            session, keys.keyring(), OPERATOR, owner, ApiWrite.model_validate(api_body())
        ).id

    for version in (1, 2, 3):  # a few rounds: each starts where the last one left off
        winner = race(scratch_database, keys, client.id, api_id, version, _described)

        with scratch_database.transaction() as session:
            api = session.get(Api, api_id)
            assert api is not None
            assert (api.version, api.description) == (version + 1, f"by {winner} from {version}")


def test_racing_saves_that_both_add_a_new_secret_let_one_win_and_refuse_the_other(
    scratch_database: Database, keys: KeySource
) -> None:
    with scratch_database.transaction() as session:
        client = add_client(session, "acme")
        api_id = service.create_api(
            session, keys.keyring(), OPERATOR, client, ApiWrite.model_validate(api_body())
        ).id
        client_id = client.id

    for version in (1, 2, 3):
        winner = race(scratch_database, keys, client_id, api_id, version, _with_new_secrets)

        with scratch_database.transaction() as session:
            api = session.get(Api, api_id)
            assert api is not None
            assert (api.version, api.description) == (version + 1, f"by {winner}")
            assert Vault(session, keys.keyring(), client_id).reveal_all(api_owner(api_id)) == {
                f"headers.x-round-{version}": f"{winner}-{version}",
                "authorization.token": f"{winner}-token-{version}",
            }
