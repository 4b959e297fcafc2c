"""The designer editor and the agent preview as an admin uses them, in Chromium against a real
`callout serve`: a designer made in the editor whose chained FUNCTION CALLs, fired live from
the preview, reach a loopback upstream and fill the desktop; a save refused at its field;
a stored designer shown open; and the demo designer fired in mock mode."""

import re
import time
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import error_of, screenshot, sign_in, unique
from tests.e2e.conftest import Callout
from tests.upstream import Upstream

PHONE = "+15550123"
CUSTOMER = {"id": "C-1001", "name": "Ann Lee & Co"}
BALANCE = {"balance": 1250.5, "overdue": True}
POP_URL = "https://crm.example.com/customers/${fields.customerId}?name=${fields.fullName}"


def crm_on(callout: Callout, upstream: Upstream) -> tuple[str, dict[str, int]]:
    """An API on the upstream with "Find customer" (phone -> customerId, fullName) and
    "Get balance" (customerId -> balance, and an alert when overdue): its name and the
    requests' ids by name."""
    name = unique("Loopback CRM")
    with callout.rest() as rest:
        made = rest.post("/apis", json={"name": name, "base_url": upstream.url})
        assert made.status_code == 201, made.text
        api_id = made.json()["id"]
        requests: list[dict[str, Any]] = [
            {
                "name": "Find customer",
                "endpoint_path": "customers",
                "query": [{"name": "phone", "value": "${phone}"}],
                "parameters": [{"name": "phone", "required": True}],
                "outputs": [
                    {"name": "customerId", "path": "$.id"},
                    {"name": "fullName", "path": "$.name"},
                ],
            },
            {
                "name": "Get balance",
                "endpoint_path": "customers/${customerId}/balance",
                "parameters": [{"name": "customerId", "required": True}],
                "outputs": [
                    {"name": "balance", "path": "$.balance", "type": "number"},
                    {
                        "name": "overdue",
                        "path": "$.overdue",
                        "type": "boolean",
                        "target": "alert",
                        "message": "Overdue: balance ${balance}",
                    },
                ],
            },
        ]
        ids = {"api": api_id}
        for request in requests:
            added = rest.post(f"/apis/{api_id}/requests", json=request)
            assert added.status_code == 201, added.text
            ids[request["name"]] = added.json()["id"]
    return name, ids


def chained_designer(name: str, ids: dict[str, int]) -> dict[str, Any]:
    """The designer the first test makes in the editor, as a REST write body."""

    def call(request: str, parameter: str, path: str) -> dict[str, Any]:
        mapped = [{"name": parameter, "path": path}]
        return {
            "kind": "function_call",
            "api_id": ids["api"],
            "request_id": ids[request],
            "parameters": mapped,
        }

    return {
        "name": name,
        "pages": [
            {"name": "Home"},
            {
                "name": "Account",
                "components": [
                    {"name": "Balance", "kind": "label", "fields": ["fullName", "balance"]}
                ],
            },
        ],
        "events": [
            {
                "type": "system",
                "name": "In Call",
                "page": "Home",
                "conditions": [
                    {
                        "expression": "not ${call.phone} is empty",
                        "actions": [
                            call("Find customer", "phone", "call.phone"),
                            call("Get balance", "customerId", "responses.Find customer.customerId"),
                            {"kind": "pop_url", "url": POP_URL},
                            {"kind": "page_transition", "page": "Account"},
                        ],
                    }
                ],
            }
        ],
    }


def open_designers(page: Page, callout: Callout) -> None:
    sign_in(page, callout.admin_key)
    page.get_by_label("View", exact=True).get_by_text("Designers", exact=True).click()
    expect(page.get_by_role("button", name="Add designer")).to_be_visible()


def pick(page: Page, select: Locator, option: str) -> None:
    """Choose an option of a Mantine select: its list opens in a portal of the page."""
    select.click()
    page.get_by_role("option", name=option, exact=True).click()


def pick_request(page: Page, action: Locator, api: str, request: str) -> None:
    """A FUNCTION CALL's API, found by typing part of its name, then one of its requests."""
    select = action.get_by_role("combobox", name="API", exact=True)
    select.fill(api[:-2])  # searchable: typing filters the list
    page.get_by_role("option", name=api, exact=True).click()
    expect(select).to_have_value(api)
    pick(page, action.get_by_role("combobox", name="Request", exact=True), f"GET {request}")


def map_path(action: Locator, parameter: str, path: str) -> None:
    action.get_by_label(f"{parameter} from", exact=True).get_by_text("Context path").click()
    action.get_by_label(f"{parameter} path", exact=True).fill(path)


def quiet(page: Page) -> None:
    """Wait until every notification has gone, so a screenshot shows what is under them."""
    expect(page.locator(".mantine-Notification-root")).to_have_count(0, timeout=10_000)


