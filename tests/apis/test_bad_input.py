"""Bad input through the REST API: refused as problem+json naming the field, nothing stored.

Each case checks the status, the `errors` entry (field and message) and that the database
holds exactly what it held before: no API, request, secret or audit event was added, and an
object that was being updated reads back the same, with the same ETag.
"""

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callout.db.models import Api, AuditEvent, Request, Secret
from callout.schemas import MASK
from tests.conftest import Tenant, Tenants
from tests.factories import SENTINEL, api_body, request_body

PROBLEM = "application/problem+json"
Json = dict[str, Any]


def assert_problem(response: httpx.Response, status: int, field: str, message: str) -> None:
    """The response is problem+json with one `errors` entry, on `field`, saying `message`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    errors = problem["errors"]
    assert [e["field"] for e in errors] == [field], errors
    assert message in errors[0]["message"], errors
    assert field in problem["detail"]
    assert SENTINEL not in response.text  # inputs, which may be secrets, are never echoed


def stored(session: Session, tenant: Tenant) -> dict[str, Any]:
    """What the client has: how many APIs, requests and audit events, and its secrets as
    sealed (a secret rewritten in place changes its ciphertext, so it shows here too)."""
    client_id = tenant.client.id
    session.expire_all()
    counts = {
        "apis": select(func.count()).select_from(Api).where(Api.client_id == client_id),
        "requests": select(func.count())
        .select_from(Request)
        .join(Api, Request.api_id == Api.id)
        .where(Api.client_id == client_id),
        "audit": select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.client_id == client_id),
    }
    found: dict[str, Any] = {name: session.scalar(query) for name, query in counts.items()}
    secrets = select(Secret.owner, Secret.field, Secret.ciphertext).where(
        Secret.client_id == client_id
    )
    found["secrets"] = sorted(tuple(row) for row in session.execute(secrets))
    return found


async def created(http: httpx.AsyncClient, url: str, body: Json, headers: dict[str, str]) -> Json:
    response = await http.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: Json = response.json()
    return result


async def read(http: httpx.AsyncClient, url: str, tenant: Tenant) -> tuple[Json, str]:
    response = await http.get(url, headers=tenant.viewer)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


# What a stored API and request look like when written back: secrets as the mask.
STORED_AUTH = {"type": "bearer", "token": MASK}
STORED_HEADERS = [
    {"name": "Accept", "value": "application/json"},
    {"name": "X-Api-Key", "value": MASK, "secret": True},
]


async def crm(http: httpx.AsyncClient, tenant: Tenant) -> tuple[Json, Json]:
    """An API with a bearer token and a secret header, and its one request."""
    api = await created(
        http,
        tenant.apis,
        api_body(
            authorization={"type": "bearer", "token": SENTINEL},
            headers=[
                {"name": "Accept", "value": "application/json"},
                {"name": "X-Api-Key", "value": SENTINEL, "secret": True},
            ],
        ),
        tenant.editor,
    )
    request = await created(
        http, f"{tenant.apis}/{api['id']}/requests", request_body(), tenant.editor
    )
    return api, request


# Creating an API


BAD_APIS = [
    pytest.param({"name": "  "}, "name", "at least 1 character", id="blank-name"),
    pytest.param({"base_url": "ftp://crm.example.com"}, "base_url", "http://", id="ftp-url"),
    pytest.param(
        {"base_url": f"https://admin:{SENTINEL}@crm.example.com"},
        "base_url",
        "must not hold credentials",
        id="credentials-in-url",
    ),
    pytest.param({"base_url": "https:///api"}, "base_url", "must name a host", id="no-host"),
    pytest.param({"type": "soap"}, "type", "'api', 'slack' or 'teams'", id="unknown-type"),
    pytest.param(
        {"headers": [{"name": "X Key", "value": "v"}]},
        "headers[0].name",
        "is not an RFC 9110 token",
        id="header-not-token",
    ),
    pytest.param(
        {"headers": [{"name": f"X {SENTINEL}", "value": "v"}]},
        "headers[0].name",
        "is not an RFC 9110 token",
        id="header-name-not-echoed",
    ),
    pytest.param(
        {"authorization": {"type": "bearer", "token": f"{SENTINEL}\r\nX-Evil: 1"}},
        "authorization.token",
        "must be one line",
        id="bearer-token-crlf",
    ),
    pytest.param(
        {"authorization": {"type": "bearer", "token": f"{SENTINEL}\n"}},
        "authorization.token",
        "must be one line",
        id="bearer-token-lf",
    ),
    pytest.param(
        {
            "base_url": "https://api.livevox.com",
            "authorization": {"type": "livevox", "access_token": f"{SENTINEL}\r"},
        },
        "authorization.access_token",
        "must be one line",
        id="livevox-access-token-cr",
    ),
    pytest.param(
        {"authorization": {"type": "basic", "username": "u", "password": f"{SENTINEL}\x00"}},
        "authorization.password",
        "must be one line",
        id="basic-password-nul",
    ),
    pytest.param(
        {
            "authorization": {
                "type": "oauth2",
                "token_url": "https://auth.example.com/token",
                "client_id": "cid",
                "client_secret": f"{SENTINEL}\r\n",
            }
        },
        "authorization.client_secret",
        "must be one line",
        id="oauth2-client-secret-crlf",
    ),
    pytest.param(
        {"headers": [{"name": "X-Key", "value": "v\r\nX-Evil: 1"}]},
        "headers[0].value",
        "control characters",
        id="header-value-crlf",
    ),
    pytest.param(
        {"headers": [{"name": "Transfer-Encoding", "value": "chunked"}]},
        "headers[0].name",
        "is set by Callout's HTTP client",
        id="reserved-header",
    ),
    pytest.param(
        {"headers": [{"name": "X-Key", "value": "a"}, {"name": "x-KEY", "value": "b"}]},
        "headers",
        "[1] has the name of [0]; names ignore case",
        id="duplicate-header",
    ),
    pytest.param(
        {"authorization": {"type": "livevox", "access_token": SENTINEL}},
        "authorization.type",
        'base URL contains "livevox"',
        id="livevox-elsewhere",
    ),
    pytest.param(
        {"authorization": {"type": "basic", "username": "a:b", "password": SENTINEL}},
        "authorization.username",
        "must not contain ':'",
        id="basic-username-colon",
    ),
    pytest.param(
        {
            "authorization": {
                "type": "oauth1",
                "consumer_key": "ck",
                "signature_method": "RSA-SHA1",
                "rsa_private_key": SENTINEL,
            }
        },
        "authorization.rsa_private_key",
        "PEM RSA private key",
        id="oauth1-bad-rsa-key",
    ),
    pytest.param(
        {
            "authorization": {
                "type": "oauth2",
                "grant": "password",
                "token_url": "https://auth.example.com/token",
                "client_id": "cid",
                "password": SENTINEL,
            }
        },
        "authorization.username",
        "password grant needs a username",
        id="oauth2-password-without-username",
    ),
    pytest.param(
        {
            "authorization": {
                "type": "oauth2",
                "token_url": "file:///etc/passwd",
                "client_id": "cid",
                "client_secret": SENTINEL,
            }
        },
        "authorization.token_url",
        "absolute http:// or https://",
        id="oauth2-token-url-file",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_APIS)
async def test_create_api_with_bad_input_is_refused_and_nothing_stored(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    changes: Json,
    field: str,
    message: str,
) -> None:
    a = tenants.a
    before = stored(session, a)
    response = await http.post(a.apis, json=api_body(**changes), headers=a.editor)
    assert_problem(response, 422, field, message)
    assert stored(session, a) == before


async def test_create_api_with_many_problems_names_each(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    body = api_body(name="", base_url="crm", type="soap")
    response = await http.post(a.apis, json=body, headers=a.editor)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"name", "base_url", "type"}
    assert stored(session, a)["apis"] == 0


async def test_api_name_taken_is_a_conflict_and_nothing_stored(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    await created(http, a.apis, api_body(name="CRM"), a.editor)
    before = stored(session, a)
    response = await http.post(a.apis, json=api_body(name="crm"), headers=a.editor)
    assert_problem(response, 409, "name", "an API named 'CRM' exists already")
    assert stored(session, a) == before


# Updating an API


BAD_API_UPDATES = [
    pytest.param({"name": ""}, "name", "at least 1 character", id="empty-name"),
    pytest.param({"base_url": "https://crm.example.com/api?v=2"}, "base_url", "query", id="query"),
    pytest.param(
        {"headers": [*STORED_HEADERS, {"name": "Host", "value": "evil.example"}]},
        "headers[2].name",
        "is set by Callout's HTTP client",
        id="reserved-header",
    ),
    pytest.param(
        {"authorization": {"type": "bearer"}},
        "authorization.token",
        "is required for bearer authorization",
        id="required-secret-dropped",
    ),
    pytest.param(
        {"authorization": {"type": "basic", "username": "alice", "password": MASK}},
        "authorization.password",
        "the mask keeps a stored secret, but none is stored",
        id="mask-for-another-field",
    ),
    pytest.param(
        {"authorization": {"type": "livevox", "access_token": MASK}},
        "authorization.type",
        'base URL contains "livevox"',
        id="livevox-elsewhere",
    ),
    pytest.param({"service_id": 987654}, "service_id", "no service 987654", id="no-service"),
    pytest.param({"etag": '"1"'}, "etag", "is not a field of this object", id="unknown-field"),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_API_UPDATES)
async def test_update_api_with_bad_input_leaves_it_unchanged(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    changes: Json,
    field: str,
    message: str,
) -> None:
    a = tenants.a
    api, _ = await crm(http, a)
    url = f"{a.apis}/{api['id']}"
    before, etag = await read(http, url, a)
    counts = stored(session, a)

    body = api_body(authorization=STORED_AUTH, headers=STORED_HEADERS) | changes
    response = await http.put(url, json=body, headers=a.editor | {"If-Match": etag})

    assert_problem(response, 422, field, message)
    assert await read(http, url, a) == (before, etag)
    assert stored(session, a) == counts


async def test_update_api_that_only_writes_back_masks_is_accepted(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    """The control for the cases above: their base body alone is a good update."""
    a = tenants.a
    api, _ = await crm(http, a)
    url = f"{a.apis}/{api['id']}"
    _, etag = await read(http, url, a)
    secrets = stored(session, a)["secrets"]
    body = api_body(authorization=STORED_AUTH, headers=STORED_HEADERS, description="Renamed")
    response = await http.put(url, json=body, headers=a.editor | {"If-Match": etag})
    assert response.status_code == 200, response.text
    assert response.json()["authorization"]["has_token"] is True
    assert len(secrets) == 2
    assert stored(session, a)["secrets"] == secrets


async def test_update_api_to_a_taken_name_is_a_conflict_and_leaves_it_unchanged(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    await created(http, a.apis, api_body(name="Billing"), a.editor)
    api, _ = await crm(http, a)
    url = f"{a.apis}/{api['id']}"
    before, etag = await read(http, url, a)
    counts = stored(session, a)

    body = api_body(name=" BILLING ", authorization=STORED_AUTH, headers=STORED_HEADERS)
    response = await http.put(url, json=body, headers=a.editor | {"If-Match": etag})

    assert_problem(response, 409, "name", "an API named 'Billing' exists already")
    assert await read(http, url, a) == (before, etag)
    assert stored(session, a) == counts


# Creating and updating a request


BAD_REQUESTS = [
    pytest.param({"name": "\n"}, "name", "at least 1 character", id="blank-name"),
    pytest.param({"url_path": "v1?x=1"}, "url_path", "must not hold a query", id="query-in-path"),
    pytest.param({"url_path": "../admin"}, "url_path", "'.' or '..' segments", id="dot-dot"),
    pytest.param(
        {"endpoint_path": "customers/${customerId"},
        "endpoint_path",
        "never closed",
        id="unclosed-placeholder",
    ),
    pytest.param(
        {"query": [{"name": "id", "value": "${customerID}"}]},
        "query[0].value",
        "${customerID} is neither a declared parameter nor a context value",
        id="unknown-placeholder-in-query",
    ),
    pytest.param(
        {"headers": [{"name": "Content-Length", "value": "0"}]},
        "headers[0].name",
        "is set by Callout's HTTP client",
        id="reserved-header",
    ),
    pytest.param(
        {"content_type": "none", "body": "hello"},
        "body",
        "needs content_type json, text or xml",
        id="body-without-content-type",
    ),
    pytest.param(
        {"content_type": "json", "body": "{'id': 1}"},
        "body",
        "is not valid JSON",
        id="invalid-json",
    ),
    pytest.param(
        {"content_type": "xml", "body": "<customer>"},
        "body",
        "is not well-formed XML",
        id="invalid-xml",
    ),
    pytest.param(
        {"content_type": "json", "form": [{"name": "a", "value": "1"}]},
        "form",
        "need content_type form or multipart",
        id="form-with-json",
    ),
    pytest.param(
        {"parameters": [{"name": "customerId"}, {"name": "CustomerId"}]},
        "parameters",
        "parameter CustomerId is declared twice",
        id="duplicate-parameter",
    ),
    pytest.param(
        {"parameters": [{"name": "customerId", "type": "number", "default": "7"}]},
        "parameters[0].default",
        "is not a number",
        id="default-of-wrong-type",
    ),
    pytest.param(
        {"parameters": [{"name": "customerId", "secret": True, "default": "hk9Qx2vL"}]},
        "parameters[0].default",
        "a secret parameter has no default: its value is stored in clear",
        id="secret-with-default",
    ),
    pytest.param(
        {"parameters": [{"name": "customerId", "type": "object", "secret": True}]},
        "parameters[0].secret",
        "a secret parameter is a string or a number, not object",
        id="secret-object",
    ),
    pytest.param(
        {"outputs": [{"name": "email", "path": "$.["}]},
        "outputs[0].path",
        "is not valid JSONPath",
        id="bad-jsonpath",
    ),
    pytest.param(
        {"outputs": [{"name": "late", "target": "alert"}]},
        "outputs[0].message",
        "an alert needs a message",
        id="silent-alert",
    ),
    pytest.param(
        {"outputs": [{"name": "ids", "type": "number", "array": True, "default": 1}]},
        "outputs[0].default",
        "is not a list of number",
        id="array-default-not-a-list",
    ),
    pytest.param({"timeout": 0}, "timeout", "greater than 0", id="zero-timeout"),
    pytest.param(
        {"success_statuses": [200, 700]},
        "success_statuses[1]",
        "less than or equal to 599",
        id="status-out-of-range",
    ),
    pytest.param(
        {"outputs": [{"name": "a", "jsonPath": "$.a"}]},
        "outputs[0].jsonPath",
        "is not a field of this object",
        id="unknown-nested-field",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_REQUESTS)
async def test_create_request_with_bad_input_is_refused_and_nothing_stored(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    changes: Json,
    field: str,
    message: str,
) -> None:
    a = tenants.a
    api, _ = await crm(http, a)
    before = stored(session, a)
    response = await http.post(
        f"{a.apis}/{api['id']}/requests", json=request_body(**changes), headers=a.editor
    )
    assert_problem(response, 422, field, message)
    assert stored(session, a) == before


BAD_REQUEST_UPDATES = [
    pytest.param(
        {"endpoint_path": "customers/${nope}"},
        422,
        "endpoint_path",
        "${nope} is neither a declared parameter",
        id="unknown-placeholder",
    ),
    pytest.param(
        {"content_type": "json", "body": '{"a": '}, 422, "body", "is not valid JSON", id="json"
    ),
    pytest.param({"timeout": -1}, 422, "timeout", "greater than 0", id="negative-timeout"),
    pytest.param(
        {"headers": [{"name": "X-Token", "value": MASK, "secret": True}]},
        422,
        "headers[0].value",
        "the mask keeps a stored secret, but none is stored",
        id="mask-without-secret",
    ),
    pytest.param(
        {"name": "get CUSTOMER"},
        409,
        "name",
        "a request named 'Get customer' exists already in this API",
        id="name-taken",
    ),
]


@pytest.mark.parametrize(("changes", "status", "field", "message"), BAD_REQUEST_UPDATES)
async def test_update_request_with_bad_input_leaves_it_unchanged(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    changes: Json,
    status: int,
    field: str,
    message: str,
) -> None:
    a = tenants.a
    api, _ = await crm(http, a)
    api_url = f"{a.apis}/{api['id']}"
    made = await created(http, f"{api_url}/requests", request_body(name="Notes"), a.editor)
    url = f"{api_url}/requests/{made['id']}"
    before, etag = await read(http, url, a)
    api_before = await read(http, api_url, a)
    counts = stored(session, a)

    body = request_body(name="Notes") | changes
    response = await http.put(url, json=body, headers=a.editor | {"If-Match": etag})

    assert_problem(response, status, field, message)
    assert await read(http, url, a) == (before, etag)
    assert await read(http, api_url, a) == api_before
    assert stored(session, a) == counts


async def test_request_name_taken_in_the_api_is_a_conflict(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    api, _ = await crm(http, a)
    before = stored(session, a)
    response = await http.post(
        f"{a.apis}/{api['id']}/requests",
        json=request_body(name="  GET customer "),
        headers=a.editor,
    )
    assert_problem(response, 409, "name", "a request named 'Get customer' exists already")
    assert stored(session, a) == before


# Secrets


MASK_WITHOUT_SECRET = [
    pytest.param(
        "api",
        {"authorization": {"type": "bearer", "token": MASK}},
        "authorization.token",
        id="api-bearer-token",
    ),
    pytest.param(
        "api",
        {"headers": [{"name": "X-Api-Key", "value": MASK, "secret": True}]},
        "headers[0].value",
        id="api-secret-header",
    ),
    pytest.param(
        "api",
        {
            "authorization": {
                "type": "oauth2",
                "token_url": "https://auth.example.com/token",
                "client_id": "cid",
                "client_secret": MASK,
            }
        },
        "authorization.client_secret",
        id="api-oauth2-client-secret",
    ),
    pytest.param(
        "request",
        {"headers": [{"name": "X-Api-Key", "value": MASK, "secret": True}]},
        "headers[0].value",
        id="request-secret-header",
    ),
]


@pytest.mark.parametrize(("what", "changes", "field"), MASK_WITHOUT_SECRET)
async def test_mask_when_no_secret_is_stored_is_refused(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    what: str,
    changes: Json,
    field: str,
) -> None:
    a = tenants.a
    url = a.apis
    body = api_body(**changes)
    if what == "request":
        api = await created(http, a.apis, api_body(), a.editor)
        url = f"{a.apis}/{api['id']}/requests"
        body = request_body(**changes)
    before = stored(session, a)
    response = await http.post(url, json=body, headers=a.editor)
    assert_problem(response, 422, field, "the mask keeps a stored secret, but none is stored")
    assert stored(session, a) == before


REQUIRED_SECRETS = [
    pytest.param({"type": "bearer"}, "authorization.token", "bearer", id="bearer-token"),
    pytest.param(
        {"type": "oauth1", "consumer_key": "ck"},
        "authorization.consumer_secret",
        "oauth1",
        id="oauth1-consumer-secret",
    ),
    pytest.param(
        {"type": "oauth1", "consumer_key": "ck", "signature_method": "RSA-SHA1"},
        "authorization.rsa_private_key",
        "oauth1",
        id="oauth1-rsa-key",
    ),
    pytest.param(
        {
            "type": "oauth2",
            "grant": "password",
            "username": "alice",
            "token_url": "https://auth.example.com/token",
            "client_id": "cid",
        },
        "authorization.password",
        "oauth2",
        id="oauth2-password",
    ),
    pytest.param(
        {
            "type": "oauth2",
            "grant": "refresh_token",
            "token_url": "https://auth.example.com/token",
            "client_id": "cid",
        },
        "authorization.refresh_token",
        "oauth2",
        id="oauth2-refresh-token",
    ),
]


@pytest.mark.parametrize(("authorization", "field", "scheme"), REQUIRED_SECRETS)
async def test_missing_required_secret_is_refused(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    authorization: Json,
    field: str,
    scheme: str,
) -> None:
    a = tenants.a
    before = stored(session, a)
    response = await http.post(a.apis, json=api_body(authorization=authorization), headers=a.editor)
    assert_problem(response, 422, field, f"is required for {scheme} authorization")
    assert stored(session, a) == before


# Services


async def test_service_of_another_client_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a, b = tenants.a, tenants.b
    theirs = await created(
        http, f"/api/v1/clients/{b.code}/services", {"name": "Collections"}, b.editor
    )
    message = f"no service {theirs['id']} in client '{a.code}'"
    before = stored(session, a)

    response = await http.post(a.apis, json=api_body(service_id=theirs["id"]), headers=a.editor)
    assert_problem(response, 422, "service_id", message)
    assert stored(session, a) == before

    api = await created(http, a.apis, api_body(name="Billing"), a.editor)
    url = f"{a.apis}/{api['id']}"
    read_before, etag = await read(http, url, a)
    counts = stored(session, a)
    response = await http.put(
        url,
        json=api_body(name="Billing", service_id=theirs["id"]),
        headers=a.editor | {"If-Match": etag},
    )
    assert_problem(response, 422, "service_id", message)
    assert await read(http, url, a) == (read_before, etag)
    assert stored(session, a) == counts


# Unknown fields and malformed bodies


UNKNOWN_FIELDS = [
    pytest.param("api", {"colour": "red"}, "colour", id="api-top-level"),
    pytest.param("api", {"baseUrl": "https://x.example"}, "baseUrl", id="api-misspelt"),
    pytest.param(
        "api",
        {"authorization": {"type": "basic", "username": "a", "passwd": SENTINEL}},
        "authorization.passwd",
        id="api-authorization",
    ),
    pytest.param(
        "api",
        {"headers": [{"name": "Accept", "value": "*/*", "hidden": True}]},
        "headers[0].hidden",
        id="api-header",
    ),
    pytest.param("request", {"retries": 3}, "retries", id="request-top-level"),
    pytest.param(
        "request",
        {"parameters": [{"name": "customerId", "optional": True}]},
        "parameters[0].optional",
        id="request-parameter",
    ),
]


@pytest.mark.parametrize(("what", "changes", "field"), UNKNOWN_FIELDS)
async def test_unknown_field_is_refused(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    what: str,
    changes: Json,
    field: str,
) -> None:
    a = tenants.a
    url, body = a.apis, api_body(**changes)
    if what == "request":
        api = await created(http, a.apis, api_body(), a.editor)
        url, body = f"{a.apis}/{api['id']}/requests", request_body(**changes)
    before = stored(session, a)
    response = await http.post(url, json=body, headers=a.editor)
    assert_problem(response, 422, field, "is not a field of this object")
    assert stored(session, a) == before


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"name": "CRM", ', id="truncated"),
    ],
)
async def test_malformed_json_body_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, content: bytes
) -> None:
    a = tenants.a
    api, _ = await crm(http, a)
    url = f"{a.apis}/{api['id']}"
    before, etag = await read(http, url, a)
    counts = stored(session, a)
    json_headers = a.editor | {"Content-Type": "application/json"}

    for response in (
        await http.post(a.apis, content=content, headers=json_headers),
        await http.put(url, content=content, headers=json_headers | {"If-Match": etag}),
        await http.post(f"{url}/requests", content=content, headers=json_headers),
    ):
        assert_problem(response, 422, "body", "JSON")
    assert await read(http, url, a) == (before, etag)
    assert stored(session, a) == counts


@pytest.mark.parametrize(
    "body",
    [pytest.param([], id="list"), pytest.param(None, id="null")],
)
async def test_body_that_is_not_an_object_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, body: Any
) -> None:
    a = tenants.a
    response = await http.post(a.apis, json=body, headers=a.editor)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["body"]
    assert stored(session, a)["apis"] == 0


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"],
)
async def test_a_body_not_sent_as_json_says_which_content_type_is_expected(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, content_type: str | None
) -> None:
    a = tenants.a
    headers = a.editor | ({"Content-Type": content_type} if content_type else {})
    content = json.dumps(api_body(authorization={"type": "bearer", "token": SENTINEL}))

    response = await http.post(a.apis, content=content, headers=headers)

    assert_problem(response, 422, "body", "the body must be JSON (Content-Type: application/json)")
    assert stored(session, a)["apis"] == 0


@pytest.mark.parametrize("body", [[], "text", 5])
async def test_a_json_body_that_is_not_an_object_says_so(
    http: httpx.AsyncClient, tenants: Tenants, body: Any
) -> None:
    a = tenants.a
    response = await http.post(a.apis, json=body, headers=a.editor)
    assert_problem(response, 422, "body", "must be an object")


# If-Match


@pytest.mark.parametrize("if_match", ["abc", '"1.0"', "-1"])
async def test_malformed_if_match_is_refused_and_nothing_changes(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, if_match: str
) -> None:
    a = tenants.a
    api, request = await crm(http, a)
    api_url = f"{a.apis}/{api['id']}"
    request_url = f"{api_url}/requests/{request['id']}"
    api_before = await read(http, api_url, a)
    request_before = await read(http, request_url, a)
    counts = stored(session, a)
    headers = a.editor | {"If-Match": if_match}
    update = api_body(name="Renamed", authorization=STORED_AUTH, headers=STORED_HEADERS)

    for response in (
        await http.put(api_url, json=update, headers=headers),
        await http.delete(api_url, headers=headers),
        await http.put(request_url, json=request_body(name="Renamed"), headers=headers),
        await http.delete(request_url, headers=headers),
    ):
        assert_problem(response, 422, "If-Match", 'must be the ETag you read, e.g. "3"')

    assert await read(http, api_url, a) == api_before
    assert await read(http, request_url, a) == request_before
    assert stored(session, a) == counts


@pytest.mark.parametrize("if_match", ['"1"', '"5", "1"', "*"])
async def test_well_formed_if_match_is_accepted(
    http: httpx.AsyncClient, tenants: Tenants, if_match: str
) -> None:
    """The control for the case above: an ETag as read, weak or bare, is understood."""
    a = tenants.a
    api = await created(http, a.apis, api_body(), a.editor)
    update = api_body(description="Changed")
    response = await http.put(
        f"{a.apis}/{api['id']}", json=update, headers=a.editor | {"If-Match": if_match}
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
