"""Secrets of APIs and requests: sealed when written, never sent somewhere new without being
entered again, and every header that carries credentials among them.

Each refusal is checked for its status, the field and message it names, and that nothing
stored changed: no row, secret or audit event added, the object read back with its ETag.
"""

from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from callout.apis.fields import Header
from callout.db.crypto import KeySource
from callout.db.secrets import Vault, api_owner, request_owner
from callout.schemas import MASK
from tests.apis.checks import Json, assert_refused, read, stored
from tests.conftest import Tenant, Tenants
from tests.factories import OAUTH2, SENTINEL, api_body, make_api, make_request, request_body


def revealed(session: Session, keys: KeySource, tenant: Tenant, owner: str) -> dict[str, str]:
    session.expire_all()
    return Vault(session, keys.keyring(), tenant.client.id).reveal_all(owner)


ACCEPT = {"name": "Accept", "value": "application/json"}
KEY_HEADER = {"name": "X-Api-Key", "value": SENTINEL, "secret": True}
MASKED_KEY_HEADER = KEY_HEADER | {"value": MASK}


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


# Not sent somewhere new without being entered again


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


# Headers that carry credentials are sealed


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


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        ("${loginData.token}", True),
        ("Bearer ${loginData.token}", True),
        ("token ${apiToken}", True),
        ("Basic ${credentials}", True),
        (f"sk_live_{SENTINEL} ${{suffix}}", False),  # a word that is no scheme: a secret
        (f"Bearer {SENTINEL}", False),
        ("Bearer ${a} ${b}x", False),
    ],
)
def test_a_credential_header_of_a_scheme_and_placeholders_stores_no_secret(
    value: str, plain: bool
) -> None:
    """`Authorization: Bearer ${loginData.token}` holds no credential (it comes with each
    call): it need not be secret. Any literal text beyond a scheme word may be one."""
    if plain:
        assert Header(name="Authorization", value=value).secret is False
    else:
        with pytest.raises(ValidationError, match="carries credentials: mark it secret"):
            Header(name="Authorization", value=value)


# Their size


async def test_a_secret_of_exactly_16_kib_is_accepted(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, keys: KeySource
) -> None:
    a = tenants.a
    token = (SENTINEL * 1000)[:16_384]  # the longest a secret may be
    api = await make_api(http, a, authorization={"type": "bearer", "token": token})
    assert revealed(session, keys, a, api_owner(api["id"])) == {"authorization.token": token}
