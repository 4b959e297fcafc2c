"""Backup and restore of a whole installation through the real `callout` command: every
client comes back into a new installation (a new secret key) with the same services,
library, secrets, designers and audit trail (the trail of an object deleted before the
backup under an id no object has or will get); a bad file, a database that holds a client or
a wrong passphrase is refused and changes nothing."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from callout.apis import request_service
from callout.apis import service as apis
from callout.apis.repository import ApiRepository, SystemApiRepository
from callout.apis.schemas import ApiWrite, RequestWrite
from callout.audit import service as audit
from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.repository import ClientRepository, ServiceRepository
from callout.clients.schemas import ApiKeyCreate, ServiceWrite
from callout.db.crypto import Keyring
from callout.db.engine import Database
from callout.db.models import ApiKey, Client
from callout.db.secrets import Vault, api_owner, request_owner
from callout.designers import service as designers
from callout.designers.repository import DesignerRepository
from callout.designers.schemas import DesignerWrite
from callout.schemas import IfMatch
from tests.cli import callout, database_of, init, settings_of, snapshot
from tests.factories import (
    SENTINEL,
    add_client,
    api_body,
    designer_body,
    every_authorization,
    function_call,
    request_body,
)

PASSPHRASE = "correct horse battery staple"
ANY_VERSION = IfMatch(frozenset(), anything=True)
READ_ONLY = {"id", "version", "created_at", "updated_at", "api_id", "service_id"}


@contextmanager
def opened(data_dir: Path) -> Iterator[tuple[Session, Keyring]]:
    """A transaction on an installation's database, with its keyring."""
    database = database_of(data_dir)
    try:
        with database.transaction() as session:
            yield session, settings_of(data_dir).key_source().keyring()
    finally:
        database.dispose()


def _library(session: Session, keyring: Keyring, client: Client, services: dict[str, int]) -> None:
    """APIs of every authorization type with secret headers, requests with their own, a
    rename, a deleted service, a copied system API and a designer calling its own API and a
    system API: an audit trail of every kind of event."""
    ops = clients.create_service(session, OPERATOR, client, ServiceWrite(name="Ops"))
    old = clients.create_service(session, OPERATOR, client, ServiceWrite(name="Old"))
    clients.delete_service(session, OPERATOR, client, old.id)
    for auth in every_authorization():
        base = "https://api.livevox.com" if auth["type"] == "livevox" else "https://crm.example.com"
        body = api_body(
            name=f"CRM {auth['type']}",
            base_url=base,
            authorization=auth,
            service_id=services.get(auth["type"], ops.id),
            headers=[{"name": "X-Api-Key", "value": SENTINEL + "-h", "secret": True}],
        )
        api = apis.create_api(session, keyring, OPERATOR, client, ApiWrite.model_validate(body))
        request_service.create_request(
            session,
            keyring,
            OPERATOR,
            client,
            api.id,
            RequestWrite.model_validate(
                request_body(
                    headers=[{"name": "X-Token", "value": SENTINEL + "-r", "secret": True}],
                    body='{"id": "${customerId}",\n "note": "café"}',
                    content_type="json",
                    method="POST",
                )
            ),
        )
    crm = ApiRepository(session, client).by_name_key("crm bearer")
    assert crm is not None
    renamed = ApiWrite.model_validate(api_body(name="CRM renamed", authorization={"type": "none"}))
    apis.update_api(session, keyring, OPERATOR, client, crm.id, ANY_VERSION, renamed)
    [system] = [
        a for a in SystemApiRepository(session).by_slug().values() if a.slug == "nager-date"
    ]
    apis.copy_api(session, keyring, OPERATOR, client, system.id, None)
    holiday = system.requests[0]
    own = apis.get_api(session, client, crm.id)
    designer = designer_body(
        function_call(crm.id, own.requests[0].id),
        function_call(system.id, holiday.id, [{"name": "countryCode", "value": "US"}]),
        service_id=ops.id,
    )
    designers.create_designer(session, OPERATOR, client, DesignerWrite.model_validate(designer))


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An installation (the demo client and two more, each with a library), backed up with
    its secrets sealed."""
    folder = tmp_path_factory.mktemp("original")
    installation = init(folder)
    with opened(installation.data_dir) as (session, keyring):
        for code in ("acme", "globex"):
            client = add_client(session, code)
            retail = clients.create_service(
                session, OPERATOR, client, ServiceWrite(name="Retail", description="Shops\nand web")
            )
            _library(session, keyring, client, {"basic": retail.id})
    (folder / "passphrase").write_text(PASSPHRASE + "\n")
    done = callout(
        installation.data_dir,
        "backup",
        str(folder / "backup"),
        "--with-secrets",
        "--passphrase-file",
        str(folder / "passphrase"),
    )
    assert done.returncode == 0, done.stderr
    return folder


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in READ_ONLY}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _installation(session: Session, keyring: Keyring) -> dict[str, Any]:
    """Everything a backup carries, with ids replaced by names: what must come back."""
    found: dict[str, Any] = {}
    for client in ClientRepository(session).all():
        services = {s.id: s.name for s in ServiceRepository(session, client).all()}
        vault = Vault(session, keyring, client.id)
        library, ids = {}, {}
        for api in ApiRepository(session, client).own_with_requests():
            read = apis.get_api(session, client, api.id)
            library[api.name] = {
                "api": _plain(read.model_dump(mode="json")),
                "service": services.get(api.service_id or 0),
                "secrets": vault.reveal_all(api_owner(api.id)),
                "request secrets": {
                    r.name: vault.reveal_all(request_owner(r.id)) for r in api.requests
                },
            }
            ids[("api", api.id)] = api.name
            ids |= {("request", r.id): f"{api.name}/{r.name}" for r in api.requests}
        for api in SystemApiRepository(session).by_slug().values():
            ids[("api", api.id)] = f"system {api.name}"
            ids |= {("request", r.id): f"system {api.name}/{r.name}" for r in api.requests}
        for designer in DesignerRepository(session, client).all():
            ids[("designer", designer.id)] = designer.name
        ids |= {("service", i): name for i, name in services.items()}
        found[client.code] = {
            "name": client.name,
            "services": [(s.name, s.description) for s in ServiceRepository(session, client).all()],
            "library": library,
            "designers": [
                _named(designers.get_designer(session, client, d.id).model_dump(mode="json"), ids)
                | {"service": services.get(d.service_id or 0)}
                for d in DesignerRepository(session, client).all()
            ],
            "audit": [
                _event(e.model_dump(mode="json"), ids)
                for e in reversed(audit.list_events(session, client, limit=1000).items)
            ],
        }
    return found


def _named(designer: dict[str, Any], ids: dict[tuple[str, int], str]) -> dict[str, Any]:
    """A designer read with its calls' ids as names."""
    for event in designer["events"]:
        for condition in event["conditions"]:
            for action in condition["actions"]:
                if action["kind"] == "function_call":
                    action["api_id"] = ids[("api", action["api_id"])]
                    action["request_id"] = ids[("request", action["request_id"])]
    plain: dict[str, Any] = _plain(designer)
    return plain


