"""`callout send`, run as an operator runs it: the installed script in a subprocess, on a
data dir set up by `callout init` (see tests/test_cli.py for the environment it gets)."""

import asyncio
import json
from pathlib import Path
from typing import Any

from callout.apis import request_service
from callout.apis import service as apis
from callout.apis.schemas import ApiWrite, RequestWrite
from callout.clients.access import OPERATOR
from callout.clients.repository import ClientRepository
from callout.invocations.schemas import TracedResult
from callout.schemas import MASK
from callout.web.app import create_app
from tests.cli import (
    CALLOUT,
    Installation,
    callout,
    database_of,
    environment,
    finish,
    free_port,
    settings_of,
    start,
)
from tests.conftest import checked_client
from tests.contract import Contract
from tests.factories import SENTINEL, api_body, request_body
from tests.upstream import Upstream


def add_api(data_dir: Path, base_url: str, **api_changes: object) -> None:
    """An API "Billing" with the request "Get customer" for the demo client, stored through
    the service layer in the installation's own SQLite file and key file."""
    database = database_of(data_dir)
    keyring = settings_of(data_dir).key_source().keyring()
    try:
        with database.transaction() as session:
            demo = ClientRepository(session).by_code("demo")
            assert demo is not None
            write = ApiWrite.model_validate(
                api_body(name="Billing", base_url=base_url) | api_changes
            )
            api = apis.create_api(session, keyring, OPERATOR, demo, write)
            request_service.create_request(
                session, keyring, OPERATOR, demo, api.id, RequestWrite(**request_body())
            )
    finally:
        database.dispose()


