"""The OpenAPI document describes what the server answers, and /docs needs no internet."""

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from callout.web.problems import MEDIA_TYPE, problem
from tests.conftest import Tenants, checked_client
from tests.contract import Contract, ContractViolation
from tests.factories import api_body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def schemas_with(node: Any, key: str, where: str = "") -> list[str]:
    """Where in a schema tree `key: true` is set."""
    if isinstance(node, dict):
        found = [where] if node.get(key) is True else []
        for name, value in node.items():
            found += schemas_with(value, key, f"{where}/{name}")
        return found
    if isinstance(node, list):
        return [hit for i, value in enumerate(node) for hit in schemas_with(value, key, where)]
    return []


async def test_every_error_is_problem_json(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in operations(document):
        errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
        assert "500" in errors, (method, path)
        takes_input = "{" in path or "requestBody" in operation or operation.get("parameters")
        assert ("422" in errors) == bool(takes_input), (method, path)
        for code, response in errors.items():
            assert response["content"] == {
                MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (method, path, code)


async def test_each_route_declares_what_it_can_answer(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    declared = {(m, p): set(op["responses"]) for m, p, op in operations(document)}
    api = "/api/v1/clients/{client}/apis/{api_id}"
    assert {"401", "403", "404", "409", "412", "413", "428", "503"} <= declared[("PUT", api)]
    assert {"401", "404"} <= declared[("GET", api)]
    assert {"412", "428"}.isdisjoint(declared[("GET", api)])
    for add in ("/api/v1/clients/{client}/apis/new", f"{api}/requests/new"):  # Add API, Request
        assert {"401", "403", "404", "409", "503"} <= declared[("POST", add)]
        assert {"412", "428"}.isdisjoint(declared[("POST", add)])
    invoke = f"{api}/requests/{{request_id}}/invoke"
    assert {"422", "429", "502", "503", "504"} <= declared[("POST", invoke)]
    assert "409" not in declared[("POST", invoke)]  # a call changes nothing stored
    assert "401" not in declared[("GET", "/api/v1/oauth/callback")]


async def test_if_match_is_required_where_its_absence_answers_428(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    document = (await http.get("/openapi.json")).json()
    for method, path, operation in operations(document):
        headers = {p["name"].lower(): p for p in operation.get("parameters", [])}
        if "428" in operation["responses"]:
            assert headers["if-match"]["required"] is True, (method, path)
            assert method in ("PUT", "DELETE")
        assert "authorization" not in headers  # the security scheme carries the key
    a = tenants.a
    created = (await http.post(a.apis, json=api_body(), headers=a.editor)).json()
    missing = await http.delete(f"{a.apis}/{created['id']}", headers=a.editor)
    assert missing.status_code == 428


async def test_an_unreadable_body_is_a_declared_problem_naming_the_body(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    headers = a.editor | {"Content-Type": "application/json"}
    response = await http.post(f"{a.apis}", content=b"\xff\xfe{", headers=headers)
    assert response.status_code == 422  # and the contract check found it declared
    assert response.json()["errors"][0]["field"] == "body"


async def test_bearer_scheme_on_routes_that_need_a_key(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"apiKey": {**schemes["apiKey"], "type": "http", "scheme": "bearer"}}
    for method, path, operation in operations(document):
        if path == "/api/v1/oauth/callback":
            assert "security" not in operation  # the provider's redirect carries no key
        else:
            assert operation["security"] == [{"apiKey": []}], (method, path)


async def test_secrets_read_back_as_the_mask_are_not_write_only(http: httpx.AsyncClient) -> None:
    """A read gives `"token": "**********"`; only the write schemas may call it write-only."""
    schemas = (await http.get("/openapi.json")).json()["components"]["schemas"]
    write_only = schemas_with(schemas, "writeOnly")
    assert write_only
    assert all(re.match(r"/\w+-Input/", where) for where in write_only), write_only
    token = schemas["BearerAuth-Output"]["properties"]["token"]
    assert {"type": "string", "const": "**********"} in token["anyOf"]


async def test_unsupported_method_says_which_are_allowed(http: httpx.AsyncClient) -> None:
    response = await http.request("TRACE", "/api/v1/clients")
    assert response.status_code == 405
    assert response.headers["content-type"] == MEDIA_TYPE
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}


async def test_docs_load_nothing_from_another_host(http: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await http.get(page)).text
        assets = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)
        assert assets, page
        for asset in assets:
            assert not re.match(r"(https?:)?//", asset), (page, asset)
            served = await http.get(asset)
            assert served.status_code == 200, (page, asset)
            assert served.content


async def test_checker_refuses_an_undeclared_status(app: FastAPI, contract: Contract) -> None:
    """The suite's contract check cannot pass silently: a status the document does not
    declare, or a body that breaks the declared schema, fails the test that received it."""

    @app.get("/api/v1/teapot")
    def teapot() -> JSONResponse:
        return problem(418, "teapot", "I'm a teapot", "short and stout")

    async with await checked_client(app, contract) as client:
        with pytest.raises(ContractViolation, match="no operation"):
            await client.get("/api/v1/teapot")

    document = app.openapi()
    document["paths"]["/api/v1/clients"]["get"]["responses"].pop("401")
    async with await checked_client(app, Contract(document)) as client:
        with pytest.raises(ContractViolation, match="status not declared"):
            await client.get("/api/v1/clients")


def test_checker_refuses_a_body_of_the_wrong_shape(contract: Contract) -> None:
    wrong = problem(404, "not-found", "Not found", "no such thing")
    body = bytes(wrong.body).replace(b'"status":404', b'"status":"404"')
    response = httpx.Response(
        404,
        content=body,
        headers={"content-type": MEDIA_TYPE},
        request=httpx.Request("GET", "http://callout.test/api/v1/clients/acme"),
    )
    with pytest.raises(ContractViolation, match="body at status"):
        contract.check(response)
