"""The OAuth 2.0 authorization_code flow through the REST API, against a real authorization
server on loopback (oauthlib's, tests/oauth2_server.py): start, the browser's leg, the
callback, the refresh token kept sealed, calls that then need no one, refused states and
refusals, and rotated refresh tokens stored with a compare-and-swap."""

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import JSON, String, Text, select
from sqlalchemy.orm import Session

from callout.apis.service import REFRESH_TOKEN
from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.db.models import Base, Secret
from callout.db.secrets import Vault, api_owner
from callout.invocations.refresh_tokens import DatabaseCredentials
from callout.runtime.auth.tokens import MemoryTokenStore, Owner
from callout.settings import Settings
from tests.conftest import Tenant, Tenants
from tests.factories import invoke_url, make_api, make_request
from tests.oauth2_server import CLIENT_ID, CLIENT_SECRET, OAuth2Server, challenge_of

CALLBACK = "/api/v1/oauth/callback"
SCOPE = "customers:read"


@pytest.fixture
async def server() -> AsyncIterator[OAuth2Server]:
    async with OAuth2Server() as running:
        yield running


def code_grant(server: OAuth2Server, **changes: Any) -> dict[str, Any]:
    return {
        "type": "oauth2",
        "grant": "authorization_code",
        "token_url": server.token_url,
        "authorization_url": server.authorize_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": SCOPE,
    } | changes


async def oauth_api(
    http: httpx.AsyncClient, tenant: Tenant, server: OAuth2Server, **changes: Any
) -> tuple[int, int]:
    """An authorization_code API on the server's resource, with one request; their ids."""
    api = await make_api(
        http, tenant, base_url=server.api_url, authorization=code_grant(server, **changes)
    )
    request = await make_request(http, tenant, api["id"], outputs=[{"name": "ok", "path": "$.ok"}])
    return api["id"], request["id"]


