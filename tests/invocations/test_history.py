"""The invocation history through the REST API: what is recorded, filters, paging, one
call with its trace, and the tenant's walls. Runs on SQLite and PostgreSQL."""

import secrets
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from callout.db.models import Client, Invocation
from callout.invocations import repository
from callout.schemas import MASK
from tests.conftest import Recorded, Tenant, Tenants
from tests.factories import SENTINEL, invoke_url
from tests.invocations.test_router import crm, customer, sentinel_crm
from tests.upstream import Upstream


def history_url(tenant: Tenant, invocation_id: str = "") -> str:
    url = f"/api/v1/clients/{tenant.code}/invocations"
    return f"{url}/{invocation_id}" if invocation_id else url


def row(client: Client, **changes: Any) -> dict[str, Any]:
    """A recorded call as the history writes it, for arranging the table directly."""
    return {
        "client_id": client.id,
        "invocation_id": secrets.token_hex(8),
        "at": datetime.now(UTC),
        "actor": "key:acme-editor",
        "api_id": 1,
        "api_name": "CRM",
        "request_id": 1,
        "request_name": "Get customer",
        "mode": "invoke",
        "outcome": "success",
        "reason": None,
        "status": 200,
        "duration_ms": 10.0,
        "trace": None,
    } | changes


async def test_invokes_and_tests_are_recorded_newest_first_and_dry_runs_and_mocks_are_not(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream, recorded: Recorded
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream, samples=[{"name": "ok", "body": "{}"}])
    upstream.answer(200, {"name": "Ann"})
    upstream.answer(404, {})
    done = [
        await http.post(invoke_url(a, api_id, request_id), json=customer("1"), headers=a.editor),
        await http.post(invoke_url(a, api_id, request_id), json=customer("2"), headers=a.admin),
        await http.post(
            invoke_url(a, api_id, request_id, "test"), json=customer("3"), headers=a.editor
        ),
    ]
    for mode in ("dry_run", "mock"):
        for action in ("invoke", "test"):
            skipped = await http.post(
                invoke_url(a, api_id, request_id, action),
                json=customer(mode=mode, sample="ok"),
                headers=a.editor,
            )
            assert skipped.status_code == 200, skipped.text

    await recorded()
    page = await http.get(history_url(a), headers=a.viewer)

    assert page.status_code == 200, page.text
    assert page.json()["total"] == 3
    items = page.json()["items"]
    assert [i["invocation_id"] for i in items] == [d.json()["invocation_id"] for d in done][::-1]
    tested, failed, succeeded = items
    assert (succeeded["mode"], succeeded["outcome"], succeeded["reason"]) == (
        "invoke",
        "success",
        None,
    )
    assert (succeeded["status"], succeeded["actor"]) == (200, "key:acme-editor")
    assert (succeeded["api_id"], succeeded["api_name"]) == (api_id, "CRM")
    assert (succeeded["request_id"], succeeded["request_name"]) == (request_id, "Get customer")
    assert succeeded["duration_ms"] == done[0].json()["duration_ms"]
    assert datetime.fromisoformat(succeeded["at"]) <= datetime.now(UTC)
    assert (failed["mode"], failed["outcome"], failed["reason"], failed["status"]) == (
        "invoke",
        "failure",
        "status",
        404,
    )
    assert failed["actor"] == "key:acme-admin"
    assert (tested["mode"], tested["outcome"]) == ("test", "failure")  # the 404 repeats
    assert "trace" not in tested  # the list carries no traces


async def test_a_failed_test_keeps_its_masked_trace_and_nothing_else_keeps_one(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream, recorded: Recorded
) -> None:
    a = tenants.a
    api_id, request_id = await sentinel_crm(http, a, upstream)
    upstream.echo()  # the upstream sends back every secret it received...
    refused = await http.put(
        f"{a.apis}/{api_id}/requests/{request_id}",
        json={
            "name": "Get customer",
            "endpoint_path": "customers/${customerId}",
            "parameters": [{"name": "customerId", "type": "string", "required": True}],
            "headers": [{"name": "X-Request-Token", "value": MASK, "secret": True}],
            "success_statuses": [201],  # the echo's 200 is a failure
        },
        headers=a.editor | {"If-Match": '"1"'},
    )
    assert refused.status_code == 200, refused.text
    test = await http.post(
        invoke_url(a, api_id, request_id, "test"), json=customer(), headers=a.editor
    )
    invoke = await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)
    assert (test.json()["outcome"], test.json()["reason"]) == ("failure", "status")
    assert invoke.json()["reason"] == "status"

    await recorded()
    kept = await http.get(history_url(a, test.json()["invocation_id"]), headers=a.viewer)
    plain = await http.get(history_url(a, invoke.json()["invocation_id"]), headers=a.viewer)

    assert kept.status_code == 200, kept.text
    trace = kept.json()["trace"]
    assert trace == test.json()  # ...and the trace is kept as the test answered it: masked
    assert {"name": "Authorization", "value": MASK} in trace["request"]["headers"]
    assert MASK in trace["response"]["body"]
    assert SENTINEL not in kept.text
    assert plain.status_code == 200, plain.text
    assert (plain.json()["reason"], plain.json()["trace"]) == ("status", None)


