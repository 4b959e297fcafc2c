"""`callout apis ...` and `callout requests ...`, run as an operator runs them: the installed
script in a subprocess, on a data dir set up by `callout init` (see tests/test_cli.py), its
answers compared with what the services give.

Commands that only read share one installation, stocked once with an API holding secrets;
those that write work on a copy of it. Independent commands run side by side: each is a
second and a half of start-up.
"""

import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from callout.apis import definitions, request_service
from callout.apis import service as apis
from callout.apis.repository import ApiFilter
from callout.apis.schemas import ApiWrite, RequestWrite
from callout.cli.common import HELP_ORDER
from callout.clients.access import OPERATOR
from callout.clients.repository import ClientRepository
from callout.db.models import Client
from callout.schemas import MASK, IfMatch
from tests.cli import (
    Installation,
    Terminal,
    callout,
    copy_of,
    database_of,
    settings_of,
    side_by_side,
    snapshot,
)
from tests.factories import SENTINEL, api_body, request_body

BILLING_REQUEST = request_body(
    name="Update balance",
    method="POST",
    headers=[{"name": "X-Request-Token", "value": SENTINEL, "secret": True}],
    content_type="json",
    body='{"customer": "${customerId}", "balance": 0}',
    parameters=[
        {"name": "customerId", "type": "string", "required": True},
        {"name": "reason", "type": "string", "description": "Why it changed"},
    ],
)


@pytest.fixture(scope="module")
def stocked(installed: Installation, tmp_path_factory: pytest.TempPathFactory) -> Installation:
    """The module's installation with "Billing" added: bearer authorization, a secret
    header, and a request with a secret header of its own."""
    copy = copy_of(installed, tmp_path_factory.mktemp("stocked"))
    with demo_session(copy.data_dir) as (session, demo):
        keyring = settings_of(copy.data_dir).key_source().keyring()
        write = ApiWrite.model_validate(
            api_body(
                name="Billing",
                base_url="https://billing.example.com/api",
                headers=[
                    {"name": "Accept", "value": "application/json"},
                    {"name": "X-Api-Key", "value": SENTINEL, "secret": True},
                ],
                authorization={"type": "bearer", "token": SENTINEL},
            )
        )
        billing = apis.create_api(session, keyring, OPERATOR, demo, write)
        request = RequestWrite.model_validate(BILLING_REQUEST)
        request_service.create_request(session, keyring, OPERATOR, demo, billing.id, request)
    return copy


@pytest.fixture
def stock(stocked: Installation, tmp_path: Path) -> Installation:
    """A private copy of the stocked installation, for a test that changes it."""
    return copy_of(stocked, tmp_path)


@contextmanager
def demo_session(data_dir: Path) -> Iterator[tuple[Session, Client]]:
    """A unit of work on the installation's database, with the demo client."""
    database = database_of(data_dir)
    try:
        with database.transaction() as session:
            demo = ClientRepository(session).by_code("demo")
            assert demo is not None
            yield session, demo
    finally:
        database.dispose()


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    """What a `--json` command printed: JSON on stdout, nothing on stderr."""
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


def lines(text: str) -> list[list[str]]:
    """Printed lines, each split into its words."""
    return [line.split() for line in text.splitlines()]


# callout --help


def test_help_lists_installation_first_then_the_library_then_calls(
    installed: Installation,
) -> None:
    top, listing = side_by_side(installed.data_dir, ["--help"], ["apis", "list", "--help"])

    assert top.returncode == 0, top.stderr
    panels = re.findall(r"^╭─ (\w+) ─", top.stdout, re.MULTILINE)
    assert panels == ["Options", "Installation", "Library", "Calls"]  # none "Other"
    listed = re.findall(r"^│ ([a-z][a-z-]*) ", top.stdout, re.MULTILINE)
    assert listed == [name for names in HELP_ORDER.values() for name in names]
    assert listing.returncode == 0, listing.stderr
    assert "callout apis list demo --kind client" in listing.stdout  # an example


