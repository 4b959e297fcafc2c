"""Bad input through the REST API: refused as problem+json naming the field, nothing stored.

Each case checks the status, the `errors` entry (field and message) and that the database
holds exactly what it held before: no API, request, secret or audit event was added, and an
object that was being updated reads back the same, with the same ETag.
"""

import json
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from callout.schemas import MASK, MAX_ID
from tests.apis.checks import PROBLEM, Json, assert_refused, read, stored
from tests.conftest import Tenant, Tenants
from tests.factories import OAUTH2, SENTINEL, api_body, make_api, make_request, request_body


async def created(http: httpx.AsyncClient, url: str, body: Json, headers: dict[str, str]) -> Json:
    response = await http.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: Json = response.json()
    return result


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


LIVEVOX_URL = "https://api.livevox.example.com"
TOO_LONG = (SENTINEL * 1000)[:16_385]  # one character past the longest secret

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
    pytest.param(
        {"authorization": OAUTH2 | {"scope": "read\nwrite"}},
        "authorization.scope",
        "must not contain control characters",
        id="oauth2-scope-newline",
    ),
    pytest.param(
        {"authorization": OAUTH2 | {"audience": "crm\x00"}},
        "authorization.audience",
        "must not contain control characters",
        id="oauth2-audience-nul",
    ),
    pytest.param(
        {
            "authorization": OAUTH2
            | {"grant": "password", "username": "ali\rce", "password": SENTINEL}
        },
        "authorization.username",
        "must not contain control characters",
        id="oauth2-username-cr",
    ),
    pytest.param(
        {
            "authorization": OAUTH2
            | {"expiry_signal_path": "$.error", "expiry_signal_value": "expired\x7f"}
        },
        "authorization.expiry_signal_value",
        "must not contain control characters",
        id="oauth2-expiry-value-del",
    ),
    pytest.param(
        {"authorization": OAUTH2 | {"client_id": "cid\r\nX-Evil: 1"}},
        "authorization.client_id",
        "must not contain control characters",
        id="oauth2-client-id-crlf",
    ),
    pytest.param(
        {
            "base_url": LIVEVOX_URL,
            "authorization": {"type": "livevox", "access_token": SENTINEL, "user_name": "agent\n7"},
        },
        "authorization.user_name",
        "must not contain control characters",
        id="livevox-user-name-newline",
    ),
    pytest.param(
        {
            "base_url": LIVEVOX_URL,
            "authorization": {"type": "livevox", "access_token": SENTINEL, "client_name": "acme\t"},
        },
        "authorization.client_name",
        "must not contain control characters",
        id="livevox-client-name-tab",
    ),
    pytest.param(
        {"authorization": {"type": "basic", "username": "ali\x00ce", "password": SENTINEL}},
        "authorization.username",
        "must not contain control characters",
        id="basic-username-nul",
    ),
    pytest.param(
        {"authorization": {"type": "oauth1", "consumer_key": "ck\n", "consumer_secret": SENTINEL}},
        "authorization.consumer_key",
        "must not contain control characters",
        id="oauth1-consumer-key-newline",
    ),
    pytest.param(
        {
            "authorization": {
                "type": "oauth1",
                "consumer_key": "ck",
                "consumer_secret": SENTINEL,
                "realm": 'a"b',
            }
        },
        "authorization.realm",
        "should match pattern",
        id="oauth1-realm-quote",
    ),
    pytest.param(
        {
            "authorization": {
                "type": "oauth1",
                "consumer_key": "ck",
                "consumer_secret": SENTINEL,
                "realm": "a\\b",
            }
        },
        "authorization.realm",
        "should match pattern",
        id="oauth1-realm-backslash",
    ),
    pytest.param(
        {"authorization": OAUTH2 | {"placement": "query", "query_parameter": "access token"}},
        "authorization.query_parameter",
        "should match pattern",
        id="oauth2-query-parameter-space",
    ),
    pytest.param(
        {"authorization": OAUTH2 | {"placement": "query", "query_parameter": "token=x&a"}},
        "authorization.query_parameter",
        "should match pattern",
        id="oauth2-query-parameter-delimiters",
    ),
    pytest.param(
        {"authorization": {"type": "bearer", "token": TOO_LONG}},
        "authorization.token",
        "at most 16384",
        id="bearer-token-too-long",
    ),
    pytest.param(
        {"authorization": OAUTH2 | {"client_secret": TOO_LONG}},
        "authorization.client_secret",
        "at most 16384",
        id="oauth2-client-secret-too-long",
    ),
    pytest.param(
        {"authorization": {k: v for k, v in OAUTH2.items() if k != "client_secret"}},
        "authorization.client_secret",
        "is required for oauth2 authorization",
        id="client-credentials-without-client-secret",
    ),
    pytest.param(
        {"base_url": "https://crm.example.com\\@evil.example/api"},
        "base_url",
        "backslashes",
        id="backslash-host",
    ),
    pytest.param(
        {"base_url": "https://crm.example.com/api\\v1"},
        "base_url",
        "backslashes",
        id="backslash-path",
    ),
    pytest.param(
        {"base_url": "https://-bad.com"}, "base_url", "must name a host", id="leading-hyphen"
    ),
    pytest.param(
        {"base_url": "https://bad-.com/api"}, "base_url", "must name a host", id="trailing-hyphen"
    ),
    pytest.param({"base_url": "https://a..b"}, "base_url", "must name a host", id="empty-label"),
    pytest.param(
        {"base_url": "https://.example.com"}, "base_url", "must name a host", id="leading-dot"
    ),
    pytest.param({"base_url": "https://exa$mple.com"}, "base_url", "must name a host", id="dollar"),
    pytest.param(
        {"base_url": "https://1.2.3.999/api"},
        "base_url",
        "must name its IP address plainly",
        id="not-an-ip",
    ),
    pytest.param(
        {"base_url": "http://0x7f.1/api"},
        "base_url",
        "must name its IP address plainly",
        id="hex-ip",
    ),
    pytest.param(
        {"base_url": "http://0x7f000001/api"},
        "base_url",
        "must name its IP address plainly",
        id="hex-integer",
    ),
    pytest.param(
        {"base_url": "http://0177.0.0.1/api"},
        "base_url",
        "must name its IP address plainly",
        id="octal-ip",
    ),
    pytest.param(
        {"base_url": "http://2130706433/api"},
        "base_url",
        "must name its IP address plainly",
        id="decimal-ip",
    ),
    pytest.param(
        {"base_url": "http://0\uff587f.1/api"},
        "base_url",
        "must name its IP address plainly",
        id="fullwidth-x",
    ),
    pytest.param(
        {"base_url": "http://\uff11\uff12\uff17.0.0.1/api"},
        "base_url",
        "must name its IP address plainly",
        id="fullwidth-digits",
    ),
    pytest.param(
        {"base_url": "https://[zz]/api"}, "base_url", "IPv4 or IPv6", id="bracketed-not-an-ip"
    ),
    pytest.param(
        {"authorization": OAUTH2 | {"token_url": "https://auth.example.com\\@evil.example/token"}},
        "authorization.token_url",
        "must not contain backslashes",
        id="token-url-backslash-host",
    ),
    pytest.param(
        {"authorization": OAUTH2 | {"token_url": "https://auth.example.com/oauth\\token"}},
        "authorization.token_url",
        "must not contain backslashes",
        id="token-url-backslash-path",
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
    assert_refused(response, 422, (field, message))
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


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://[2001:db8::1]/api", id="ipv6"),
        pytest.param("https://[::ffff:192.0.2.1]:8443/api", id="ipv6-mapped-with-port"),
        pytest.param("http://192.0.2.10:8080/api", id="ipv4"),
        pytest.param("https://bücher.example/api", id="idn"),
        pytest.param("https://例え.jp", id="idn-cjk"),
        pytest.param("https://xn--bcher-kva.example/api", id="punycode"),
        pytest.param("https://crm.example.com./api", id="trailing-dot"),
    ],
)
async def test_ip_literals_and_international_hosts_are_accepted(
    http: httpx.AsyncClient, tenants: Tenants, url: str
) -> None:
    a = tenants.a
    api = await make_api(http, a, base_url=url, authorization=OAUTH2 | {"token_url": url})
    assert api["base_url"] == url
    assert api["authorization"]["token_url"] == url