async def test_history_filters_by_api_request_outcome_and_time_and_pages(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [
        row(a.client, at=now - timedelta(hours=3), api_id=1, request_id=1),
        row(a.client, at=now - timedelta(hours=2), api_id=1, request_id=2, outcome="timeout"),
        row(a.client, at=now - timedelta(hours=1), api_id=2, request_id=3, outcome="failure"),
        row(a.client, at=now, api_id=1, request_id=1, outcome="failure", reason="status"),
    ]
    repository.append(session, rows)
    session.commit()
    ids = [r["invocation_id"] for r in rows]

    async def listed(**params: Any) -> list[str]:
        response = await http.get(history_url(a), params=params, headers=a.viewer)
        assert response.status_code == 200, response.text
        return [item["invocation_id"] for item in response.json()["items"]]

    assert await listed() == ids[::-1]
    assert await listed(api_id=1) == [ids[3], ids[1], ids[0]]
    assert await listed(request_id=1) == [ids[3], ids[0]]
    assert await listed(outcome="failure") == [ids[3], ids[2]]
    assert await listed(api_id=1, outcome="timeout") == [ids[1]]
    two_hours_ago = (now - timedelta(hours=2)).isoformat()
    assert await listed(since=two_hours_ago) == [ids[3], ids[2], ids[1]]  # inclusive
    assert await listed(until=two_hours_ago) == [ids[0]]  # exclusive
    in_paris = (now - timedelta(hours=1)).astimezone(timezone(timedelta(hours=1))).isoformat()
    assert await listed(since=two_hours_ago, until=in_paris) == [ids[1]]
    assert await listed(limit=2) == [ids[3], ids[2]]
    assert await listed(limit=2, offset=2) == [ids[1], ids[0]]
    beyond = await http.get(history_url(a), params={"offset": 4}, headers=a.viewer)
    assert (beyond.json()["items"], beyond.json()["total"]) == ([], 4)
    filtered = await http.get(history_url(a), params={"api_id": 1, "limit": 1}, headers=a.viewer)
    assert (filtered.json()["total"], filtered.json()["limit"]) == (3, 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("since", "yesterday"),
        ("since", "2026-12-05T09:00:00"),  # no zone: not RFC 3339
        ("until", "2026-13-05T09:00:00Z"),
        ("outcome", "exploded"),
        ("api_id", "1.0"),
        ("request_id", "0"),
        ("limit", "201"),
    ],
)
async def test_a_bad_filter_is_refused_naming_it(
    http: httpx.AsyncClient, tenants: Tenants, field: str, value: str
) -> None:
    a = tenants.a
    response = await http.get(history_url(a), params={field: value}, headers=a.viewer)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert value not in response.text


async def test_history_is_the_clients_own(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a, b = tenants.a, tenants.b
    ours, theirs = row(a.client), row(b.client)
    repository.append(session, [ours, theirs])
    session.commit()

    listed = await http.get(history_url(a), headers=a.viewer)
    peek = await http.get(history_url(a), headers=b.admin)
    cross = await http.get(history_url(a, theirs["invocation_id"]), headers=a.admin)
    unknown = await http.get(history_url(a, "0123456789abcdef"), headers=a.admin)
    malformed = await http.get(history_url(a, "not-an-id"), headers=a.admin)

    assert [i["invocation_id"] for i in listed.json()["items"]] == [ours["invocation_id"]]
    assert peek.status_code == 404  # never 403: a key learns nothing of other clients
    assert cross.status_code == 404
    assert theirs["invocation_id"] not in cross.text
    assert unknown.status_code == 404
    assert malformed.status_code == 422
    assert "not-an-id" not in malformed.text


async def test_a_deleted_clients_buffered_calls_are_left_out_not_retried_forever(
    app: FastAPI,
    http: httpx.AsyncClient,
    tenants: Tenants,
    upstream: Upstream,
    recorded: Recorded,
    session: Session,
) -> None:
    a, b = tenants.a, tenants.b
    upstream.answer(200, {"name": "Ann"})
    theirs = await http.post(
        invoke_url(b, *(await crm(http, b, upstream))), json=customer(), headers=b.editor
    )
    ours = await http.post(
        invoke_url(a, *(await crm(http, a, upstream))), json=customer(), headers=a.editor
    )
    assert (theirs.status_code, ours.status_code) == (200, 200)
    session.delete(b.client)  # its rows go with it (ON DELETE CASCADE)
    session.commit()

    await recorded()

    stored = session.scalars(select(Invocation.invocation_id)).all()
    assert stored == [ours.json()["invocation_id"]]
    assert app.state.runtime.history.buffered == 0  # nothing left to retry


async def test_the_history_outlives_the_api_it_called(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream, recorded: Recorded
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)
    upstream.answer(200, {"name": "Ann"})
    await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)
    await recorded()

    deleted = await http.delete(f"{a.apis}/{api_id}", headers=a.editor | {"If-Match": '"1"'})
    listed = await http.get(history_url(a), params={"api_id": api_id}, headers=a.viewer)

    assert deleted.status_code == 204, deleted.text
    [entry] = listed.json()["items"]
    assert (entry["api_name"], entry["request_name"]) == ("CRM", "Get customer")
