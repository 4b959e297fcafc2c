"""Firing a designer's events through the REST API, with FUNCTION CALLs reaching a real
upstream: every event type, chained responses, conditions, Stop, failures that stop or go
on, deadlines, POP URLs and mock mode."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.designers.schemas import SYSTEM_EVENTS
from callout.settings import Settings
from callout.web.app import create_app
from tests.conftest import QueryCounter, Recorded, Tenant, Tenants, checked_client
from tests.contract import Contract
from tests.factories import make_api, make_request
from tests.upstream import Upstream

PAGES = [
    {"name": "Main", "components": [{"name": "Save", "kind": "button"}]},
    {
        "name": "Account",
        "components": [{"name": "Balance", "kind": "label", "fields": ["balance"]}],
    },
]


class Crm:
    """An API on the upstream with three requests: Lookup (by phone) gives an account id,
    Balance (by that id, in its path) and Note (a POST)."""

    def __init__(self, api: int, lookup: int, balance: int, note: int) -> None:
        self.api, self.lookup, self.balance, self.note = api, lookup, balance, note

    def call(self, request: int, on_error: str = "stop", **parameters: Any) -> dict[str, Any]:
        """A FUNCTION CALL; a parameter given as `path:x.y` is mapped from the context."""
        mapped = [
            {"name": name, "path": value[5:]}
            if isinstance(value, str) and value.startswith("path:")
            else {"name": name, "value": value}
            for name, value in parameters.items()
        ]
        return {
            "kind": "function_call",
            "api_id": self.api,
            "request_id": request,
            "parameters": mapped,
            "on_error": on_error,
        }


async def crm(
    http: httpx.AsyncClient, tenant: Tenant, upstream: Upstream, timeout: float = 5
) -> Crm:
    api = await make_api(http, tenant, base_url=f"{upstream.url}/crm")
    lookup = await make_request(
        http,
        tenant,
        api["id"],
        name="Lookup",
        url_path="",
        endpoint_path="customers",
        query=[{"name": "phone", "value": "${phone}"}],
        parameters=[{"name": "phone", "required": True}],
        outputs=[
            {"name": "accountId", "path": "$.id", "type": "number", "field": "accountId"},
            {"name": "name", "path": "$.name", "field": "customerName"},
        ],
        timeout=timeout,
        samples=[{"name": "Ann", "status": 200, "body": '{"id": 7, "name": "Ann"}'}],
    )
    balance = await make_request(
        http,
        tenant,
        api["id"],
        name="Balance",
        url_path="",
        endpoint_path="accounts/${accountId}",
        parameters=[{"name": "accountId", "type": "number", "required": True}],
        outputs=[
            {"name": "balance", "path": "$.balance", "type": "number"},
            {
                "name": "overdue",
                "path": "$.overdue",
                "type": "boolean",
                "target": "alert",
                "message": "Account ${accountId} is overdue",
            },
        ],
        timeout=timeout,
    )
    note = await make_request(
        http,
        tenant,
        api["id"],
        name="Note",
        url_path="",
        method="POST",
        endpoint_path="notes",
        content_type="json",
        body='{"disposition": "${disposition}"}',
        parameters=[{"name": "disposition", "required": True}],
        outputs=[],
        timeout=timeout,
    )
    return Crm(api["id"], lookup["id"], balance["id"], note["id"])


def event(name: str, *conditions: dict[str, Any], kind: str = "system") -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": kind,
        "name": name,
        "page": "Main",
        "conditions": list(conditions),
    }
    if kind == "user":
        found["component"] = "Save"
    return found


def lookup_then_main_page(name: str, api: Crm) -> dict[str, Any]:
    """An event whose Lookup goes on when it fails, then a page transition."""
    return event(
        name,
        when("", api.call(api.lookup, on_error="continue", phone="1")),
        when("", {"kind": "page_transition", "page": "Main"}),
    )


def when(expression: str, *actions: dict[str, Any], stop: bool = False) -> dict[str, Any]:
    return {"expression": expression, "stop": stop, "actions": list(actions)}


async def designer(http: httpx.AsyncClient, tenant: Tenant, *events: dict[str, Any]) -> str:
    """A designer with these events; the URL its events are fired under."""
    body = {"name": "Agent desk", "pages": PAGES, "events": list(events)}
    made = await http.post(
        f"/api/v1/clients/{tenant.code}/designers", json=body, headers=tenant.editor
    )
    assert made.status_code == 201, made.text
    return f"/api/v1/clients/{tenant.code}/designers/{made.json()['id']}/events"


async def fire(
    http: httpx.AsyncClient,
    tenant: Tenant,
    events: str,
    name: str,
    status: int = 200,
    **context: Any,
) -> dict[str, Any]:
    answer = await http.post(
        f"{events}/{name}/fire", json={"context": context}, headers=tenant.editor
    )
    assert answer.status_code == status, answer.text
    found: dict[str, Any] = answer.json()
    return found


@asynccontextmanager
async def app_with(
    settings: Settings, database: Database, keys: KeySource, contract: Contract, **changes: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose settings differ from the test's by `changes`."""
    app = create_app(settings.model_copy(update=changes), database=database, keys=keys)
    async with app.router.lifespan_context(app), await checked_client(app, contract) as http:
        yield http


