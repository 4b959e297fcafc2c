"""The `callout` console script, run as an operator runs it: set-up, keys, API keys, serving.

Each command runs the installed script in a subprocess with only CALLOUT_DATA_DIR set (no
CALLOUT_SECRET_KEYS, no CALLOUT_DATABASE_URL), so the key file and the SQLite database in
the data dir are what it uses. `callout init` runs once per module; tests that change the
installation work on a copy of it.
"""

import re
import stat
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from callout.apis import service as apis
from callout.apis.schemas import ApiWrite
from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.repository import ClientRepository
from callout.db import migrations
from callout.db.crypto import generate_entry, parse_keys
from callout.db.models import Api, Secret
from callout.db.secrets import Vault, api_owner
from callout.errors import Unauthenticated
from tests.cli import (
    KEY,
    Installation,
    callout,
    callout_serve,
    database_of,
    finish,
    free_port,
    principal_of,
    settings_of,
    snapshot,
    start,
    wait_up,
)
from tests.factories import api_body

# callout init


def test_init_sets_up_data_dir_key_file_database_and_demo_client(installed: Installation) -> None:
    data_dir = installed.data_dir
    assert data_dir.is_dir()
    key_file = data_dir / "secret-keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(parse_keys(key_file.read_text(), "key file")) == 1
    assert (data_dir / "callout.db").is_file()
    assert "demo" in installed.output

    database = database_of(data_dir)
    try:
        assert migrations.is_current(database.engine)
        with database.transaction() as session:
            demo = ClientRepository(session).by_code("demo")
            assert demo is not None
            names = session.scalars(select(Api.name).where(Api.client_id == demo.id)).all()
            assert names == ["Customer CRM"]
            system = session.scalars(select(Api.slug).where(Api.client_id.is_(None))).all()
            assert system  # the catalogue's system APIs
    finally:
        database.dispose()


def test_init_prints_an_admin_key_that_authenticates(installed: Installation) -> None:
    principal = principal_of(installed.data_dir, installed.admin_key)
    assert principal.role == "admin"
    database = database_of(installed.data_dir)
    try:
        with database.transaction() as session:
            demo = ClientRepository(session).by_code("demo")
            assert demo is not None
            assert principal.client_id == demo.id
            with pytest.raises(Unauthenticated):
                clients.authenticate(session, installed.admin_key[:-1] + "x")
    finally:
        database.dispose()


def test_init_again_prints_no_key_and_changes_nothing(installation: Installation) -> None:
    before = snapshot(installation.data_dir)

    again = callout(installation.data_dir, "init")

    assert again.returncode == 0, again.stderr
    assert not KEY.search(again.stdout + again.stderr)
    assert "Already set up" in again.stdout
    assert snapshot(installation.data_dir) == before


