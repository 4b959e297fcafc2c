"""Invoke served as a plain route (web/fast_invoke.py) answers exactly as the FastAPI route
does: a well-formed call runs on the plain route, anything else is passed on to FastAPI's,
and for every input below both apps answer the same status, headers and body."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.invocations import router as invocations_router
from callout.settings import Settings
from callout.web.app import create_app
from callout.web.fast_invoke import FastInvoke
from tests.conftest import Tenants
from tests.factories import make_api, make_request
from tests.upstream import Upstream

JSON = {"content-type": "application/json"}
VOLATILE = ("invocation_id", "duration_ms")

# (path suffix after /apis/, body bytes, extra headers), each sent to both apps.
Case = tuple[str, bytes, dict[str, str]]


def cases(api: int, request: int) -> dict[str, Case]:
    ok = b'{"parameters": {"customerId": "7"}}'
    path = f"{api}/requests/{request}/invoke"
    return {
        "well formed": (path, ok, JSON),
        "charset in the content type": (
            path,
            ok,
            {"content-type": "application/json; charset=utf-8"},
        ),
        "no content type": (path, ok, {}),
        "text content type": (path, ok, {"content-type": "text/plain"}),
        "empty body": (path, b"", JSON),
        "not JSON": (path, b"{", JSON),
        "NaN": (path, b'{"parameters": {"customerId": NaN}}', JSON),
        "unknown field": (path, b'{"parameter": {}}', JSON),
        "wrong type": (path, b'{"mode": "fast"}', JSON),
        "missing parameter": (path, b"{}", JSON),
        "UTF-16": (path, ok.decode().encode("utf-16"), JSON),
        "leading zero id": (f"0{api}/requests/{request}/invoke", ok, JSON),
        "id past the range": (f"{api}/requests/2147483648/invoke", ok, JSON),
        "fullwidth digit id": (f"{api}/requests/\uff11/invoke", ok, JSON),
        "unknown request": (f"{api}/requests/999999/invoke", ok, JSON),
    }


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VOLATILE}
    headers = {k: v for k, v in response.headers.items() if k != "content-length"}
    return response.status_code, headers, body


def _without_fast_invoke(app: FastAPI) -> FastAPI:
    app.router.routes[:] = [r for r in app.router.routes if not isinstance(r, FastInvoke)]
    return app


@pytest.fixture
def count_fastapi_invokes(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How many invokes the FastAPI route ran (the plain route runs none of them)."""
    calls = 0
    run = invocations_router._run

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return run(*args, **kwargs)

    monkeypatch.setattr(invocations_router, "_run", counted)
    return lambda: calls


async def test_both_routes_answer_every_input_alike(
    settings: Settings,
    bound_database: Database,
    keys: KeySource,
    tenants: Tenants,
    upstream: Upstream,
    count_fastapi_invokes: Callable[[], int],
) -> None:
    upstream.answer(200, {"name": "Ann"})
    fast = create_app(settings, bound_database, keys)
    plain = _without_fast_invoke(create_app(settings, bound_database, keys))
    answers: dict[str, list[tuple[int, dict[str, str], Any]]] = {}
    for app in (fast, plain):
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://callout.test") as http,
        ):
            if app is fast:
                api = await make_api(http, tenants.a, base_url=f"{upstream.url}/api")
                request = await make_request(http, tenants.a, api["id"])
                table = cases(api["id"], request["id"])
            for name, (suffix, body, headers) in table.items():
                for key in (tenants.a.editor, tenants.a.viewer, {"Authorization": "Bearer x"}):
                    response = await http.post(
                        f"{tenants.a.apis}/{suffix}", content=body, headers=headers | key
                    )
                    answers.setdefault(name, []).append(_comparable(response))
            other_client = f"/api/v1/clients/{tenants.b.code}/apis/{api['id']}/requests/1/invoke"
            response = await http.post(other_client, content=b"{}", headers=JSON | tenants.a.editor)
            answers.setdefault("another client", []).append(_comparable(response))
            response = await http.get(f"{tenants.a.apis}/{table['well formed'][0]}")
            answers.setdefault("GET", []).append(_comparable(response))
    for name, found in answers.items():
        half = len(found) // 2
        assert found[:half] == found[half:], name
    assert answers["well formed"][0][0] == 200
    assert answers["GET"][0][0] == 405


async def test_a_well_formed_invoke_takes_the_plain_route(
    app: FastAPI,
    http: httpx.AsyncClient,
    tenants: Tenants,
    upstream: Upstream,
    count_fastapi_invokes: Callable[[], int],
) -> None:
    upstream.answer(200, {"name": "Ann"})
    api = await make_api(http, tenants.a, base_url=f"{upstream.url}/api")
    request = await make_request(http, tenants.a, api["id"])
    url = f"{tenants.a.apis}/{api['id']}/requests/{request['id']}/invoke"
    served = await http.post(
        url, json={"parameters": {"customerId": "7"}}, headers=tenants.a.editor
    )
    assert served.status_code == 200, served.text
    assert count_fastapi_invokes() == 0
    passed_on = await http.post(url, content=b"{", headers=JSON | tenants.a.editor)
    assert passed_on.status_code == 422
    assert count_fastapi_invokes() == 0  # refused by FastAPI before its endpoint ran
    as_text = await http.post(
        url,
        content=b'{"parameters": {"customerId": "7"}}',
        headers={"content-type": "text/plain"} | tenants.a.editor,
    )
    assert as_text.status_code == 422  # FastAPI's refusal: the body must be JSON
    assert "must be JSON" in as_text.json()["detail"]
    assert count_fastapi_invokes() == 0
