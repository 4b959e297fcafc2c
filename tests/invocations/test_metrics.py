"""Per-API metrics from the history: counts by outcome and reason, exact percentiles of
duration per request and in total, over a window. Runs on SQLite and PostgreSQL."""

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from callout.db.models import Api
from callout.invocations import repository
from tests.conftest import Recorded, Tenant, Tenants
from tests.factories import invoke_url, make_api, make_request
from tests.invocations.test_history import row
from tests.invocations.test_router import crm, customer
from tests.upstream import Upstream


def metrics_url(tenant: Tenant, api_id: int) -> str:
    return f"{tenant.apis}/{api_id}/metrics"


def nearest_rank(durations: list[float], p: int) -> float:
    """The p-th percentile by nearest rank, computed apart from Callout's SQL."""
    return sorted(durations)[math.ceil(p * len(durations) / 100) - 1]


async def test_metrics_count_outcomes_and_reasons_and_give_exact_percentiles(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a, b = tenants.a, tenants.b
    api = await make_api(http, a)
    lookup = await make_request(http, a, api["id"], name="Lookup")
    update = await make_request(http, a, api["id"], name="Update", method="POST")
    now = datetime.now(UTC)

    def call(request: dict[str, Any], duration: float, **changes: Any) -> dict[str, Any]:
        return (
            row(
                a.client,
                api_id=api["id"],
                request_id=request["id"],
                request_name=request["name"],
                duration_ms=duration,
                at=now - timedelta(minutes=5),
            )
            | changes
        )

    # Lookup: 1..100 ms; 7 refused by status, 3 timed out. Update: 7 calls, shuffled.
    lookups = [float(d) for d in range(1, 101)]
    rows = [call(lookup, d) for d in lookups[:90]]
    rows += [call(lookup, d, outcome="failure", reason="status") for d in lookups[90:97]]
    rows += [call(lookup, d, outcome="timeout", reason="timeout") for d in lookups[97:]]
    updates = [5.0, 1.0, 3.0, 7.0, 2.0, 6.0, 4.0]
    rows += [call(update, d) for d in updates]
    # Not counted in the last hour: an older call, a test, another client's call.
    rows.append(call(lookup, 5000.0, at=now - timedelta(hours=2)))
    rows.append(call(lookup, 9000.0, mode="test", outcome="failure", reason="status"))
    rows.append(call(lookup, 9000.0, client_id=b.client.id))
    repository.append(session, rows)
    session.commit()

    response = await http.get(metrics_url(a, api["id"]), headers=a.viewer)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["api_id"], body["window"]) == (api["id"], "1h")
    until = datetime.fromisoformat(body["until"])
    assert until - datetime.fromisoformat(body["since"]) == timedelta(hours=1)
    by_name = {r["request_name"]: r for r in body["requests"]}
    assert [r["request_id"] for r in body["requests"]] == [lookup["id"], update["id"]]
    first = by_name["Lookup"]
    assert first["calls"] == 100
    assert first["outcomes"] == {"success": 90, "failure": 7, "timeout": 3}
    assert first["reasons"] == {"status": 7, "timeout": 3}
    assert (first["p50_ms"], first["p95_ms"], first["p99_ms"]) == (50.0, 95.0, 99.0)
    second = by_name["Update"]
    assert (second["calls"], second["outcomes"], second["reasons"]) == (7, {"success": 7}, {})
    assert (second["p50_ms"], second["p95_ms"], second["p99_ms"]) == (4.0, 7.0, 7.0)
    total = body["total"]
    everything = lookups + updates
    assert total["calls"] == 107
    assert total["outcomes"] == {"success": 97, "failure": 7, "timeout": 3}
    assert total["reasons"] == {"status": 7, "timeout": 3}
    assert (total["p50_ms"], total["p95_ms"], total["p99_ms"]) == (47.0, 95.0, 99.0)
    assert [total[f"p{p}_ms"] for p in (50, 95, 99)] == [
        nearest_rank(everything, p) for p in (50, 95, 99)
    ]

    day = await http.get(metrics_url(a, api["id"]), params={"window": "24h"}, headers=a.viewer)
    assert day.json()["total"]["calls"] == 108
    assert day.json()["requests"][0]["p99_ms"] == 100.0  # rank 100 of 101: not the 5 s call
    assert day.json()["requests"][0]["calls"] == 101


async def test_metrics_of_an_api_never_called_are_empty(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a)

    response = await http.get(metrics_url(a, api["id"]), params={"window": "7d"}, headers=a.viewer)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["requests"] == []
    assert body["total"] == {
        "calls": 0,
        "outcomes": {},
        "reasons": {},
        "p50_ms": None,
        "p95_ms": None,
        "p99_ms": None,
    }
    assert datetime.fromisoformat(body["until"]) - datetime.fromisoformat(
        body["since"]
    ) == timedelta(days=7)


async def test_a_system_apis_metrics_are_the_clients_own_calls_of_it(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a, b = tenants.a, tenants.b
    system_api = session.scalar(select(Api.id).where(Api.client_id.is_(None)).limit(1))
    assert system_api is not None
    repository.append(
        session,
        [row(a.client, api_id=system_api, duration_ms=3.0)]
        + [row(b.client, api_id=system_api, duration_ms=8.0)] * 2,
    )
    session.commit()

    ours = await http.get(metrics_url(a, system_api), headers=a.viewer)
    theirs = await http.get(metrics_url(b, system_api), headers=b.viewer)

    assert (ours.json()["total"]["calls"], ours.json()["total"]["p50_ms"]) == (1, 3.0)
    assert (theirs.json()["total"]["calls"], theirs.json()["total"]["p50_ms"]) == (2, 8.0)


async def test_metrics_follow_real_invokes(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream, recorded: Recorded
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)
    upstream.answer(200, {"name": "Ann"})
    upstream.answer(503, {})
    answers = [
        await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)
        for _ in range(2)
    ]

    await recorded()
    response = await http.get(metrics_url(a, api_id), headers=a.viewer)

    [figures] = response.json()["requests"]
    assert (figures["request_id"], figures["request_name"]) == (request_id, "Get customer")
    assert figures["outcomes"] == {"success": 1, "failure": 1}
    durations = sorted(answer.json()["duration_ms"] for answer in answers)
    assert (figures["p50_ms"], figures["p99_ms"]) == (durations[0], durations[1])


async def test_metrics_of_another_clients_api_or_a_bad_window_are_refused(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    theirs = await make_api(http, b)

    hidden = await http.get(metrics_url(a, theirs["id"]), headers=a.admin)
    unknown = await http.get(metrics_url(a, 2**31 - 1), headers=a.admin)
    window = await http.get(metrics_url(b, theirs["id"]), params={"window": "2h"}, headers=b.viewer)

    assert (hidden.status_code, unknown.status_code) == (404, 404)
    assert window.status_code == 422
    assert [e["field"] for e in window.json()["errors"]] == ["window"]


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
async def test_every_role_may_read_metrics_and_history(
    http: httpx.AsyncClient, tenants: Tenants, role: str
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    key = getattr(a, role)

    for url in (metrics_url(a, api["id"]), f"/api/v1/clients/{a.code}/invocations"):
        response = await http.get(url, headers=key)
        assert response.status_code == 200, (url, response.text)
