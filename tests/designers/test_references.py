"""A designer is saved only when everything it names exists: its own pages, components and
conditions (the schema), and the APIs, requests and parameters of its FUNCTION CALLs (the
library, as this client sees it). Each refusal names where the broken reference sits."""

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callout.db.models import Designer
from tests.conftest import Tenants
from tests.designers.conftest import Library
from tests.factories import (
    add_system_api,
    designer_body,
    function_call,
    make_api,
    make_designer,
    make_request,
)

AT = "events[0].conditions[0].actions[0]"


async def refused(
    http: httpx.AsyncClient, tenants: Tenants, body: dict[str, Any]
) -> list[dict[str, str]]:
    """The 422's field problems; on create and on update alike, nothing stored."""
    a = tenants.a
    created = await http.post(a.designers, json=body, headers=a.editor)
    assert created.status_code == 422, created.text
    existing = await make_designer(http, a, name="Existing")
    updated = await http.put(
        f"{a.designers}/{existing.json()['id']}",
        json=body | {"name": "Existing"},
        headers=a.editor | {"If-Match": '"1"'},
    )
    assert updated.status_code == 422, updated.text
    assert updated.json()["errors"] == created.json()["errors"]
    listed = await http.get(a.designers, headers=a.viewer)
    assert [d["name"] for d in listed.json()["items"]] == ["Existing"]
    assert listed.json()["items"][0]["version"] == 1
    errors: list[dict[str, str]] = created.json()["errors"]
    return errors


async def test_an_api_that_does_not_exist_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    body = designer_body(function_call(999_999, crm.request_id))
    assert await refused(http, tenants, body) == [
        {"field": f"{AT}.api_id", "message": "no API 999999 in client 'acme'"}
    ]


