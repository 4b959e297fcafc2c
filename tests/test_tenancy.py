"""Tenancy: one client's key never reaches another client's objects, on any route.

The routes are read from the app (`tests.endpoints`), so a route added later is walked too.
"""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callout.db.models import (
    Client,
)
from callout.invocations import repository
from tests.conftest import Tenant, Tenants, bearer
from tests.endpoints import Endpoint, endpoints
from tests.factories import (
    SENTINEL,
    api_body,
    function_call,
    make_designer,
    request_body,
    rows_of,
)
from tests.invocations.test_history import row

PROBLEM = "application/problem+json"
OBJECT_IDS = ("api_id", "request_id", "service_id", "key_id", "invocation_id", "designer_id")
# Path parameters that name an object inside another by name: B's designer's event.
NAMES = {"event": "Login"}
# Routes outside one client: each is checked on its own below, so a new one must be too.
UNSCOPED = {"GET /api/v1/clients", "POST /api/v1/clients"}

Snapshot = dict[str, tuple[int, Any, str | None]]


async def _b_library(http: httpx.AsyncClient, b: Tenant) -> dict[str, int]:
    """As client B: a service, an API using it with a request, a designer calling it, and an
    API key; their ids."""
    base = f"/api/v1/clients/{b.code}"
    service = await http.post(f"{base}/services", json={"name": "Billing"}, headers=b.editor)
    assert service.status_code == 201, service.text
    auth = {"type": "basic", "username": "globex", "password": SENTINEL}
    body = api_body(name="Ledger", service_id=service.json()["id"], authorization=auth)
    api = await http.post(b.apis, json=body, headers=b.editor)
    assert api.status_code == 201, api.text
    secret = {"name": "X-Api-Key", "value": SENTINEL, "secret": True}
    request = await http.post(
        f"{b.apis}/{api.json()['id']}/requests",
        json=request_body(headers=[secret]),
        headers=b.editor,
    )
    assert request.status_code == 201, request.text
    key = await http.post(
        f"{base}/api-keys", json={"name": "globex-robot", "role": "editor"}, headers=b.admin
    )
    assert key.status_code == 201, key.text
    call = function_call(api.json()["id"], request.json()["id"])
    designer = await make_designer(http, b, call, name="Ledger desk")
    return {
        "api_id": api.json()["id"],
        "request_id": request.json()["id"],
        "service_id": service.json()["id"],
        "key_id": key.json()["id"],
        "designer_id": designer.json()["id"],
    }


async def _read_all(
    http: httpx.AsyncClient, reads: list[Endpoint], values: dict[str, Any], key: dict[str, str]
) -> Snapshot:
    """Status, body and ETag of each read, as the owner sees them."""
    found: Snapshot = {}
    for endpoint in reads:
        url = endpoint.url(values)
        response = await http.get(url, headers=key)
        json = "json" in response.headers.get("content-type", "")
        body = response.json() if json else response.content  # an export is a file
        if isinstance(body, dict):  # a metrics window moves with the clock: not state
            body = {k: v for k, v in body.items() if k not in ("since", "until")}
        found[url] = (response.status_code, body, response.headers.get("ETag"))
    return found


