"""The built UI as a browser first meets it: served at `/` and at its own routes, painted
within a second from loopback, under its security policy, and the sign-in screen takes the
key `callout init` printed."""

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.browser import first_contentful_paint, sign_in
from tests.e2e.conftest import Callout

# Collects what the page's security policy refused while it loaded, for the test to read.
POLICY_WATCH = """
window.refused = [];
document.addEventListener("securitypolicyviolation", (event) =>
  window.refused.push(`${event.violatedDirective} ${event.blockedURI}`));
"""


def test_the_app_loads_at_root_and_at_its_routes_within_a_second(
    page: Page, measured: Callable[[str], None]
) -> None:
    page.add_init_script(POLICY_WATCH)
    first = page.goto("/")
    assert first is not None
    assert first.ok
    html = first.text()
    painted = first_contentful_paint(page)
    measured(f"first contentful paint of / from loopback: {painted:.0f} ms (limit 1000 ms)")
    assert painted < 1000
    # The shell in index.html paints first; the app's own screen follows once its script ran.
    expect(page.get_by_label("API key")).to_be_visible()
    ready = page.evaluate("performance.now()")
    measured(f"sign-in screen ready from loopback: {ready:.0f} ms after the navigation started")
    assert page.evaluate("window.refused") == []

    route = page.goto("/apis/1")  # a client-side route, opened directly or reloaded
    assert route is not None
    assert route.ok
    assert route.text() == html
    assert page.evaluate("window.refused") == []


def test_signing_in_with_the_printed_key_leaves_the_sign_in_screen(
    page: Page, callout: Callout
) -> None:
    sign_in(page, callout.admin_key)
