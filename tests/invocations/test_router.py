"""Invoking requests through the REST API against a real upstream: invoke, test, dry run,
mock, the invocation log, fresh plans after an edit, and secrets that never come back."""

import logging
import shlex
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from callout.apis import catalog, request_service
from callout.apis import service as apis
from callout.apis.schemas import ApiRead, ApiWrite, RequestRead, RequestWrite
from callout.clients.access import OPERATOR
from callout.db.crypto import Keyring, KeySource
from callout.db.models import Api
from callout.errors import NotFound
from callout.invocations.plans import PlanCache
from callout.schemas import MASK, IfMatch
from tests.conftest import QueryCounter, Recorded, Tenant, Tenants
from tests.factories import SENTINEL, api_body, invoke_url, make_api, make_request, request_body
from tests.upstream import Upstream

# Helpers


async def crm(
    http: httpx.AsyncClient, tenant: Tenant, upstream: Upstream, **request_changes: Any
) -> tuple[int, int]:
    """An API on the upstream (base URL `<upstream>/api`) with one request; their ids."""
    api = await make_api(http, tenant, base_url=f"{upstream.url}/api")
    request = await make_request(http, tenant, api["id"], **request_changes)
    return api["id"], request["id"]


def customer(customer_id: str = "7", **changes: Any) -> dict[str, Any]:
    return {"parameters": {"customerId": customer_id}} | changes


OVERDUE_OUTPUTS = [
    {"name": "fullName", "path": "$.name"},
    {"name": "balance", "path": "$.balance", "type": "number"},
    {
        "name": "overdue",
        "path": "$.overdue",
        "type": "boolean",
        "target": "alert",
        "message": "Account ${account.id} is overdue",
    },
]


# Invoke


async def test_invoke_success_answers_outcome_status_outputs_and_alerts(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream, outputs=OVERDUE_OUTPUTS)
    upstream.answer(200, {"name": "Ann Example", "balance": 1250.5, "overdue": True})

    response = await http.post(
        invoke_url(a, api_id, request_id),
        json=customer(context={"account": {"id": "A-42"}}),
        headers=a.editor,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "success"
    assert body["status"] == 200
    assert body["outputs"] == {"fullName": "Ann Example", "balance": 1250.5}
    assert body["alerts"] == ["Account A-42 is overdue"]
    assert body["warnings"] == []
    assert body["reason"] is None
    assert isinstance(body["invocation_id"], str)
    assert body["invocation_id"]
    assert body["duration_ms"] > 0
    [seen] = upstream.received
    assert (seen.method, seen.raw_path) == ("GET", "/api/v1/customers/7")
    assert seen.header("Accept") == "application/json"


async def test_upstream_404_answers_502_problem_with_outputs_from_the_error_body(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    outputs = [{"name": "fullName", "path": "$.name"}, {"name": "error", "path": "$.error"}]
    api_id, request_id = await crm(http, a, upstream, outputs=outputs)
    upstream.answer(404, {"error": "no customer 7"})

    response = await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)

    assert response.status_code == 502, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/invocation-failed"
    assert problem["status"] == 502
    assert (problem["outcome"], problem["reason"]) == ("failure", "status")
    assert problem["upstream_status"] == 404
    assert "404" in problem["detail"]
    assert problem["outputs"] == {"fullName": None, "error": "no customer 7"}
    assert problem["invocation_id"]
    assert problem["duration_ms"] > 0
    assert len(upstream.received) == 1


async def test_upstream_error_page_that_is_not_json_still_answers_502(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)
    upstream.answer(404, "<html>Not Found</html>", {"Content-Type": "text/html"})

    response = await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)

    assert response.status_code == 502, response.text
    problem = response.json()
    assert (problem["outcome"], problem["reason"], problem["upstream_status"]) == (
        "failure",
        "status",
        404,
    )
    assert problem["outputs"] == {}
    assert problem["warnings"]  # the page could not be mapped: said, not failed


async def test_deadline_passed_answers_504_on_invoke_and_200_on_test(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream, timeout=0.3)
    upstream.answer(200, {"name": "Too late"}, delay=2)

    # One after the other in one test: the upstream's teardown waits out the held answers
    # together. (Not side by side: the test's requests share one database connection.)
    invoked = await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)
    tested = await http.post(
        invoke_url(a, api_id, request_id, "test"), json=customer(), headers=a.editor
    )

    assert invoked.status_code == 504, invoked.text
    assert invoked.headers["content-type"] == "application/problem+json"
    problem = invoked.json()
    assert problem["type"] == "/problems/invocation-failed"
    assert (problem["outcome"], problem["reason"]) == ("timeout", "timeout")
    assert problem["upstream_status"] is None
    assert problem["outputs"] == {}
    assert 250 <= problem["duration_ms"] < 1500
    assert tested.status_code == 200, tested.text
    traced = tested.json()
    assert (traced["outcome"], traced["reason"], traced["status"]) == ("timeout", "timeout", None)
    assert traced["response"] is None
    assert traced["request"]["url"] == f"{upstream.url}/api/v1/customers/7"
    assert len(upstream.received) == 2


