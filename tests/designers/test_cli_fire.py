"""`callout fire`, run as an operator runs it: the installed script in a subprocess, on the
demo client `callout init` seeds (its designer "Agent desktop" calls the demo CRM, whose
sample responses let it run in mock mode with no network)."""

import json
from pathlib import Path

from tests.cli import Installation, callout

IN_CALL = {"call": {"ani": "+15550100", "id": "CALL-9", "disposition": "Promise to pay"}}


def context_file(folder: Path, context: object) -> str:
    path = folder / "context.json"
    path.write_text(json.dumps(context))
    return str(path)


def test_the_demo_designer_fires_in_call_and_prints_the_effects_in_order(
    installed: Installation, tmp_path: Path
) -> None:
    done = callout(
        installed.data_dir,
        "fire",
        "demo",
        "Agent desktop",
        "In Call",
        "--context",
        context_file(tmp_path, IN_CALL),
        "--mode",
        "mock",
    )
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    assert lines[0][:2] == ["In", "Call:"]
    assert lines[0][2] == "completed"
    effects = [line[1:] for line in lines[2:8]]
    assert effects == [
        ["set_field", "customerId", "=", '"C-1001"'],
        ["set_field", "fullName", "=", '"Ann', 'Example"'],
        ["set_field", "balance", "=", "1250.5"],
        ["alert", "Ann", "Example", "is", "overdue:", "balance", "1250.5"],
        ["pop_url", "https://crm.example.com/customers/C-1001"],
        ["show_page", "Customer"],
    ]


def test_json_output_is_the_rest_answer_for_scripts(
    installed: Installation, tmp_path: Path
) -> None:
    context = context_file(tmp_path, IN_CALL | {"fields": {"customerId": "C-1001"}})
    done = callout(
        installed.data_dir,
        "fire",
        "demo",
        "1",
        "wrap-up",
        "--context",
        context,
        "--mode",
        "mock",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["event"] == "Wrap-Up"
    assert answer["fields"] == {"customerId": "C-1001", "noteId": "N-77"}
    assert answer["effects"][-1] == {"kind": "show_page", "page": "Home"}


def test_a_live_call_that_fails_stops_the_event_and_exits_1(
    installed: Installation, tmp_path: Path
) -> None:
    """Live, the demo CRM's example.com host is refused or unreachable: the first call fails
    and, as its action says stop, the event ends there."""
    done = callout(
        installed.data_dir,
        "fire",
        "demo",
        "Agent desktop",
        "Login",
        "--context",
        context_file(tmp_path, {"loginData": {"agentId": "A-1"}}),
    )
    assert done.returncode == 1
    assert "Login: stopped" in done.stdout
    assert "function_call  failure" in done.stdout


def test_unknown_names_and_bad_context_are_one_line_errors(
    installed: Installation, tmp_path: Path
) -> None:
    for args, message in [
        (["demo", "Nope", "Login"], "no designer 'Nope' in client 'demo'"),
        (["demo", "agent desk", "Login"], "; did you mean 'Agent desktop'?"),
        (
            ["demo", "Agent desktop", "Lunch"],
            "has no such event (its events: Login, In Call, Wrap-Up)",
        ),
        (["demo", "Agent desktop", "Login", "--mode", "dry_run"], "mode"),
        (["demo", "99999999999999999999", "Login"], "no designer '99999999999999999999'"),
        (["demo", "\u00b2", "Login"], "no designer '\u00b2' in client 'demo'"),
        (["demo", "1" * 5000, "Login"], "in client 'demo'"),
    ]:
        done = callout(installed.data_dir, "fire", *args)
        assert done.returncode == 1
        assert message in done.stderr
        assert "Traceback" not in done.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    done = callout(
        installed.data_dir, "fire", "demo", "Agent desktop", "Login", "--context", str(broken)
    )
    assert done.returncode == 1
    assert "broken.json is not JSON" in done.stderr
