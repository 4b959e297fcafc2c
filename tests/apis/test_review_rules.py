"""Rules a review added: secrets never follow an API somewhere new unseen, credential
headers sealed, authorization text checked, ids that fit a 32-bit column, copy names, hosts,
outputs, racing saves of new secrets, and a key rotation that skips a row no key opens.

Each refusal is checked for its status, the field and message it names, and that nothing
stored changed: no row, secret or audit event added, the object read back with its ETag.
"""

import base64
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from callout.apis import request_service, service
from callout.apis.schemas import ApiWrite, RequestWrite
from callout.clients.access import OPERATOR, Principal
from callout.db.crypto import Binding, KeySource, Sealed
from callout.db.engine import Database
from callout.db.models import Api, AuditEvent, Client, Request, Secret
from callout.db.secrets import Vault, api_owner, request_owner, rotate
from callout.errors import PreconditionFailed
from callout.schemas import MASK, MAX_ID, IfMatch
from callout.settings import Settings
from tests.conftest import Tenant, Tenants
from tests.factories import SENTINEL, add_client, api_body, make_api, make_request, request_body

PROBLEM = "application/problem+json"
Json = dict[str, Any]


# Helpers


def assert_refused(response: httpx.Response, status: int, *errors: tuple[str, str]) -> None:
    """problem+json naming exactly these fields, each message containing the one given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    found = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(found) == {field for field, _ in errors}, found
    for field, message in errors:
        assert message in found[field], (field, found[field])
    assert SENTINEL not in response.text  # an input may be a secret: never echoed


def stored(session: Session, tenant: Tenant) -> dict[str, Any]:
    """What the client holds: counts of APIs, requests and audit events, and every secret
    as sealed (a secret rewritten in place changes its ciphertext, so it shows too)."""
    client_id = tenant.client.id
    session.expire_all()
    found: dict[str, Any] = {
        "apis": session.scalar(
            select(func.count()).select_from(Api).where(Api.client_id == client_id)
        ),
        "requests": session.scalar(
            select(func.count())
            .select_from(Request)
            .join(Api, Request.api_id == Api.id)
            .where(Api.client_id == client_id)
        ),
        "audit": session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.client_id == client_id)
        ),
    }
    rows = session.execute(
        select(Secret.owner, Secret.field, Secret.ciphertext).where(Secret.client_id == client_id)
    )
    found["secrets"] = sorted(tuple(row) for row in rows)
    return found


async def read(http: httpx.AsyncClient, url: str, tenant: Tenant) -> tuple[Json, str]:
    response = await http.get(url, headers=tenant.viewer)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


def revealed(session: Session, keys: KeySource, tenant: Tenant, owner: str) -> dict[str, str]:
    session.expire_all()
    return Vault(session, keys.keyring(), tenant.client.id).reveal_all(owner)


ACCEPT = {"name": "Accept", "value": "application/json"}
KEY_HEADER = {"name": "X-Api-Key", "value": SENTINEL, "secret": True}
MASKED_KEY_HEADER = KEY_HEADER | {"value": MASK}
OAUTH2 = {
    "type": "oauth2",
    "token_url": "https://auth.example.com/token",
    "client_id": "cid",
    "client_secret": SENTINEL,
}


async def api_with_secrets(
    http: httpx.AsyncClient, tenant: Tenant, authorization: Json
) -> tuple[str, Json, str]:
    """An API holding `authorization` and a secret header: its URL, read body and ETag."""
    api = await make_api(http, tenant, authorization=authorization, headers=[ACCEPT, KEY_HEADER])
    url = f"{tenant.apis}/{api['id']}"
    body, etag = await read(http, url, tenant)
    return url, body, etag


def masked(authorization: Json, **changes: Any) -> Json:
    """An update body as an editor sends it back: every secret as the mask."""
    auth = {k: MASK if v == SENTINEL else v for k, v in authorization.items()}
    return api_body(authorization=auth, headers=[ACCEPT, MASKED_KEY_HEADER]) | changes


# 1. Secrets are not sent somewhere new without being entered again


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        pytest.param("https://crm.evil.example/api", "https://crm.evil.example", id="host"),
        pytest.param("http://crm.example.com/api", "http://crm.example.com", id="scheme"),
        pytest.param("https://crm.example.com:8443/api", "https://crm.example.com:8443", id="port"),
    ],
)
async def test_moving_the_base_url_to_another_origin_refuses_every_masked_secret(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    keys: KeySource,
    base_url: str,
    origin: str,
) -> None:
    a = tenants.a
    bearer = {"type": "bearer", "token": SENTINEL}
    url, before, etag = await api_with_secrets(http, a, bearer)
    counts = stored(session, a)

    moved = masked(bearer, base_url=base_url)
    refused = await http.put(url, json=moved, headers=a.editor | {"If-Match": etag})

    message = f"send this secret again: the base URL now points at {origin}"
    assert_refused(refused, 422, ("headers[1].value", message), ("authorization.token", message))
    assert await read(http, url, a) == (before, etag)
    assert stored(session, a) == counts

    entered_again = moved | {
        "authorization": {"type": "bearer", "token": "new-token"},
        "headers": [ACCEPT, KEY_HEADER | {"value": "new-key"}],
    }
    saved = await http.put(url, json=entered_again, headers=a.editor | {"If-Match": etag})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["base_url"], saved.json()["version"]) == (base_url, 2)
    assert revealed(session, keys, a, api_owner(before["id"])) == {
        "authorization.token": "new-token",
        "headers.x-api-key": "new-key",
    }


@pytest.mark.parametrize(
    "base_url",
    [
        pytest.param("https://crm.example.com/v2", id="path"),
        pytest.param("https://CRM.Example.com/api/v2", id="host-case-and-path"),
    ],
)
async def test_changing_only_the_base_url_path_keeps_masked_secrets(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    keys: KeySource,
    base_url: str,
) -> None:
    a = tenants.a
    bearer = {"type": "bearer", "token": SENTINEL}
    url, before, etag = await api_with_secrets(http, a, bearer)
    # A request's secret header does not stop a move within the same origin.
    await make_request(http, a, before["id"], headers=[KEY_HEADER])
    secrets = stored(session, a)["secrets"]

    saved = await http.put(
        url, json=masked(bearer, base_url=base_url), headers=a.editor | {"If-Match": etag}
    )

    assert saved.status_code == 200, saved.text
    assert saved.json()["base_url"] == base_url
    assert saved.json()["authorization"]["has_token"] is True
    assert len(secrets) == 3
    assert stored(session, a)["secrets"] == secrets
    assert revealed(session, keys, a, api_owner(before["id"])) == {
        "authorization.token": SENTINEL,
        "headers.x-api-key": SENTINEL,
    }


async def test_changing_the_authorization_type_refuses_masked_authorization_secrets_only(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, keys: KeySource
) -> None:
    a = tenants.a
    bearer = {"type": "bearer", "token": SENTINEL}
    url, before, etag = await api_with_secrets(http, a, bearer)
    counts = stored(session, a)
    oauth1 = {"type": "oauth1", "consumer_key": "ck", "consumer_secret": "consumer-secret"}

    refused = await http.put(
        url,
        json=masked(bearer) | {"authorization": oauth1 | {"token": MASK}},
        headers=a.editor | {"If-Match": etag},
    )

    assert_refused(
        refused,
        422,
        (
            "authorization.token",
            "send this secret again: the authorization changed from bearer to oauth1",
        ),
    )
    assert await read(http, url, a) == (before, etag)
    assert stored(session, a) == counts

    header_row = [s for s in counts["secrets"] if s[1] == "headers.x-api-key"]
    saved = await http.put(
        url,
        json=masked(bearer) | {"authorization": oauth1 | {"token": "oauth1-token"}},
        headers=a.editor | {"If-Match": etag},
    )
    assert saved.status_code == 200, saved.text
    # The masked secret header was kept as it was sealed: its API still goes to the same host.
    assert [s for s in stored(session, a)["secrets"] if s[1] == "headers.x-api-key"] == header_row
    assert revealed(session, keys, a, api_owner(before["id"])) == {
        "authorization.consumer_secret": "consumer-secret",
        "authorization.token": "oauth1-token",
        "headers.x-api-key": SENTINEL,
    }


async def test_moving_the_oauth2_token_url_elsewhere_refuses_masked_authorization_secrets(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    url, before, etag = await api_with_secrets(http, a, OAUTH2)
    counts = stored(session, a)

    moved = masked(OAUTH2 | {"token_url": "https://auth.evil.example/token"})
    refused = await http.put(url, json=moved, headers=a.editor | {"If-Match": etag})

    # Only the authorization's secret: the secret header still goes to the base URL's host.
    assert_refused(
        refused,
        422,
        (
            "authorization.client_secret",
            "send this secret again: the token url now points elsewhere",
        ),
    )
    assert await read(http, url, a) == (before, etag)
    assert stored(session, a) == counts


async def test_changing_only_the_token_url_path_keeps_masked_secrets(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, keys: KeySource
) -> None:
    a = tenants.a
    url, before, etag = await api_with_secrets(http, a, OAUTH2)
    secrets = stored(session, a)["secrets"]

    same_host = masked(OAUTH2 | {"token_url": "https://auth.example.com/oauth2/v2/token"})
    saved = await http.put(url, json=same_host, headers=a.editor | {"If-Match": etag})

    assert saved.status_code == 200, saved.text
    assert saved.json()["authorization"]["has_client_secret"] is True
    assert stored(session, a)["secrets"] == secrets
    assert revealed(session, keys, a, api_owner(before["id"])) == {
        "authorization.client_secret": SENTINEL,
        "headers.x-api-key": SENTINEL,
    }


async def test_moving_an_api_whose_request_holds_a_secret_header_is_a_conflict(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    await make_request(http, a, api["id"], name="Get customer", headers=[KEY_HEADER])
    await make_request(http, a, api["id"], name="Find customer")
    url = f"{a.apis}/{api['id']}"
    before, etag = await read(http, url, a)
    counts = stored(session, a)

    refused = await http.put(
        url,
        json=api_body(base_url="https://crm.evil.example/api"),
        headers=a.editor | {"If-Match": etag},
    )

    assert_refused(
        refused,
        409,
        (
            "base_url",
            "requests Get customer hold secret headers that would now go to "
            "https://crm.evil.example: remove those headers, move the API, then enter them again",
        ),
    )
    assert "Find customer" not in refused.text
    assert await read(http, url, a) == (before, etag)
    assert stored(session, a) == counts


# 2. Headers that carry credentials are sealed


@pytest.mark.parametrize("name", ["Authorization", "proxy-authorization", "COOKIE", "LV-Session"])
@pytest.mark.parametrize("what", ["api", "request"])
async def test_a_credential_header_must_be_marked_secret(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    keys: KeySource,
    name: str,
    what: str,
) -> None:
    a = tenants.a
    url, make = a.apis, api_body
    if what == "request":
        url, make = f"{a.apis}/{(await make_api(http, a))['id']}/requests", request_body
    header = {"name": name, "value": f"Bearer {SENTINEL}"}
    counts = stored(session, a)

    for plain in (header, header | {"secret": False}):
        refused = await http.post(url, json=make(headers=[plain]), headers=a.editor)
        assert_refused(
            refused,
            422,
            ("headers[0].secret", f"the {name} header carries credentials: mark it secret"),
        )
    assert stored(session, a) == counts

    sealed = await http.post(url, json=make(headers=[header | {"secret": True}]), headers=a.editor)
    assert sealed.status_code == 201, sealed.text
    assert SENTINEL not in sealed.text
    owner = api_owner if what == "api" else request_owner
    assert revealed(session, keys, a, owner(sealed.json()["id"])) == {
        f"headers.{name.lower()}": f"Bearer {SENTINEL}"
    }


# 3. Authorization settings


LIVEVOX_URL = "https://api.livevox.example.com"
TOO_LONG = (SENTINEL * 1000)[:16_385]

BAD_AUTHORIZATIONS = [
    pytest.param(
        OAUTH2 | {"scope": "read\nwrite"},
        "authorization.scope",
        "must not contain control characters",
        id="oauth2-scope-newline",
    ),
    pytest.param(
        OAUTH2 | {"audience": "crm\x00"},
        "authorization.audience",
        "must not contain control characters",
        id="oauth2-audience-nul",
    ),
    pytest.param(
        OAUTH2 | {"grant": "password", "username": "ali\rce", "password": SENTINEL},
        "authorization.username",
        "must not contain control characters",
        id="oauth2-username-cr",
    ),
    pytest.param(
        OAUTH2 | {"expiry_signal_path": "$.error", "expiry_signal_value": "expired\x7f"},
        "authorization.expiry_signal_value",
        "must not contain control characters",
        id="oauth2-expiry-value-del",
    ),
    pytest.param(
        OAUTH2 | {"client_id": "cid\r\nX-Evil: 1"},
        "authorization.client_id",
        "must not contain control characters",
        id="oauth2-client-id-crlf",
    ),
    pytest.param(
        {"type": "livevox", "access_token": SENTINEL, "user_name": "agent\n7"},
        "authorization.user_name",
        "must not contain control characters",
        id="livevox-user-name-newline",
    ),
    pytest.param(
        {"type": "livevox", "access_token": SENTINEL, "client_name": "acme\t"},
        "authorization.client_name",
        "must not contain control characters",
        id="livevox-client-name-tab",
    ),
    pytest.param(
        {"type": "basic", "username": "ali\x00ce", "password": SENTINEL},
        "authorization.username",
        "must not contain control characters",
        id="basic-username-nul",
    ),
    pytest.param(
        {"type": "oauth1", "consumer_key": "ck\n", "consumer_secret": SENTINEL},
        "authorization.consumer_key",
        "must not contain control characters",
        id="oauth1-consumer-key-newline",
    ),
    pytest.param(
        {"type": "oauth1", "consumer_key": "ck", "consumer_secret": SENTINEL, "realm": 'a"b'},
        "authorization.realm",
        "should match pattern",
        id="oauth1-realm-quote",
    ),
    pytest.param(
        {"type": "oauth1", "consumer_key": "ck", "consumer_secret": SENTINEL, "realm": "a\\b"},
        "authorization.realm",
        "should match pattern",
        id="oauth1-realm-backslash",
    ),
    pytest.param(
        OAUTH2 | {"placement": "query", "query_parameter": "access token"},
        "authorization.query_parameter",
        "should match pattern",
        id="oauth2-query-parameter-space",
    ),
    pytest.param(
        OAUTH2 | {"placement": "query", "query_parameter": "token=x&a"},
        "authorization.query_parameter",
        "should match pattern",
        id="oauth2-query-parameter-delimiters",
    ),
    pytest.param(
        {"type": "bearer", "token": TOO_LONG},
        "authorization.token",
        "at most 16384",
        id="bearer-token-too-long",
    ),
    pytest.param(
        OAUTH2 | {"client_secret": TOO_LONG},
        "authorization.client_secret",
        "at most 16384",
        id="oauth2-client-secret-too-long",
    ),
    pytest.param(
        {k: v for k, v in OAUTH2.items() if k != "client_secret"},
        "authorization.client_secret",
        "is required for oauth2 authorization",
        id="client-credentials-without-client-secret",
    ),
]


@pytest.mark.parametrize(("authorization", "field", "message"), BAD_AUTHORIZATIONS)
async def test_bad_authorization_settings_are_refused_and_nothing_stored(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    authorization: Json,
    field: str,
    message: str,
) -> None:
    a = tenants.a
    base_url = LIVEVOX_URL if authorization["type"] == "livevox" else api_body()["base_url"]
    counts = stored(session, a)
    body = api_body(base_url=base_url, authorization=authorization)
    response = await http.post(a.apis, json=body, headers=a.editor)
    assert_refused(response, 422, (field, message))
    assert stored(session, a) == counts


async def test_a_secret_of_exactly_16_kib_is_accepted(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, keys: KeySource
) -> None:
    a = tenants.a
    token = TOO_LONG[:16_384]
    api = await make_api(http, a, authorization={"type": "bearer", "token": token})
    assert revealed(session, keys, a, api_owner(api["id"])) == {"authorization.token": token}


# 4. Ids past a 32-bit column


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


# 5. Copy names


async def offered(http: httpx.AsyncClient, tenant: Tenant, api_id: int) -> str:
    response = await http.get(f"{tenant.apis}/{api_id}/copy-name", headers=tenant.viewer)
    assert response.status_code == 200, response.text
    name: str = response.json()["name"]
    return name


async def copied(http: httpx.AsyncClient, tenant: Tenant, api_id: int, body: Json) -> str:
    response = await http.post(f"{tenant.apis}/{api_id}/copy", json=body, headers=tenant.editor)
    assert response.status_code == 201, response.text
    name: str = response.json()["name"]
    return name


async def test_copy_with_a_blank_name_uses_the_offered_default(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a, name="CRM")
    assert await copied(http, a, api["id"], {"name": ""}) == "Copy of CRM"
    assert await copied(http, a, api["id"], {"name": "   "}) == "Copy of CRM (2)"
    assert await copied(http, a, api["id"], {"name": " \t\n "}) == "Copy of CRM (3)"


async def test_copy_offer_near_100_characters_leaves_no_space_before_the_number(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    # "Copy of " + name is exactly 100 characters, and its 96th is a space.
    name = "A" * 87 + " BBBB"
    api = await make_api(http, a, name=name)
    assert await offered(http, a, api["id"]) == f"Copy of {name}"
    assert await copied(http, a, api["id"], {"name": ""}) == f"Copy of {name}"

    numbered = "Copy of " + "A" * 87 + " (2)"
    assert await offered(http, a, api["id"]) == numbered
    assert await copied(http, a, api["id"], {"name": "  "}) == numbered


async def test_copy_offer_cut_at_100_characters_leaves_no_trailing_space(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    # "Copy of " + name is 101 characters; cut at 100 it would end in a space.
    api = await make_api(http, a, name="A" * 91 + " B")
    assert await offered(http, a, api["id"]) == "Copy of " + "A" * 91
    assert await copied(http, a, api["id"], {"name": ""}) == "Copy of " + "A" * 91


# 6. URLs and hosts


BAD_URLS = [
    pytest.param("https://crm.example.com\\@evil.example/api", "backslashes", id="backslash-host"),
    pytest.param("https://crm.example.com/api\\v1", "backslashes", id="backslash-path"),
    pytest.param("https://-bad.com", "must name a host", id="leading-hyphen"),
    pytest.param("https://bad-.com/api", "must name a host", id="trailing-hyphen"),
    pytest.param("https://a..b", "must name a host", id="empty-label"),
    pytest.param("https://.example.com", "must name a host", id="leading-dot"),
    pytest.param("https://exa$mple.com", "must name a host", id="dollar"),
    pytest.param("https://1.2.3.999/api", "must name its IP address plainly", id="not-an-ip"),
    pytest.param("http://0x7f.1/api", "must name its IP address plainly", id="hex-ip"),
    pytest.param("http://0x7f000001/api", "must name its IP address plainly", id="hex-integer"),
    pytest.param("http://0177.0.0.1/api", "must name its IP address plainly", id="octal-ip"),
    pytest.param("http://2130706433/api", "must name its IP address plainly", id="decimal-ip"),
    pytest.param("http://0\uff587f.1/api", "must name its IP address plainly", id="fullwidth-x"),
    pytest.param(
        "http://\uff11\uff12\uff17.0.0.1/api",
        "must name its IP address plainly",
        id="fullwidth-digits",
    ),
    pytest.param("https://[zz]/api", "IPv4 or IPv6", id="bracketed-not-an-ip"),
]


@pytest.mark.parametrize(("base_url", "message"), BAD_URLS)
async def test_a_base_url_without_a_proper_host_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, base_url: str, message: str
) -> None:
    a = tenants.a
    counts = stored(session, a)
    response = await http.post(a.apis, json=api_body(base_url=base_url), headers=a.editor)
    assert_refused(response, 422, ("base_url", message))
    assert stored(session, a) == counts


@pytest.mark.parametrize(
    "token_url",
    [
        pytest.param("https://auth.example.com\\@evil.example/token", id="host"),
        pytest.param("https://auth.example.com/oauth\\token", id="path"),
    ],
)
async def test_a_token_url_with_a_backslash_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, token_url: str
) -> None:
    a = tenants.a
    counts = stored(session, a)
    body = api_body(authorization=OAUTH2 | {"token_url": token_url})
    response = await http.post(a.apis, json=body, headers=a.editor)
    assert_refused(response, 422, ("authorization.token_url", "must not contain backslashes"))
    assert stored(session, a) == counts


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


# 7. Outputs and success statuses


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
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
    ],
)
async def test_bad_outputs_and_statuses_are_refused_and_nothing_stored(
    http: httpx.AsyncClient,
    tenants: Tenants,
    session: Session,
    changes: Json,
    field: str,
    message: str,
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    counts = stored(session, a)
    response = await http.post(
        f"{a.apis}/{api['id']}/requests", json=request_body(**changes), headers=a.editor
    )
    assert_refused(response, 422, (field, message))
    assert stored(session, a) == counts


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


# 8. Two saves of the same version, both adding a new secret


def _save_with_new_secrets(
    database: Database,
    keys: KeySource,
    client_id: int,
    api_id: int,
    version: int,
    writer: str,
    barrier: threading.Barrier,
    outcomes: dict[str, str],
) -> None:
    """One editor's save that adds a secret header never stored before, in its own session."""
    principal = Principal(name=writer, role="editor", client_id=client_id)
    data = ApiWrite.model_validate(
        api_body(
            description=f"by {writer}",
            headers=[
                {"name": f"X-Round-{version}", "value": f"{writer}-{version}", "secret": True}
            ],
            authorization={"type": "bearer", "token": f"{writer}-token-{version}"},
        )
    )
    keyring = keys.keyring()
    try:
        barrier.wait(timeout=10)
        with database.transaction() as session:
            client = session.get(Client, client_id)
            assert client is not None
            service.update_api(
                session, keyring, principal, client, api_id, IfMatch(frozenset({version})), data
            )
    except PreconditionFailed:
        outcomes[writer] = "refused"
    except Exception as error:  # reported by the test, not lost in the thread
        outcomes[writer] = f"unexpected {error!r}"
    else:
        outcomes[writer] = "saved"


