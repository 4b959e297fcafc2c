"""The browser tests' peers, started once for tests/e2e: a real `callout serve` of the built
UI on a fresh installation, a loopback upstream its APIs can call, and Chromium.

Each test gets a fresh browser context (its own cookies and session storage), so a sign-in
never leaks from one test into the next. Without a built UI (web/dist/index.html, made by
`make web`) the tests are skipped, except in CI, where that fails the run.
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from callout.settings import BUILT_UI
from tests.cli import init, serving
from tests.e2e.browser import CHROMIUM, FLAGS
from tests.loopback import in_thread
from tests.upstream import Upstream

MEASURED = pytest.StashKey[list[str]]()


@dataclass(frozen=True)
class Callout:
    """The server the browser talks to: its root URL and the admin key `callout init` printed."""

    root: str
    admin_key: str

    def rest(self) -> httpx.Client:
        """The demo client's REST API with the admin key, for set-up and for checking what
        the UI stored when the UI is not what is under test."""
        return httpx.Client(
            base_url=f"{self.root}/api/v1/clients/demo",
            headers={"Authorization": f"Bearer {self.admin_key}"},
        )


@pytest.fixture(scope="package")
def built_ui() -> Path:
    if not (BUILT_UI / "index.html").is_file():
        reason = f"the web UI is not built (no {BUILT_UI / 'index.html'}): run `make web`"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return BUILT_UI


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """An HTTP server on loopback for the APIs made in the browser to call (tests/upstream.py);
    it serves from its own thread, as the browser's API runs no event loop. Each test has its
    own, so the answers one queues and the requests it receives never reach another."""
    with in_thread(Upstream()) as server:
        yield server


@pytest.fixture(scope="package")
def callout(built_ui: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callout]:
    """`callout init`, then `callout serve` of the built UI; outbound calls may reach loopback
    (CALLOUT_OUTBOUND_ALLOW, as tests/cli.py sets it) so the upstream is callable."""
    installation = init(tmp_path_factory.mktemp("e2e"))
    log = installation.data_dir.parent / "serve.log"
    with serving(installation.data_dir, log, CALLOUT_UI_DIR=str(built_ui)) as root:
        yield Callout(root, installation.admin_key)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"no {CHROMIUM}: install Debian's chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, callout: Callout) -> Iterator[Page]:
    """A page in a fresh context whose relative URLs are the server's (`page.goto("/")`)."""
    context = browser.new_context(base_url=callout.root, viewport={"width": 1440, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def measured(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Records a line for the run's summary: figures the issue asks to see printed."""
    return request.config.stash.setdefault(MEASURED, []).append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(MEASURED, [])
    if lines:
        terminalreporter.section("measured in the browser")
        for line in lines:
            terminalreporter.write_line(line)