def _event(event: dict[str, Any], ids: dict[tuple[str, int], str]) -> dict[str, Any]:
    """An audit event with the ids of objects that still exist as their names."""
    del event["id"]
    event["object_id"] = ids.get((event["object_type"], event["object_id"]), "gone")
    for field in ("api", "from_api"):
        if field in event["detail"]:
            event["detail"][field] = ids.get(("api", event["detail"][field]), "gone")
    return event


def test_backup_restores_every_client_into_a_new_installation(
    backed_up: Path, tmp_path: Path
) -> None:
    restored = tmp_path / "restored"
    done = callout(
        restored,
        "restore",
        str(backed_up / "backup"),
        "--passphrase-file",
        str(backed_up / "passphrase"),
    )
    assert done.returncode == 0, done.stderr
    assert "Restored 3 client(s)" in done.stdout
    for text in (p.read_text() for p in (backed_up / "backup").rglob("*.yaml")):
        assert SENTINEL not in text

    with opened(backed_up / "data") as (session, keyring):
        original = _installation(session, keyring)
    with opened(restored) as (session, keyring):
        copy = _installation(session, keyring)
    assert sorted(copy) == ["acme", "demo", "globex"]
    for code in original:
        for part in ("name", "services", "library", "designers", "audit"):
            assert copy[code][part] == original[code][part], (code, part)
    acme = copy["acme"]
    assert acme["library"]["CRM oauth2"]["secrets"]["authorization.refresh_token"] == SENTINEL
    assert {e["object_id"] for e in acme["audit"]} >= {"CRM renamed", "Ops", "Inbound", "gone"}
    assert (restored / "secret-keys").read_text() != (
        backed_up / "data" / "secret-keys"
    ).read_text()


def _restore(data_dir: Path, backed_up: Path, backup: Path, passphrase: str = PASSPHRASE) -> str:
    (data_dir.parent / "passphrase").write_text(passphrase)
    done = callout(
        data_dir, "restore", str(backup), "--passphrase-file", str(data_dir.parent / "passphrase")
    )
    assert done.returncode == 1, done.stdout
    return " ".join(done.stderr.split())


