"""Resolved keys and clients are kept in the process: a request whose key and client are known
reads no database, a revocation takes effect at once in the process that made it and within
`access_ttl` in another, and an invoke with everything cached runs no SQL at all."""

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.settings import Settings
from callout.web.app import create_app
from tests.conftest import QueryCounter, Tenants, bearer
from tests.factories import make_api, make_request
from tests.upstream import Upstream


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://callout.test") as client,
    ):
        yield client


async def test_a_known_key_and_client_read_no_database(
    http: httpx.AsyncClient, tenants: Tenants, queries: QueryCounter
) -> None:
    a = tenants.a
    first = await http.get(f"/api/v1/clients/{a.code}", headers=a.viewer)
    assert first.status_code == 200
    before = queries.count

    again = await http.get(f"/api/v1/clients/{a.code}", headers=a.viewer)

    assert again.status_code == 200
    assert queries.count == before


async def test_a_cached_invoke_runs_no_sql(
    settings: Settings,
    bound_database: Database,
    keys: KeySource,
    tenants: Tenants,
    upstream: Upstream,
    queries: QueryCounter,
) -> None:
    a = tenants.a
    upstream.answer(200, {"name": "Ann"})
    # The suite's plan cache checks versions on every call (plan_ttl 0); the server's trusts
    # a plan for CALLOUT_PLAN_TTL, so this app has the server's default.
    served = settings.model_copy(update={"plan_ttl": Settings.model_fields["plan_ttl"].default})
    app = create_app(served, database=bound_database, keys=keys)
    async with client_of(app) as http:
        api = await make_api(http, a, base_url=f"{upstream.url}/api")
        request = await make_request(http, a, api["id"])
        url = f"{a.apis}/{api['id']}/requests/{request['id']}/invoke"
        body = {"parameters": {"customerId": "7"}}
        assert (await http.post(url, json=body, headers=a.editor)).status_code == 200
        before = queries.count

        invoked = await http.post(url, json=body, headers=a.editor)

        assert invoked.status_code == 200, invoked.text
        assert queries.count == before  # the history is written later, off the call


async def test_a_revoked_key_is_refused_at_once_in_the_process_that_revoked_it(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    created = await http.post(
        f"/api/v1/clients/{a.code}/api-keys",
        json={"name": "script", "role": "viewer"},
        headers=a.admin,
    )
    key = bearer(created.json()["key"])
    assert (await http.get(a.apis, headers=key)).status_code == 200  # now cached

    revoked = await http.delete(
        f"/api/v1/clients/{a.code}/api-keys/{created.json()['id']}", headers=a.admin
    )

    assert revoked.status_code == 204
    assert (await http.get(a.apis, headers=key)).status_code == 401


async def test_another_process_sees_a_revocation_within_the_access_ttl(
    settings: Settings, bound_database: Database, keys: KeySource, tenants: Tenants
) -> None:
    a = tenants.a
    quick = settings.model_copy(update={"access_ttl": 0.3})
    # Two processes: the same storage, each hearing only its own commits.
    async with (
        client_of(create_app(quick, database=copy.copy(bound_database), keys=keys)) as one,
        client_of(create_app(quick, database=copy.copy(bound_database), keys=keys)) as other,
    ):
        created = await one.post(
            f"/api/v1/clients/{a.code}/api-keys",
            json={"name": "script", "role": "viewer"},
            headers=a.admin,
        )
        key = bearer(created.json()["key"])
        assert (await other.get(a.apis, headers=key)).status_code == 200  # cached there
        revoked = await one.delete(
            f"/api/v1/clients/{a.code}/api-keys/{created.json()['id']}", headers=a.admin
        )
        assert revoked.status_code == 204
        # The other process trusted what it read for up to access_ttl, and no longer.
        await asyncio.sleep(0.35)
        assert (await other.get(a.apis, headers=key)).status_code == 401


async def test_an_expired_key_is_read_again_by_one_request_while_the_others_go_on(
    settings: Settings, bound_database: Database, keys: KeySource, tenants: Tenants
) -> None:
    a = tenants.a
    app = create_app(settings.model_copy(update={"access_ttl": 0}), bound_database, keys)
    cache = app.state.access
    async with client_of(app) as http:
        assert (await http.get(a.apis, headers=a.viewer)).status_code == 200
    key = a.viewer["Authorization"].removeprefix("Bearer ")

    assert cache.principal(key) is None  # expired: this request reads it again
    held = cache.principal(key)  # the others go on with it meanwhile
    assert held is not None
    assert held.role == "viewer"
    cache.drop(key)  # the read refused it
    assert cache.principal(key) is None