async def test_a_client_key_gets_404_on_every_route_for_another_clients_objects(
    app: FastAPI, http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a, b = tenants.a, tenants.b
    walk = endpoints(app)
    scoped = [e for e in walk if "client" in e.params]
    assert {str(e) for e in walk if e not in scoped} <= UNSCOPED, "a route outside any client"
    unknown = {p for e in walk for p in e.params} - {"client", *OBJECT_IDS, *NAMES}
    assert not unknown, f"path parameters this test cannot fill: {unknown}"

    ids = await _b_library(http, b)
    called = row(b.client, api_id=ids["api_id"], request_id=ids["request_id"], api_name="Ledger")
    repository.append(session, [called])
    session.commit()
    b_values = {"client": b.code, **ids, "invocation_id": called["invocation_id"], **NAMES}
    reads = [e for e in scoped if e.reads]
    b_before = await _read_all(http, reads, b_values, b.admin)
    assert all(status == 200 for status, _, _ in b_before.values()), b_before
    a_lists = [e for e in reads if e.params == ("client",)]
    a_before = await _read_all(http, a_lists, {"client": a.code}, a.admin)
    a_rows = rows_of(session, a.client.id)
    api_tag = b_before[f"{b.apis}/{ids['api_id']}"][2]
    request_tag = b_before[f"{b.apis}/{ids['api_id']}/requests/{ids['request_id']}"][2]

    calls = [(e, e.url(b_values)) for e in scoped]  # B's code: list and create routes too
    calls += [(e, e.url({**b_values, "client": a.code})) for e in scoped if len(e.params) > 1]
    leaks = []
    for endpoint, url in calls:
        headers = dict(a.admin)
        if not endpoint.reads and "api_id" in endpoint.params:
            tag = request_tag if "request_id" in endpoint.params else api_tag
            headers["If-Match"] = tag or ""
        response = await http.request(endpoint.method, url, json=endpoint.body(), headers=headers)
        if (
            response.status_code != 404
            or response.headers["content-type"] != PROBLEM
            or "Ledger" in response.text
            or SENTINEL in response.text
        ):
            leaks.append(f"{endpoint.method} {url} -> {response.status_code} {response.text}")
    assert leaks == [], "\n".join(leaks)
    assert len(calls) >= 30

    assert await _read_all(http, reads, b_values, b.admin) == b_before
    assert await _read_all(http, a_lists, {"client": a.code}, a.admin) == a_before
    assert rows_of(session, a.client.id) == a_rows


async def test_client_list_names_only_the_keys_own_client(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    for tenant in (tenants.a, tenants.b):
        for key in (tenant.admin, tenant.editor, tenant.viewer):
            listed = await http.get("/api/v1/clients", headers=key)
            assert listed.status_code == 200
            assert [c["code"] for c in listed.json()] == [tenant.code]


async def test_a_client_key_cannot_create_a_client(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    clients_before = session.scalar(select(func.count()).select_from(Client))
    refused = await http.post(
        "/api/v1/clients", json={"code": "initech", "name": "Initech"}, headers=tenants.a.admin
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    assert session.scalar(select(func.count()).select_from(Client)) == clients_before


def _forged(key_header: dict[str, str]) -> dict[str, str]:
    """The same key prefix with another secret: found by prefix, refused by digest."""
    key = key_header["Authorization"].removeprefix("Bearer ")
    prefix = key.rsplit("_", 1)[0]
    return bearer(f"{prefix}_{'x' * 43}")


BAD_CREDENTIALS: dict[str, Callable[[Tenants], dict[str, str]]] = {
    "missing": lambda tenants: {},
    "empty bearer": lambda tenants: {"Authorization": "Bearer "},
    "unknown": lambda tenants: bearer("callout_0123456789ab_" + "y" * 43),
    "forged": lambda tenants: _forged(tenants.a.admin),
    "not a callout key": lambda tenants: bearer("not-a-key"),
    "another scheme": lambda tenants: {
        "Authorization": tenants.a.admin["Authorization"].replace("Bearer", "Token")
    },
}


@pytest.mark.parametrize("credential", list(BAD_CREDENTIALS))
async def test_every_route_answers_401_without_a_valid_key(
    app: FastAPI, http: httpx.AsyncClient, tenants: Tenants, credential: str
) -> None:
    headers = BAD_CREDENTIALS[credential](tenants)
    values = {"client": tenants.a.code, **dict.fromkeys(OBJECT_IDS, 1), **NAMES}
    for endpoint in endpoints(app):
        response = await http.request(
            endpoint.method, endpoint.url(values), json=endpoint.body(), headers=headers
        )
        assert response.status_code == 401, f"{endpoint}: {response.status_code}"
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == 401
        assert response.json()["type"] == "/problems/unauthenticated"


async def test_revoked_key_answers_401_like_an_unknown_one(
    app: FastAPI, http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    keys = f"/api/v1/clients/{a.code}/api-keys"
    made = await http.post(keys, json={"name": "temp", "role": "admin"}, headers=a.admin)
    assert made.status_code == 201, made.text
    temp = bearer(made.json()["key"])
    assert (await http.get(f"/api/v1/clients/{a.code}", headers=temp)).status_code == 200

    revoked = await http.delete(f"{keys}/{made.json()['id']}", headers=a.admin)
    assert revoked.status_code == 204

    unknown = await http.get("/api/v1/clients", headers=BAD_CREDENTIALS["unknown"](tenants))
    values = {"client": a.code, **dict.fromkeys(OBJECT_IDS, 1), **NAMES}
    for endpoint in endpoints(app):
        response = await http.request(
            endpoint.method, endpoint.url(values), json=endpoint.body(), headers=temp
        )
        assert response.status_code == 401, f"{endpoint}: {response.status_code}"
        assert response.headers["content-type"] == PROBLEM
        assert response.json() == unknown.json()  # nothing tells revoked from unknown


async def test_refusal_for_a_missing_key_names_the_bearer_scheme(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    """RFC 9110 section 15.5.2: a 401 answer MUST carry WWW-Authenticate."""
    for headers in ({}, BAD_CREDENTIALS["unknown"](tenants)):
        response = await http.get("/api/v1/clients", headers=headers)
        assert response.status_code == 401
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