def _upgraded(folder: Path) -> Path:
    """A data dir made by `callout db upgrade`: a database with no client."""
    data_dir = folder / "data"
    assert callout(data_dir, "db", "upgrade").returncode == 0
    return data_dir


@pytest.mark.parametrize(
    ("path", "change", "said"),
    [
        (
            "globex/designers/inbound.yaml",
            ("request: Get customer", "request: Get customers"),
            "globex/designers/inbound.yaml: events[0].conditions[0].actions[0]: "
            "API 'CRM renamed' has no request 'Get customers'",
        ),
        (
            "globex/apis/crm-basic.yaml",
            ("type: basic", "type: digest"),
            "globex/apis/crm-basic.yaml: authorization",
        ),
        (
            "globex/audit.yaml",
            ("action: create", "action: invent"),
            "globex/audit.yaml: events[0].action",
        ),
    ],
    ids=["designer", "api", "audit"],
)
def test_a_bad_file_in_a_backup_changes_nothing_and_says_where(
    backed_up: Path, tmp_path: Path, path: str, change: tuple[str, str], said: str
) -> None:
    backup = tmp_path / "backup"
    for source in (backed_up / "backup").rglob("*.yaml"):
        target = backup / source.relative_to(backed_up / "backup")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text())
    bad = backup / path
    assert change[0] in bad.read_text()
    bad.write_text(bad.read_text().replace(change[0], change[1], 1))
    data_dir = _upgraded(tmp_path)
    before = snapshot(data_dir)["rows"]

    assert said in _restore(data_dir, backed_up, backup)
    assert snapshot(data_dir)["rows"] == before


def test_a_restore_into_a_database_that_holds_a_client_is_refused(
    backed_up: Path, tmp_path: Path
) -> None:
    installation = init(tmp_path)
    before = snapshot(installation.data_dir)

    said = _restore(installation.data_dir, backed_up, backed_up / "backup")
    assert "the database holds 1 client(s) ('demo')" in said
    assert snapshot(installation.data_dir) == before


def test_a_wrong_passphrase_is_refused(backed_up: Path, tmp_path: Path) -> None:
    data_dir = _upgraded(tmp_path)
    before = snapshot(data_dir)["rows"]

    said = _restore(data_dir, backed_up, backed_up / "backup", "not the passphrase")
    assert "secrets: do not open: a wrong passphrase, or the file was changed" in said
    assert snapshot(data_dir)["rows"] == before


