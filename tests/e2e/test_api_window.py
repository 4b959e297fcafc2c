"""The API window as an admin uses it, in Chromium against a real `callout serve`: making an
API and a request and sending it, copying with a rename, the six-tab limit, a stale save, a
system API, and the server's refusals shown where they belong."""

import re
from uuid import uuid4

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.browser import error_of, screenshot, sign_in, unique
from tests.e2e.conftest import Callout
from tests.loopback import in_thread
from tests.oauth2_server import CLIENT_ID, CLIENT_SECRET, OAuth2Server
from tests.upstream import Upstream

TOKEN = "e2e-bearer-" + uuid4().hex
NAME = re.compile(r"^Name")  # the Name field, marked required ("Name *"), not "header 1 name"


def tab(page: Page) -> Locator:
    """The open tab's panel (the Send panel's result tabs sit inside it)."""
    return page.locator("[role=tabpanel]:visible").first


def open_from_list(page: Page, name: str) -> None:
    page.locator("nav").get_by_text(name, exact=True).click()
    expect(page.get_by_role("tab", name=name)).to_be_visible()


def test_an_api_with_bearer_and_a_header_and_its_request_are_made_and_sent_from_their_tabs(
    page: Page, callout: Callout, upstream: Upstream
) -> None:
    upstream.answer(200, {"name": "Ann Lee", "tier": "gold"})
    name = unique("Loopback CRM")
    sign_in(page, callout.admin_key)

    page.get_by_role("button", name="Add API").click()
    expect(page.get_by_text("API “New API")).to_be_visible()  # the success message
    api = tab(page)
    api.get_by_role("textbox", name=NAME).fill(name)
    api.get_by_label("Base URL").fill(upstream.url)
    api.get_by_role("button", name="Add header").click()
    api.get_by_label("header 1 name").fill("X-Tenant")
    api.get_by_label("header 1 value").fill("acme")
    api.get_by_label("Authorization").click()
    page.get_by_role("option", name="Bearer token").click()
    api.get_by_label("Token").fill(TOKEN)
    expect(page.get_by_role("tab", name="New API")).to_contain_text("•")  # unsaved mark
    page.keyboard.press("Control+s")
    expect(page.get_by_text(f"API “{name}” saved")).to_be_visible()
    expect(api.get_by_label("Token is set")).to_be_visible()  # set, never shown

    page.get_by_role("button", name="Add Request").click()
    expect(page.get_by_text(f"Request “New Request” added to “{name}”")).to_be_visible()
    expect(page.get_by_role("tab", name="New Request")).to_be_visible()
    request = tab(page)
    request.get_by_role("textbox", name=NAME).fill("Get customer")
    request.get_by_label("URL path").fill("/customers/${customerId}")
    request.get_by_role("button", name="Add request parameter").click()
    request.get_by_label("request parameter 1 name").fill("customerId")
    request.get_by_label("request parameter 1 type").click()
    page.get_by_role("option", name="number").click()
    request.get_by_label("request parameter 1 required").check()
    request.get_by_role("button", name="Add response parameter").click()
    request.get_by_label("response parameter 1 name").fill("customerName")
    request.get_by_label("response parameter 1 path").fill("$.name")
    request.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Request “Get customer” saved")).to_be_visible()
    full_url = f"{upstream.url}/customers/${{customerId}}"
    expect(request.get_by_label("Full URL")).to_have_text(full_url)

    request.get_by_label("customerId").fill("42")
    request.get_by_label("customerId").press("Control+Enter")
    expect(request.get_by_label("Outcome")).to_have_text("success")
    expect(request.get_by_label("Mapped outputs")).to_contain_text("customerName")
    expect(request.get_by_label("Mapped outputs")).to_contain_text("Ann Lee")
    sent = upstream.received[-1]
    assert sent.raw_path == "/customers/42"
    assert sent.header("Authorization") == f"Bearer {TOKEN}"
    assert sent.header("X-Tenant") == "acme"
    request.get_by_role("tab", name="Trace").click()
    expect(request.get_by_role("table", name="Trace steps").locator("tr").first).to_be_visible()
    request.get_by_role("tab", name="Outputs").click()
    page.set_viewport_size({"width": 1440, "height": 1700})  # the whole tab, Send panel too
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator(".mantine-Notification-root")).to_have_count(0, timeout=10_000)
    screenshot(page, "api-window")
    page.set_viewport_size({"width": 1440, "height": 900})

    request.get_by_role("button", name="Copy as cURL").click()
    curl = request.get_by_label("cURL")
    expect(curl).to_contain_text(f"curl {upstream.url}/customers/42 -H")
    expect(curl).to_contain_text("'X-Tenant: acme'")
    assert TOKEN not in page.content()  # the secret went out in the request, never to the page


