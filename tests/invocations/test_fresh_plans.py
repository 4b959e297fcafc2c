"""What an invoke sends right after a write: never a deleted or replaced object's plan.

The plan cache here trusts a plan for a minute, so only invalidation on write (not the
timer) can make these pass; ids are never reused, so a new object is never taken for a
deleted one. Each runs on SQLite and PostgreSQL.
"""

import httpx
import pytest
from fastapi import FastAPI

from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.settings import Settings
from callout.web.app import create_app
from tests.conftest import Tenant, Tenants
from tests.factories import invoke_url, make_api, make_request
from tests.upstream import Upstream


@pytest.fixture
def app(settings: Settings, bound_database: Database, keys: KeySource) -> FastAPI:
    return create_app(
        settings.model_copy(update={"plan_ttl": 60.0}), database=bound_database, keys=keys
    )


async def bearer_api(
    http: httpx.AsyncClient, tenant: Tenant, name: str, base_url: str, token: str, path: str
) -> tuple[int, int]:
    api = await make_api(
        http, tenant, name=name, base_url=base_url, authorization={"type": "bearer", "token": token}
    )
    request = await make_request(
        http, tenant, api["id"], url_path="", endpoint_path=path, parameters=[], outputs=[]
    )
    return api["id"], request["id"]


async def delete(http: httpx.AsyncClient, tenant: Tenant, url: str) -> None:
    etag = (await http.get(url, headers=tenant.editor)).headers["etag"]
    response = await http.delete(url, headers=tenant.editor | {"If-Match": etag})
    assert response.status_code == 204, response.text


async def test_a_new_api_after_a_deleted_one_sends_its_own_url_and_token(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    upstream.answer(200, {"ok": True})
    old = await bearer_api(http, a, "Old", f"{upstream.url}/old", "OLD-TOKEN", "aaa")
    assert (await http.post(invoke_url(a, *old), json={}, headers=a.editor)).status_code == 200
    await delete(http, a, f"{a.apis}/{old[0]}")

    new = await bearer_api(http, a, "New", f"{upstream.url}/new", "NEW-TOKEN", "bbb")
    response = await http.post(invoke_url(a, *new), json={}, headers=a.editor)

    assert response.status_code == 200, response.text
    assert new[0] > old[0]
    assert new[1] > old[1]
    sent = upstream.received[-1]
    assert sent.raw_path == "/new/bbb"
    assert sent.header("Authorization") == "Bearer NEW-TOKEN"


async def test_a_new_request_after_a_deleted_one_sends_its_own_method_and_path(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    upstream.answer(200, {"ok": True})
    api_id, old = await bearer_api(http, a, "CRM", f"{upstream.url}/api", "T", "aaa")
    assert (await http.post(invoke_url(a, api_id, old), json={}, headers=a.editor)).is_success
    await delete(http, a, f"{a.apis}/{api_id}/requests/{old}")

    new = await make_request(
        http, a, api_id, name="Post", method="POST", url_path="", endpoint_path="bbb", parameters=[]
    )
    response = await http.post(invoke_url(a, api_id, new["id"]), json={}, headers=a.editor)

    assert response.status_code == 200, response.text
    assert new["id"] > old
    assert (upstream.received[-1].method, upstream.received[-1].raw_path) == ("POST", "/api/bbb")


async def test_an_invoke_right_after_a_delete_sends_nothing(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    upstream.answer(200, {"ok": True})
    api_id, request_id = await bearer_api(http, a, "CRM", f"{upstream.url}/api", "T", "x")
    assert (
        await http.post(invoke_url(a, api_id, request_id), json={}, headers=a.editor)
    ).is_success
    await delete(http, a, f"{a.apis}/{api_id}")

    response = await http.post(invoke_url(a, api_id, request_id), json={}, headers=a.editor)

    assert response.status_code == 404, response.text
    assert len(upstream.received) == 1


async def test_a_credential_removed_by_put_is_not_sent_by_the_next_invoke(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    upstream.answer(200, {"ok": True})
    api_id, request_id = await bearer_api(http, a, "CRM", f"{upstream.url}/api", "GONE", "x")
    assert (
        await http.post(invoke_url(a, api_id, request_id), json={}, headers=a.editor)
    ).is_success
    read = await http.get(f"{a.apis}/{api_id}", headers=a.editor)
    body = read.json()
    edited = {k: body[k] for k in ("name", "description", "base_url", "type", "headers")}
    response = await http.put(
        f"{a.apis}/{api_id}",
        json=edited | {"authorization": {"type": "none"}},
        headers=a.editor | {"If-Match": read.headers["etag"]},
    )
    assert response.status_code == 200, response.text

    invoked = await http.post(invoke_url(a, api_id, request_id), json={}, headers=a.editor)

    assert invoked.status_code == 200, invoked.text
    assert upstream.received[-1].header("Authorization") is None
