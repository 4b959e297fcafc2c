"""The audit trail: who created, changed, copied or deleted which API or request, and which
fields changed; secret fields by name, never by value."""

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from callout.db.models import AuditEvent
from callout.schemas import MASK
from tests.conftest import Tenant, Tenants
from tests.factories import SENTINEL, add_system_api, api_body, request_body

BASIC = {"type": "basic", "username": "alice", "password": SENTINEL}
SECRET_HEADER = {"name": "X-Api-Key", "value": SENTINEL, "secret": True}


def audit_url(tenant: Tenant) -> str:
    return f"/api/v1/clients/{tenant.code}/audit"


async def events(http: httpx.AsyncClient, tenant: Tenant, **params: Any) -> dict[str, Any]:
    response = await http.get(audit_url(tenant), params=params, headers=tenant.viewer)
    assert response.status_code == 200, response.text
    assert SENTINEL not in response.text
    page: dict[str, Any] = response.json()
    return page


async def newest(http: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    event: dict[str, Any] = (await events(http, tenant, limit=1))["items"][0]
    return event


def subject(event: dict[str, Any]) -> tuple[str, int, str]:
    """What an event is about: (object type, id, name)."""
    return event["object_type"], event["object_id"], event["object_name"]


def no_secret_stored(session: Session) -> None:
    session.expire_all()
    for event in session.scalars(select(AuditEvent)):
        text = f"{event.object_name} {event.changed} {event.detail} {event.actor}"
        assert SENTINEL not in text


async def create_api(http: httpx.AsyncClient, tenant: Tenant, **changes: Any) -> httpx.Response:
    response = await http.post(tenant.apis, json=api_body(**changes), headers=tenant.editor)
    assert response.status_code == 201, response.text
    return response


async def create_request(
    http: httpx.AsyncClient, tenant: Tenant, api_id: int, **changes: Any
) -> httpx.Response:
    response = await http.post(
        f"{tenant.apis}/{api_id}/requests", json=request_body(**changes), headers=tenant.editor
    )
    assert response.status_code == 201, response.text
    return response


async def put(
    http: httpx.AsyncClient, tenant: Tenant, url: str, etag: str, body: dict[str, Any]
) -> httpx.Response:
    response = await http.put(url, json=body, headers=tenant.editor | {"If-Match": etag})
    assert response.status_code == 200, response.text
    return response


# APIs


async def test_creating_an_api_records_actor_object_and_fields(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    api = (await create_api(http, a, authorization=BASIC)).json()
    event = await newest(http, a)
    assert event["actor"] == "key:acme-editor"
    assert event["action"] == "create"
    assert subject(event) == ("api", api["id"], "CRM")
    assert event["changed"] == [
        "authorization",
        "authorization.password",
        "base_url",
        "description",
        "headers",
        "name",
        "type",
    ]
    no_secret_stored(session)


async def test_updating_an_api_names_changed_fields_and_secrets_without_values(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    created = await create_api(http, a, authorization=BASIC)
    url, etag = f"{a.apis}/{created.json()['id']}", created.headers["ETag"]

    new_password = BASIC | {"password": SENTINEL + "-2"}
    body = api_body(description="Changed", authorization=new_password)
    etag = (await put(http, a, url, etag, body)).headers["ETag"]
    event = await newest(http, a)
    assert (event["action"], event["actor"]) == ("update", "key:acme-editor")
    assert event["changed"] == ["authorization.password", "description"]

    kept = BASIC | {"password": MASK}  # the mask keeps the stored password: not a change
    etag = (
        await put(
            http, a, url, etag, api_body(name="CRM v2", description="Changed", authorization=kept)
        )
    ).headers["ETag"]
    event = await newest(http, a)
    assert (event["object_name"], event["changed"]) == ("CRM v2", ["name"])

    none = {"type": "none"}
    await put(
        http, a, url, etag, api_body(name="CRM v2", description="Changed", authorization=none)
    )
    assert (await newest(http, a))["changed"] == [
        "authorization.password",
        "authorization.type",
        "authorization.username",
    ]
    no_secret_stored(session)


async def test_copying_an_api_records_the_copy_and_its_source(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    source = (await create_api(http, a, authorization=BASIC)).json()
    copied = await http.post(
        f"{a.apis}/{source['id']}/copy", json={"name": "CRM twin"}, headers=a.editor
    )
    assert copied.status_code == 201, copied.text
    event = await newest(http, a)
    assert event["actor"] == "key:acme-editor"
    assert event["action"] == "copy"
    assert subject(event) == ("api", copied.json()["id"], "CRM twin")
    assert event["detail"] == {"from_api": source["id"], "from_name": "CRM", "from_system": False}

    system_id = add_system_api(session)
    from_system = await http.post(f"{a.apis}/{system_id}/copy", headers=a.editor)
    assert from_system.status_code == 201, from_system.text
    event = await newest(http, a)
    assert (event["action"], event["object_id"]) == ("copy", from_system.json()["id"])
    assert event["detail"]["from_api"] == system_id
    assert event["detail"]["from_system"] is True
    no_secret_stored(session)


async def test_deleting_an_api_records_it(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    created = await create_api(http, a)
    api_id = created.json()["id"]
    deleted = await http.delete(
        f"{a.apis}/{api_id}", headers=a.editor | {"If-Match": created.headers["ETag"]}
    )
    assert deleted.status_code == 204
    event = await newest(http, a)
    assert event["actor"] == "key:acme-editor"
    assert event["action"] == "delete"
    assert subject(event) == ("api", api_id, "CRM")


# Requests


async def test_request_create_update_delete_are_recorded(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    api_id = (await create_api(http, a)).json()["id"]
    created = await create_request(http, a, api_id, headers=[SECRET_HEADER])
    request_id = created.json()["id"]
    url = f"{a.apis}/{api_id}/requests/{request_id}"

    event = await newest(http, a)
    assert (event["actor"], event["action"]) == ("key:acme-editor", "create")
    assert subject(event) == ("request", request_id, "Get customer")
    assert event["changed"] == [
        "endpoint_path",
        "headers",
        "headers.x-api-key",
        "method",
        "name",
        "outputs",
        "parameters",
        "url_path",
    ]
    assert event["detail"] == {"api": api_id}

    moved = request_body(endpoint_path="clients/${customerId}", headers=[SECRET_HEADER])
    etag = (await put(http, a, url, created.headers["ETag"], moved)).headers["ETag"]
    event = await newest(http, a)
    assert (event["action"], event["object_id"]) == ("update", request_id)
    assert event["changed"] == ["endpoint_path", "headers.x-api-key"]  # a new secret value

    rotated = SECRET_HEADER | {"value": SENTINEL + "-2"}
    etag = (
        await put(
            http,
            a,
            url,
            etag,
            request_body(endpoint_path="clients/${customerId}", headers=[rotated]),
        )
    ).headers["ETag"]
    assert (await newest(http, a))["changed"] == ["headers.x-api-key"]

    deleted = await http.delete(url, headers=a.editor | {"If-Match": etag})
    assert deleted.status_code == 204
    event = await newest(http, a)
    assert (event["action"], event["object_type"], event["object_id"]) == (
        "delete",
        "request",
        request_id,
    )
    assert event["detail"] == {"api": api_id}
    no_secret_stored(session)


async def test_unchanged_fields_are_not_named(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    api = await create_api(http, a)
    api_id = api.json()["id"]
    await put(http, a, f"{a.apis}/{api_id}", api.headers["ETag"], api_body(description="Why"))
    assert (await newest(http, a))["changed"] == ["description"]

    request = await create_request(http, a, api_id)
    url = f"{a.apis}/{api_id}/requests/{request.json()['id']}"
    await put(http, a, url, request.headers["ETag"], request_body(description="Why"))
    assert (await newest(http, a))["changed"] == ["description"]


async def test_a_save_that_changes_nothing_records_no_event(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await create_api(http, a, authorization=BASIC, headers=[SECRET_HEADER])
    api_id = api.json()["id"]
    request = await create_request(http, a, api_id)
    before = (await events(http, a))["total"]

    masked = {**BASIC, "password": MASK}
    same_api = api_body(authorization=masked, headers=[{**SECRET_HEADER, "value": MASK}])
    await put(http, a, f"{a.apis}/{api_id}", api.headers["ETag"], same_api)
    url = f"{a.apis}/{api_id}/requests/{request.json()['id']}"
    await put(http, a, url, request.headers["ETag"], request_body())

    assert (await events(http, a))["total"] == before


# Reading the trail


async def test_events_come_newest_first_and_page(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    before = (await events(http, a))["total"]
    api = await create_api(http, a)
    api_id = api.json()["id"]
    await create_request(http, a, api_id)
    await create_request(http, a, api_id, name="List customers")
    await put(http, a, f"{a.apis}/{api_id}", api.headers["ETag"], api_body(name="CRM 2"))

    page = await events(http, a)
    assert page["total"] == before + 4
    latest = [(e["action"], e["object_type"], e["object_name"]) for e in page["items"][:4]]
    assert latest == [
        ("update", "api", "CRM 2"),
        ("create", "request", "List customers"),
        ("create", "request", "Get customer"),
        ("create", "api", "CRM"),
    ]
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids, reverse=True)
    times = [e["at"] for e in page["items"][:4]]
    assert times == sorted(times, reverse=True)

    first = await events(http, a, limit=2)
    second = await events(http, a, limit=2, offset=2)
    assert (first["limit"], first["offset"], first["total"]) == (2, 0, before + 4)
    assert [e["id"] for e in first["items"] + second["items"]] == ids[:4]
    beyond = await events(http, a, limit=2, offset=page["total"])
    assert (beyond["items"], beyond["total"]) == ([], before + 4)


async def test_events_filter_by_object(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    crm = await create_api(http, a)
    crm_id = crm.json()["id"]
    other_id = (await create_api(http, a, name="Billing")).json()["id"]
    request_id = (await create_request(http, a, crm_id)).json()["id"]
    await put(http, a, f"{a.apis}/{crm_id}", crm.headers["ETag"], api_body(description="New"))

    apis = await events(http, a, object_type="api")
    assert {e["object_type"] for e in apis["items"]} == {"api"}
    assert apis["total"] == 3

    crm_events = await events(http, a, object_type="api", object_id=crm_id)
    assert [e["action"] for e in crm_events["items"]] == ["update", "create"]
    assert crm_events["total"] == 2
    other = await events(http, a, object_type="api", object_id=other_id)
    assert [e["object_name"] for e in other["items"]] == ["Billing"]

    requests = await events(http, a, object_type="request")
    assert [(e["object_id"], e["action"]) for e in requests["items"]] == [(request_id, "create")]


async def test_events_filter_by_action(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    crm = await create_api(http, a)
    crm_id = crm.json()["id"]
    await create_request(http, a, crm_id)
    await put(http, a, f"{a.apis}/{crm_id}", crm.headers["ETag"], api_body(description="New"))
    await http.post(f"{a.apis}/{crm_id}/copy", headers=a.editor)

    updates = await events(http, a, action="update")
    assert [subject(e) for e in updates["items"]] == [("api", crm_id, "CRM")]
    assert updates["total"] == 1
    copies = await events(http, a, action="copy", object_type="api")
    assert [e["action"] for e in copies["items"]] == ["copy"]
    creates = await events(http, a, action="create", object_type="api", object_id=crm_id)
    assert [(e["object_type"], e["action"]) for e in creates["items"]] == [("api", "create")]


async def test_an_unknown_action_is_refused_naming_the_allowed_ones(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    refused = await http.get(audit_url(a), params={"action": "explode"}, headers=a.viewer)

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    [error] = refused.json()["errors"]
    assert error["field"] == "action"
    for allowed in ("create", "update", "copy", "delete"):
        assert allowed in error["message"]
    assert "explode" not in refused.text


async def test_bad_filters_and_pages_are_refused_by_name(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    for params, field in (
        ({"object_type": "planet"}, "object_type"),
        ({"object_id": "x"}, "object_id"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
    ):
        refused = await http.get(audit_url(a), params=params, headers=a.viewer)
        assert refused.status_code == 422, params
        assert [e["field"] for e in refused.json()["errors"]] == [field]


async def test_a_clients_audit_shows_only_its_own_events(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    await create_api(http, a, name="Acme CRM")
    a_before = await events(http, a)

    b_api = await create_api(http, b, name="Globex CRM")
    await create_request(http, b, b_api.json()["id"])
    await http.post(f"{b.apis}/{b_api.json()['id']}/copy", headers=b.editor)

    assert await events(http, a) == a_before
    assert all(not e["actor"].startswith("key:globex") for e in a_before["items"])
    b_events = (await events(http, b))["items"]
    assert {e["object_name"] for e in b_events} >= {"Globex CRM", "Get customer"}
    assert "Acme CRM" not in {e["object_name"] for e in b_events}
    assert all(not e["actor"].startswith("key:acme") for e in b_events)
    across = await http.get(audit_url(b), headers=a.admin)
    assert across.status_code == 404


async def test_refused_change_records_nothing(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    await create_api(http, a)
    before = await events(http, a)
    clash = await http.post(a.apis, json=api_body(name="crm"), headers=a.editor)
    assert clash.status_code == 409
    denied = await http.post(a.apis, json=api_body(name="Other"), headers=a.viewer)
    assert denied.status_code == 403
    assert await events(http, a) == before