def test_copy_asks_for_the_name_offered_and_opens_the_copy_under_the_name_given(
    page: Page, callout: Callout
) -> None:
    sign_in(page, callout.admin_key)
    open_from_list(page, "Customer CRM")
    page.get_by_role("button", name="Copy API").click()
    field = page.get_by_label("Name of the copy")
    expect(field).to_have_value("Copy of Customer CRM")
    name = unique("CRM for billing")
    field.fill(name)
    page.get_by_role("dialog").get_by_role("button", name="Copy").click()
    expect(page.get_by_role("tab", name=name)).to_be_visible()
    expect(page.get_by_text(f"Copied to “{name}”")).to_be_visible()
    client_apis = page.get_by_role("region", name="Client APIs")
    expect(client_apis.get_by_text(name, exact=True)).to_be_visible()
    with callout.rest() as api:
        copies = api.get("/apis", params={"search": name}).json()["items"]
    assert [c["name"] for c in copies] == [name]


def test_a_seventh_tab_is_refused_with_a_message_and_opens_nothing(
    page: Page, callout: Callout
) -> None:
    sign_in(page, callout.admin_key)
    system = page.get_by_role("region", name="System APIs")
    listed = system.locator(".mantine-NavLink-label")
    expect(listed.first).to_be_visible()
    six = [listed.nth(i).inner_text() for i in range(6)]
    for name in six:
        open_from_list(page, name)
    expect(page.get_by_text("6 of 6 tabs open")).to_be_visible()

    open_from_list_refused = page.get_by_role("region", name="Client APIs").get_by_text(
        "Customer CRM", exact=True
    )
    open_from_list_refused.click()
    expect(page.get_by_text("At most 6 tabs can be open").first).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(6)
    expect(page.get_by_role("tab", name="Customer CRM")).to_have_count(0)

    with callout.rest() as api:
        before = api.get("/apis", params={"kind": "client", "limit": 200}).json()["total"]
        page.get_by_role("button", name="Add API").click()  # would open a seventh: makes nothing
        expect(page.get_by_text("At most 6 tabs can be open").first).to_be_visible()
        assert api.get("/apis", params={"kind": "client", "limit": 200}).json()["total"] == before


def test_a_save_after_someone_elses_is_refused_and_offers_to_reload(
    page: Page, browser: Browser, callout: Callout
) -> None:
    name = unique("Shared API")
    with callout.rest() as api:
        made = api.post("/apis", json={"name": name, "base_url": "https://shared.example.com"})
        assert made.status_code == 201, made.text
        api_id = made.json()["id"]
    other = browser.new_context(base_url=callout.root, viewport={"width": 1440, "height": 900})
    try:
        second = other.new_page()
        for each in (page, second):
            sign_in(each, callout.admin_key)
            open_from_list(each, name)
        tab(page).get_by_label("Description").fill("first")
        tab(second).get_by_label("Description").fill("second")
        tab(page).get_by_role("button", name="Save").click()
        expect(page.get_by_text(f"API “{name}” saved")).to_be_visible()

        tab(second).get_by_role("button", name="Save").click()
        expect(second.get_by_text("Someone else saved this API first")).to_be_visible()
        with callout.rest() as api:
            assert api.get(f"/apis/{api_id}").json()["description"] == "first"
        tab(second).get_by_role("button", name="Reload").click()
        expect(tab(second).get_by_label("Description")).to_have_value("first")
    finally:
        other.close()