async def send_async(data_dir: Path, *args: str) -> tuple[int, str, str]:
    """`callout send ...` without blocking the event loop, so an `upstream` can answer it."""
    process = await asyncio.create_subprocess_exec(
        str(CALLOUT),
        "send",
        *args,
        env=environment(data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def history_of(
    installation: Installation, contract: Contract, *invocation_ids: str
) -> list[dict[str, Any]]:
    """The demo client's invocation history as `GET .../invocations` answers it (or each
    call named, as `GET .../invocations/{id}` does), from the app on the installation's
    database, with the admin key `callout init` printed."""
    settings = settings_of(installation.data_dir)
    database = database_of(installation.data_dir)
    app = create_app(settings, database=database, keys=settings.key_source())
    headers = {"Authorization": f"Bearer {installation.admin_key}"}
    history = "/api/v1/clients/demo/invocations"
    urls = [f"{history}/{i}" for i in invocation_ids] or [history]
    try:
        async with await checked_client(app, contract) as http:
            answers = [await http.get(url, headers=headers) for url in urls]
    finally:
        app.state.admission.close()
        database.dispose()
    for answer in answers:
        assert answer.status_code == 200, answer.text
    return [answer.json() for answer in answers]


def lines(text: str) -> list[str]:
    """Printed lines without rich's padding."""
    return [line.rstrip() for line in text.splitlines()]


def test_mock_send_of_the_demo_prints_success_outputs_and_alert_without_warnings(
    installed: Installation,
) -> None:
    done = callout(
        installed.data_dir, "send", "demo", "Customer CRM", "Get customer",
        "-p", "customerId=7", "--mode", "mock",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    printed = lines(done.stdout)
    assert printed[0].startswith("success  status 200")
    assert "GET https://crm.example.com/api/v1/customers/7" in printed
    outputs = {line.split()[0]: line.split(maxsplit=1)[1] for line in printed[3:5]}
    assert printed[2].split() == ["output", "value"]
    assert outputs == {"fullName": '"Ann Example"', "balance": "1250.5"}
    assert "alert: Ann Example is overdue: balance 1250.5" in printed
    assert not [line for line in printed if line.startswith("warning:")]
    assert done.stderr == ""


async def test_live_send_prints_status_and_pretty_body_with_secrets_masked(
    installation: Installation, upstream: Upstream
) -> None:
    add_api(
        installation.data_dir,
        f"{upstream.url}/api",
        headers=[{"name": "X-Api-Key", "value": SENTINEL, "secret": True}],
        authorization={"type": "bearer", "token": SENTINEL},
    )  # no answer queued: the upstream echoes the request, secrets and all

    code, stdout, stderr = await send_async(
        installation.data_dir, "demo", "billing", "get customer", "-p", "customerId=7"
    )

    assert code == 0, stderr
    printed = lines(stdout)
    assert printed[0].startswith("success  status 200")
    assert f"GET {upstream.url}/api/v1/customers/7" in printed
    assert '  "raw_path": "/api/v1/customers/7",' in printed  # the body, indented
    assert '  "method": "GET",' in printed
    [seen] = upstream.received
    assert seen.header("Authorization") == f"Bearer {SENTINEL}"
    assert seen.header("X-Api-Key") == SENTINEL
    assert SENTINEL not in stdout + stderr


async def test_verbose_send_shows_the_exchange_and_each_step_with_secrets_masked(
    installation: Installation, upstream: Upstream
) -> None:
    add_api(
        installation.data_dir,
        f"{upstream.url}/api",
        headers=[{"name": "X-Api-Key", "value": SENTINEL, "secret": True}],
        authorization={"type": "bearer", "token": SENTINEL},
    )
    upstream.answer(200, {"name": "Ann"}, headers={"X-Echo": f"key {SENTINEL}"})

    code, stdout, stderr = await send_async(
        installation.data_dir, "demo", "Billing", "Get customer", "-p", "customerId=7", "-v"
    )

    assert code == 0, stderr
    printed = lines(stdout)
    assert f"GET {upstream.url}/api/v1/customers/7" in printed
    assert f"> X-Api-Key: {MASK}" in printed
    assert f"> Authorization: {MASK}" in printed
    assert "< 200" in printed
    assert "< Content-Type: application/json" in printed
    assert f"< X-Echo: key {MASK}" in printed  # an echoed secret, masked by the trace
    steps = [line.split() for line in printed].index(["step", "ms", "detail"])
    names = [line.split()[0] for line in printed[steps + 1 : steps + 6]]
    assert names == ["bind", "render", "authorize", "send", "map"]
    assert printed[steps + 6].split() == ["output", "value"]
    [seen] = upstream.received
    assert seen.header("X-Api-Key") == SENTINEL  # sent as it is, shown masked
    assert SENTINEL not in stdout + stderr


async def test_json_send_prints_the_traced_result_and_nothing_else(
    installation: Installation, upstream: Upstream
) -> None:
    add_api(
        installation.data_dir,
        f"{upstream.url}/api",
        headers=[{"name": "X-Api-Key", "value": SENTINEL, "secret": True}],
    )
    upstream.answer(200, {"name": "Ann"})
    upstream.answer(503, {"error": "down"})
    args = ["demo", "Billing", "Get customer", "--json", "-p"]

    ok = await send_async(installation.data_dir, *args, "customerId=7")
    failed = await send_async(installation.data_dir, *args, "customerId=8")

    assert (ok[0], ok[2]) == (0, "")
    result = TracedResult.model_validate_json(ok[1])
    assert (result.outcome, result.status, result.outputs) == ("success", 200, {"fullName": "Ann"})
    assert result.request is not None
    assert result.request.url == f"{upstream.url}/api/v1/customers/7"
    sent = {header.name: header.value for header in result.request.headers}
    assert sent["X-Api-Key"] == MASK
    assert [step.name for step in result.steps] == ["bind", "render", "authorize", "send", "map"]
    assert result.response is not None
    assert json.loads(result.response.body) == {"name": "Ann"}
    assert (failed[0], failed[2]) == (1, "")
    refused = json.loads(failed[1])
    assert (refused["outcome"], refused["reason"], refused["status"]) == ("failure", "status", 503)
    assert SENTINEL not in ok[1] + failed[1]


async def test_each_live_send_is_in_the_invocation_history_as_a_test(
    installation: Installation, upstream: Upstream, contract: Contract
) -> None:
    add_api(
        installation.data_dir,
        f"{upstream.url}/api",
        authorization={"type": "bearer", "token": SENTINEL},
    )
    upstream.answer(200, {"name": "Ann"})
    upstream.answer(500, {"error": f"bad token {SENTINEL}"})  # every later call

    codes = [
        (await send_async(installation.data_dir, "demo", "Billing", "Get customer", *p))[0]
        for p in (["-p", "customerId=7"], ["-p", "customerId=8"])
    ]
    dry_run = await send_async(
        installation.data_dir, "demo", "Billing", "Get customer", "-p", "customerId=9",
        "--mode", "dry_run",
    )  # fmt: skip

    assert codes == [0, 1]
    assert dry_run[0] == 0, dry_run
    [page] = await history_of(installation, contract)
    assert page["total"] == 2  # a dry run sends nothing and is not history
    failed, succeeded = page["items"]  # newest first
    for item in (failed, succeeded):
        assert (item["api_name"], item["request_name"]) == ("Billing", "Get customer")
        assert (item["mode"], item["actor"]) == ("test", "key:operator")
    assert (succeeded["outcome"], succeeded["reason"], succeeded["status"]) == (
        "success", None, 200
    )  # fmt: skip
    assert (failed["outcome"], failed["reason"], failed["status"]) == ("failure", "status", 500)
    # As a failed test through REST does, the failed send keeps the trace it printed, masked.
    kept_failed, kept_succeeded = await history_of(
        installation, contract, failed["invocation_id"], succeeded["invocation_id"]
    )
    assert kept_succeeded["trace"] is None
    assert kept_failed["trace"]["response"]["status"] == 500
    assert kept_failed["trace"]["request"]["url"].endswith("/api/v1/customers/8")
    assert SENTINEL not in str(kept_failed)


def test_send_to_an_unreachable_upstream_prints_failure_and_exits_1(
    installation: Installation,
) -> None:
    add_api(installation.data_dir, f"http://127.0.0.1:{free_port()}/api")

    done = callout(
        installation.data_dir, "send", "demo", "Billing", "Get customer", "-p", "customerId=7"
    )

    assert done.returncode == 1, done.stdout
    first = lines(done.stdout)[0]
    assert first.startswith("failure")
    assert "upstream_error" in first
    assert "could not connect to 127.0.0.1" in first
    assert "Traceback" not in done.stderr


def fails_clearly(installed: Installation, cases: dict[str, list[str]]) -> None:
    """Each case's `callout send` exits 1 with its message as one line on stderr; run side by
    side, since each is a second and a half of start-up."""
    running = {
        message: start(installed.data_dir, "send", *args, "--mode", "mock")
        for message, args in cases.items()
    }

    finished = {message: finish(process) for message, process in running.items()}

    for message, done in finished.items():
        assert done.returncode == 1, (message, done.stdout, done.stderr)
        assert f"error: {message}" in done.stderr, (message, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stdout == ""


def test_send_with_bad_parameter_syntax_fails_clearly(installed: Installation) -> None:
    crm = ["demo", "Customer CRM", "Get customer"]
    not_json = "--parameter customerId: the value starts like JSON but is not JSON"
    fails_clearly(
        installed,
        {
            "--parameter 'customerId' is not name=value": [*crm, "-p", "customerId"],
            not_json: [*crm, "-p", "customerId={7"],
        },
    )


def test_send_to_an_unknown_api_or_request_names_what_is_missing(
    installed: Installation,
) -> None:
    fails_clearly(
        installed,
        {
            "no API 'Nope' in client 'demo'": ["demo", "Nope", "Get customer"],
            "no request 'Nope' in API 'Customer CRM'": ["demo", "customer crm", "Nope"],
            "no API 'Custmer CRM' in client 'demo'; did you mean 'Customer CRM'?": [
                "demo",
                "Custmer CRM",
                "Get customer",
            ],
            "no request 'Post dispositon' in API 'Customer CRM'; did you mean 'Post "
            "disposition'?": ["demo", "Customer CRM", "Post dispositon"],
        },
    )


def test_send_to_an_id_past_the_range_or_in_other_digits_names_what_is_missing(
    installed: Installation,
) -> None:
    fails_clearly(
        installed,
        {
            "no API '99999999999999999999' in client 'demo'": [
                "demo",
                "99999999999999999999",
                "Get customer",
            ],
            "no API '\u00b2' in client 'demo'": ["demo", "\u00b2", "Get customer"],
            "no request '99999999999999999999' in API 'Customer CRM'": [
                "demo",
                "customer crm",
                "99999999999999999999",
            ],
        },
    )