async def test_missing_parameter_answers_422_and_sends_nothing(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)

    response = await http.post(
        invoke_url(a, api_id, request_id), json={"parameters": {}}, headers=a.editor
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["outcome"], problem["reason"]) == ("failure", "invalid_parameters")
    assert "customerId" in problem["detail"]
    assert problem["upstream_status"] is None
    assert upstream.received == []


async def test_dry_run_returns_the_rendered_request_and_sends_nothing(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(
        http,
        a,
        upstream,
        method="POST",
        query=[{"name": "agent", "value": "${loginData.agentId}"}],
        content_type="json",
        body='{"id": "${customerId}"}',
    )

    response = await http.post(
        invoke_url(a, api_id, request_id),
        json=customer("a b", mode="dry_run", context={"loginData": {"agentId": "ag7"}}),
        headers=a.editor,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "success"
    assert body["status"] is None
    assert body["outputs"] == {}
    request = body["request"]
    assert request["method"] == "POST"
    assert request["url"] == f"{upstream.url}/api/v1/customers/a%20b?agent=ag7"
    assert {"name": "Content-Type", "value": "application/json"} in request["headers"]
    assert request["body"] == '{"id": "a b"}'
    assert upstream.received == []


async def test_mock_maps_a_sample_response_and_sends_nothing(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    samples = [
        {"name": "Unknown customer", "status": 404, "body": "{}"},
        {
            "name": "Overdue customer",
            "status": 200,
            "headers": [{"name": "Content-Type", "value": "application/json"}],
            "body": '{"name": "Ann Example", "balance": 1250.5, "overdue": true}',
        },
    ]
    api_id, request_id = await crm(http, a, upstream, outputs=OVERDUE_OUTPUTS, samples=samples)

    response = await http.post(
        invoke_url(a, api_id, request_id),
        json=customer(mode="mock", sample="Overdue customer", context={"account": {"id": 9}}),
        headers=a.editor,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["outcome"], body["status"]) == ("success", 200)
    assert body["outputs"] == {"fullName": "Ann Example", "balance": 1250.5}
    assert body["alerts"] == ["Account 9 is overdue"]
    assert upstream.received == []

    first = await http.post(
        invoke_url(a, api_id, request_id), json=customer(mode="mock"), headers=a.editor
    )
    assert first.status_code == 502, first.text  # no sample named: the first one
    assert first.json()["upstream_status"] == 404
    assert upstream.received == []


async def test_mock_with_an_unknown_sample_is_refused_and_sends_nothing(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)

    response = await http.post(
        invoke_url(a, api_id, request_id),
        json=customer(mode="mock", sample="Nope"),
        headers=a.editor,
    )

    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "invalid_parameters"
    assert "Nope" in response.json()["detail"]
    assert upstream.received == []


async def test_invoking_a_request_of_another_client_is_not_found_and_sends_nothing(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a, b = tenants.a, tenants.b
    api_id, request_id = await crm(http, a, upstream)

    response = await http.post(invoke_url(b, api_id, request_id), json=customer(), headers=b.admin)

    assert response.status_code == 404, response.text
    assert upstream.received == []


# Test


async def test_test_answers_200_on_failure_with_steps_masked_request_and_response(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api = await make_api(
        http,
        a,
        base_url=f"{upstream.url}/api",
        authorization={"type": "bearer", "token": "crm-token-123"},
    )
    request = await make_request(http, a, api["id"])
    upstream.answer(500, {"error": "database down"}, {"X-Upstream": "crm"})

    response = await http.post(
        invoke_url(a, api["id"], request["id"], "test"), json=customer(), headers=a.editor
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["outcome"], body["reason"], body["status"]) == ("failure", "status", 500)
    assert [step["name"] for step in body["steps"]] == [
        "bind",
        "render",
        "authorize",
        "send",
        "map",
    ]
    assert all(step["duration_ms"] >= 0 for step in body["steps"])
    sent = body["request"]
    assert (sent["method"], sent["url"]) == ("GET", f"{upstream.url}/api/v1/customers/7")
    assert {"name": "Authorization", "value": MASK} in sent["headers"]
    assert "crm-token-123" not in response.text
    assert upstream.received[0].header("Authorization") == "Bearer crm-token-123"
    received = body["response"]
    assert received["status"] == 500
    assert {"name": "X-Upstream", "value": "crm"} in received["headers"]
    assert received["body"] == '{"error": "database down"}'
    assert received["truncated"] is False


async def test_test_answers_200_on_success_with_the_whole_trace(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)
    upstream.answer(200, {"name": "Ann"})

    ok = await http.post(
        invoke_url(a, api_id, request_id, "test"), json=customer(), headers=a.editor
    )

    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert (body["outcome"], body["status"], body["outputs"]) == (
        "success",
        200,
        {"fullName": "Ann"},
    )
    assert [step["name"] for step in body["steps"]][-2:] == ["send", "map"]
    assert body["response"]["body"] == '{"name": "Ann"}'
    assert body["request"]["url"] == f"{upstream.url}/api/v1/customers/7"


async def test_viewer_may_neither_invoke_nor_test_and_nothing_is_sent(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream, recorded: Recorded
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)

    for action in ("invoke", "test"):
        response = await http.post(
            invoke_url(a, api_id, request_id, action), json=customer(), headers=a.viewer
        )
        assert response.status_code == 403, (action, response.text)
        assert response.json()["type"] == "/problems/forbidden"

    assert upstream.received == []
    await recorded()
    log = await http.get(f"/api/v1/clients/{a.code}/invocations", headers=a.viewer)
    assert log.json()["total"] == 0


# Plans follow edits


async def test_after_an_edit_the_next_invoke_uses_the_new_version(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)
    upstream.answer(200, {"name": "Ann"})
    first = await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)
    assert first.status_code == 200, first.text

    edited = await http.put(
        f"{a.apis}/{api_id}/requests/{request_id}",
        json=request_body(endpoint_path="clients/${customerId}/profile"),
        headers=a.editor | {"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    second = await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)

    assert second.status_code == 200, second.text
    assert [seen.raw_path for seen in upstream.received] == [
        "/api/v1/customers/7",
        "/api/v1/clients/7/profile",
    ]


async def test_after_an_api_edit_the_next_invoke_uses_the_new_base_url(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)
    upstream.answer(200, {"name": "Ann"})
    assert (
        await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)
    ).status_code == 200

    edited = await http.put(
        f"{a.apis}/{api_id}",
        json=api_body(base_url=f"{upstream.url}/crm2"),
        headers=a.editor | {"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    second = await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)

    assert second.status_code == 200, second.text
    assert upstream.received[-1].raw_path == "/crm2/v1/customers/7"


def test_cached_plan_is_used_without_the_database_and_rebuilt_after_an_edit(
    session: Session, tenants: Tenants, keys: KeySource, queries: QueryCounter
) -> None:
    a, keyring = tenants.a, keys.keyring()
    api = apis.create_api(session, keyring, OPERATOR, a.client, ApiWrite(**api_body()))
    made = request_service.create_request(
        session, keyring, OPERATOR, a.client, api.id, RequestWrite(**request_body())
    )
    session.commit()
    cache = PlanCache(ttl=60)
    assert cache.cached(a.client, api.id, made.id) is None

    plan = cache.plan(session, keyring, a.client, api.id, made.id)
    before = queries.count
    hit = cache.cached(a.client, api.id, made.id)
    again = cache.cached(a.client, api.id, made.id)

    assert hit is plan
    assert again is plan
    assert queries.count == before  # a cached plan reads no database
    assert cache.cached(a.client, api.id + 1, made.id) is None  # asked under another API

    checked = cache.plan(session, keyring, a.client, api.id, made.id)
    assert checked is plan  # nothing moved: the same plan, after one version check
    assert queries.count == before + 1

    request_service.update_request(
        session,
        keyring,
        OPERATOR,
        a.client,
        api.id,
        made.id,
        IfMatch(frozenset({made.version})),
        RequestWrite(**request_body(endpoint_path="clients/${customerId}")),
    )
    session.commit()
    rebuilt = cache.plan(session, keyring, a.client, api.id, made.id)

    assert rebuilt is not plan
    assert rebuilt.key.request_version == plan.key.request_version + 1
    assert "clients" in "".join(p for p in rebuilt.path if isinstance(p, str))
    assert cache.cached(a.client, api.id, made.id) is rebuilt


def stored_request(
    session: Session, tenants: Tenants, keys: KeySource
) -> tuple[Keyring, ApiRead, RequestRead]:
    """Client A's API with one request, committed."""
    a, keyring = tenants.a, keys.keyring()
    api = apis.create_api(session, keyring, OPERATOR, a.client, ApiWrite(**api_body()))
    made = request_service.create_request(
        session, keyring, OPERATOR, a.client, api.id, RequestWrite(**request_body())
    )
    session.commit()
    return keyring, api, made


def test_an_expired_plan_is_checked_by_one_caller_while_the_others_go_on_with_it(
    session: Session, tenants: Tenants, keys: KeySource
) -> None:
    a = tenants.a
    keyring, api, made = stored_request(session, tenants, keys)
    cache = PlanCache(ttl=0)
    plan = cache.plan(session, keyring, a.client, api.id, made.id)

    assert cache.cached(a.client, api.id, made.id) is None  # the first caller checks
    assert cache.cached(a.client, api.id, made.id) is plan  # the others go on meanwhile
    assert cache.plan(session, keyring, a.client, api.id, made.id) is plan
    assert cache.cached(a.client, api.id, made.id) is None  # checked, and expired again


def test_a_plan_whose_check_fails_is_not_used_by_anyone(
    session: Session, tenants: Tenants, keys: KeySource
) -> None:
    a = tenants.a
    keyring, api, made = stored_request(session, tenants, keys)
    cache = PlanCache(ttl=0)
    cache.plan(session, keyring, a.client, api.id, made.id)
    assert cache.cached(a.client, api.id, made.id) is None  # this caller checks...
    apis.delete_api(session, OPERATOR, a.client, api.id, IfMatch(frozenset({api.version})))
    session.commit()

    with pytest.raises(NotFound):  # ...and finds the API gone (deleted by another process)
        cache.plan(session, keyring, a.client, api.id, made.id)

    assert cache.cached(a.client, api.id, made.id) is None
    assert cache.cached(a.client, api.id, made.id) is None


# System APIs

STATUS_YAML = """
name: Test upstream status
base_url: {base_url}
headers:
  - name: Accept
    value: application/json
requests:
  - name: Summary
    endpoint_path: v2/summary.json
    outputs:
      - name: indicator
        path: $.status.indicator
"""


async def test_every_client_may_invoke_a_system_apis_request(
    http: httpx.AsyncClient,
    tenants: Tenants,
    upstream: Upstream,
    session: Session,
    recorded: Recorded,
) -> None:
    a, b = tenants.a, tenants.b
    entry = catalog.parse("test-upstream-status", STATUS_YAML.format(base_url=upstream.url))
    catalog.sync(session, [*catalog.load(), entry])
    session.commit()
    api_id = session.scalar(select(Api.id).where(Api.slug == "test-upstream-status"))
    assert api_id is not None
    read = await http.get(f"{a.apis}/{api_id}", headers=a.viewer)
    assert read.status_code == 200, read.text
    assert read.json()["system"] is True
    [summary] = read.json()["requests"]
    upstream.answer(200, {"status": {"indicator": "minor"}})

    ours = await http.post(invoke_url(a, api_id, summary["id"]), json={}, headers=a.editor)
    theirs = await http.post(invoke_url(b, api_id, summary["id"]), json={}, headers=b.editor)

    for response in (ours, theirs):
        assert response.status_code == 200, response.text
        assert response.json()["outputs"] == {"indicator": "minor"}
    assert [seen.raw_path for seen in upstream.received] == ["/v2/summary.json"] * 2
    await recorded()
    for tenant, done in ((a, ours), (b, theirs)):
        log = await http.get(f"/api/v1/clients/{tenant.code}/invocations", headers=tenant.viewer)
        [entry] = log.json()["items"]
        assert entry["invocation_id"] == done.json()["invocation_id"]
        assert (entry["api_name"], entry["request_name"]) == ("Test upstream status", "Summary")


# Secrets


@pytest.fixture
def every_log_record(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, enabled and propagating to caplog's handler on the root.

    Asked for first, so it is in place before the test's database connection is opened.
    """
    manager = logging.Logger.manager
    saved = []
    for logger in [manager.root, *manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            saved.append((logger, logger.level, logger.propagate, logger.disabled))
            logger.setLevel(logging.DEBUG)
            logger.propagate = True
            logger.disabled = False
    caplog.set_level(logging.DEBUG)
    yield caplog
    for logger, level, propagate, disabled in saved:
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


async def sentinel_crm(
    http: httpx.AsyncClient, tenant: Tenant, upstream: Upstream
) -> tuple[int, int]:
    """An API on the upstream with the sentinel as its bearer token and in secret headers of
    the API and the request."""
    api = await make_api(
        http,
        tenant,
        base_url=f"{upstream.url}/api",
        headers=[{"name": "X-Api-Key", "value": SENTINEL, "secret": True}],
        authorization={"type": "bearer", "token": SENTINEL},
    )
    request = await make_request(
        http,
        tenant,
        api["id"],
        headers=[{"name": "X-Request-Token", "value": SENTINEL, "secret": True}],
    )
    return api["id"], request["id"]


async def test_sentinel_never_leaves_invoke_test_the_log_or_log_records_on_an_echo(
    every_log_record: pytest.LogCaptureFixture,
    http: httpx.AsyncClient,
    tenants: Tenants,
    upstream: Upstream,
    recorded: Recorded,
) -> None:
    a = tenants.a
    api_id, request_id = await sentinel_crm(http, a, upstream)
    responses = [
        await http.post(invoke_url(a, api_id, request_id, action), json=body, headers=a.editor)
        for action, body in [
            ("invoke", customer()),
            ("test", customer()),
            ("invoke", customer(mode="dry_run")),
            ("test", customer(mode="dry_run")),
            ("invoke", {"parameters": {}}),
            ("test", {"parameters": {}}),
        ]
    ]
    await recorded()
    responses.append(await http.get(f"/api/v1/clients/{a.code}/invocations", headers=a.viewer))

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 422, 200, 200]
    assert len(upstream.received) == 2  # both live calls went out with the secrets...
    for seen in upstream.received:
        assert seen.header("Authorization") == f"Bearer {SENTINEL}"
        assert seen.header("X-Api-Key") == SENTINEL
        assert seen.header("X-Request-Token") == SENTINEL
    traced = responses[1].json()
    assert traced["response"]["body"]  # ...and came back in the echo, masked
    assert MASK in traced["response"]["body"]
    assert {"name": "Authorization", "value": MASK} in traced["request"]["headers"]
    assert {"name": "X-Api-Key", "value": MASK} in traced["request"]["headers"]
    assert {"name": "X-Request-Token", "value": MASK} in traced["request"]["headers"]
    assert responses[-1].json()["total"] == 4  # dry runs are not history
    for response in responses:
        assert SENTINEL not in response.text, response.request.url
        assert all(SENTINEL not in value for value in response.headers.values())
    records = every_log_record.records
    assert any(r.name == "callout.runtime" for r in records)
    for record in records:
        assert SENTINEL not in record.getMessage(), record.name
    assert SENTINEL not in every_log_record.text


async def test_dry_run_gives_the_request_as_a_curl_line_with_secrets_masked(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await sentinel_crm(http, a, upstream)

    response = await http.post(
        invoke_url(a, api_id, request_id, "test"), json=customer(mode="dry_run"), headers=a.editor
    )

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "success", response.text
    request = response.json()["request"]
    words = shlex.split(request["curl"])
    assert words[:2] == ["curl", request["url"]]
    assert f"Authorization: {MASK}" in words
    assert f"X-Request-Token: {MASK}" in words
    assert SENTINEL not in request["curl"]


async def test_outputs_mapped_from_an_echoed_secret_are_masked(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    """Outputs and alerts go on to agents' desktops: a stored secret an upstream sends back
    is masked there as in a trace, whatever path reads it."""
    a = tenants.a
    api_id, request_id = await sentinel_crm(http, a, upstream)
    outputs = [
        {"name": "echoed", "path": "$.headers.Authorization"},
        {"name": "key", "path": "$.headers['X-Api-Key']"},
        {"name": "path", "path": "$.raw_path"},
        {
            "name": "leak",
            "path": "$.headers['X-Request-Token']",
            "target": "alert",
            "message": "the upstream sent ${leak}",
        },
    ]
    edited = await http.put(
        f"{a.apis}/{api_id}/requests/{request_id}",
        json=request_body(
            headers=[{"name": "X-Request-Token", "value": MASK, "secret": True}], outputs=outputs
        ),
        headers=a.editor | {"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text

    invoked = await http.post(invoke_url(a, api_id, request_id), json=customer(), headers=a.editor)
    tested = await http.post(
        invoke_url(a, api_id, request_id, "test"), json=customer(), headers=a.editor
    )

    assert len(upstream.received) == 2
    assert upstream.received[0].header("X-Request-Token") == SENTINEL  # the mask kept it
    for response in (invoked, tested):
        assert response.status_code == 200, response.text
        assert response.json()["outputs"]["path"] == "/api/v1/customers/7"
        assert SENTINEL not in response.text