async def test_api_name_taken_is_a_conflict_and_nothing_stored(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    await created(http, a.apis, api_body(name="CRM"), a.editor)
    before = stored(session, a)
    response = await http.post(a.apis, json=api_body(name="crm"), headers=a.editor)
    assert_refused(response, 409, ("name", "an API named 'CRM' exists already"))
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

    assert_refused(response, 422, (field, message))
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

    assert_refused(response, 409, ("name", "an API named 'Billing' exists already"))
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
    pytest.param(
        {"outputs": [{"name": "fullName", "field": "full name"}]},
        "outputs[0].field",
        "should match pattern",
        id="field-with-space",
    ),
    pytest.param(
        {"outputs": [{"name": "fullName", "field": "1st"}]},
        "outputs[0].field",
        "should match pattern",
        id="field-starting-with-digit",
    ),
    pytest.param(
        {"outputs": [{"name": "fullName", "field": "customer.name"}]},
        "outputs[0].field",
        "should match pattern",
        id="field-with-dot",
    ),
    pytest.param(
        {"success_statuses": [200, 201, 200]},
        "success_statuses",
        "a status is listed twice",
        id="status-twice",
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
    assert_refused(response, 422, (field, message))
    assert stored(session, a) == before


async def test_output_fields_that_are_empty_or_identifiers_are_accepted(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    outputs = [
        {"name": "fullName", "path": "$.name", "field": ""},
        {"name": "email", "path": "$.email", "field": "crm_email2"},
        {"name": "phone", "path": "$.phone", "field": "_phone"},
    ]
    made = await make_request(http, a, api["id"], outputs=outputs, success_statuses=[200, 201])
    assert [o["field"] for o in made["outputs"]] == ["", "crm_email2", "_phone"]
    assert made["success_statuses"] == [200, 201]


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

    assert_refused(response, status, (field, message))
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
    assert_refused(response, 409, ("name", "a request named 'Get customer' exists already"))
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
    assert_refused(response, 422, (field, "the mask keeps a stored secret, but none is stored"))
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
    assert_refused(response, 422, (field, f"is required for {scheme} authorization"))
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
    assert_refused(response, 422, ("service_id", message))
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
    assert_refused(response, 422, ("service_id", message))
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
    assert_refused(response, 422, (field, "is not a field of this object"))
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
        assert_refused(response, 422, ("body", "JSON"))
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

    assert_refused(
        response, 422, ("body", "the body must be JSON (Content-Type: application/json)")
    )
    assert stored(session, a)["apis"] == 0


@pytest.mark.parametrize("body", [[], "text", 5])
async def test_a_json_body_that_is_not_an_object_says_so(
    http: httpx.AsyncClient, tenants: Tenants, body: Any
) -> None:
    a = tenants.a
    response = await http.post(a.apis, json=body, headers=a.editor)
    assert_refused(response, 422, ("body", "must be an object"))


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
        assert_refused(response, 422, ("If-Match", 'must be the ETag you read, e.g. "3"'))

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


# Ids past a 32-bit column


@pytest.fixture
async def library(http: httpx.AsyncClient, tenants: Tenants) -> dict[str, int]:
    """Client A's API, its request and a service, as existing objects to point past."""
    a = tenants.a
    api = await make_api(http, a)
    request = await make_request(http, a, api["id"])
    made = await http.post(
        f"/api/v1/clients/{a.code}/services", json={"name": "Billing"}, headers=a.editor
    )
    assert made.status_code == 201, made.text
    return {"api": api["id"], "request": request["id"], "service": made.json()["id"]}


def routes_with(
    tenant: Tenant, ids: dict[str, int], big: int
) -> list[tuple[str, str, Json | None, str]]:
    """(method, URL, body, field) for every route that takes an id, with `big` for one."""
    apis, client = tenant.apis, f"/api/v1/clients/{tenant.code}"
    request = f"{apis}/{ids['api']}/requests/{big}"
    invoke = {"mode": "dry_run", "parameters": {"customerId": "7"}}
    return [
        ("GET", f"{apis}/{big}", None, "api_id"),
        ("PUT", f"{apis}/{big}", api_body(), "api_id"),
        ("DELETE", f"{apis}/{big}", None, "api_id"),
        ("GET", f"{apis}/{big}/copy-name", None, "api_id"),
        ("POST", f"{apis}/{big}/copy", {}, "api_id"),
        ("GET", f"{apis}/{big}/requests", None, "api_id"),
        ("POST", f"{apis}/{big}/requests", request_body(name="Other"), "api_id"),
        ("GET", request, None, "request_id"),
        ("PUT", request, request_body(), "request_id"),
        ("DELETE", request, None, "request_id"),
        ("POST", f"{request}/invoke", invoke, "request_id"),
        ("POST", f"{request}/test", invoke, "request_id"),
        ("GET", f"{client}/services/{big}", None, "service_id"),
        ("PUT", f"{client}/services/{big}", {"name": "Renamed"}, "service_id"),
        ("DELETE", f"{client}/services/{big}", None, "service_id"),
        ("DELETE", f"{client}/api-keys/{big}", None, "key_id"),
        ("GET", f"{apis}?service_id={big}", None, "service_id"),
        ("GET", f"{client}/audit?object_id={big}", None, "object_id"),
        ("POST", apis, api_body(name="Other", service_id=big), "service_id"),
        ("PUT", f"{apis}/{ids['api']}", api_body(service_id=big), "service_id"),
    ]


@pytest.mark.parametrize("big", [MAX_ID + 1, 2**63, 10**30])
async def test_ids_past_32_bits_are_refused_not_a_server_error(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    library: dict[str, int],
    big: int,
) -> None:
    a = tenants.a
    api_url = f"{a.apis}/{library['api']}"
    before = await read(http, api_url, a)
    counts = stored(session, a)
    headers = a.admin | {"If-Match": '"1"'}

    for method, url, body, field in routes_with(a, library, big):
        response = await http.request(method, url, json=body, headers=headers)
        assert response.status_code == 422, (method, url, response.text)
        assert_refused(response, 422, (field, f"less than or equal to {MAX_ID}"))

    assert await read(http, api_url, a) == before
    assert stored(session, a) == counts


async def test_the_largest_id_names_nothing_and_is_not_found(
    http: httpx.AsyncClient, tenants: Tenants, library: dict[str, int]
) -> None:
    a = tenants.a
    client = f"/api/v1/clients/{a.code}"
    for url in (
        f"{a.apis}/{MAX_ID}",
        f"{a.apis}/{library['api']}/requests/{MAX_ID}",
        f"{client}/services/{MAX_ID}",
    ):
        response = await http.get(url, headers=a.viewer)
        assert response.status_code == 404, (url, response.text)
    listed = await http.get(a.apis, params={"service_id": MAX_ID}, headers=a.viewer)
    assert (listed.status_code, listed.json()["total"]) == (200, 0)
    audit = await http.get(f"{client}/audit", params={"object_id": MAX_ID}, headers=a.admin)
    assert (audit.status_code, audit.json()["total"]) == (200, 0)
    body = api_body(name="Other", service_id=MAX_ID)
    refused = await http.post(a.apis, json=body, headers=a.editor)
    assert_refused(refused, 422, ("service_id", f"no service {MAX_ID} in client 'acme'"))
