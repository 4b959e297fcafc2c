"""A condition checked as it is typed: the verdict a save would give, from the same parser and
the same context rule, answered 200 whether the text is valid or not."""

from typing import Any

import httpx

from callout.designers.conditions import MAX_LENGTH
from tests.conftest import Tenant, Tenants
from tests.factories import designer_body

IN_CONTEXT = "each ${path} must start with one of account, call, fields, loginData, responses"


def check_url(tenant: Tenant) -> str:
    return f"{tenant.designers}/conditions/check"


async def check(http: httpx.AsyncClient, tenant: Tenant, expression: str) -> dict[str, Any]:
    response = await http.post(
        check_url(tenant), json={"expression": expression}, headers=tenant.viewer
    )
    assert response.status_code == 200, response.text
    verdict: dict[str, Any] = response.json()
    return verdict


async def save_refusal(http: httpx.AsyncClient, tenant: Tenant, expression: str) -> dict[str, Any]:
    """The one field problem a save of a designer holding this condition answers."""
    body = designer_body()
    body["events"][0]["conditions"] = [{"expression": expression}]
    saved = await http.post(tenant.designers, json=body, headers=tenant.editor)
    assert saved.status_code == 422, saved.text
    [error] = saved.json()["errors"]
    assert error["field"] == "events[0].conditions[0].expression"
    problem: dict[str, Any] = error
    return problem


async def test_a_valid_condition_is_valid_for_any_role(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    text = "${call.ani} starts with '+44' and (${account.balance} > 100 or ${fields.vip} is empty)"
    for key in (a.viewer, a.editor, a.admin):
        answer = await http.post(check_url(a), json={"expression": text}, headers=key)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"valid": True}
    assert await check(http, a, "") == {"valid": True}
    # A ${...} inside a string is text, not a path the context rule reads.
    assert await check(http, a, "${call.ani} == '${ani}'") == {"valid": True}


async def test_a_syntax_error_says_what_and_where_as_the_save_does(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    text = "${call.ani} starts with\n  and ${account.id} is empty"
    verdict = await check(http, a, text)
    assert verdict == {
        "valid": False,
        "message": "expected a ${path}, a string, a number, 'true', 'false' or 'null'; found 'and'",
        "line": 2,
        "column": 3,
    }
    refusal = await save_refusal(http, a, text)
    assert refusal["message"] == f"{verdict['message']} (line 2, column 3)"


async def test_a_path_outside_the_context_is_refused_where_it_stands(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    text = "${call.ani} is empty or ${cal.ani} starts with '+44'"
    assert await check(http, a, text) == {
        "valid": False,
        "message": IN_CONTEXT,
        "line": 1,
        "column": 25,
    }
    assert (await save_refusal(http, a, text))["message"] == IN_CONTEXT


async def test_too_long_an_expression_is_refused_as_a_save_refuses_it(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    text = "${call.ani} == '" + "x" * MAX_LENGTH + "'"
    answer = await http.post(check_url(a), json={"expression": text}, headers=a.viewer)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["field"] == "expression"
    assert error["message"] == (await save_refusal(http, a, text))["message"]
    assert str(MAX_LENGTH) in error["message"]


async def test_another_clients_code_is_not_found(http: httpx.AsyncClient, tenants: Tenants) -> None:
    answer = await http.post(check_url(tenants.b), json={"expression": ""}, headers=tenants.a.admin)
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_no_key_is_refused(http: httpx.AsyncClient, tenants: Tenants) -> None:
    answer = await http.post(check_url(tenants.a), json={"expression": ""})
    assert answer.status_code == 401


async def test_the_document_declares_a_check_that_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    document = (await http.get("/openapi.json")).json()
    check = document["paths"]["/api/v1/clients/{client}/designers/conditions/check"]["post"]
    declared = set(check["responses"])
    assert {"200", "401", "404", "422"} <= declared
    assert {"403", "409", "412", "428"}.isdisjoint(declared)
