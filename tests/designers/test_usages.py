"""What designers call stays in the library: its usages are listed, and deleting an API or
a request a designer calls, or dropping a parameter one maps, is refused naming them."""

from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from callout.db.engine import flush
from callout.db.models import Api, Client, Designer, DesignerCall
from callout.designers import references
from callout.errors import Conflict
from tests.conftest import Tenants
from tests.designers.conftest import Library
from tests.factories import (
    add_system_api,
    api_body,
    designer_body,
    function_call,
    make_designer,
    make_request,
    request_body,
    rows_of,
)


def usage(designer: httpx.Response, library: Library, event: str = "Login") -> dict[str, Any]:
    return {
        "designer_id": designer.json()["id"],
        "designer_name": designer.json()["name"],
        "event": event,
        "request_id": library.request_id,
        "parameters": ["customerId"],
    }


def in_event(event: int, *actions: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`designer_body` with `actions` on event `event` (0: Login, 1: Search clicked)."""
    body = designer_body(**changes)
    body["events"][event]["conditions"][0]["actions"] += list(actions)
    return body


async def test_usages_list_this_clients_calls_by_designer_name(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    a = tenants.a
    usages = f"{a.apis}/{crm.api_id}/usages"
    assert (await http.get(usages, headers=a.viewer)).json()["items"] == []
    outbound = await make_designer(http, a, crm.call(), name="Outbound")
    body = in_event(1, crm.call(), name="Inbound")
    body["events"][0]["conditions"][0]["actions"] = [crm.call()]
    inbound = await http.post(a.designers, json=body, headers=a.editor)
    assert inbound.status_code == 201, inbound.text

    listed = await http.get(usages, headers=a.viewer)
    assert listed.status_code == 200
    assert listed.json() == {
        "items": [
            usage(inbound, crm, "Login"),
            usage(inbound, crm, "Search clicked"),
            usage(outbound, crm, "Login"),
        ],
        "total": 3,
        "limit": 50,
        "offset": 0,
    }
    second = await http.get(usages, params={"limit": 1, "offset": 1}, headers=a.viewer)
    assert second.json()["items"] == [usage(inbound, crm, "Search clicked")]
    assert second.json()["total"] == 3


async def test_usages_follow_each_save_and_delete(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    a = tenants.a
    usages = f"{a.apis}/{crm.api_id}/usages"
    created = await make_designer(http, a, crm.call())
    url = f"{a.designers}/{created.json()['id']}"
    moved = await http.put(
        url, json=in_event(1, crm.call()), headers=a.editor | {"If-Match": '"1"'}
    )
    assert moved.status_code == 200, moved.text
    listed = await http.get(usages, headers=a.viewer)
    assert [u["event"] for u in listed.json()["items"]] == ["Search clicked"]
    await http.delete(url, headers=a.editor | {"If-Match": '"2"'})
    assert (await http.get(usages, headers=a.viewer)).json()["total"] == 0


async def test_a_system_apis_usages_are_the_clients_own(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a, b = tenants.a, tenants.b
    api_id = add_system_api(session)
    read = await http.get(f"{a.apis}/{api_id}", headers=a.viewer)
    summary = next(r for r in read.json()["requests"] if r["name"] == "Summary")
    call = function_call(api_id, summary["id"], [])
    await make_designer(http, a, call, name="Status A")
    await make_designer(http, b, call, name="Status B")
    for tenant, name in ((a, "Status A"), (b, "Status B")):
        listed = await http.get(f"{tenant.apis}/{api_id}/usages", headers=tenant.viewer)
        assert [u["designer_name"] for u in listed.json()["items"]] == [name]


async def test_another_clients_usages_are_not_found(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    a, b = tenants.a, tenants.b
    await make_designer(http, a, crm.call())
    for url in (f"{b.apis}/{crm.api_id}/usages", f"{a.apis}/{crm.api_id}/usages"):
        refused = await http.get(url, headers=b.admin)
        assert refused.status_code == 404
        assert "Inbound" not in refused.text


async def test_deleting_a_used_api_is_refused_listing_the_uses(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library, session: Session
) -> None:
    a = tenants.a
    designer = await make_designer(http, a, crm.call())
    url = f"{a.apis}/{crm.api_id}"
    refused = await http.delete(url, headers=a.editor | {"If-Match": '"1"'})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        "API 'CRM' is called by designer 'Inbound' (event 'Login'); change those designers first"
    )
    assert refused.json()["usages"] == [usage(designer, crm)]
    assert session.scalar(select(func.count()).select_from(Api).where(Api.id == crm.api_id))

    await http.put(
        f"{a.designers}/{designer.json()['id']}",
        json=designer_body(),
        headers=a.editor | {"If-Match": '"1"'},
    )
    assert (await http.delete(url, headers=a.editor | {"If-Match": '"1"'})).status_code == 204


async def test_deleting_a_used_request_is_refused_listing_the_uses(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    a = tenants.a
    first = await make_designer(http, a, crm.call(), name="Inbound")
    second = await make_designer(http, a, name="Outbound")
    both = in_event(1, crm.call(), name="Outbound")
    both["events"][0]["conditions"][0]["actions"] = [crm.call()]
    saved = await http.put(
        f"{a.designers}/{second.json()['id']}", json=both, headers=a.editor | {"If-Match": '"1"'}
    )
    assert saved.status_code == 200, saved.text
    url = f"{a.apis}/{crm.api_id}/requests/{crm.request_id}"
    refused = await http.delete(url, headers=a.editor | {"If-Match": '"1"'})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        "request 'Get customer' is called by designer 'Inbound' (event 'Login') and designer "
        "'Outbound' (events 'Login', 'Search clicked'); change those designers first"
    )
    assert refused.json()["usages"] == [
        usage(first, crm),
        usage(saved, crm, "Login"),
        usage(saved, crm, "Search clicked"),
    ]
    unused = await make_request(http, a, crm.api_id, name="Unused")
    gone = await http.delete(
        f"{a.apis}/{crm.api_id}/requests/{unused['id']}", headers=a.editor | {"If-Match": '"1"'}
    )
    assert gone.status_code == 204


@pytest.mark.parametrize(
    "parameters",
    [
        [{"name": "region"}],  # customerId removed
        [{"name": "customerID"}, {"name": "region"}],  # customerId renamed
    ],
    ids=["removed", "renamed"],
)
async def test_dropping_a_mapped_parameter_is_refused_naming_it(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library, parameters: list[dict[str, Any]]
) -> None:
    a = tenants.a
    designer = await make_designer(http, a, crm.call())
    url = f"{a.apis}/{crm.api_id}/requests/{crm.request_id}"
    path = "customers/" + "".join(f"${{{p['name']}}}" for p in parameters)
    body = request_body(endpoint_path=path, parameters=parameters)
    refused = await http.put(url, json=body, headers=a.editor | {"If-Match": '"1"'})
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"] == [
        {
            "field": "parameters",
            "message": "'customerId' is mapped by designer 'Inbound' (event 'Login')",
        }
    ]
    assert "'customerId'" in refused.json()["detail"]
    assert refused.json()["usages"] == [usage(designer, crm)]
    read = await http.get(url, headers=a.viewer)
    assert read.headers["ETag"] == '"1"'
    assert [p["name"] for p in read.json()["parameters"]] == ["customerId"]

    kept = request_body(parameters=[{"name": "customerId", "required": True}, {"name": "x"}])
    added = await http.put(url, json=kept, headers=a.editor | {"If-Match": '"1"'})
    assert added.status_code == 200, added.text


@pytest.mark.parametrize(
    "parameters",
    [
        [{"name": "customerId"}, {"name": "region", "required": True}],  # a new one
        [{"name": "customerId", "required": True, "default": "7"}, {"name": "region"}],
    ],
    ids=["added", "made-required"],
)
async def test_a_required_parameter_a_designer_does_not_map_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library, parameters: list[dict[str, Any]]
) -> None:
    a = tenants.a
    await make_designer(http, a, crm.call())
    url = f"{a.apis}/{crm.api_id}/requests/{crm.request_id}"
    needs = [{**p, "required": True} if p["name"] == "region" else p for p in parameters]
    body = request_body(endpoint_path="customers/${customerId}/${region}", parameters=needs)
    refused = await http.put(url, json=body, headers=a.editor | {"If-Match": '"1"'})
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"] == [
        {
            "field": "parameters",
            "message": "'region' would be required, and designer 'Inbound' (event 'Login') "
            "does not map it",
        }
    ]
    # Required with a default, the call still runs: that is no break.
    with_default = [
        {"name": "customerId", "required": True},
        {"name": "region", "required": True, "default": "eu"},
    ]
    body = request_body(endpoint_path="customers/${customerId}/${region}", parameters=with_default)
    saved = await http.put(url, json=body, headers=a.editor | {"If-Match": '"1"'})
    assert saved.status_code == 200, saved.text


async def test_renaming_an_api_or_request_keeps_the_designers_calls(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    a = tenants.a
    designer = await make_designer(http, a, crm.call())
    api = await http.put(
        f"{a.apis}/{crm.api_id}",
        json=api_body(name="Customer records"),
        headers=a.editor | {"If-Match": '"1"'},
    )
    assert api.status_code == 200, api.text
    request = await http.put(
        f"{a.apis}/{crm.api_id}/requests/{crm.request_id}",
        json=request_body(name="Find customer"),
        headers=a.editor | {"If-Match": '"1"'},
    )
    assert request.status_code == 200, request.text

    read = await http.get(f"{a.designers}/{designer.json()['id']}", headers=a.viewer)
    assert read.json()["events"] == designer.json()["events"]
    listed = await http.get(f"{a.apis}/{crm.api_id}/usages", headers=a.viewer)
    assert listed.json()["items"] == [usage(designer, crm)]
    refused = await http.delete(f"{a.apis}/{crm.api_id}", headers=a.editor | {"If-Match": '"2"'})
    assert refused.status_code == 409
    assert "API 'Customer records' is called by designer 'Inbound'" in refused.json()["detail"]


async def test_the_database_refuses_deleting_a_called_api_whatever_checked_before(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library, session: Session
) -> None:
    """The foreign key is the backstop when a designer is saved after the check ran."""
    await make_designer(http, tenants.a, crm.call())
    api = session.get(Api, crm.api_id)
    assert api is not None
    session.delete(api)
    with pytest.raises(Conflict) as refused:
        flush(session, stale="API 'CRM'", used=references.used_meanwhile("API 'CRM'"))
    assert refused.value.detail.startswith("API 'CRM' is called by a designer saved just now")
    session.rollback()


async def test_deleting_a_client_takes_its_designers_and_their_calls(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library, session: Session
) -> None:
    a, b = tenants.a, tenants.b
    system_id = add_system_api(session)
    read = await http.get(f"{a.apis}/{system_id}", headers=a.viewer)
    summary = next(r for r in read.json()["requests"] if r["name"] == "Summary")
    await make_designer(http, a, crm.call(), function_call(system_id, summary["id"], []))
    await make_designer(http, b, function_call(system_id, summary["id"], []))

    session.execute(delete(Client).where(Client.id == a.client.id))
    session.flush()

    assert set(rows_of(session, a.client.id).values()) == {0}
    calls = select(DesignerCall.client_id).distinct()
    assert session.scalars(calls).all() == [b.client.id]
    assert session.scalar(select(func.count()).select_from(Designer)) == 1
    session.rollback()