# callout db upgrade


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = callout(data_dir, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    added = re.search(r"(\d+) system API\(s\)", first.stdout)
    assert added is not None
    assert int(added.group(1)) > 0
    before = snapshot(data_dir)

    second = callout(data_dir, "db", "upgrade")

    assert second.returncode == 0, second.stderr
    assert "Database is current; 0 system API(s)" in second.stdout
    assert snapshot(data_dir) == before
    database = database_of(data_dir)
    try:
        assert migrations.is_current(database.engine)
    finally:
        database.dispose()


# callout apikey create


def test_apikey_create_prints_a_working_key(installation: Installation) -> None:
    done = callout(
        installation.data_dir, "apikey", "create", "--client", "demo", "--role", "editor",
        "--name", "x",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    [key] = KEY.findall(done.stdout)
    principal = principal_of(installation.data_dir, key)
    assert (principal.name, principal.role) == ("x", "editor")
    assert principal.client_id is not None


def test_apikey_create_with_a_bad_role_or_client_fails_clearly(installed: Installation) -> None:
    before = snapshot(installed.data_dir)
    cases = {  # run side by side: each is a second and a half of start-up
        "--role must be viewer, editor or admin": ["--client", "demo", "--role", "boss"],
        "no client 'nope'": ["--client", "nope", "--role", "editor"],
    }
    running = {
        message: start(installed.data_dir, "apikey", "create", *args, "--name", "x")
        for message, args in cases.items()
    }

    finished = {message: finish(process) for message, process in running.items()}

    for message, done in finished.items():
        assert done.returncode == 1, message
        assert message in done.stderr
        assert not KEY.search(done.stdout)
        assert "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert snapshot(installed.data_dir) == before


# callout keys rotate


def test_keys_rotate_reseals_and_the_demo_data_still_reads(installation: Installation) -> None:
    data_dir = installation.data_dir
    keys = settings_of(data_dir).key_source()
    old_id = keys.keyring().active_id
    database = database_of(data_dir)
    body = api_body(
        name="Billing",
        authorization={"type": "basic", "username": "alice", "password": "billing-password"},
        headers=[{"name": "X-Api-Key", "value": "billing-header", "secret": True}],
    )
    try:
        with database.transaction() as session:
            demo = ClientRepository(session).by_code("demo")
            assert demo is not None
            write = ApiWrite.model_validate(body)
            billing = apis.create_api(session, keys.keyring(), OPERATOR, demo, write).id

        done = callout(data_dir, "keys", "rotate")

        assert done.returncode == 0, done.stderr
        entries = parse_keys((data_dir / "secret-keys").read_text(), "key file")
        assert [key_id for key_id, _ in entries][1:] == [old_id]
        new_id = entries[0][0]
        assert f"New key {new_id}" in done.stdout
        assert "Resealed 2 secret(s)" in done.stdout
        assert stat.S_IMODE((data_dir / "secret-keys").stat().st_mode) == 0o600

        fresh = settings_of(data_dir).key_source().keyring()
        assert fresh.active_id == new_id
        with database.transaction() as session:
            assert set(session.scalars(select(Secret.key_id))) == {new_id}
            owner = session.scalar(
                select(Secret.client_id).where(Secret.owner == api_owner(billing))
            )
            assert owner is not None
            assert Vault(session, fresh, owner).reveal_all(api_owner(billing)) == {
                "authorization.password": "billing-password",
                "headers.x-api-key": "billing-header",
            }
            demo = ClientRepository(session).by_code("demo")
            assert demo is not None
            crm = session.scalar(select(Api.id).where(Api.name == "Customer CRM"))
            assert crm is not None
            read = apis.get_api(session, demo, crm)
            assert [r.name for r in read.requests] == [
                "Get customer",
                "Get agent",
                "Find customer",
                "Post disposition",
            ]
    finally:
        database.dispose()
    assert principal_of(data_dir, installation.admin_key).role == "admin"


# Commands that need a set-up, run where there is none

NEEDS_SET_UP = [
    pytest.param(["send", "demo", "CRM", "Get customer"], id="send"),
    pytest.param(["authorize", "demo", "CRM", "--port", "0"], id="authorize"),
    pytest.param(["keys", "rotate"], id="keys-rotate"),
    pytest.param(["apikey", "create", "--client", "demo", "--name", "ops"], id="apikey-create"),
    pytest.param(["serve", "--port", "0"], id="serve"),
]


def assert_one_line_refusal(done: subprocess.CompletedProcess[str], says: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error:"), done.stderr
    assert says in lines[0], done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize("command", NEEDS_SET_UP)
def test_a_command_outside_a_set_up_says_to_run_init_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    workdir = tmp_path / "empty"
    workdir.mkdir()
    data_dir = workdir / "data"

    done = callout(data_dir, *command)

    assert_one_line_refusal(done, "callout init")
    assert list(workdir.iterdir()) == []  # no data dir, no database, no key file


@pytest.mark.parametrize("command", NEEDS_SET_UP)
def test_a_command_on_a_database_not_migrated_says_to_upgrade_and_changes_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "callout.db").touch()
    settings_of(data_dir).key_source(create=True).keyring()
    before = snapshot(data_dir)
    assert before["rows"] == {}

    done = callout(data_dir, *command)

    assert_one_line_refusal(done, "callout db upgrade")
    assert snapshot(data_dir) == before


@pytest.mark.parametrize(
    "command",
    [p for p in NEEDS_SET_UP if p.id in ("send", "authorize", "keys-rotate", "serve")],
)
def test_a_command_without_its_key_file_says_so_and_creates_none(
    installation: Installation, command: list[str]
) -> None:
    key_file = installation.data_dir / "secret-keys"
    key_file.unlink()

    done = callout(installation.data_dir, *command)

    assert_one_line_refusal(done, "no key file")
    assert not key_file.exists()


# callout serve


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    url = f"sqlite:///{tmp_path / 'fresh.db'}"

    done = callout(
        empty,
        "serve",
        "--port",
        str(free_port()),
        CALLOUT_DATABASE_URL=url,
        CALLOUT_SECRET_KEYS=generate_entry(),
    )

    assert done.returncode == 1
    assert "callout db upgrade" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_refuses_to_start_without_its_key_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    done = callout(empty, "serve", "--port", str(free_port()))

    assert done.returncode == 1
    assert "no key file" in done.stderr
    assert "callout init" in done.stderr
    assert not (empty / "secret-keys").exists()


@pytest.fixture
async def served(installation: Installation, tmp_path: Path) -> AsyncIterator[str]:
    """`callout serve` running in the background on a free port; its base URL."""
    with callout_serve(installation.data_dir, tmp_path / "serve.log") as (server, root):
        await wait_up(root, server)
        yield root


def test_serve_answers_with_the_key_init_printed(served: str, installation: Installation) -> None:
    document = httpx.get(f"{served}/openapi.json", timeout=5)
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Callout"

    listed = httpx.get(
        f"{served}/api/v1/clients",
        headers={"Authorization": f"Bearer {installation.admin_key}"},
        timeout=5,
    )
    assert listed.status_code == 200, listed.text
    assert [c["code"] for c in listed.json()] == ["demo"]

    refused = httpx.get(f"{served}/api/v1/clients", timeout=5)
    assert refused.status_code == 401


def test_an_oauth2_provider_is_sent_back_to_the_port_serve_was_given(
    served: str, installation: Installation
) -> None:
    """`callout serve --port N` without CALLOUT_PUBLIC_URL: the callback is on port N."""
    admin = {"Authorization": f"Bearer {installation.admin_key}"}
    apis_url = f"{served}/api/v1/clients/demo/apis"
    code_grant = {
        "type": "oauth2",
        "grant": "authorization_code",
        "token_url": "https://id.example.com/token",
        "authorization_url": "https://id.example.com/authorize",
        "client_id": "callout",
    }
    made = httpx.post(
        apis_url,
        json={
            "name": "Provider",
            "base_url": "https://api.example.com",
            "authorization": code_grant,
        },
        headers=admin,
        timeout=5,
    )
    assert made.status_code == 201, made.text
    started = httpx.post(f"{apis_url}/{made.json()['id']}/authorize", headers=admin, timeout=5)
    assert started.status_code == 200, started.text
    assert started.json()["redirect_uri"] == f"{served}/api/v1/oauth/callback"


def test_a_bad_setting_is_named_as_the_environment_sets_it(installed: Installation) -> None:
    ttl = callout(installed.data_dir, "apis", "list", "demo", CALLOUT_PLAN_TTL="soon")
    keys = callout(installed.data_dir, "apis", "list", "demo", CALLOUT_SECRET_KEYS="garbage")

    assert (ttl.returncode, keys.returncode) == (1, 1)
    assert ttl.stderr.strip() == (
        "error: CALLOUT_PLAN_TTL: Input should be a valid number, unable to parse string as a "
        "number"
    )
    assert keys.stderr.strip() == (
        "error: settings: CALLOUT_SECRET_KEYS: entry 1 is not `key_id:base64key`"
    )