def effects(result: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in result["effects"] if e["kind"] == kind]


# Every event type


async def test_every_system_event_and_a_user_event_fire_their_calls(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    api = await crm(http, tenants.a, upstream)
    upstream.answer(200, {"id": 7, "name": "Ann"})
    names = [*SYSTEM_EVENTS, "Save clicked"]
    events = await designer(
        http,
        tenants.a,
        *(event(n, when("", api.call(api.lookup, phone="path:call.ani"))) for n in SYSTEM_EVENTS),
        event("Save clicked", when("", api.call(api.lookup, phone="path:call.ani")), kind="user"),
    )
    for number, name in enumerate(names, start=1):
        result = await fire(http, tenants.a, events, name, call={"ani": f"+4420{number}"})
        assert result["event"] == name
        assert result["outcome"] == "completed"
        assert result["fields"] == {"accountId": 7, "customerName": "Ann"}
        assert upstream.received[-1].raw_path == f"/crm/customers?phone=%2B4420{number}"
    assert len(upstream.received) == len(names)


async def test_event_names_are_matched_like_names(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    events = await designer(
        http, tenants.a, event("Wrap-Up", when("", {"kind": "page_transition", "page": "Account"}))
    )
    result = await fire(http, tenants.a, events, "WRAP-UP")
    assert result["effects"] == [{"kind": "show_page", "page": "Account"}]


async def test_an_unknown_event_is_not_found_and_the_answer_names_the_events(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    events = await designer(http, tenants.a, event("Login"), event("In Call"))
    problem = await fire(http, tenants.a, events, "Lunch", status=404)
    assert "Login, In Call" in problem["detail"]


# Chained responses


async def test_one_calls_output_feeds_the_next_calls_path_and_the_url_popped(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    api = await crm(http, tenants.a, upstream)
    upstream.answer(200, {"id": 42, "name": "Ann"})
    upstream.answer(200, {"balance": 120.5, "overdue": True})
    events = await designer(
        http,
        tenants.a,
        event(
            "In Call",
            when(
                "",
                api.call(api.lookup, phone="path:call.ani"),
                api.call(api.balance, accountId="path:responses.Lookup.accountId"),
                {
                    "kind": "pop_url",
                    "url": "https://crm.example/accounts/${fields.accountId}?who=${fields.customerName}",
                },
                {"kind": "component_load", "page": "Account", "component": "Balance"},
            ),
        ),
    )
    result = await fire(http, tenants.a, events, "In Call", call={"ani": "+442079460000"})
    assert [seen.raw_path for seen in upstream.received] == [
        "/crm/customers?phone=%2B442079460000",
        "/crm/accounts/42",
    ]
    assert result["responses"] == {
        "Lookup": {"accountId": 42, "name": "Ann"},
        "Balance": {"balance": 120.5},
    }
    assert result["effects"] == [
        {"kind": "set_field", "field": "accountId", "value": 42},
        {"kind": "set_field", "field": "customerName", "value": "Ann"},
        {"kind": "set_field", "field": "balance", "value": 120.5},
        {"kind": "alert", "message": "Account 42 is overdue"},
        {"kind": "pop_url", "url": "https://crm.example/accounts/42?who=Ann"},
        {"kind": "load_component", "page": "Account", "component": "Balance"},
    ]
    assert [a["outcome"] for a in result["actions"]] == ["success"] * 4


async def test_a_later_condition_sees_an_earlier_calls_output(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    api = await crm(http, tenants.a, upstream)
    upstream.answer(200, {"id": 42, "name": "Ann"})
    events = await designer(
        http,
        tenants.a,
        event(
            "In Call",
            when("", api.call(api.lookup, phone="path:call.ani")),
            when(
                "${responses.Lookup.accountId} > 40", {"kind": "page_transition", "page": "Account"}
            ),
            when("${fields.customerName} == 'Bob'", {"kind": "page_transition", "page": "Main"}),
        ),
    )
    result = await fire(http, tenants.a, events, "In Call", call={"ani": "1"})
    assert [c["state"] for c in result["conditions"]] == ["held", "held", "not_held"]
    assert effects(result, "show_page") == [{"kind": "show_page", "page": "Account"}]


async def test_values_in_a_popped_url_are_encoded_whole(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    url = "https://crm.example/search/${account.name}?q=${account.name}#${account.name}"
    events = await designer(
        http, tenants.a, event("Login", when("", {"kind": "pop_url", "url": url}))
    )
    result = await fire(http, tenants.a, events, "Login", account={"name": "../a?b=c&d#e f"})
    encoded = "..%2Fa%3Fb%3Dc%26d%23e%20f"
    assert effects(result, "pop_url") == [
        {"kind": "pop_url", "url": f"https://crm.example/search/{encoded}?q={encoded}#{encoded}"}
    ]


async def test_a_popped_url_to_a_refused_address_fails_that_action(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    events = await designer(
        http,
        tenants.a,
        event(
            "Login",
            when(
                "",
                {
                    "kind": "pop_url",
                    "url": "http://169.254.169.254/latest/${call.id}",
                    "on_error": "continue",
                },
            ),
        ),
    )
    result = await fire(http, tenants.a, events, "Login", call={"id": "x"})
    assert result["effects"] == []
    (action,) = result["actions"]
    assert (action["outcome"], action["reason"]) == ("failure", "blocked_address")
    assert "link-local" in action["message"]


# Conditions and Stop


@pytest.mark.parametrize(("queue", "calls"), [("vip", 1), ("basic", 0), (None, 0)])
async def test_a_call_runs_only_when_its_condition_holds(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream, queue: str | None, calls: int
) -> None:
    api = await crm(http, tenants.a, upstream)
    upstream.answer(200, {"id": 1, "name": "Ann"})
    events = await designer(
        http,
        tenants.a,
        event("In Call", when("${call.queue} == 'vip'", api.call(api.lookup, phone="1"))),
    )
    call = {} if queue is None else {"queue": queue}
    result = await fire(http, tenants.a, events, "In Call", call=call)
    assert len(upstream.received) == calls
    assert result["conditions"] == [{"position": 0, "state": "held" if calls else "not_held"}]
    assert len(result["actions"]) == calls


async def test_a_condition_with_stop_set_is_skipped(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    api = await crm(http, tenants.a, upstream)
    events = await designer(
        http,
        tenants.a,
        event(
            "Ready",
            when("", api.call(api.lookup, phone="1"), stop=True),
            when("", {"kind": "page_transition", "page": "Main"}),
        ),
    )
    result = await fire(http, tenants.a, events, "Ready")
    assert upstream.received == []
    assert [c["state"] for c in result["conditions"]] == ["stopped", "held"]
    assert result["effects"] == [{"kind": "show_page", "page": "Main"}]


# Failures


@pytest.mark.parametrize(
    ("on_error", "outcome", "shown"),
    [
        ("stop", "stopped", []),
        ("continue", "completed", [{"kind": "show_page", "page": "Account"}]),
    ],
)
async def test_a_failed_call_stops_the_event_only_when_its_action_says_stop(
    http: httpx.AsyncClient,
    tenants: Tenants,
    upstream: Upstream,
    on_error: str,
    outcome: str,
    shown: list[dict[str, Any]],
) -> None:
    api = await crm(http, tenants.a, upstream)
    upstream.answer(503, {"error": "down"})
    events = await designer(
        http,
        tenants.a,
        event(
            "Disposition",
            when("", api.call(api.note, on_error=on_error, disposition="path:call.disposition")),
            when("", {"kind": "page_transition", "page": "Account"}),
        ),
    )
    result = await fire(http, tenants.a, events, "Disposition", call={"disposition": "Sale"})
    assert result["outcome"] == outcome
    first = result["actions"][0]
    assert (first["outcome"], first["reason"]) == ("failure", "status")
    assert first["invocation_id"]
    assert effects(result, "show_page") == shown
    assert result["conditions"][1]["state"] == ("not_reached" if on_error == "stop" else "held")


async def test_a_call_missing_a_required_parameter_fails_with_the_reason(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    api = await crm(http, tenants.a, upstream)
    events = await designer(
        http,
        tenants.a,
        event("Login", when("", api.call(api.lookup, phone="path:loginData.phone"))),
    )
    result = await fire(http, tenants.a, events, "Login", loginData={})
    (action,) = result["actions"]
    assert (action["outcome"], action["reason"]) == ("failure", "invalid_parameters")
    assert result["outcome"] == "stopped"
    assert upstream.received == []


async def test_a_call_past_its_own_deadline_is_a_timeout_and_the_event_goes_on(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    api = await crm(http, tenants.a, upstream, timeout=0.2)
    upstream.answer(200, {"id": 1, "name": "Ann"}, delay=2)
    events = await designer(
        http,
        tenants.a,
        lookup_then_main_page("Not Ready", api),
    )
    result = await fire(http, tenants.a, events, "Not Ready")
    first = result["actions"][0]
    assert (first["outcome"], first["reason"]) == ("timeout", "timeout")
    assert first["duration_ms"] < 1500
    assert result["effects"] == [{"kind": "show_page", "page": "Main"}]


async def test_the_fire_deadline_ends_the_event_and_says_where(
    settings: Settings,
    bound_database: Database,
    keys: KeySource,
    contract: Contract,
    tenants: Tenants,
    upstream: Upstream,
) -> None:
    async with app_with(settings, bound_database, keys, contract, fire_deadline=0.3) as http:
        api = await crm(http, tenants.a, upstream)
        upstream.answer(200, {"id": 1, "name": "Ann"}, delay=2)
        events = await designer(
            http,
            tenants.a,
            lookup_then_main_page("Log off", api),
        )
        result = await fire(http, tenants.a, events, "Log off")
    assert result["outcome"] == "deadline"
    assert result["duration_ms"] < 1500
    (action,) = result["actions"]
    assert (action["outcome"], action["reason"]) == ("timeout", "deadline")
    assert [c["state"] for c in result["conditions"]] == ["held", "not_reached"]


# Modes, history, roles


async def test_mock_mode_answers_from_the_requests_sample_without_calling_out(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    api = await crm(http, tenants.a, upstream)
    events = await designer(
        http, tenants.a, event("Login", when("", api.call(api.lookup, phone="1")))
    )
    answer = await http.post(
        f"{events}/Login/fire", json={"mode": "mock"}, headers=tenants.a.editor
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["fields"] == {"accountId": 7, "customerName": "Ann"}
    assert upstream.received == []


async def test_a_fires_calls_are_in_the_invocation_history(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream, recorded: Recorded
) -> None:
    api = await crm(http, tenants.a, upstream)
    upstream.answer(200, {"id": 1, "name": "Ann"})
    events = await designer(
        http, tenants.a, event("Login", when("", api.call(api.lookup, phone="1")))
    )
    result = await fire(http, tenants.a, events, "Login")
    await recorded()
    history = await http.get(
        f"/api/v1/clients/{tenants.a.code}/invocations", headers=tenants.a.viewer
    )
    (row,) = history.json()["items"]
    assert row["invocation_id"] == result["actions"][0]["invocation_id"]
    assert (row["request_name"], row["outcome"]) == ("Lookup", "success")


async def test_a_viewer_may_not_fire(http: httpx.AsyncClient, tenants: Tenants) -> None:
    events = await designer(http, tenants.a, event("Login"))
    answer = await http.post(f"{events}/Login/fire", json={}, headers=tenants.a.viewer)
    assert answer.status_code == 403


async def test_another_clients_designer_cannot_be_fired(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    events = await designer(http, tenants.a, event("Login"))
    theirs = events.replace(f"/clients/{tenants.a.code}/", f"/clients/{tenants.b.code}/")
    answer = await http.post(f"{theirs}/Login/fire", json={}, headers=tenants.b.editor)
    assert answer.status_code == 404


async def test_a_fired_designer_is_cached_and_an_edit_reaches_the_next_fire_at_once(
    settings: Settings,
    bound_database: Database,
    keys: KeySource,
    contract: Contract,
    tenants: Tenants,
    queries: QueryCounter,
) -> None:
    async with app_with(settings, bound_database, keys, contract, plan_ttl=60) as http:
        page = {"kind": "page_transition", "page": "Main"}
        events = await designer(http, tenants.a, event("Login", when("", page)))
        designer_url = events.removesuffix("/events")
        await fire(http, tenants.a, events, "Login")
        before = queries.count
        await fire(http, tenants.a, events, "Login")
        assert queries.count == before  # key, client and designer all cached

        read = await http.get(designer_url, headers=tenants.a.viewer)
        changed = read.json()
        changed["events"][0]["conditions"][0]["actions"][0]["page"] = "Account"
        tag = {"If-Match": read.headers["ETag"]}
        saved = await http.put(designer_url, json=changed, headers=tenants.a.editor | tag)
        assert saved.status_code == 200, saved.text
        result = await fire(http, tenants.a, events, "Login")
        assert result["effects"] == [{"kind": "show_page", "page": "Account"}]

        tag = {"If-Match": saved.headers["ETag"]}
        gone = await http.delete(designer_url, headers=tenants.a.editor | tag)
        assert gone.status_code == 204
        await fire(http, tenants.a, events, "Login", status=404)
