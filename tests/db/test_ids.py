"""Ids are never reused: a deleted row's id never names a new row, on either database, and an
installation migrated from before AUTOINCREMENT keeps its rows and skips every id the audit
trail has seen; ids taken from a table's counter are never handed to a row."""

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from callout.apis import service as apis
from callout.apis.schemas import ApiWrite
from callout.clients.access import OPERATOR
from callout.clients.repository import ClientRepository
from callout.db import migrations
from callout.db.crypto import Keyring, KeySource
from callout.db.engine import Database
from callout.db.ids import reserve
from callout.db.models import Base
from callout.schemas import IfMatch
from tests.factories import add_client, api_body


def test_an_api_created_after_a_delete_gets_a_new_id(
    scratch_database: Database, keys: KeySource
) -> None:
    keyring = keys.keyring()
    with scratch_database.transaction() as session:
        client = add_client(session, "acme")
        first = _create(session, keyring, client.id, "First")
        second = _create(session, keyring, client.id, "Second")
    with scratch_database.transaction() as session:
        apis.delete_api(session, OPERATOR, client, second, IfMatch(frozenset({1})))
    with scratch_database.transaction() as session:
        third = _create(session, keyring, client.id, "Third")

    assert first < second < third


def test_reserved_ids_are_new_and_never_handed_to_a_row(
    scratch_database: Database, keys: KeySource
) -> None:
    keyring = keys.keyring()
    tables = Base.metadata.tables
    with scratch_database.transaction() as session:
        client = add_client(session, "acme")
        first = _create(session, keyring, client.id, "First")
        reserved = reserve(session, tables["apis"], 3)
        designers = reserve(session, tables["designers"], 2)  # a table never written to
    with scratch_database.transaction() as session:
        assert reserve(session, tables["apis"], 0) == []
        second = _create(session, keyring, client.id, "Second")
        more = reserve(session, tables["apis"], 1)

    assert reserved == [first + 1, first + 2, first + 3]
    assert second > reserved[-1]
    assert more[0] > second
    assert designers == [1, 2]


def test_migrating_an_installation_keeps_its_rows_and_skips_audited_ids(
    tmp_path: Path, keys: KeySource
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'callout.db'}")
    migrations.upgrade(database.engine, "0002")
    with database.transaction() as session:
        for statement in (
            "INSERT INTO clients (id, code, name, created_at) "
            "VALUES (1, 'acme', 'Acme', '2026-01-01')",
            "INSERT INTO apis (id, client_id, name, name_key, description, base_url, type, "
            "headers, authorization, version, created_at, updated_at) VALUES (1, 1, 'CRM', "
            "'crm', '', 'https://crm.example.com', 'api', '[]', '{\"type\": \"none\"}', 1, "
            "'2026-01-01', '2026-01-01')",
            # API 5 was created and deleted before the migration: only the audit trail knows.
            "INSERT INTO audit_events (client_id, at, actor, action, object_type, object_id, "
            "object_name, changed, detail) VALUES (1, '2026-01-01', 'key:a', 'delete', 'api', "
            "5, 'Old', '[]', '{}')",
        ):
            session.execute(text(statement))

    migrations.upgrade(database.engine)

    with database.transaction() as session:
        assert session.execute(text("SELECT id, name FROM apis")).all() == [(1, "CRM")]
        assert session.execute(text("PRAGMA foreign_key_check")).all() == []
        created = _create(session, keys.keyring(), 1, "New")
    assert created == 6
    database.dispose()


def _create(session: Session, keyring: Keyring, client_id: int, name: str) -> int:
    client = ClientRepository(session).by_id(client_id)
    assert client is not None
    data = ApiWrite.model_validate(api_body(name=name))
    return apis.create_api(session, keyring, OPERATOR, client, data).id
