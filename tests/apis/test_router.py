"""APIs and requests through the REST API: create, read, update, delete, list."""

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callout.db.crypto import KeySource
from callout.db.models import Api, Request, Secret
from callout.db.secrets import Vault
from callout.schemas import MASK
from tests.conftest import Tenant, Tenants
from tests.factories import SENTINEL, add_system_api, api_body, make_api, make_request, request_body

# Helpers

REQUEST_READ_ONLY = ("id", "api_id", "url", "version", "created_at", "updated_at")


def written_back(read: dict[str, Any], read_only: tuple[str, ...]) -> dict[str, Any]:
    """A read body as an editor sends it back: without the fields only the server sets."""
    return {k: v for k, v in read.items() if k not in read_only}


async def names(http: httpx.AsyncClient, tenant: Tenant, **params: Any) -> list[str]:
    response = await http.get(tenant.apis, params=params, headers=tenant.viewer)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def if_match(tenant: Tenant, tag: str) -> dict[str, str]:
    return tenant.editor | {"If-Match": tag}


async def test_create_then_read_returns_etag_and_requests(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    created = await http.post(a.apis, json=api_body(), headers=a.editor)
    assert created.status_code == 201, created.text
    api = created.json()
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"].endswith(f"/apis/{api['id']}")

    made = await http.post(f"{a.apis}/{api['id']}/requests", json=request_body(), headers=a.editor)
    assert made.status_code == 201, made.text
    assert made.json()["url"] == "https://crm.example.com/api/v1/customers/${customerId}"

    read = await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert [r["name"] for r in read.json()["requests"]] == ["Get customer"]


async def test_name_taken_ignoring_case_is_refused_and_nothing_stored(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    assert (await http.post(a.apis, json=api_body(name="CRM"), headers=a.editor)).status_code == 201
    clash = await http.post(a.apis, json=api_body(name="  crm "), headers=a.editor)
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert clash.json()["errors"] == [
        {"field": "name", "message": "an API named 'CRM' exists already"}
    ]
    stored = session.scalar(
        select(func.count()).select_from(Api).where(Api.client_id == a.client.id)
    )
    assert stored == 1


FULLWIDTH_ECHO = "\uff25\uff43\uff48\uff4f"  # "Echo" in fullwidth letters


async def test_names_differing_only_by_compatibility_forms_are_one_name(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a, name="Echo")
    await make_request(http, a, api["id"], name="Echo")

    clash = await http.post(a.apis, json=api_body(name=FULLWIDTH_ECHO), headers=a.editor)
    assert clash.status_code == 409, clash.text
    assert clash.json()["errors"] == [
        {"field": "name", "message": "an API named 'Echo' exists already"}
    ]
    url = f"{a.apis}/{api['id']}/requests"
    clash = await http.post(url, json=request_body(name=FULLWIDTH_ECHO), headers=a.editor)
    assert clash.status_code == 409, clash.text
    found = await http.get(a.apis, params={"search": "\uff45\uff43"}, headers=a.viewer)
    assert [item["name"] for item in found.json()["items"]] == ["Echo"]


async def test_a_name_too_long_once_spelled_out_is_refused(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    # U+FDFA is one character that NFKC spells out as 18.
    refused = await http.post(a.apis, json=api_body(name="\ufdfa" * 6), headers=a.editor)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["name"]


# Create, read, update, delete


async def test_update_with_if_match_replaces_settings_and_moves_the_etag(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    change = api_body(name="CRM v2", base_url="https://crm2.example.com", headers=[])
    updated = await http.put(f"{a.apis}/{api['id']}", json=change, headers=if_match(a, '"1"'))
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] == '"2"'
    assert updated.json()["version"] == 2

    read = await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)
    assert read.headers["ETag"] == '"2"'
    body = read.json()
    assert (body["name"], body["base_url"], body["headers"]) == (
        "CRM v2",
        "https://crm2.example.com",
        [],
    )


async def test_delete_with_if_match_removes_the_api(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    deleted = await http.delete(f"{a.apis}/{api['id']}", headers=if_match(a, '"1"'))
    assert deleted.status_code == 204
    assert (await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)).status_code == 404
    assert await names(http, a, kind="client") == []


async def test_another_clients_api_is_not_found(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    api = await make_api(http, a)
    assert (await http.get(f"{b.apis}/{api['id']}", headers=b.admin)).status_code == 404
    put = await http.put(f"{b.apis}/{api['id']}", json=api_body(), headers=if_match(b, '"1"'))
    assert put.status_code == 404
    assert await names(http, b, kind="client") == []


# If-Match


async def test_update_without_if_match_is_refused_and_nothing_changed(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    refused = await http.put(f"{a.apis}/{api['id']}", json=api_body(name="X"), headers=a.editor)
    assert refused.status_code == 428
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/precondition-required"
    assert "If-Match" in refused.json()["detail"]
    read = (await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)).json()
    assert (read["name"], read["version"]) == ("CRM", 1)


async def test_delete_without_if_match_is_refused_and_the_api_kept(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    refused = await http.delete(f"{a.apis}/{api['id']}", headers=a.editor)
    assert refused.status_code == 428
    assert refused.json()["type"] == "/problems/precondition-required"
    assert (await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)).status_code == 200


async def test_stale_if_match_is_refused_with_a_clear_message(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    url = f"{a.apis}/{api['id']}"
    first = await http.put(url, json=api_body(description="first"), headers=if_match(a, '"1"'))
    assert first.status_code == 200, first.text

    stale = await http.put(url, json=api_body(description="second"), headers=if_match(a, '"1"'))
    assert stale.status_code == 412
    problem = stale.json()
    assert problem["type"] == "/problems/precondition-failed"
    assert "changed since you read it" in problem["detail"]
    assert "version 1" in problem["detail"]
    assert "version 2" in problem["detail"]
    assert "reload" in problem["detail"]

    stale_delete = await http.delete(url, headers=if_match(a, '"1"'))
    assert stale_delete.status_code == 412
    assert stale_delete.json()["type"] == "/problems/precondition-failed"

    read = await http.get(url, headers=a.viewer)
    assert read.status_code == 200
    assert read.headers["ETag"] == '"2"'
    assert read.json()["description"] == "first"


async def test_weak_etag_never_matches_if_match(http: httpx.AsyncClient, tenants: Tenants) -> None:
    """RFC 9110 section 13.1.1: If-Match compares strongly, so W/"1" is not version 1."""
    a = tenants.a
    api = await make_api(http, a)
    url = f"{a.apis}/{api['id']}"
    refused = await http.put(url, json=api_body(description="weak"), headers=if_match(a, 'W/"1"'))
    assert refused.status_code == 412, refused.text
    assert (await http.get(url, headers=a.viewer)).json()["description"] == "Customer records"


async def test_if_match_star_or_a_list_holding_the_version_is_accepted(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    url = f"{a.apis}/{api['id']}"
    listed = await http.put(
        url, json=api_body(description="listed"), headers=if_match(a, '"7", "1"')
    )
    assert listed.status_code == 200, listed.text
    starred = await http.put(url, json=api_body(description="starred"), headers=if_match(a, "*"))
    assert starred.status_code == 200, starred.text
    assert starred.headers["ETag"] == '"3"'
    assert (await http.delete(url, headers=if_match(a, "*"))).status_code == 204


# Listing


async def test_list_pages_with_limit_offset_and_total(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    for name in ("Echo", "alpha", "Delta", "charlie", "Bravo"):
        await make_api(http, a, name=name)
    page = await http.get(
        a.apis, params={"kind": "client", "limit": 2, "offset": 2}, headers=a.viewer
    )
    assert page.status_code == 200
    body = page.json()
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 2)
    assert [item["name"] for item in body["items"]] == ["charlie", "Delta"]
    assert await names(http, a, kind="client", limit=2, offset=4) == ["Echo"]
    assert await names(http, a, kind="client", offset=5) == []


async def test_list_filters_by_kind(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a, b = tenants.a, tenants.b
    add_system_api(session)
    await make_api(http, a, name="Own")
    await make_api(http, b, name="Theirs")

    def listed(params: dict[str, Any]) -> Any:
        return http.get(a.apis, params=params | {"limit": 200}, headers=a.viewer)

    own = (await listed({"kind": "client"})).json()
    assert [(i["name"], i["system"]) for i in own["items"]] == [("Own", False)]
    system = (await listed({"kind": "system"})).json()
    assert system["items"]
    assert all(i["system"] for i in system["items"])
    assert "Status page" in [i["name"] for i in system["items"]]
    everything = (await listed({"kind": "all"})).json()
    assert everything["total"] == own["total"] + system["total"]
    assert "Theirs" not in [i["name"] for i in everything["items"]]
    assert (await listed({})).json()["total"] == everything["total"]


async def test_list_filters_by_type_and_service(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    made = await http.post(
        f"/api/v1/clients/{a.code}/services", json={"name": "Billing"}, headers=a.editor
    )
    assert made.status_code == 201, made.text
    billing = made.json()["id"]
    await make_api(http, a, name="CRM")
    await make_api(http, a, name="Alerts", type="slack", base_url="https://hooks.slack.com")
    await make_api(http, a, name="Invoices", service_id=billing)
    await make_api(http, a, name="Dunning", type="teams", service_id=billing)

    assert await names(http, a, kind="client", type="slack") == ["Alerts"]
    assert await names(http, a, kind="client", type="api") == ["CRM", "Invoices"]
    assert await names(http, a, kind="client", service_id=billing) == ["Dunning", "Invoices"]
    assert await names(http, a, kind="client", service_id=billing, type="teams") == ["Dunning"]


async def test_search_matches_part_of_the_name_ignoring_case(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    for name in ("Customer records", "CUSTOMER payments", "Weather"):
        await make_api(http, a, name=name)
    assert await names(http, a, kind="client", search="customer") == [
        "CUSTOMER payments",
        "Customer records",
    ]
    assert await names(http, a, kind="client", search="RECORDS") == ["Customer records"]
    assert await names(http, a, kind="client", search="nothing like it") == []


async def test_search_with_percent_or_underscore_matches_literally(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    for name in ("100% uptime", "100 uptime", "Uptime_v2", "Uptimexv2", "Back\\slash"):
        await make_api(http, a, name=name)
    assert await names(http, a, kind="client", search="%") == ["100% uptime"]
    assert await names(http, a, kind="client", search="0%") == ["100% uptime"]
    assert await names(http, a, kind="client", search="e_v") == ["Uptime_v2"]
    assert await names(http, a, kind="client", search="_") == ["Uptime_v2"]
    assert await names(http, a, kind="client", search="\\") == ["Back\\slash"]
    assert await names(http, a, search="UPTIME") == [
        "100 uptime",
        "100% uptime",
        "Uptime_v2",
        "Uptimexv2",
    ]


async def test_client_apis_are_listed_before_system_apis(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    add_system_api(session)
    await make_api(http, a, name="zzz last by name")
    await make_api(http, a, name="Aaa first by name")
    items = (await http.get(a.apis, params={"limit": 200}, headers=a.viewer)).json()["items"]
    kinds = [i["system"] for i in items]
    assert kinds == sorted(kinds)  # every client API (False) before every system API (True)
    assert [i["name"] for i in items[:2]] == ["Aaa first by name", "zzz last by name"]
    system_names = [i["name"] for i in items[2:]]
    assert system_names == sorted(system_names, key=str.casefold)


# Roles


async def test_viewer_can_read_but_not_write(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    api = await make_api(http, a)
    request = await make_request(http, a, api["id"])
    url, req_url = f"{a.apis}/{api['id']}", f"{a.apis}/{api['id']}/requests/{request['id']}"
    viewer = a.viewer | {"If-Match": '"1"'}

    assert (await http.get(a.apis, headers=a.viewer)).status_code == 200
    assert (await http.get(url, headers=a.viewer)).status_code == 200
    assert (await http.get(f"{url}/requests", headers=a.viewer)).status_code == 200
    assert (await http.get(req_url, headers=a.viewer)).status_code == 200
    assert (await http.get(f"{url}/copy-name", headers=a.viewer)).status_code == 200

    writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", a.apis, api_body(name="Other")),
        ("PUT", url, api_body(name="Renamed")),
        ("DELETE", url, None),
        ("POST", f"{url}/copy", {"name": "Mine"}),
        ("POST", f"{url}/requests", request_body(name="Other")),
        ("PUT", req_url, request_body(name="Renamed")),
        ("DELETE", req_url, None),
    ]
    for method, target, body in writes:
        refused = await http.request(method, target, json=body, headers=viewer)
        assert refused.status_code == 403, (method, target, refused.text)
        assert refused.json()["type"] == "/problems/forbidden"

    read = (await http.get(url, headers=a.viewer)).json()
    assert (read["name"], read["version"]) == ("CRM", 1)
    assert [(r["name"], r["version"]) for r in read["requests"]] == [("Get customer", 1)]
    assert await names(http, a, kind="client") == ["CRM"]


# Requests


async def test_requests_nested_crud_with_etags(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    api = await make_api(http, a)
    base = f"{a.apis}/{api['id']}/requests"
    created = await http.post(base, json=request_body(), headers=a.editor)
    assert created.status_code == 201, created.text
    request = created.json()
    url = f"{base}/{request['id']}"
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"].endswith(url)
    assert request["api_id"] == api["id"]

    read = await http.get(url, headers=a.viewer)
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    listed = await http.get(base, headers=a.viewer)
    assert [r["id"] for r in listed.json()["items"]] == [request["id"]]

    change = request_body(method="POST", content_type="json", body='{"id": "${customerId}"}')
    assert (await http.put(url, json=change, headers=a.editor)).status_code == 428
    updated = await http.put(url, json=change, headers=if_match(a, '"1"'))
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] == '"2"'
    assert (updated.json()["method"], updated.json()["version"]) == ("POST", 2)
    stale = await http.put(url, json=request_body(), headers=if_match(a, '"1"'))
    assert stale.status_code == 412
    assert "changed since you read it" in stale.json()["detail"]
    assert (await http.get(url, headers=a.viewer)).json()["method"] == "POST"

    assert (await http.delete(url, headers=a.editor)).status_code == 428
    assert (await http.delete(url, headers=if_match(a, '"1"'))).status_code == 412
    assert (await http.delete(url, headers=if_match(a, '"2"'))).status_code == 204
    assert (await http.get(url, headers=a.viewer)).status_code == 404
    assert (await http.get(base, headers=a.viewer)).json()["items"] == []
    # A request has its own version: the API's stays where it was.
    assert (await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)).headers["ETag"] == '"1"'


async def test_request_names_are_unique_within_their_api_ignoring_case(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    crm = await make_api(http, a, name="CRM")
    billing = await make_api(http, a, name="Billing")
    await make_request(http, a, crm["id"], name="Get customer")
    other = await make_request(http, a, crm["id"], name="Find customer")

    clash = await http.post(
        f"{a.apis}/{crm['id']}/requests", json=request_body(name=" GET CUSTOMER"), headers=a.editor
    )
    assert clash.status_code == 409
    assert clash.json()["errors"] == [
        {"field": "name", "message": "a request named 'Get customer' exists already in this API"}
    ]
    rename = await http.put(
        f"{a.apis}/{crm['id']}/requests/{other['id']}",
        json=request_body(name="get Customer"),
        headers=if_match(a, '"1"'),
    )
    assert rename.status_code == 409
    # The same name is free in another API.
    await make_request(http, a, billing["id"], name="Get customer")
    crm_requests = (await http.get(f"{a.apis}/{crm['id']}/requests", headers=a.viewer)).json()
    assert [r["name"] for r in crm_requests["items"]] == ["Get customer", "Find customer"]


async def test_requests_page_with_limit_offset_and_total(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    made = [await make_request(http, a, api["id"], name=f"Step {n}") for n in range(5)]
    url = f"{a.apis}/{api['id']}/requests"

    listed = await http.get(url, params={"limit": 2, "offset": 2}, headers=a.viewer)

    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 2)
    assert [r["id"] for r in body["items"]] == [made[2]["id"], made[3]["id"]]
    last = (await http.get(url, params={"offset": 4}, headers=a.viewer)).json()
    assert [r["name"] for r in last["items"]] == ["Step 4"]


async def test_deleting_an_api_deletes_its_requests_and_their_secrets(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    secret_header = {"name": "X-Api-Key", "value": SENTINEL, "secret": True}
    api = await make_api(
        http, a, headers=[secret_header], authorization={"type": "bearer", "token": SENTINEL}
    )
    request = await make_request(http, a, api["id"], headers=[secret_header])
    await make_request(http, a, api["id"], name="Second")

    def stored() -> tuple[int, set[tuple[str, str]]]:
        requests = session.scalar(
            select(func.count()).select_from(Request).where(Request.api_id == api["id"])
        )
        secrets = session.execute(
            select(Secret.owner, Secret.field).where(Secret.api_id == api["id"])
        )
        return requests or 0, {(owner, field) for owner, field in secrets}

    assert stored() == (
        2,
        {
            (f"api:{api['id']}", "authorization.token"),
            (f"api:{api['id']}", "headers.x-api-key"),
            (f"request:{request['id']}", "headers.x-api-key"),
        },
    )
    deleted = await http.delete(f"{a.apis}/{api['id']}", headers=if_match(a, '"1"'))
    assert deleted.status_code == 204
    assert stored() == (0, set())


async def test_secret_request_headers_read_masked_and_a_put_of_the_read_body_keeps_them(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, keys: KeySource
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    headers = [
        {"name": "X-Api-Key", "value": SENTINEL, "secret": True},
        {"name": "X-Trace", "value": "on"},
    ]
    made = await make_request(http, a, api["id"], headers=headers)
    url = f"{a.apis}/{api['id']}/requests/{made['id']}"
    assert SENTINEL not in str(made)

    read = await http.get(url, headers=a.viewer)
    assert SENTINEL not in read.text
    assert [(h["name"], h["value"], h["secret"]) for h in read.json()["headers"]] == [
        ("X-Api-Key", MASK, True),
        ("X-Trace", "on", False),
    ]
    api_read = await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)
    assert SENTINEL not in api_read.text

    body = written_back(read.json(), REQUEST_READ_ONLY) | {"description": "edited"}
    saved = await http.put(url, json=body, headers=if_match(a, read.headers["ETag"]))
    assert saved.status_code == 200, saved.text
    assert saved.json()["headers"][0]["value"] == MASK
    rows = session.scalars(select(Secret.field).where(Secret.owner == f"request:{made['id']}"))
    assert list(rows) == ["headers.x-api-key"]
    vault = Vault(session, keys.keyring(), a.client.id)
    assert vault.reveal_all(f"request:{made['id']}") == {"headers.x-api-key": SENTINEL}


async def test_a_read_body_saves_back_as_it_is(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    auth = {"type": "basic", "username": "alice", "password": SENTINEL}
    api = (await http.post(a.apis, json=api_body(authorization=auth), headers=a.editor)).json()
    path = f"{a.apis}/{api['id']}/requests"
    request = (await http.post(path, json=request_body(), headers=a.editor)).json()

    read = await http.get(f"{a.apis}/{api['id']}", headers=a.editor)
    saved = await http.put(
        f"{a.apis}/{api['id']}",
        json=read.json(),
        headers=a.editor | {"If-Match": read.headers["ETag"]},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["authorization"]["has_password"] is True
    assert saved.json()["version"] == 1

    read_request = await http.get(f"{path}/{request['id']}", headers=a.editor)
    saved_request = await http.put(
        f"{path}/{request['id']}",
        json=read_request.json(),
        headers=a.editor | {"If-Match": read_request.headers["ETag"]},
    )
    assert saved_request.status_code == 200, saved_request.text
    assert saved_request.json() | {"version": 1, "updated_at": None} == read_request.json() | {
        "version": 1,
        "updated_at": None,
    }


async def test_a_put_that_changes_nothing_keeps_the_version_and_is_not_audited(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    auth = {"type": "basic", "username": "alice", "password": SENTINEL}
    secret = {"name": "X-Api-Key", "value": SENTINEL, "secret": True}
    api = await make_api(http, a, authorization=auth)
    request = await make_request(http, a, api["id"], headers=[secret])
    audit = f"/api/v1/clients/{a.code}/audit"
    events = (await http.get(audit, headers=a.viewer)).json()["total"]
    api_url, request_url = f"{a.apis}/{api['id']}", f"{a.apis}/{api['id']}/requests/{request['id']}"

    for url in (api_url, request_url, api_url, request_url):
        read = await http.get(url, headers=a.editor)
        saved = await http.put(url, json=read.json(), headers=if_match(a, read.headers["ETag"]))
        assert saved.status_code == 200, saved.text
        assert (saved.json()["version"], saved.headers["ETag"]) == (1, '"1"')
        assert saved.json()["updated_at"] == read.json()["updated_at"]

    assert (await http.get(api_url, headers=a.viewer)).headers["ETag"] == '"1"'
    assert (await http.get(audit, headers=a.viewer)).json()["total"] == events


async def test_a_put_that_changes_one_thing_moves_the_version_once(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    request = await make_request(http, a, api["id"])
    for url in (f"{a.apis}/{api['id']}", f"{a.apis}/{api['id']}/requests/{request['id']}"):
        read = (await http.get(url, headers=a.editor)).json()
        changed = read | {"description": "Now described"}
        saved = await http.put(url, json=changed, headers=if_match(a, '"1"'))
        assert saved.status_code == 200, saved.text
        assert (saved.json()["version"], saved.headers["ETag"]) == (2, '"2"')
        audit = f"/api/v1/clients/{a.code}/audit"
        newest = (await http.get(audit, params={"limit": 1}, headers=a.viewer)).json()
        assert newest["items"][0]["changed"] == ["description"]