def test_racing_saves_that_both_add_a_new_secret_let_one_win_and_refuse_the_other(
    scratch_database: Database, keys: KeySource
) -> None:
    with scratch_database.transaction() as session:
        client = add_client(session, "acme")
        api_id = service.create_api(
            session, keys.keyring(), OPERATOR, client, ApiWrite.model_validate(api_body())
        ).id
        client_id = client.id

    for version in (1, 2, 3):
        barrier, outcomes = threading.Barrier(2), dict[str, str]()
        threads = [
            threading.Thread(
                target=_save_with_new_secrets,
                args=(scratch_database, keys, client_id, api_id, version, w, barrier, outcomes),
            )
            for w in ("one", "two")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes.values()) == ["refused", "saved"], outcomes
        [winner] = [w for w, outcome in outcomes.items() if outcome == "saved"]

        with scratch_database.transaction() as session:
            api = session.get(Api, api_id)
            assert api is not None
            assert (api.version, api.description) == (version + 1, f"by {winner}")
            assert Vault(session, keys.keyring(), client_id).reveal_all(api_owner(api_id)) == {
                f"headers.x-round-{version}": f"{winner}-{version}",
                "authorization.token": f"{winner}-token-{version}",
            }


# 9. Key rotation past a row no key opens


def test_rotation_reseals_every_readable_secret_and_reports_the_one_no_key_opens(
    scratch_database: Database, tmp_path: Path
) -> None:
    keys = Settings(data_dir=tmp_path / "data", secret_keys=None).key_source(create=True)
    old_key = keys.keyring().active_id
    with scratch_database.transaction() as session:
        client = add_client(session, "acme")
        api = service.create_api(
            session,
            keys.keyring(),
            OPERATOR,
            client,
            ApiWrite.model_validate(
                api_body(
                    authorization={"type": "bearer", "token": "token-value"},
                    headers=[{"name": "X-Api-Key", "value": "key-value", "secret": True}],
                )
            ),
        )
        request = request_service.create_request(
            session,
            keys.keyring(),
            OPERATOR,
            client,
            api.id,
            RequestWrite.model_validate(
                request_body(
                    headers=[{"name": "X-Request-Token", "value": "request-value", "secret": True}]
                )
            ),
        )

    # The first row (the first a rotation meets) altered: its tag no longer verifies.
    with scratch_database.transaction() as session:
        bad = session.scalars(select(Secret).order_by(Secret.id).limit(1)).one()
        raw = bytearray(base64.b64decode(bad.ciphertext))
        raw[-1] ^= 0x01
        altered = base64.b64encode(bytes(raw)).decode()
        session.execute(update(Secret).where(Secret.id == bad.id).values(ciphertext=altered))
        bad_id, bad_name = bad.id, f"{bad.owner} {bad.field}"

    new_key = keys.add_key()
    report = rotate(scratch_database, keys, batch=1)

    assert report.unreadable == [f"row {bad_id} ({bad_name})"]
    assert report.resealed == 2
    keyring = keys.keyring()
    with scratch_database.transaction() as session:
        rows = session.scalars(select(Secret).order_by(Secret.id)).all()
        assert [(row.id, row.key_id) for row in rows] == [
            (row.id, old_key if row.id == bad_id else new_key) for row in rows
        ]
        assert rows[0].ciphertext == altered
        opened = {
            f"{row.owner} {row.field}": keyring.open(
                Sealed(row.key_id, row.ciphertext), Binding(row.client_id, row.owner, row.field)
            )
            for row in rows[1:]
        }
    expected = {
        f"{api_owner(api.id)} authorization.token": "token-value",
        f"{api_owner(api.id)} headers.x-api-key": "key-value",
        f"{request_owner(request.id)} headers.x-request-token": "request-value",
    }
    assert opened == {name: value for name, value in expected.items() if name != bad_name}
    assert bad_name in expected