def test_a_refused_restore_into_a_new_data_dir_leaves_none(backed_up: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    data_dir.parent.mkdir()

    said = _restore(data_dir, backed_up, backed_up / "backup", "not the passphrase")
    assert "a wrong passphrase" in said
    assert not data_dir.exists()
    restored = callout(
        data_dir,
        "restore",
        str(backed_up / "backup"),
        "--passphrase-file",
        str(backed_up / "passphrase"),
    )
    assert restored.returncode == 0, restored.stderr


def _deleted_before_live(session: Session, keyring: Keyring, client: Client) -> None:
    """Objects of every audited type deleted before others were made: the live ones take the
    deleted ones' ids when restored. A copy of the deleted API is left, and a request deleted
    from a live API."""
    gone = clients.create_service(session, OPERATOR, client, ServiceWrite(name="Gone"))
    clients.delete_service(session, OPERATOR, client, gone.id)
    clients.create_service(session, OPERATOR, client, ServiceWrite(name="Kept"))
    bad = apis.create_api(
        session, keyring, OPERATOR, client, ApiWrite.model_validate(api_body(name="Bad"))
    )
    request = RequestWrite.model_validate(request_body(name="Bad call"))
    request_service.create_request(session, keyring, OPERATOR, client, bad.id, request)
    apis.copy_api(session, keyring, OPERATOR, client, bad.id, None)
    apis.delete_api(session, OPERATOR, client, bad.id, ANY_VERSION)
    good = apis.create_api(
        session, keyring, OPERATOR, client, ApiWrite.model_validate(api_body(name="Good"))
    )
    for name in ("Dropped", "Kept call"):
        request = RequestWrite.model_validate(request_body(name=name))
        request_service.create_request(session, keyring, OPERATOR, client, good.id, request)
    [dropped] = [r for r in apis.get_api(session, client, good.id).requests if r.name == "Dropped"]
    request_service.delete_request(session, OPERATOR, client, good.id, dropped.id, ANY_VERSION)
    old = designers.create_designer(
        session, OPERATOR, client, DesignerWrite.model_validate(designer_body(name="Old script"))
    )
    designers.delete_designer(session, OPERATOR, client, old.id, ANY_VERSION)
    designers.create_designer(
        session, OPERATOR, client, DesignerWrite.model_validate(designer_body(name="Script"))
    )
    key = clients.create_api_key(session, OPERATOR, client, ApiKeyCreate(name="Old key"))
    clients.revoke_api_key(session, OPERATOR, client, key.id)


def _live(session: Session, client: Client) -> dict[tuple[str, str], int]:
    """The client's objects' ids by (type, name); a request's name under its API's."""
    found = {("service", s.name): s.id for s in ServiceRepository(session, client).all()}
    for api in ApiRepository(session, client).own_with_requests():
        found[("api", api.name)] = api.id
        found |= {("request", f"{api.name}/{r.name}"): r.id for r in api.requests}
    found |= {("designer", d.name): d.id for d in DesignerRepository(session, client).all()}
    keys = select(ApiKey).where(ApiKey.client_id == client.id, ApiKey.revoked_at.is_(None))
    return found | {("api_key", k.name): k.id for k in session.scalars(keys)}


def _own_trail(session: Session, client: Client, object_type: Any, object_id: int) -> list[Any]:
    """An object's trail as `GET .../audit?object_type=&object_id=` lists it, oldest first."""
    page = audit.list_events(
        session, client, object_type=object_type, object_id=object_id, limit=200
    )
    return [(e.action, e.object_name, e.changed) for e in reversed(page.items)]


def test_a_deleted_objects_trail_is_in_no_live_objects_after_a_restore(
    tmp_path: Path, database_url: dict[str, str]
) -> None:
    installation = init(tmp_path / "original")
    with opened(installation.data_dir) as (session, keyring):
        demo = ClientRepository(session).by_code("demo")
        assert demo is not None
        _deleted_before_live(session, keyring, demo)
    backup = str(tmp_path / "backup")
    assert callout(installation.data_dir, "backup", backup).returncode == 0
    restored = tmp_path / "restored" / "data"
    done = callout(restored, "restore", backup, **database_url)
    assert done.returncode == 0, done.stderr
    # Made after the restore: their ids must be new too.
    fresh = ("apis", "create", "demo", "--name", "Fresh", "--base-url", "https://f.example.com")
    assert callout(restored, *fresh, **database_url).returncode == 0
    key = ("apikey", "create", "--client", "demo", "--name", "scripts")
    assert callout(restored, *key, **database_url).returncode == 0

    with opened(installation.data_dir) as (session, _):
        demo = ClientRepository(session).by_code("demo")
        assert demo is not None
        before = {
            object_: _own_trail(session, demo, object_[0], id_)
            for object_, id_ in _live(session, demo).items()
            if object_[0] != "api_key"  # a backup leaves keys out
        }
        whole = audit.list_events(session, demo, limit=1000).items
    url = database_url.get("CALLOUT_DATABASE_URL")
    database = Database(url) if url else database_of(restored)
    try:
        with database.transaction() as session:
            demo = ClientRepository(session).by_code("demo")
            assert demo is not None
            live = _live(session, demo)
            after = {o: _own_trail(session, demo, o[0], id_) for o, id_ in live.items()}
            trail = list(reversed(audit.list_events(session, demo, limit=1000).items))
    finally:
        database.dispose()

    # Every live object's trail is exactly its own: the original's, or its create.
    assert after == before | {
        ("api", "Fresh"): [("create", "Fresh", ["base_url", "description", "name", "type"])],
        ("api_key", "scripts"): [("create", "scripts", ["name", "role"])],
    }
    assert len(trail) == len(whole) + 2
    # Each deleted object's events share one id, which no live object of its type has.
    ids: dict[tuple[str, str], set[int]] = {}
    for event in trail:
        ids.setdefault((event.object_type, event.object_name), set()).add(event.object_id)
    deleted = {
        ("service", "Gone"),
        ("api", "Bad"),
        ("request", "Bad call"),  # Bad's own; Copy of Bad's is live
        ("request", "Dropped"),
        ("designer", "Old script"),
        ("api_key", "Old key"),
        ("api_key", "demo-admin"),  # made by `callout init`: keys are not in a backup
    }
    taken = {(object_type, id_) for (object_type, _), id_ in live.items()}
    for object_type, name in deleted:
        [id_] = ids[(object_type, name)]
        assert (object_type, id_) not in taken, (object_type, name)
    # A request's API and a copy's source are named by the same ids.
    [bad] = ids[("api", "Bad")]
    requests = {
        name: {
            e.detail["api"] for e in trail if (e.object_type, e.object_name) == ("request", name)
        }
        for name in ("Bad call", "Dropped")
    }
    assert requests == {"Bad call": {bad}, "Dropped": {live[("api", "Good")]}}
    [copy] = [e for e in trail if e.action == "copy"]
    assert copy.detail["from_api"] == bad
