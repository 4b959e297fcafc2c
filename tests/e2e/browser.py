"""Driving the web UI in Debian's Chromium, as a person does: helpers for the browser tests.

Playwright's Python package drives the system's /usr/bin/chromium through the driver it
bundles; no browser is downloaded (`playwright install` is never run). The flags keep a
headless Chromium off the network it would otherwise reach for (updates, sync, QUIC probes).
"""

from pathlib import Path
from uuid import uuid4

from playwright.sync_api import Locator, Page, expect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def unique(name: str) -> str:
    """A name no other test uses: the browser tests share one installation."""
    return f"{name} {uuid4().hex[:6]}"


def sign_in(page: Page, key: str) -> None:
    """Sign in through the sign-in screen with an API key, and wait until it is gone."""
    page.goto("/")
    field = page.get_by_label("API key")
    field.fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(field).to_be_hidden()


def error_of(field: Locator) -> Locator:
    """The message shown under a form field marked invalid, found as a screen reader finds
    it: through the field's aria-describedby."""
    expect(field).to_have_attribute("aria-invalid", "true")
    described = (field.get_attribute("aria-describedby") or "").split()
    errors = [i for i in described if "error" in i]
    assert errors, f"no error message is linked to the field ({described})"
    return field.page.locator(f"[id='{errors[-1]}']")


def screenshot(page: Page, name: str) -> Path:
    """Save what the page shows as docs/screenshots/NAME.png, for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path)
    return path


def first_contentful_paint(page: Page) -> float:
    """Milliseconds from the navigation's start to the page's first text or image."""
    page.wait_for_function(
        "() => performance.getEntriesByName('first-contentful-paint').length > 0"
    )
    painted: float = page.evaluate(
        "() => performance.getEntriesByName('first-contentful-paint')[0].startTime"
    )
    return painted