# callout apis list


def test_apis_list_shows_the_clients_apis_then_the_system_ones(stocked: Installation) -> None:
    done = callout(stocked.data_dir, "apis", "list", "demo")

    assert done.returncode == 0, done.stderr
    head, *rows = lines(done.stdout)
    assert head == ["id", "name", "type", "authorization", "base", "URL", "system"]
    assert rows[0][1:] == ["Billing", "api", "bearer", "https://billing.example.com/api"]
    assert rows[1][1:] == ["Customer", "CRM", "api", "none", "https://crm.example.com/api"]
    assert len(rows) > 2
    assert all(row[-1] == "yes" for row in rows[2:])


def test_apis_list_json_gives_the_services_summaries_filtered(stocked: Installation) -> None:
    every, own, system, search = side_by_side(
        stocked.data_dir,
        ["apis", "list", "demo", "--json"],
        ["apis", "list", "demo", "--kind", "client", "--json"],
        ["apis", "list", "demo", "--kind", "system", "--json"],
        ["apis", "list", "demo", "--search", "CRM", "--json"],
    )

    with demo_session(stocked.data_dir) as (session, demo):
        page = apis.list_apis(session, demo, ApiFilter(), 200, 0)
        expected = [item.model_dump(mode="json") for item in page.items]
    assert as_json(every) == expected
    assert as_json(own) == [item for item in expected if not item["system"]]
    assert as_json(system) == [item for item in expected if item["system"]]
    assert [item["name"] for item in as_json(search)] == ["Customer CRM"]


# callout apis show


def test_apis_show_prints_settings_masked_secrets_and_requests(stocked: Installation) -> None:
    shown, by_id = side_by_side(
        stocked.data_dir, ["apis", "show", "demo", "billing"], ["apis", "show", "demo", "1"]
    )

    assert shown.returncode == 0, shown.stderr
    printed = lines(shown.stdout)
    assert printed[0][:2] == ["Billing", "id"]
    assert ["base", "URL", "https://billing.example.com/api"] in printed
    assert ["authorization", "bearer", f"token={MASK}"] in printed
    assert ["X-Api-Key", MASK, "yes"] in printed
    assert ["Accept", "application/json", "yes"] in printed
    assert printed[-1][1:] == ["POST", "Update", "balance", "/api/v1/customers/${customerId}"]
    assert SENTINEL not in shown.stdout + shown.stderr
    assert by_id.returncode == 0, by_id.stderr
    assert "system API, read-only" in by_id.stdout


def test_apis_show_json_is_the_api_as_the_service_reads_it(stocked: Installation) -> None:
    done = callout(stocked.data_dir, "apis", "show", "demo", "Customer CRM", "--json")

    with demo_session(stocked.data_dir) as (session, demo):
        api_id = definitions.resolve_api(session, demo, "Customer CRM")
        expected = apis.get_api(session, demo, api_id).model_dump(mode="json")
    assert as_json(done) == expected


# callout apis create


def test_apis_create_makes_an_api_through_the_service(stock: Installation) -> None:
    done = callout(
        stock.data_dir, "apis", "create", "demo", "--name", "Alerts",
        "--base-url", "https://hooks.slack.com/services", "--type", "slack",
        "--description", "Team alerts", "--json",
    )  # fmt: skip

    created = as_json(done)
    assert (created["name"], created["type"], created["system"]) == ("Alerts", "slack", False)
    with demo_session(stock.data_dir) as (session, demo):
        stored = apis.get_api(session, demo, created["id"])
    assert stored.model_dump(mode="json") == created
    assert stored.description == "Team alerts"