async def start(http: httpx.AsyncClient, tenant: Tenant, api_id: int) -> dict[str, Any]:
    response = await http.post(f"{tenant.apis}/{api_id}/authorize", headers=tenant.editor)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def browse(url: str) -> dict[str, str]:
    """What the browser does: open the authorization URL, and read where the provider
    redirects it (the query of the redirect, to be sent to the callback)."""
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    assert response.status_code == 302, response.text
    return {k: v for k, [v] in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def callback(http: httpx.AsyncClient, params: dict[str, str]) -> httpx.Response:
    return await http.get(CALLBACK, params=params)  # no API key: the state is the proof


async def authorized(
    http: httpx.AsyncClient, tenant: Tenant, server: OAuth2Server, **changes: Any
) -> tuple[int, int]:
    """An API taken through the whole flow; the ids of it and its request."""
    api_id, request_id = await oauth_api(http, tenant, server, **changes)
    begun = await start(http, tenant, api_id)
    done = await callback(http, await browse(begun["authorization_url"]))
    assert done.status_code == 200, done.text
    return api_id, request_id


def stored_refresh_token(session: Session, keys: KeySource, tenant: Tenant, api_id: int) -> str:
    session.expire_all()
    opened = Vault(session, keys.keyring(), tenant.client.id).reveal_all(api_owner(api_id))
    return opened.get(REFRESH_TOKEN, "")


def every_text_in_the_database(session: Session) -> list[str]:
    session.flush()
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is not None:
                    text = value if isinstance(value, str) else json.dumps(value)
                    found.append(f"{table.name}.{column.name}={text}")
    return found


async def api_version(http: httpx.AsyncClient, tenant: Tenant, api_id: int) -> int:
    response = await http.get(f"{tenant.apis}/{api_id}", headers=tenant.viewer)
    assert response.status_code == 200, response.text
    version: int = response.json()["version"]
    return version


def assert_not_logged(secrets: list[str], caplog: pytest.LogCaptureFixture) -> None:
    """None of `secrets` in any log record but oauthlib's (the test server's own)."""
    for record in caplog.records:
        if not record.name.startswith("oauthlib"):
            line = f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
            for secret in secrets:
                assert secret not in line, record.name


# Starting


async def test_authorize_answers_an_authorization_url_with_state_and_an_s256_challenge(
    http: httpx.AsyncClient, tenants: Tenants, server: OAuth2Server, settings: Settings
) -> None:
    api_id, _ = await oauth_api(http, tenants.a, server)

    begun = await start(http, tenants.a, api_id)

    url = urlsplit(begun["authorization_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == server.authorize_url
    query = {k: v for k, [v] in parse_qs(url.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == begun["redirect_uri"] == settings.oauth_callback
    assert query["state"] == begun["state"]
    assert len(begun["state"]) >= 32
    assert query["scope"] == SCOPE
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of SHA-256, unpadded
    assert begun["expires_in"] > 0
    assert CLIENT_SECRET not in begun["authorization_url"]


async def test_each_start_has_its_own_state_and_challenge(
    http: httpx.AsyncClient, tenants: Tenants, server: OAuth2Server
) -> None:
    api_id, _ = await oauth_api(http, tenants.a, server)

    first, second = [await start(http, tenants.a, api_id) for _ in range(2)]

    assert first["state"] != second["state"]
    challenges = [
        parse_qs(urlsplit(b["authorization_url"]).query)["code_challenge"] for b in (first, second)
    ]
    assert challenges[0] != challenges[1]


async def test_authorize_needs_the_authorization_code_grant(
    http: httpx.AsyncClient, tenants: Tenants, server: OAuth2Server
) -> None:
    api_id, _ = await oauth_api(http, tenants.a, server, grant="client_credentials")

    response = await http.post(f"{tenants.a.apis}/{api_id}/authorize", headers=tenants.a.editor)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["authorization.grant"]


async def test_a_viewer_cannot_start_an_authorization(
    http: httpx.AsyncClient, tenants: Tenants, server: OAuth2Server
) -> None:
    api_id, _ = await oauth_api(http, tenants.a, server)

    response = await http.post(f"{tenants.a.apis}/{api_id}/authorize", headers=tenants.a.viewer)

    assert response.status_code == 403, response.text


# Completing


async def test_the_callback_keeps_the_refresh_token_sealed_and_moves_the_api_version(
    http: httpx.AsyncClient,
    tenants: Tenants,
    server: OAuth2Server,
    session: Session,
    keys: KeySource,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    a = tenants.a
    api_id, _ = await oauth_api(http, a, server)
    before = await api_version(http, a, api_id)
    begun = await start(http, a, api_id)
    redirect = await browse(begun["authorization_url"])
    assert redirect["state"] == begun["state"]

    done = await callback(http, redirect)

    assert done.status_code == 200, done.text
    assert done.json()["api_id"] == api_id
    assert done.json()["refresh_token_stored"] is True
    # The code went back with the verifier whose S256 challenge opened the flow.
    [exchange] = server.token_requests
    assert exchange.grant_type == "authorization_code"
    assert exchange.status == 200
    challenge = parse_qs(urlsplit(begun["authorization_url"]).query)["code_challenge"][0]
    assert challenge_of(exchange.form["code_verifier"]) == challenge
    assert exchange.form["redirect_uri"] == begun["redirect_uri"]
    # The refresh token is stored sealed: its row exists, its plaintext is in no table.
    [refresh_token] = server.issued_refresh_tokens
    row = session.scalar(
        select(Secret).where(Secret.owner == api_owner(api_id), Secret.field == REFRESH_TOKEN)
    )
    assert row is not None
    assert stored_refresh_token(session, keys, a, api_id) == refresh_token
    assert not [t for t in every_text_in_the_database(session) if refresh_token in t]
    [access_token] = server.issued_access_tokens
    for secret in (refresh_token, access_token, exchange.form["code_verifier"]):
        assert secret not in done.text
    # The API's credentials changed: a new version, and an audit event naming the field.
    assert await api_version(http, a, api_id) == before + 1
    read = (await http.get(f"{a.apis}/{api_id}", headers=a.viewer)).json()
    assert read["authorization"]["has_refresh_token"] is True
    audit = await http.get(f"/api/v1/clients/{a.code}/audit?limit=1", headers=a.admin)
    [event] = audit.json()["items"]
    assert (event["action"], event["object_id"]) == ("update", api_id)
    assert event["changed"] == [REFRESH_TOKEN]
    assert refresh_token not in audit.text
    assert_not_logged([refresh_token, access_token, CLIENT_SECRET], caplog)


async def test_after_the_flow_a_request_of_the_api_works_with_the_token_it_gave(
    http: httpx.AsyncClient, tenants: Tenants, server: OAuth2Server
) -> None:
    a = tenants.a
    api_id, request_id = await authorized(http, a, server)

    response = await http.post(
        invoke_url(a, api_id, request_id),
        json={"parameters": {"customerId": "7"}},
        headers=a.editor,
    )

    assert response.status_code == 200, response.text
    assert response.json()["outputs"] == {"ok": "true"}
    assert dict(server.grants) == {"authorization_code": 1}  # the exchange's token, cached
    assert [seen.token for seen in server.resource_requests] == server.issued_access_tokens


async def test_a_worker_without_the_cached_token_refreshes_with_the_stored_one(
    http: httpx.AsyncClient, tenants: Tenants, server: OAuth2Server, app: FastAPI
) -> None:
    a = tenants.a
    api_id, request_id = await authorized(http, a, server)
    app.state.runtime.executor.store = MemoryTokenStore()  # as a restarted worker has it
    [refresh_token] = server.issued_refresh_tokens

    responses = [
        await http.post(
            invoke_url(a, api_id, request_id),
            json={"parameters": {"customerId": "7"}},
            headers=a.editor,
        )
        for _ in range(3)
    ]

    assert [r.status_code for r in responses] == [200, 200, 200], responses[0].text
    assert dict(server.grants) == {"authorization_code": 1, "refresh_token": 1}
    assert server.token_requests[1].form["refresh_token"] == refresh_token


async def test_a_used_state_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, server: OAuth2Server
) -> None:
    api_id, _ = await oauth_api(http, tenants.a, server)
    redirect = await browse((await start(http, tenants.a, api_id))["authorization_url"])
    assert (await callback(http, redirect)).status_code == 200

    again = await callback(http, redirect)

    assert again.status_code == 422, again.text
    assert [e["field"] for e in again.json()["errors"]] == ["state"]
    assert len(server.token_requests) == 1


async def test_an_unknown_state_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, server: OAuth2Server
) -> None:
    api_id, _ = await oauth_api(http, tenants.a, server)
    redirect = await browse((await start(http, tenants.a, api_id))["authorization_url"])

    response = await callback(http, redirect | {"state": "not-a-state-we-gave"})

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["state"]
    assert server.token_requests == []


async def test_an_access_denied_redirect_is_refused_and_stores_nothing(
    http: httpx.AsyncClient,
    tenants: Tenants,
    server: OAuth2Server,
    session: Session,
    keys: KeySource,
) -> None:
    a = tenants.a
    api_id, _ = await oauth_api(http, a, server)
    before = await api_version(http, a, api_id)
    begun = await start(http, a, api_id)
    server.deny_next = True
    redirect = await browse(begun["authorization_url"])
    assert redirect == {"error": "access_denied", "state": begun["state"]}

    response = await callback(http, redirect)

    assert response.status_code == 422, response.text
    assert "access_denied" in response.json()["detail"]
    assert server.token_requests == []
    assert stored_refresh_token(session, keys, a, api_id) == ""
    assert await api_version(http, a, api_id) == before
    # The state is spent: the same redirect cannot be replayed with a code.
    replay = await callback(http, {"state": begun["state"], "code": "anything"})
    assert [e["field"] for e in replay.json()["errors"]] == ["state"]


async def test_a_code_the_provider_refuses_is_refused_and_stores_nothing(
    http: httpx.AsyncClient,
    tenants: Tenants,
    server: OAuth2Server,
    session: Session,
    keys: KeySource,
) -> None:
    a = tenants.a
    api_id, _ = await oauth_api(http, a, server)
    redirect = await browse((await start(http, a, api_id))["authorization_url"])

    response = await callback(http, redirect | {"code": "a-code-never-issued"})

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["code"]
    assert "invalid_grant" in response.json()["detail"]
    assert stored_refresh_token(session, keys, a, api_id) == ""


# Rotated refresh tokens


async def test_a_rotated_refresh_token_replaces_the_stored_one(
    http: httpx.AsyncClient,
    tenants: Tenants,
    server: OAuth2Server,
    session: Session,
    keys: KeySource,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    a = tenants.a
    server.rotate_refresh_tokens = True
    api_id, request_id = await authorized(http, a, server)
    [first] = server.issued_refresh_tokens
    server.answer("unauthorized")  # the cached token is refused: refresh, and retry

    response = await http.post(
        invoke_url(a, api_id, request_id),
        json={"parameters": {"customerId": "7"}},
        headers=a.editor,
    )

    assert response.status_code == 200, response.text
    _, rotated = server.issued_refresh_tokens
    assert server.token_requests[-1].form["refresh_token"] == first
    assert not server.alive(first)
    assert stored_refresh_token(session, keys, a, api_id) == rotated
    assert not [t for t in every_text_in_the_database(session) if rotated in t]
    assert rotated not in response.text
    assert any(r.name == "callout.credentials" for r in caplog.records)  # the saver said so
    assert_not_logged([*server.issued_refresh_tokens, *server.issued_access_tokens], caplog)


async def test_a_refresh_token_save_is_a_compare_and_swap(
    http: httpx.AsyncClient,
    tenants: Tenants,
    server: OAuth2Server,
    session: Session,
    keys: KeySource,
    app: FastAPI,
) -> None:
    a = tenants.a
    api_id, _ = await authorized(http, a, server)
    [stored] = server.issued_refresh_tokens
    database: Database = app.state.database
    saver = DatabaseCredentials(database, keys)
    owner = Owner(a.client.id, api_id, await api_version(http, a, api_id))

    # Another worker stored a newer token meanwhile: this save's `old` no longer matches.
    await saver.save_refresh_token(owner, "rt-an-older-one", "rt-from-a-stale-worker")
    assert stored_refresh_token(session, keys, a, api_id) == stored

    await saver.save_refresh_token(owner, stored, "rt-rotated-next")
    assert stored_refresh_token(session, keys, a, api_id) == "rt-rotated-next"
