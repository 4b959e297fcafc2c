"""Add API and Add Request: an object made at once with a default name ("New API 2") that
is free in its library, as the platform's API window makes one before its tab opens."""

import threading
import time
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from callout.apis import service
from callout.clients.access import Principal
from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.db.models import Api, AuditEvent, Client
from tests.apis.checks import assert_refused, stored
from tests.conftest import Tenant, Tenants
from tests.factories import add_client, add_system_api, make_api, make_request


async def add_api(
    http: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await http.post(f"{tenant.apis}/new", json=body, headers=tenant.editor)


async def added_api(http: httpx.AsyncClient, tenant: Tenant) -> str:
    """The name Add API gave."""
    response = await add_api(http, tenant)
    assert response.status_code == 201, response.text
    name: str = response.json()["name"]
    return name


async def add_request(http: httpx.AsyncClient, tenant: Tenant, api_id: int) -> httpx.Response:
    return await http.post(f"{tenant.apis}/{api_id}/requests/new", headers=tenant.editor)


async def added_request(http: httpx.AsyncClient, tenant: Tenant, api_id: int) -> str:
    response = await add_request(http, tenant, api_id)
    assert response.status_code == 201, response.text
    name: str = response.json()["name"]
    return name


# Add API


async def test_add_api_makes_an_api_with_every_default_and_answers_as_create(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    added = await add_api(http, a)
    assert added.status_code == 201, added.text
    api = added.json()
    assert added.headers["ETag"] == '"1"'
    assert added.headers["Location"] == f"{a.apis}/{api['id']}"
    assert {k: v for k, v in api.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "New API",
        "description": "",
        "base_url": "https://api.example.com",
        "type": "api",
        "service_id": None,
        "headers": [],
        "authorization": {"type": "none"},
        "system": False,
        "version": 1,
        "requests": [],
    }
    read = await http.get(added.headers["Location"], headers=a.viewer)
    assert (read.json(), read.headers["ETag"]) == (api, '"1"')


async def test_add_api_takes_the_first_free_number(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    assert [await added_api(http, a) for _ in range(3)] == ["New API", "New API 2", "New API 3"]

    listed = await http.get(a.apis, params={"search": "new api 2"}, headers=a.viewer)
    [second] = listed.json()["items"]
    deleted = await http.delete(f"{a.apis}/{second['id']}", headers=a.editor | {"If-Match": '"1"'})
    assert deleted.status_code == 204, deleted.text
    assert await added_api(http, a) == "New API 2"
    assert await added_api(http, a) == "New API 4"


async def test_add_api_compares_names_as_names_are_compared(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    await make_api(http, a, name="new api")
    await make_api(http, a, name="\uff2e\uff45\uff57 API 2")  # "New" in fullwidth letters
    await make_api(http, a, name="New APIs")  # starts alike, is another name
    assert await added_api(http, a) == "New API 3"
    # Another client's library does not count.
    assert await added_api(http, b) == "New API"


async def test_add_api_takes_an_empty_object_and_refuses_a_field(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    assert (await add_api(http, a, {})).status_code == 201
    before = stored(session, a)
    refused = await add_api(http, a, {"name": "Mine"})
    assert_refused(refused, 422, ("name", "is not a field of this object"))
    assert stored(session, a) == before


async def test_add_api_is_for_editors_and_admins(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    before = stored(session, a)
    refused = await http.post(f"{a.apis}/new", headers=a.viewer)
    assert refused.status_code == 403, refused.text
    assert stored(session, a) == before
    added = await http.post(f"{a.apis}/new", headers=a.admin)
    assert added.status_code == 201, added.text


async def test_add_api_is_audited_as_a_create(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    api = (await add_api(http, a)).json()
    events = await http.get(
        f"/api/v1/clients/{a.code}/audit",
        params={"object_type": "api", "object_id": api["id"]},
        headers=a.viewer,
    )
    assert events.status_code == 200, events.text
    [event] = events.json()["items"]
    assert (event["action"], event["object_name"], event["actor"]) == (
        "create",
        "New API",
        "key:acme-editor",
    )


async def test_only_post_reaches_add_api_and_add_request(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    """`new` is no id: another method on it is told which one the path takes, never that
    "new" is not a valid `api_id`."""
    a = tenants.a
    api = await make_api(http, a)
    for method, url in (
        ("GET", f"{a.apis}/new"),
        ("PUT", f"{a.apis}/new"),
        ("DELETE", f"{a.apis}/new"),
        ("GET", f"{a.apis}/{api['id']}/requests/new"),
        ("PUT", f"{a.apis}/{api['id']}/requests/new"),
    ):
        response = await http.request(method, url, headers=a.admin)
        assert response.status_code == 405, (method, url, response.text)
        assert response.headers["Allow"] == "POST", (method, url)
    for url in (f"{a.apis}/new/requests", f"{a.apis}/new/copy-name"):
        assert (await http.get(url, headers=a.admin)).status_code == 404, url


# Add Request


async def test_add_request_makes_a_get_with_every_default_and_answers_as_create(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    added = await add_request(http, a, api["id"])
    assert added.status_code == 201, added.text
    request = added.json()
    assert added.headers["ETag"] == '"1"'
    assert added.headers["Location"] == f"{a.apis}/{api['id']}/requests/{request['id']}"
    assert {k: v for k, v in request.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "New Request",
        "description": "",
        "api_id": api["id"],
        "method": "GET",
        "url_path": "",
        "endpoint_path": "",
        "url": api["base_url"],
        "query": [],
        "headers": [],
        "content_type": "none",
        "body": None,
        "form": [],
        "parameters": [],
        "outputs": [],
        "timeout": None,
        "success_statuses": [],
        "samples": [],
        "version": 1,
    }
    read = await http.get(added.headers["Location"], headers=a.viewer)
    assert read.json() == request


async def test_add_request_numbers_within_its_api(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    crm, billing = await make_api(http, a, name="CRM"), await make_api(http, a, name="Billing")
    await make_request(http, a, crm["id"], name="NEW REQUEST")
    assert await added_request(http, a, crm["id"]) == "New Request 2"
    assert await added_request(http, a, crm["id"]) == "New Request 3"
    assert await added_request(http, a, billing["id"]) == "New Request"


async def test_add_request_under_a_webhook_api_starts_as_a_message_it_takes(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    for kind, message in (
        ("slack", '{"text": "New message"}'),
        ("teams", '{"@type": "MessageCard", "text": "New message"}'),
    ):
        webhook = await make_api(
            http, a, name=kind, type=kind, base_url="https://hooks.example.com", headers=[]
        )
        request = (await add_request(http, a, webhook["id"])).json()
        assert (request["method"], request["content_type"], request["body"]) == (
            "POST",
            "json",
            message,
        )


async def test_add_request_is_refused_under_a_system_api(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    api_id = add_system_api(session)
    before = session.scalar(select(func.count()).select_from(Api).where(Api.id == api_id))
    refused = await http.post(f"{a.apis}/{api_id}/requests/new", headers=a.admin)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "/problems/read-only"
    assert "copy" in refused.json()["detail"].lower()
    assert session.scalar(select(func.count()).select_from(Api).where(Api.id == api_id)) == before


async def test_add_request_is_for_editors_and_the_apis_own_client(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a, b = tenants.a, tenants.b
    api = await make_api(http, a)
    before = stored(session, a)
    viewer = await http.post(f"{a.apis}/{api['id']}/requests/new", headers=a.viewer)
    assert viewer.status_code == 403, viewer.text
    other = await http.post(f"{b.apis}/{api['id']}/requests/new", headers=b.admin)
    assert other.status_code == 404, other.text
    assert other.headers["content-type"] == "application/problem+json"
    assert "CRM" not in other.text
    assert stored(session, a) == before


async def test_add_request_is_audited_as_a_create_naming_its_api(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    request = (await add_request(http, a, api["id"])).json()
    events = await http.get(
        f"/api/v1/clients/{a.code}/audit",
        params={"object_type": "request", "object_id": request["id"]},
        headers=a.viewer,
    )
    [event] = events.json()["items"]
    assert (event["action"], event["object_name"]) == ("create", "New Request")
    assert event["detail"] == {"api": api["id"]}


# Two at once


def _add_api(
    database: Database,
    keys: KeySource,
    client_id: int,
    answers: dict[str, str],
    who: str,
    made: threading.Event | None = None,
    hold: threading.Event | None = None,
) -> None:
    """Add API in a unit of work of its own, the name it got in `answers[who]`; with
    `made` and `hold`, it says when the API is made and commits only once `hold` is set."""
    try:
        with database.transaction() as session:
            client = session.get(Client, client_id)
            assert client is not None
            principal = Principal(name=who, role="editor", client_id=client_id)
            api = service.new_api(session, keys.keyring(), principal, client)
            if made is not None and hold is not None:
                made.set()
                assert hold.wait(timeout=10)
    except Exception as error:  # reported by the test, not lost in the thread
        answers[who] = f"unexpected {error!r}"
    else:
        answers[who] = api.name


def _waiting_on_a_lock(database: Database) -> int:
    with database.engine.connect() as connection:
        waiting = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return int(waiting or 0)


def test_add_api_racing_another_picks_the_next_free_name(
    scratch_database: Database, keys: KeySource
) -> None:
    """The second Add API finds "New API" free (the first has not committed) and inserts it:
    on PostgreSQL that waits on the unique index until the first commits, then fails; the
    second picks again and gets "New API 2"."""
    with scratch_database.transaction() as session:
        client_id = add_client(session, "acme").id
    made, hold, answers = threading.Event(), threading.Event(), dict[str, str]()
    first = threading.Thread(
        target=_add_api, args=(scratch_database, keys, client_id, answers, "first", made, hold)
    )
    second = threading.Thread(
        target=_add_api, args=(scratch_database, keys, client_id, answers, "second")
    )
    first.start()
    assert made.wait(timeout=10), answers
    second.start()
    if scratch_database.url.startswith("postgresql"):
        deadline = time.monotonic() + 10
        while _waiting_on_a_lock(scratch_database) == 0:  # the second's INSERT waits
            assert time.monotonic() < deadline, "the second Add API never reached the index"
            time.sleep(0.02)
    else:
        time.sleep(0.2)  # SQLite: the second waits to begin, behind the first
    hold.set()
    for thread in (first, second):
        thread.join(timeout=20)

    assert answers == {"first": "New API", "second": "New API 2"}
    with scratch_database.transaction() as session:
        names = session.scalars(select(Api.name).where(Api.client_id == client_id)).all()
        creates = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "create")
        )
    assert sorted(names) == ["New API", "New API 2"]
    assert creates == 2