def test_apis_create_refusals_name_the_field(stock: Installation) -> None:
    before = snapshot(stock.data_dir)
    taken, bad_url, bad_type = side_by_side(
        stock.data_dir,
        ["apis", "create", "demo", "--name", "billing", "--base-url", "https://x.example"],
        ["apis", "create", "demo", "--name", "New", "--base-url", "ftp://x.example"],
        ["apis", "create", "demo", "--name", "New", "--base-url", "https://x.example",
         "--type", "fax"],
    )  # fmt: skip

    for done in (taken, bad_url):
        assert done.returncode == 1
        assert done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "error: name: an API named 'Billing' exists already" in taken.stderr
    assert "error: base_url: must be an absolute http:// or https:// URL" in bad_url.stderr
    assert bad_type.returncode == 2  # refused by the command line itself
    assert "'fax' is not one of 'api', 'slack', 'teams'" in bad_type.stderr
    assert snapshot(stock.data_dir) == before


# callout apis delete


def test_apis_delete_without_yes_and_no_terminal_is_refused(stock: Installation) -> None:
    before = snapshot(stock.data_dir)

    done = callout(stock.data_dir, "apis", "delete", "demo", "Billing")  # stdin: a pipe

    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: deleting API 'Billing' needs --yes when there is no terminal to ask on"
    )
    assert snapshot(stock.data_dir) == before


def test_apis_delete_with_yes_deletes_it_and_its_requests(stock: Installation) -> None:
    done = callout(stock.data_dir, "apis", "delete", "demo", "billing", "--yes")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Deleted API 'Billing'."
    with demo_session(stock.data_dir) as (session, demo):
        names = [item.name for item in apis.list_apis(session, demo, ApiFilter(), 200, 0).items]
    assert "Billing" not in names
    assert "Customer CRM" in names


def test_apis_delete_of_a_system_api_or_one_a_designer_calls_is_refused(
    stock: Installation,
) -> None:
    before = snapshot(stock.data_dir)
    system, used = side_by_side(
        stock.data_dir,
        ["apis", "delete", "demo", "Slack incoming webhook", "--yes"],
        ["apis", "delete", "demo", "Customer CRM", "--yes"],  # the demo designer calls it
    )

    assert system.returncode == 1
    assert "is a system API: it is read-only" in system.stderr
    assert used.returncode == 1
    assert "Agent desktop" in used.stderr, used.stderr
    assert snapshot(stock.data_dir) == before


def test_apis_delete_on_a_terminal_asks_first(
    stock: Installation, terminals: list[Terminal]
) -> None:
    before = snapshot(stock.data_dir)
    declined = Terminal(stock.data_dir, "apis", "delete", "demo", "Billing")
    terminals.append(declined)

    assert declined.read(30, until=b"]:") == b"Delete API 'Billing' and its 1 request(s)? [y/N]:"
    declined.type("n")

    assert declined.finish()[0] == 1
    assert b"Nothing deleted." in declined.read(5)
    assert snapshot(stock.data_dir) == before
    accepted = Terminal(stock.data_dir, "apis", "delete", "demo", "Billing")
    terminals.append(accepted)
    accepted.read(30, until=b"]:")
    accepted.type("y")
    status, said = accepted.finish()
    assert status == 0, accepted.read(5)
    assert said.strip() == "Deleted API 'Billing'."


def test_apis_delete_of_an_api_changed_while_asking_is_refused(
    stock: Installation, terminals: list[Terminal]
) -> None:
    terminal = Terminal(stock.data_dir, "apis", "delete", "demo", "Billing")
    terminals.append(terminal)
    terminal.read(30, until=b"]:")
    with demo_session(stock.data_dir) as (session, demo):  # another editor's save, meanwhile
        keyring = settings_of(stock.data_dir).key_source().keyring()
        api_id = definitions.resolve_api(session, demo, "Billing")
        read = apis.get_api(session, demo, api_id)
        changed = ApiWrite.model_validate(read.model_dump() | {"description": "Renamed plan"})
        current = IfMatch(frozenset({read.version}))
        apis.update_api(session, keyring, OPERATOR, demo, api_id, current, changed)

    terminal.type("y")

    assert terminal.finish()[0] == 1
    assert b"API 'Billing' changed since you read it" in terminal.read(5)
    with demo_session(stock.data_dir) as (session, demo):
        assert apis.get_api(session, demo, api_id).description == "Renamed plan"


