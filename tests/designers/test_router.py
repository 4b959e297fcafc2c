"""Designers through the REST API: create, read, list, update with If-Match, delete, audit."""

from typing import Any

import httpx

from tests.conftest import Tenant, Tenants
from tests.designers.conftest import Library
from tests.factories import designer_body, make_designer

READ_ONLY = ("id", "version", "created_at", "updated_at")


def if_match(tenant: Tenant, tag: str) -> dict[str, str]:
    return tenant.editor | {"If-Match": tag}


async def test_create_read_update_delete_round_trip(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    a = tenants.a
    created = await http.post(a.designers, json=designer_body(crm.call()), headers=a.editor)
    assert created.status_code == 201, created.text
    designer = created.json()
    url = f"{a.designers}/{designer['id']}"
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == url
    assert designer["events"][0]["conditions"][0]["actions"][0] == {
        "kind": "function_call",
        "on_error": "stop",
        "api_id": crm.api_id,
        "request_id": crm.request_id,
        "parameters": [{"name": "customerId", "path": "call.ani", "value": None}],
    }

    read = await http.get(url, headers=a.viewer)
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert read.json() == designer

    # A read is written back as it is, with one change.
    body: dict[str, Any] = {**read.json(), "description": "Changed"}
    updated = await http.put(url, json=body, headers=if_match(a, read.headers["ETag"]))
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] == '"2"'
    assert updated.json()["description"] == "Changed"
    assert updated.json()["events"] == designer["events"]

    deleted = await http.delete(url, headers=if_match(a, updated.headers["ETag"]))
    assert deleted.status_code == 204
    assert (await http.get(url, headers=a.viewer)).status_code == 404


async def test_a_save_that_changes_nothing_keeps_the_version(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    created = await make_designer(http, a)
    url = f"{a.designers}/{created.json()['id']}"
    again = await http.put(url, json=created.json(), headers=if_match(a, '"1"'))
    assert again.status_code == 200, again.text
    assert again.headers["ETag"] == '"1"'


async def test_stale_if_match_is_refused(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    created = await make_designer(http, a)
    url = f"{a.designers}/{created.json()['id']}"
    first = await http.put(url, json=designer_body(description="One"), headers=if_match(a, '"1"'))
    assert first.status_code == 200, first.text

    stale = await http.put(url, json=designer_body(description="Two"), headers=if_match(a, '"1"'))
    assert stale.status_code == 412, stale.text
    assert "changed since you read it" in stale.json()["detail"]
    gone = await http.delete(url, headers=if_match(a, '"1"'))
    assert gone.status_code == 412
    assert (await http.get(url, headers=a.viewer)).json()["description"] == "One"


async def test_missing_if_match_is_refused(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    url = f"{a.designers}/{(await make_designer(http, a)).json()['id']}"
    put = await http.put(url, json=designer_body(description="Blind"), headers=a.editor)
    assert put.status_code == 428, put.text
    assert "send If-Match" in put.json()["detail"]
    assert (await http.delete(url, headers=a.editor)).status_code == 428
    assert (await http.get(url, headers=a.viewer)).json()["description"] == "The inbound desk"


async def test_name_taken_ignoring_case_is_refused(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    await make_designer(http, a, name="Inbound")
    clash = await http.post(a.designers, json=designer_body(name=" INBOUND"), headers=a.editor)
    assert clash.status_code == 409, clash.text
    assert clash.json()["errors"] == [
        {"field": "name", "message": "a designer named 'Inbound' exists already"}
    ]
    other = await make_designer(http, a, name="Outbound")
    renamed = await http.put(
        f"{a.designers}/{other.json()['id']}",
        json=designer_body(name="inbound"),
        headers=if_match(a, '"1"'),
    )
    assert renamed.status_code == 409, renamed.text
    await make_designer(http, b, name="Inbound")  # names are unique per client only


async def test_a_service_of_another_client_is_refused(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    services = f"/api/v1/clients/{b.code}/services"
    theirs = await http.post(services, json={"name": "Billing"}, headers=b.editor)
    refused = await http.post(
        a.designers, json=designer_body(service_id=theirs.json()["id"]), headers=a.editor
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "service_id"
    assert "Billing" not in refused.text


async def test_a_used_service_names_its_designers_when_deletion_is_refused(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    services = f"/api/v1/clients/{a.code}/services"
    service = (await http.post(services, json={"name": "Sales"}, headers=a.editor)).json()
    await make_designer(http, a, service_id=service["id"])
    refused = await http.delete(f"{services}/{service['id']}", headers=a.editor)
    assert refused.status_code == 409, refused.text
    assert "used by 1 designer(s)" in refused.json()["detail"]


async def test_list_is_by_name_filtered_by_search_and_service_and_names_the_events(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    services = f"/api/v1/clients/{a.code}/services"
    sales = (await http.post(services, json={"name": "Sales"}, headers=a.editor)).json()
    for name in ("Outbound", "inbound", "Collections 100%"):
        await make_designer(http, a, name=name)
    await make_designer(http, a, name="Sales desk", service_id=sales["id"])

    listed = await http.get(a.designers, headers=a.viewer)
    assert listed.status_code == 200
    page = listed.json()
    assert [d["name"] for d in page["items"]] == [
        "Collections 100%",
        "inbound",
        "Outbound",
        "Sales desk",
    ]
    assert page["total"] == 4
    assert page["items"][0]["events"] == ["Login", "Search clicked"]

    async def names(**params: Any) -> list[str]:
        found = await http.get(a.designers, params=params, headers=a.viewer)
        return [d["name"] for d in found.json()["items"]]

    assert await names(search="BOUND") == ["inbound", "Outbound"]
    assert await names(search="100%") == ["Collections 100%"]
    assert await names(search="%") == ["Collections 100%"]
    assert await names(service_id=sales["id"]) == ["Sales desk"]
    assert await names(limit=1, offset=1) == ["inbound"]


async def test_every_write_is_in_the_audit_trail(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    created = await make_designer(http, a)
    url = f"{a.designers}/{created.json()['id']}"
    changed = designer_body(description="Changed", pages=[{"name": "Main"}, {"name": "Notes"}])
    changed["events"] = changed["events"][:1]
    updated = await http.put(url, json=changed, headers=if_match(a, '"1"'))
    assert updated.status_code == 200, updated.text
    await http.delete(url, headers=if_match(a, '"2"'))

    audit = await http.get(
        f"/api/v1/clients/{a.code}/audit", params={"object_type": "designer"}, headers=a.admin
    )
    events = [(e["action"], e["object_name"], e["changed"]) for e in audit.json()["items"]]
    assert events == [
        ("delete", "Inbound", []),
        ("update", "Inbound", ["description", "events", "pages"]),
        ("create", "Inbound", ["description", "events", "name", "pages"]),
    ]
    assert all(e["actor"] == "key:acme-editor" for e in audit.json()["items"])


async def test_another_client_can_neither_read_nor_change_a_designer(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    url = f"{a.designers}/{(await make_designer(http, a)).json()['id']}"
    theirs = f"{b.designers}/{url.rsplit('/', 1)[1]}"
    for target in (url, theirs):
        assert (await http.get(target, headers=b.admin)).status_code == 404
        put = await http.put(target, json=designer_body(), headers=if_match(b, '"1"'))
        assert put.status_code == 404
        assert "Inbound" not in put.text
    listed = await http.get(b.designers, headers=b.viewer)
    assert listed.json()["total"] == 0