async def test_another_clients_api_reads_as_missing(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    b = tenants.b
    theirs = await make_api(http, b, name="Ledger")
    request = await make_request(http, b, theirs["id"])
    body = designer_body(function_call(theirs["id"], request["id"]))
    errors = await refused(http, tenants, body)
    assert errors == [
        {"field": f"{AT}.api_id", "message": f"no API {theirs['id']} in client 'acme'"}
    ]


async def test_a_request_of_another_api_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    a = tenants.a
    other = await make_api(http, a, name="Billing")
    elsewhere = await make_request(http, a, other["id"], name="Invoice")
    body = designer_body(function_call(crm.api_id, elsewhere["id"]))
    assert await refused(http, tenants, body) == [
        {"field": f"{AT}.request_id", "message": f"API 'CRM' has no request {elsewhere['id']}"}
    ]


async def test_a_request_of_another_clients_api_is_refused_without_naming_it(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    b = tenants.b
    theirs = await make_api(http, b, name="Ledger")
    request = await make_request(http, b, theirs["id"], name="Secret plan")
    body = designer_body(function_call(crm.api_id, request["id"]))
    errors = await refused(http, tenants, body)
    assert errors == [
        {"field": f"{AT}.request_id", "message": f"API 'CRM' has no request {request['id']}"}
    ]


async def test_an_unknown_parameter_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    mapped = [{"name": "customerId", "path": "call.ani"}, {"name": "region", "value": "EU"}]
    body = designer_body(crm.call(mapped))
    assert await refused(http, tenants, body) == [
        {
            "field": f"{AT}.parameters[1].name",
            "message": "request 'Get customer' has no parameter 'region'",
        }
    ]


async def test_a_required_parameter_left_unmapped_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    body = designer_body(crm.call([]))
    assert await refused(http, tenants, body) == [
        {
            "field": f"{AT}.parameters",
            "message": "request 'Get customer' needs parameter 'customerId': map it",
        }
    ]


async def test_optional_and_defaulted_parameters_may_be_left_unmapped(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    a = tenants.a
    parameters = [
        {"name": "customerId", "required": True, "default": "0"},
        {"name": "region"},
    ]
    request = await make_request(http, a, crm.api_id, name="Lookup", parameters=parameters)
    await make_designer(http, a, function_call(crm.api_id, request["id"], []))


async def test_a_secret_parameter_takes_a_path_not_a_literal(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    a = tenants.a
    parameters = [{"name": "token", "required": True, "secret": True}]
    request = await make_request(
        http, a, crm.api_id, name="Post", endpoint_path="notes/${token}", parameters=parameters
    )
    literal = function_call(crm.api_id, request["id"], [{"name": "token", "value": "hunter2"}])
    errors = await refused(http, tenants, designer_body(literal))
    assert errors == [
        {
            "field": f"{AT}.parameters[0].value",
            "message": "'token' is secret: give a context path, not a value",
        }
    ]
    path = function_call(crm.api_id, request["id"], [{"name": "token", "path": "fields.token"}])
    await make_designer(http, a, path, name="With a path")


async def test_every_broken_call_is_named_at_once(
    http: httpx.AsyncClient, tenants: Tenants, crm: Library
) -> None:
    body = designer_body(function_call(999_999, 1), crm.call(), crm.call([]))
    errors = await refused(http, tenants, body)
    assert [e["field"] for e in errors] == [
        "events[0].conditions[0].actions[0].api_id",
        "events[0].conditions[0].actions[2].parameters",
    ]


async def test_a_system_api_may_be_called(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    api_id = add_system_api(session)
    read = await http.get(f"{a.apis}/{api_id}", headers=a.viewer)
    component = next(r for r in read.json()["requests"] if r["name"] == "Component")
    mapped = [{"name": "componentId", "path": "fields.component"}]
    created = await make_designer(http, a, function_call(api_id, component["id"], mapped))
    assert created.json()["events"][0]["conditions"][0]["actions"][0]["api_id"] == api_id


def _with_event(**changes: Any) -> dict[str, Any]:
    body = designer_body()
    body["events"][1] |= changes
    return body


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (_with_event(page="Elsewhere"), "events[1].page", "there is no page 'Elsewhere'"),
        (
            _with_event(component="Missing"),
            "events[1].component",
            "page 'Main' has no component 'Missing'",
        ),
        (
            designer_body({"kind": "page_transition", "page": "Gone"}),
            f"{AT}.page",
            "there is no page 'Gone'",
        ),
        (
            designer_body({"kind": "component_load", "page": "Main", "component": "Gone"}),
            f"{AT}.component",
            "page 'Main' has no component 'Gone'",
        ),
    ],
    ids=["event page", "event component", "page transition", "component load"],
)
async def test_a_page_or_component_that_is_not_on_the_designer_is_refused(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    a = tenants.a
    response = await http.post(a.designers, json=body, headers=a.editor)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": field, "message": message}]
    assert session.scalar(select(func.count()).select_from(Designer)) == 0


async def test_a_condition_that_does_not_parse_is_refused_naming_where(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    body = _with_event(conditions=[{"expression": "${call.ani} starts with", "actions": []}])
    response = await http.post(a.designers, json=body, headers=a.editor)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "events[1].conditions[0].expression"
    assert "line 1, column" in error["message"]


async def test_a_path_outside_the_context_is_refused_in_a_condition_or_a_popped_url(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    """A designer has no parameters: `${cal.ani}` or `${ani}` would read nothing on every
    fire, so it is refused at the save, as a request refuses an unknown placeholder."""
    popped = {"kind": "pop_url", "url": "https://crm.example/${customer.id}"}
    body = designer_body()
    body["events"][0]["conditions"] = [
        {"expression": "${cal.ani} starts with '+44'"},
        {"expression": "not ${ani} is empty"},
        {"expression": "", "actions": [popped]},
    ]
    message = "each ${path} must start with one of account, call, fields, loginData, responses"
    assert await refused(http, tenants, body) == [
        {"field": "events[0].conditions[0].expression", "message": message},
        {"field": "events[0].conditions[1].expression", "message": message},
        {"field": "events[0].conditions[2].actions[0].url", "message": message},
    ]


async def test_a_designer_stored_before_the_context_rule_still_reads_and_fires(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    """The rule is one of saves: a stored path outside the context reads as missing."""
    a = tenants.a
    created = (await make_designer(http, a)).json()
    row = session.get(Designer, created["id"])
    assert row is not None
    events = [dict(event) for event in row.events]
    events[0]["conditions"] = [{"expression": "${cal.ani} is empty", "stop": False, "actions": []}]
    row.events = events
    session.flush()

    read = await http.get(f"{a.designers}/{created['id']}", headers=a.viewer)
    assert read.status_code == 200, read.text
    fired = await http.post(f"{a.designers}/{created['id']}/events/Login/fire", headers=a.editor)
    assert fired.status_code == 200, fired.text
    assert fired.json()["conditions"] == [{"position": 0, "state": "held"}]
    saved = await http.put(
        f"{a.designers}/{created['id']}",
        json=read.json(),
        headers=a.editor | {"If-Match": read.headers["ETag"]},
    )
    assert saved.status_code == 422, saved.text
