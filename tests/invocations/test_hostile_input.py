"""Invoke bodies built to break the server: nesting deep enough to exhaust Python's stack,
and line breaks in values that become header lines. Each is a named 4xx, and nothing is
sent."""

import httpx
import pytest

from callout.schemas import MAX_DEPTH
from tests.conftest import Tenants
from tests.factories import make_api, make_request
from tests.upstream import Upstream

PROBLEM = "application/problem+json"


def nested(depth: int) -> str:
    """JSON text of a value `depth` lists deep: [[["leaf"]]] (built as text: a JSON encoder
    would itself run out of stack)."""
    return "[" * depth + '"leaf"' + "]" * depth


async def crm(http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream) -> str:
    """The invoke URL of a request on the upstream that takes an `object` parameter."""
    a = tenants.a
    api = await make_api(http, a, base_url=f"{upstream.url}/api")
    request = await make_request(
        http,
        a,
        api["id"],
        endpoint_path="customers",
        parameters=[{"name": "filter", "type": "object"}],
        method="POST",
        content_type="json",
        body='{"filter": "${filter}"}',
    )
    return f"{a.apis}/{api['id']}/requests/{request['id']}/invoke"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 316])
@pytest.mark.parametrize(
    ("where", "field"),
    [
        ('{"parameters": {"filter": DEEP}}', "parameters"),
        ('{"context": {"loginData": {"deep": DEEP}}}', "context.loginData"),
        ('{"context": {"responses": {"Login": {"deep": DEEP}}}}', "context.responses"),
    ],
    ids=["parameters", "loginData", "responses"],
)
async def test_nesting_past_the_bound_is_refused_and_nothing_is_sent(
    http: httpx.AsyncClient,
    tenants: Tenants,
    upstream: Upstream,
    depth: int,
    where: str,
    field: str,
) -> None:
    url = await crm(http, tenants, upstream)
    headers = tenants.a.editor | {"Content-Type": "application/json"}

    response = await http.post(url, content=where.replace("DEEP", nested(depth)), headers=headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field], errors
    assert f"deeper than {MAX_DEPTH}" in errors[0]["message"]
    assert upstream.received == []


@pytest.mark.parametrize("depth", [5000, 500_000])
async def test_nesting_past_what_the_json_parser_takes_is_refused_and_nothing_is_sent(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream, depth: int
) -> None:
    url = await crm(http, tenants, upstream)
    headers = tenants.a.editor | {"Content-Type": "application/json"}
    body = '{"parameters": {"filter": DEEP}}'.replace("DEEP", nested(depth))

    response = await http.post(url, content=body, headers=headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    errors = response.json()["errors"]
    assert errors == [{"field": "body", "message": f"nests deeper than {MAX_DEPTH} levels"}]
    assert upstream.received == []


async def test_a_body_that_is_not_utf8_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    url = await crm(http, tenants, upstream)
    headers = tenants.a.editor | {"Content-Type": "application/json"}

    response = await http.post(url, content=b'{"parameters": {"filter": "\xff"}}', headers=headers)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["body"]
    assert upstream.received == []


async def test_nesting_at_the_bound_is_sent(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    """The control for the case above: the parameter itself is one level."""
    url = await crm(http, tenants, upstream)
    upstream.answer(200, {})

    body = '{"parameters": {"filter": DEEP}}'.replace("DEEP", nested(MAX_DEPTH - 1))
    headers = tenants.a.editor | {"Content-Type": "application/json"}
    response = await http.post(url, content=body, headers=headers)

    assert response.status_code == 200, response.text
    assert len(upstream.received) == 1


async def test_a_parameter_of_the_wrong_type_is_named_in_good_grammar(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    url = await crm(http, tenants, upstream)

    response = await http.post(url, json={"parameters": {"filter": "x"}}, headers=tenants.a.editor)

    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "parameter filter must be an object"
    assert upstream.received == []