def test_a_system_api_is_read_only_and_can_be_copied(page: Page, callout: Callout) -> None:
    sign_in(page, callout.admin_key)
    open_from_list(page, "Frankfurter exchange rates")
    shown = tab(page)
    expect(shown.get_by_text("System API: read-only")).to_be_visible()
    expect(shown.get_by_role("textbox", name=NAME)).to_be_disabled()
    expect(shown.get_by_label("Base URL")).to_be_disabled()
    expect(shown.get_by_role("button", name="Save")).to_have_count(0)
    expect(shown.get_by_role("button", name="Delete")).to_have_count(0)
    expect(shown.get_by_role("button", name="Copy")).to_be_enabled()
    expect(page.get_by_role("button", name="Add Request")).to_be_disabled()


def test_the_servers_refusals_are_shown_at_their_fields_and_as_they_come(
    page: Page, callout: Callout
) -> None:
    sign_in(page, callout.admin_key)
    page.get_by_role("button", name="Add API").click()
    api = tab(page)
    expect(api.get_by_role("textbox", name=NAME)).to_have_value(re.compile(r"^New API"))
    api.get_by_label("Base URL").fill("ftp://files.example.com")
    api.get_by_role("button", name="Save").click()
    message = error_of(api.get_by_label("Base URL"))
    expect(message).to_be_visible()
    assert message.inner_text()  # the server's words for the rule the URL broke
    expect(api.get_by_text("Refused", exact=True)).to_be_visible()

    # A designer calls Customer CRM: its delete is refused, and the refusal shown as it came.
    open_from_list(page, "Customer CRM")
    crm = tab(page)
    crm.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(crm.get_by_text("Refused", exact=True)).to_be_visible()
    expect(crm).to_contain_text("Agent desktop")
    with callout.rest() as rest_api:
        listed = rest_api.get("/apis", params={"search": "Customer CRM"}).json()["items"]
    assert [a["name"] for a in listed] == ["Customer CRM"]


def test_closing_a_tab_with_unsaved_edits_asks_first(page: Page, callout: Callout) -> None:
    sign_in(page, callout.admin_key)
    open_from_list(page, "Customer CRM")
    tab(page).get_by_label("Description").fill("edited, not saved")
    crm = page.get_by_role("tab", name="Customer CRM")
    expect(crm).to_contain_text("•")
    page.get_by_role("button", name="Close tab").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("has edits that are not saved")
    dialog.get_by_role("button", name="Keep editing").click()
    expect(crm).to_be_visible()
    page.get_by_role("button", name="Close tab").click()
    page.get_by_role("dialog").get_by_role("button", name="Close and drop edits").click()
    expect(crm).to_have_count(0)


def test_connect_runs_the_authorization_code_flow_in_a_popup_and_says_it_connected(
    page: Page, callout: Callout
) -> None:
    name = unique("Provider")
    with in_thread(OAuth2Server()) as provider, callout.rest() as api:
        authorization = {
            "type": "oauth2",
            "grant": "authorization_code",
            "token_url": provider.token_url,
            "authorization_url": provider.authorize_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        made = api.post(
            "/apis",
            json={"name": name, "base_url": provider.api_url, "authorization": authorization},
        )
        assert made.status_code == 201, made.text
        sign_in(page, callout.admin_key)
        open_from_list(page, name)
        expect(tab(page).get_by_label("Refresh token")).to_have_attribute("placeholder", "not set")
        with page.expect_popup() as opened:
            tab(page).get_by_role("button", name="Connect").click()
        popup = opened.value
        # The provider approves at once and sends the browser back to Callout's callback.
        popup.wait_for_url(re.compile(r"/api/v1/oauth/callback"))
        expect(popup.locator("body")).to_contain_text("refresh_token_stored")
        popup.close()
        expect(page.get_by_text("Connected", exact=True)).to_be_visible()
        expect(tab(page).get_by_label("Refresh token is set")).to_be_visible()
        assert provider.grants["authorization_code"] == 1
