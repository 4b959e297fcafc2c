"""What `callout send` and `callout fire` print: values from an upstream or a designer are
printed as they are, never read as rich markup."""

from collections.abc import Callable

from rich.console import Console

from callout.apis.schemas import ApiRead
from callout.designers.effects import FireResult
from callout.runtime.executor import Outcome
from callout.runtime.trace import RequestView, ResponseView, Step
from callout.show import show_api, show_fire, show_outcome, show_requests

MARKUP = "[/x] [bold red]loud"


def printed(show: Callable[[Console], None]) -> str:
    console = Console(record=True, width=200, color_system=None)
    show(console)
    return console.export_text()


def test_a_fires_values_that_look_like_markup_are_printed_as_they_are() -> None:
    result = FireResult.model_validate(
        {
            "designer_id": 1,
            "event": f"Click {MARKUP}",
            "outcome": "stopped",
            "effects": [
                {"kind": "set_field", "field": "note", "value": MARKUP},
                {"kind": "alert", "message": MARKUP},
                {"kind": "pop_url", "url": "https://crm.example/[/x]"},
            ],
            "conditions": [{"position": 0, "state": "held"}],
            "actions": [
                {
                    "condition": 0,
                    "action": 0,
                    "kind": "function_call",
                    "outcome": "failure",
                    "reason": "upstream_error",
                    "message": MARKUP,
                    "duration_ms": 1.0,
                }
            ],
            "fields": {"note": MARKUP},
            "responses": {},
            "duration_ms": 1.0,
        }
    )

    text = printed(lambda console: show_fire(console, result))

    assert f"Click {MARKUP}: stopped" in text
    assert f'note = "{MARKUP}"' in text
    assert f"alert      {MARKUP}" in text
    assert "https://crm.example/[/x]" in text
    assert f"upstream_error: {MARKUP}" in text


def test_an_outcomes_values_that_look_like_markup_are_printed_as_they_are() -> None:
    outcome = Outcome(
        "failure",
        "0000000000000001",
        reason="unexpected_status",
        message=MARKUP,
        status=500,
        outputs={"[/name]": MARKUP},
        alerts=[MARKUP],
        warnings=[MARKUP],
        request=RequestView(method="GET", url="https://api.example/[/x]", headers=[], body=None),
        response=ResponseView(
            status=500,
            headers=[("Content-Type", "text/plain")],
            body=MARKUP,
            truncated=False,
        ),
    )

    text = printed(lambda console: show_outcome(console, outcome))

    assert f"(unexpected_status: {MARKUP})" in text
    assert "GET https://api.example/[/x]" in text
    assert f'[/name]  "{MARKUP}"' in text
    assert f"alert: {MARKUP}" in text
    assert f"warning: {MARKUP}" in text
    assert text.rstrip().endswith(MARKUP)


def test_a_verbose_outcomes_exchange_and_steps_are_printed_as_they_are() -> None:
    outcome = Outcome(
        "success",
        "0000000000000001",
        status=200,
        request=RequestView("POST", "https://api.example/x", [("X-Note", MARKUP)], MARKUP),
        response=ResponseView(200, [("X-Echo", MARKUP)], "{}", truncated=True),
        steps=[Step("send", 1.25, MARKUP)],
    )

    text = printed(lambda console: show_outcome(console, outcome, verbose=True))

    assert f"> X-Note: {MARKUP}\n>\n> {MARKUP}\n< 200\n< X-Echo: {MARKUP}\n" in text
    assert "< (the body below is its first 4 KiB)" in text
    assert f"send  1.2  {MARKUP}" in text


def test_an_apis_values_that_look_like_markup_are_printed_as_they_are() -> None:
    api = ApiRead.model_validate(
        {
            "id": 1,
            "name": "[/x] CRM",
            "description": MARKUP,
            "base_url": "https://crm.example",
            "headers": [{"name": "X-Note", "value": MARKUP}],
            "system": False,
            "version": 1,
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
            "requests": [],
        }
    )

    text = printed(lambda console: show_api(console, api, MARKUP))

    assert text.startswith("[/x] CRM  id 1, version 1, client API")
    assert f"description    {MARKUP}" in text
    assert f"service        {MARKUP}" in text
    assert f"X-Note  {MARKUP}" in text
    assert "No requests." in text


def test_secrets_not_stored_are_shown_as_not_set() -> None:
    api = ApiRead.model_validate(
        {
            "id": 1,
            "name": "CRM",
            "base_url": "https://crm.example",
            "headers": [
                {"name": "X-Api-Key", "value": "", "secret": True},
                {"name": "X-Tenant", "value": "**********", "secret": True},
            ],
            "authorization": {"type": "bearer", "token": None},
            "system": False,
            "version": 1,
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
            "requests": [],
        }
    )

    text = printed(lambda console: show_api(console, api, None))

    assert "authorization  bearer token=(not set)" in text
    assert "X-Api-Key  (not set)" in text
    assert "X-Tenant   **********" in text


def test_a_narrow_terminal_folds_long_names_rather_than_cutting_them() -> None:
    api = ApiRead.model_validate(
        {
            "id": 1,
            "name": "CRM",
            "base_url": "https://crm.example",
            "system": False,
            "version": 1,
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
            "requests": [
                {
                    "id": 2,
                    "api_id": 1,
                    "name": "security-advisories/list-global-advisories",
                    "url": "https://crm.example/advisories",
                    "version": 1,
                    "created_at": "2025-01-01T00:00:00Z",
                    "updated_at": "2025-01-01T00:00:00Z",
                }
            ],
        }
    )
    console = Console(record=True, width=40, color_system=None)

    show_requests(console, api.requests)

    head, *lines = console.export_text().splitlines()
    name = slice(head.index("name"), head.index("path"))
    assert "".join(line[name].strip() for line in lines) == (
        "security-advisories/list-global-advisories"
    )