# callout requests list / show


def test_requests_list_shows_each_request_and_json_gives_the_services(
    stocked: Installation,
) -> None:
    table, given = side_by_side(
        stocked.data_dir,
        ["requests", "list", "demo", "Customer CRM"],
        ["requests", "list", "demo", "customer crm", "--json"],
    )

    assert table.returncode == 0, table.stderr
    head, *rows = lines(table.stdout)
    assert head == ["id", "method", "name", "path"]
    assert rows[0][1:] == ["GET", "Get", "customer", "/api/v1/customers/${customerId}"]
    with demo_session(stocked.data_dir) as (session, demo):
        api_id = definitions.resolve_api(session, demo, "Customer CRM")
        page = request_service.list_requests(session, demo, api_id, 200, 0)
        expected = [item.model_dump(mode="json") for item in page.items]
    assert as_json(given) == expected
    assert [row[0] for row in rows] == [str(item["id"]) for item in expected]


def test_requests_show_prints_url_parameters_outputs_masked_headers_and_body(
    stocked: Installation,
) -> None:
    shown, given = side_by_side(
        stocked.data_dir,
        ["requests", "show", "demo", "Billing", "update balance"],
        ["requests", "show", "demo", "Billing", "Update balance", "--json"],
    )

    assert shown.returncode == 0, shown.stderr
    printed = lines(shown.stdout)
    assert printed[0][:2] == ["Update", "balance"]
    assert printed[1] == ["POST", "https://billing.example.com/api/v1/customers/${customerId}"]
    assert ["content", "type", "json"] in printed
    assert ["X-Request-Token", MASK, "yes"] in printed
    assert ["parameter", "type", "required", "default", "secret", "description"] in printed
    assert ["customerId", "string", "yes"] in printed
    assert ["reason", "string", "Why", "it", "changed"] in printed
    assert ["fullName", "body", "$.name", "string", "fullName"] in printed
    assert ['"customer":', '"${customerId}",'] in printed  # the body, indented
    assert SENTINEL not in shown.stdout + shown.stderr
    with demo_session(stocked.data_dir) as (session, demo):
        ids = definitions.resolve(session, demo, "Billing", "Update balance")
        expected = request_service.get_request(session, demo, *ids).model_dump(mode="json")
    assert as_json(given) == expected
    assert expected["headers"][0]["value"] == MASK


# Unknown names


def test_unknown_client_api_or_request_is_one_clear_line_with_close_names(
    stocked: Installation,
) -> None:
    cases = {
        "no client 'nope'": ["apis", "list", "nope"],
        "no API 'Custmer CRM' in client 'demo'; did you mean 'Customer CRM'?": [
            "apis", "show", "demo", "Custmer CRM",
        ],
        "no API 'slack' in client 'demo'; did you mean 'Slack incoming webhook'?": [
            "requests", "list", "demo", "slack",
        ],
        "no request 'get customr' in API 'Customer CRM'; did you mean 'Get customer' or "
        "'Find customer'?": ["requests", "show", "demo", "Customer CRM", "get customr"],
        "no API 'Nothing like it' in client 'demo'": ["apis", "delete", "demo", "Nothing like it"],
        "no API '[/x]' in client 'demo'": ["apis", "show", "demo", "[/x]"],  # not markup
    }  # fmt: skip

    finished = side_by_side(stocked.data_dir, *cases.values())

    for message, done in zip(cases, finished, strict=True):
        assert done.returncode == 1, (message, done.stdout)
        assert done.stderr.strip() == f"error: {message}"
        assert done.stdout == ""


def test_a_listing_into_a_pipe_cuts_nothing_whatever_the_width(stocked: Installation) -> None:
    done = callout(stocked.data_dir, "apis", "list", "demo", COLUMNS="40")

    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    assert "https://billing.example.com/api" in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) > 40