def test_a_designer_made_in_the_editor_fires_its_chained_calls_from_the_agent_preview(
    page: Page, callout: Callout, upstream: Upstream
) -> None:
    upstream.answer(200, CUSTOMER)
    upstream.answer(200, BALANCE)
    api, _ = crm_on(callout, upstream)
    name = unique("Desk")
    open_designers(page, callout)

    page.get_by_label("New designer name", exact=True).fill(name)
    page.get_by_role("button", name="Add designer").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()

    page.get_by_role("button", name="Add page").click()
    page.get_by_label("Page 1 name", exact=True).fill("Home")
    page.get_by_role("button", name="Add page").click()
    page.get_by_label("Page 2 name", exact=True).fill("Account")
    page.get_by_role("group", name="Page 2", exact=True).get_by_role(
        "button", name="Add component"
    ).click()
    page.get_by_label("Page 2 component 1 name", exact=True).fill("Balance")
    fields = page.get_by_role("combobox", name="Page 2 component 1 fields")
    for field in ("fullName", "balance"):
        fields.fill(field)
        fields.press("Enter")

    page.get_by_role("button", name="Add event").click()
    # A new event opens, as the first system event the designer lacks; In Call is picked.
    pick(page, page.get_by_role("combobox", name="Login name"), "In Call")
    expect(page.get_by_role("combobox", name="In Call name")).to_have_value("In Call")
    page.get_by_role("button", name="Add condition").click()

    expression = page.get_by_label("In Call condition 1 expression", exact=True)
    expression.fill("${cal.phone} is empty")  # a root the context lacks: the server says so
    # The server's words, and where it stopped reading.
    expect(error_of(expression)).to_have_text(
        re.compile(r"must start with one of .+ \(line 1, column 1\)$")
    )
    expression.fill("not ${call.phone} is empty")
    condition = page.get_by_role("group", name="In Call condition 1", exact=True)
    expect(condition.get_by_text("Valid", exact=True)).to_be_visible()
    expect(expression).not_to_have_attribute("aria-invalid", "true")

    def action(number: int) -> Locator:
        return page.get_by_role("group", name=f"In Call condition 1 action {number}", exact=True)

    add_action = condition.get_by_role("button", name="Add action")
    add_action.click()  # a FUNCTION CALL to start with
    pick_request(page, action(1), api, "Find customer")
    map_path(action(1), "phone", "call.phone")
    add_action.click()
    pick_request(page, action(2), api, "Get balance")
    # The first call's outputs are offered to the second's parameters: pick one, type nothing.
    action(2).get_by_label("customerId from", exact=True).get_by_text("Context path").click()
    action(2).get_by_label("customerId path", exact=True).click()
    page.get_by_role("option", name="responses.Find customer.customerId", exact=True).click()
    expect(action(2).get_by_label("customerId path", exact=True)).to_have_value(
        "responses.Find customer.customerId"
    )
    add_action.click()
    pick(page, page.get_by_role("combobox", name="In Call condition 1 action 3 kind"), "POP URL")
    page.get_by_label("In Call condition 1 action 3 URL", exact=True).fill(POP_URL)
    add_action.click()
    pick(
        page,
        page.get_by_role("combobox", name="In Call condition 1 action 4 kind"),
        "PAGE TRANSITION",
    )
    pick(page, page.get_by_role("combobox", name="In Call condition 1 action 4 page"), "Account")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Designer “{name}” saved")).to_be_visible()
    expect(page.get_by_text("unsaved")).to_have_count(0)

    page.get_by_label("View", exact=True).get_by_text("Agent preview", exact=True).click()
    pick(page, page.get_by_role("combobox", name="Designer"), name)
    page.get_by_label("Mode", exact=True).get_by_text("Live", exact=True).click()
    page.get_by_role("button", name="Add call").click()
    page.get_by_label("call 4 name", exact=True).fill("phone")
    page.get_by_label("call 4 value", exact=True).fill(PHONE)
    page.get_by_role("group", name="Events").get_by_role("button", name="In Call").click()

    trace = page.get_by_role("table", name="Actions trace")
    expect(trace.locator("tbody tr")).to_have_count(4)
    for row in (0, 1):
        expect(trace.locator("tbody tr").nth(row)).to_contain_text("FUNCTION CALL")
        expect(trace.locator("tbody tr").nth(row)).to_contain_text("success")
    data = page.get_by_role("table", name="Data fields")
    expect(data.get_by_role("row", name="balance 1250.5")).to_be_visible()
    expect(data.get_by_role("row", name="customerId C-1001")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Overdue: balance 1250.5")).to_be_visible()
    shown = page.get_by_role("region", name="Page shown")
    expect(shown.get_by_role("heading", name="Account")).to_be_visible()
    expect(shown).to_contain_text("balance: 1250.5")
    popped = f"https://crm.example.com/customers/C-1001?name={quote(CUSTOMER['name'], safe='')}"
    expect(page.get_by_role("link", name=popped)).to_have_attribute("href", popped)

    assert [seen.raw_path for seen in upstream.received] == [
        f"/customers?phone={quote(PHONE, safe='')}",
        "/customers/C-1001/balance",
    ]

    page.set_viewport_size({"width": 1440, "height": 1100})
    quiet(page)
    screenshot(page, "agent-preview")


def test_a_save_refused_shows_the_error_at_its_field_and_stores_nothing(
    page: Page, callout: Callout, upstream: Upstream
) -> None:
    api, _ = crm_on(callout, upstream)
    name = unique("Refused")
    with callout.rest() as rest:
        made = rest.post("/designers", json={"name": name, "pages": [{"name": "Home"}]})
        assert made.status_code == 201, made.text
        stored = made.json()
    open_designers(page, callout)
    page.get_by_role("navigation", name="Designers").get_by_text(name, exact=True).click()

    page.get_by_role("button", name="Add event").click()
    page.get_by_role("button", name="Add condition").click()
    page.get_by_role("button", name="Add action").click()
    action = page.get_by_role("group", name="Login condition 1 action 1", exact=True)
    pick_request(page, action, api, "Find customer")
    map_path(action, "phone", "cal.phone")  # no context root is called "cal"
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Refused", exact=True)).to_be_visible()
    path = action.get_by_label("phone path", exact=True)
    expect(error_of(path)).to_contain_text("must start with one of")
    expect(page.get_by_label("Event Login", exact=True)).to_contain_text("errors")
    expect(page.get_by_text("unsaved")).to_be_visible()  # the edits are kept, to be fixed
    with callout.rest() as rest:
        now = rest.get(f"/designers/{stored['id']}").json()
    assert (now["version"], now["events"]) == (stored["version"], [])


def test_the_editor_shows_a_stored_designer_with_its_event_condition_and_actions(
    page: Page, callout: Callout, upstream: Upstream
) -> None:
    api, ids = crm_on(callout, upstream)
    name = unique("Collections desk")
    with callout.rest() as rest:
        made = rest.post("/designers", json=chained_designer(name, ids))
        assert made.status_code == 201, made.text
    open_designers(page, callout)
    page.get_by_role("navigation", name="Designers").get_by_text(name, exact=True).click()
    page.get_by_label("Event In Call", exact=True).click()

    expect(page.get_by_label("In Call condition 1 expression", exact=True)).to_have_value(
        "not ${call.phone} is empty"
    )
    first = page.get_by_role("group", name="In Call condition 1 action 1", exact=True)
    expect(first.get_by_role("combobox", name="API", exact=True)).to_have_value(api)
    expect(first.get_by_role("combobox", name="Request", exact=True)).to_have_value(
        "GET Find customer"
    )
    expect(first.get_by_label("phone path", exact=True)).to_have_value("call.phone")
    second = page.get_by_role("group", name="In Call condition 1 action 2", exact=True)
    expect(second.get_by_label("customerId path", exact=True)).to_have_value(
        "responses.Find customer.customerId"
    )
    expect(page.get_by_label("In Call condition 1 action 3 URL", exact=True)).to_have_value(POP_URL)
    expect(page.get_by_role("combobox", name="In Call condition 1 action 4 page")).to_have_value(
        "Account"
    )

    page.set_viewport_size({"width": 1440, "height": 2000})
    page.evaluate("window.scrollTo(0, 0)")
    quiet(page)
    screenshot(page, "designer-editor")


def test_the_demo_designer_fires_login_in_mock_mode_without_calling_out(
    page: Page, callout: Callout, upstream: Upstream
) -> None:
    upstream.answer(200, CUSTOMER)
    _, ids = crm_on(callout, upstream)
    with callout.rest() as rest:
        before = rest.get("/invocations").json()["total"]
    sign_in(page, callout.admin_key)
    page.get_by_label("View", exact=True).get_by_text("Agent preview", exact=True).click()
    pick(page, page.get_by_role("combobox", name="Designer"), "Agent desktop")
    page.get_by_label("Mode", exact=True).get_by_text("Mock", exact=True).click()
    page.get_by_role("group", name="Events").get_by_role("button", name="Login").click()

    trace = page.get_by_role("table", name="Actions trace")
    expect(trace.locator("tbody tr")).to_have_count(1)
    expect(trace.locator("tbody tr").first).to_contain_text("FUNCTION CALL")
    expect(trace.locator("tbody tr").first).to_contain_text("success")
    data = page.get_by_role("table", name="Data fields")
    expect(data.get_by_role("row", name="agentName Dana Agent")).to_be_visible()
    expect(data.get_by_role("row", name="team Collections")).to_be_visible()

    # The demo CRM's host does not exist, so the sample answered. A call that went out would
    # be in the invocation history (a mock is not), written before any call made after it:
    # once a live invoke made now is listed, it is the only call since the fire.
    with callout.rest() as rest:
        invoked = rest.post(
            f"/apis/{ids['api']}/requests/{ids['Find customer']}/invoke",
            json={"parameters": {"phone": PHONE}},
        )
        assert invoked.status_code == 200, invoked.text
        deadline = time.monotonic() + 5
        while (listed := rest.get("/invocations").json())["total"] == before:
            assert time.monotonic() < deadline, "the live invoke never reached the history"
            time.sleep(0.1)
    assert listed["total"] == before + 1
    assert listed["items"][0]["request_id"] == ids["Find customer"]
