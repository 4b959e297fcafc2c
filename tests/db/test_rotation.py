"""Key rotation over committed data: every secret resealed under the new key, none lost,
none movable to another row, an edit racing the rotation neither lost nor left behind, and
a row no key opens reported while the others are resealed."""

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, make_url, select, update
from sqlalchemy.orm import Session

from callout.apis import request_service
from callout.apis import service as apis
from callout.apis.authorization import SCHEMES
from callout.apis.schemas import ApiWrite, RequestWrite
from callout.clients.access import OPERATOR
from callout.clients.repository import ClientRepository
from callout.db.crypto import Binding, Keyring, KeySource, Sealed, parse_keys
from callout.db.engine import Database
from callout.db.models import Client, Secret
from callout.db.secrets import RotationReport, Vault, api_owner, request_owner, rotate
from callout.errors import SecretUnreadable
from callout.schemas import MASK, IfMatch
from callout.settings import Settings
from tests.factories import add_client, api_body, every_authorization, request_body, rsa_private_key

MARK = "<<secret>>"
Expected = dict[str, dict[str, str]]  # owner -> field -> plaintext


def file_keys(tmp_path: Path) -> KeySource:
    """Keys from a key file in the data dir, as `callout init` leaves them."""
    return Settings(data_dir=tmp_path / "data", secret_keys=None).key_source(create=True)


def authorizations() -> list[dict[str, Any]]:
    """Every scheme with every secret field set, plus OAuth 1.0a signing with an RSA key."""
    return [
        *every_authorization(MARK),
        {
            "type": "oauth1",
            "consumer_key": "ck-rsa",
            "signature_method": "RSA-SHA1",
            "rsa_private_key": MARK,
            "token": MARK,
            "token_secret": MARK,
        },
    ]


def distinct(auth: dict[str, Any], tag: str) -> dict[str, Any]:
    """The authorization with each secret its own value, so a swapped secret would show."""
    values = {}
    for name, value in auth.items():
        if value != MARK:
            values[name] = value
        elif name == "rsa_private_key":
            values[name] = rsa_private_key()
        else:
            values[name] = f"{tag}-{name}-value"
    return values


@dataclass
class Library:
    """What was stored: client ids by code, and each owner's secrets in plain text."""

    clients: dict[str, int] = field(default_factory=dict)
    expected: Expected = field(default_factory=dict)
    apis: dict[str, int] = field(default_factory=dict)  # API name -> id


def add_api(
    session: Session,
    keyring: Keyring,
    client: Client,
    library: Library,
    name: str,
    auth: dict[str, Any],
) -> int:
    header = f"{client.code}-{name}-header"
    base_url = (
        "https://api.livevox.example.com" if auth["type"] == "livevox" else api_body()["base_url"]
    )
    body = api_body(
        name=name,
        base_url=base_url,
        authorization=auth,
        headers=[
            {"name": "Accept", "value": "application/json"},
            {"name": "X-Api-Key", "value": header, "secret": True},
        ],
    )
    api = apis.create_api(session, keyring, OPERATOR, client, ApiWrite.model_validate(body))
    auth_secrets = {
        f"authorization.{k}": v
        for k, v in auth.items()
        if k in SCHEMES[auth["type"]].secret_fields()
    }
    library.expected[api_owner(api.id)] = {"headers.x-api-key": header, **auth_secrets}
    library.apis[name] = api.id

    token = f"{client.code}-{name}-request-token"
    request = request_service.create_request(
        session,
        keyring,
        OPERATOR,
        client,
        api.id,
        RequestWrite.model_validate(
            request_body(
                headers=[
                    {"name": "X-Request-Token", "value": token, "secret": True},
                    {"name": "X-Trace", "value": "plain"},
                ]
            )
        ),
    )
    library.expected[request_owner(request.id)] = {"headers.x-request-token": token}
    return api.id


def populate(database: Database, keyring: Keyring) -> Library:
    """Two clients; the first holds one API per authorization type, each with a request.

    The first API created ("Edited") has basic auth and a secret header, so its secrets
    have the lowest row ids: the first batch of a rotation reseals them.
    """
    library = Library()
    with database.transaction() as session:
        acme, globex = add_client(session, "acme"), add_client(session, "globex")
        library.clients = {"acme": acme.id, "globex": globex.id}
        add_api(
            session,
            keyring,
            acme,
            library,
            "Edited",
            {"type": "basic", "username": "alice", "password": "original-password"},
        )
        for number, auth in enumerate(authorizations()):
            tag = f"{auth['type']}{number}"
            add_api(session, keyring, acme, library, f"API {tag}", distinct(auth, tag))
        add_api(
            session,
            keyring,
            globex,
            library,
            "Globex API",
            {"type": "bearer", "token": "globex-bearer-token"},
        )
    return library


def stored_rows(database: Database) -> list[Secret]:
    with database.transaction() as session:
        return list(session.scalars(select(Secret).order_by(Secret.id)))


def revealed(database: Database, keyring: Keyring, owners: list[str]) -> Expected:
    """Each owner's secrets opened, through the vault of the client that owns them."""
    found: Expected = {owner: {} for owner in owners}
    with database.transaction() as session:
        pairs = session.execute(
            select(Secret.owner, Secret.client_id).where(Secret.owner.in_(owners)).distinct()
        ).all()
        for owner, client_id in pairs:
            found[owner] |= Vault(session, keyring, client_id).reveal_all(owner)
    return found


def only_active_key(tmp_path: Path) -> Keyring:
    """A keyring holding nothing but the active key: what remains once old keys are retired."""
    parsed = parse_keys((tmp_path / "data" / "secret-keys").read_text(), "key file")
    return Keyring(parsed[:1])


def test_library_holds_every_secret_type(scratch_database: Database, tmp_path: Path) -> None:
    keys = file_keys(tmp_path)
    library = populate(scratch_database, keys.keyring())
    fields = {f for secrets in library.expected.values() for f in secrets}
    assert fields == {
        "headers.x-api-key",
        "headers.x-request-token",
        "authorization.access_token",
        "authorization.password",
        "authorization.token",
        "authorization.consumer_secret",
        "authorization.token_secret",
        "authorization.rsa_private_key",
        "authorization.client_secret",
        "authorization.refresh_token",
    }
    assert len(stored_rows(scratch_database)) == sum(len(s) for s in library.expected.values())


def test_rotation_reseals_every_secret_under_the_new_key(
    scratch_database: Database, tmp_path: Path
) -> None:
    keys = file_keys(tmp_path)
    old_id = keys.keyring().active_id
    library = populate(scratch_database, keys.keyring())
    before = {row.id: row.ciphertext for row in stored_rows(scratch_database)}
    assert {row.key_id for row in stored_rows(scratch_database)} == {old_id}

    new_id = keys.add_key()
    report = rotate(scratch_database, keys)

    rows = stored_rows(scratch_database)
    assert report.resealed == len(rows) == len(before)
    assert report.retried == 0
    assert {row.key_id for row in rows} == {new_id}
    assert all(row.ciphertext != before[row.id] for row in rows)
    owners = list(library.expected)
    assert revealed(scratch_database, file_keys(tmp_path).keyring(), owners) == library.expected
    # The old key is no longer needed to read anything.
    assert revealed(scratch_database, only_active_key(tmp_path), owners) == library.expected


def test_rotation_in_small_batches_reseals_everything(
    scratch_database: Database, tmp_path: Path
) -> None:
    keys = file_keys(tmp_path)
    library = populate(scratch_database, keys.keyring())
    total = len(stored_rows(scratch_database))
    new_id = keys.add_key()

    report = rotate(scratch_database, keys, batch=4)

    assert report.resealed == total
    assert report.passes == -(-total // 4) + 1  # the last pass finds nothing left
    assert {row.key_id for row in stored_rows(scratch_database)} == {new_id}
    assert revealed(scratch_database, keys.keyring(), list(library.expected)) == library.expected


def test_rotating_again_reseals_nothing(scratch_database: Database, tmp_path: Path) -> None:
    keys = file_keys(tmp_path)
    populate(scratch_database, keys.keyring())
    keys.add_key()
    rotate(scratch_database, keys)

    again = rotate(scratch_database, keys)

    assert again == RotationReport(resealed=0, retried=0, passes=1)


def test_rotation_after_two_key_changes_leaves_no_row_on_either_old_key(
    scratch_database: Database, tmp_path: Path
) -> None:
    keys = file_keys(tmp_path)
    first = keys.keyring().active_id
    library = populate(scratch_database, keys.keyring())
    second = keys.add_key()
    with scratch_database.transaction() as session:  # some rows sealed under the second key
        acme = session.get_one(Client, library.clients["acme"])
        api_id = library.apis["Edited"]
        current = apis.get_api(session, acme, api_id)
        body = edit_body(current.name, "second-key-password")
        apis.update_api(
            session,
            keys.keyring(),
            OPERATOR,
            acme,
            api_id,
            IfMatch(frozenset({current.version})),
            body,
        )
    library.expected[api_owner(api_id)]["authorization.password"] = "second-key-password"
    assert {row.key_id for row in stored_rows(scratch_database)} == {first, second}
    third = keys.add_key()

    rotate(scratch_database, keys)

    assert {row.key_id for row in stored_rows(scratch_database)} == {third}
    assert revealed(scratch_database, only_active_key(tmp_path), list(library.expected)) == (
        library.expected
    )


# Ciphertexts are bound to their row


def copy_ciphertext(database: Database, source: Secret, target: Secret) -> None:
    with database.transaction() as session:
        session.execute(
            update(Secret)
            .where(Secret.id == target.id)
            .values(key_id=source.key_id, ciphertext=source.ciphertext)
        )


def row(rows: list[Secret], owner: str, field: str) -> Secret:
    [found] = [r for r in rows if r.owner == owner and r.field == field]
    return found


def test_ciphertext_copied_into_another_row_does_not_decrypt(
    scratch_database: Database, tmp_path: Path
) -> None:
    keys = file_keys(tmp_path)
    library = populate(scratch_database, keys.keyring())
    keys.add_key()
    rotate(scratch_database, keys)
    rows = stored_rows(scratch_database)
    edited = api_owner(library.apis["Edited"])
    other = api_owner(library.apis["API bearer3"])
    globex = api_owner(library.apis["Globex API"])
    request = next(o for o, s in library.expected.items() if "headers.x-request-token" in s)
    source = row(rows, edited, "headers.x-api-key")

    targets = {
        "same owner, another field": row(rows, edited, "authorization.password"),
        "another API, same field": row(rows, other, "headers.x-api-key"),
        "a request of the same client": row(rows, request, "headers.x-request-token"),
        "another client's API, same field": row(rows, globex, "headers.x-api-key"),
    }
    for where, target in targets.items():
        copy_ciphertext(scratch_database, source, target)
        with pytest.raises(SecretUnreadable) as caught:
            revealed(scratch_database, keys.keyring(), [target.owner])
        message = str(caught.value)
        assert message.startswith(f"{target.field}: "), where
        assert library.expected[edited]["headers.x-api-key"] not in message, where

    # The source row itself still reads: only the copies are refused.
    binding = Binding(source.client_id, source.owner, source.field)
    plain = keys.keyring().open(Sealed(source.key_id, source.ciphertext), binding)
    assert plain == library.expected[edited]["headers.x-api-key"]


def test_secret_row_handed_to_another_client_does_not_decrypt(
    scratch_database: Database, tmp_path: Path
) -> None:
    keys = file_keys(tmp_path)
    library = populate(scratch_database, keys.keyring())
    owner = api_owner(library.apis["Edited"])
    with scratch_database.transaction() as session:
        session.execute(
            update(Secret)
            .where(Secret.owner == owner, Secret.field == "authorization.password")
            .values(client_id=library.clients["globex"])
        )
    with pytest.raises(SecretUnreadable):
        revealed(scratch_database, keys.keyring(), [owner])


# An edit racing the rotation


def edit_body(name: str, password: str) -> ApiWrite:
    """The "Edited" API with a new password; its secret header sent back as the mask."""
    return ApiWrite.model_validate(
        api_body(
            name=name,
            authorization={"type": "basic", "username": "alice", "password": password},
            headers=[
                {"name": "Accept", "value": "application/json"},
                {"name": "X-Api-Key", "value": MASK, "secret": True},
            ],
        )
    )


def stale_edit(database: Database, stale: Keyring, api_id: int, password: str) -> None:
    """A writer that has not yet noticed the new key: it seals under the old one."""
    with database.transaction() as session:
        acme = ClientRepository(session).by_code("acme")
        assert acme is not None
        current = apis.get_api(session, acme, api_id)
        body = edit_body(current.name, password)
        apis.update_api(
            session, stale, OPERATOR, acme, api_id, IfMatch(frozenset({current.version})), body
        )


def during_rotation(database: Database, edit: Callable[[], None]) -> Callable[[], None]:
    """Arrange for `edit` to run once while `rotate` is under way; returns the un-hook.

    PostgreSQL: right after the rotation's SELECT of old-key rows, from another connection,
    so the edit commits inside the rotation's transaction, before its compare-and-swap.
    SQLite serializes writers (BEGIN IMMEDIATE), so there the edit runs as soon as the
    rotation's first batch commits, re-staling a row that batch had already resealed.
    """
    fired: list[bool] = []

    def once() -> None:
        if not fired:
            fired.append(True)
            edit()

    if make_url(database.url).get_backend_name() == "postgresql":

        def after_select(
            _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
        ) -> None:
            if "FROM secrets" in statement and "key_id !=" in statement:
                once()

        event.listen(database.engine, "after_cursor_execute", after_select)
        return lambda: event.remove(database.engine, "after_cursor_execute", after_select)

    def after_commit(_session: Session) -> None:
        once()

    event.listen(database.sessions, "after_commit", after_commit)
    return lambda: event.remove(database.sessions, "after_commit", after_commit)


def test_edit_during_rotation_is_neither_lost_nor_left_under_the_old_key(
    scratch_database: Database, tmp_path: Path
) -> None:
    keys = file_keys(tmp_path)
    stale = keys.keyring()
    library = populate(scratch_database, stale)
    api_id = library.apis["Edited"]
    owner = api_owner(api_id)
    total = len(stored_rows(scratch_database))
    new_id = keys.add_key()
    postgres = make_url(scratch_database.url).get_backend_name() == "postgresql"

    unhook = during_rotation(
        scratch_database, lambda: stale_edit(scratch_database, stale, api_id, "edited-password")
    )
    try:
        report = rotate(scratch_database, keys, batch=200 if postgres else 3)
    finally:
        unhook()

    rows = stored_rows(scratch_database)
    password = row(rows, owner, "authorization.password")
    assert password.key_id == new_id
    assert {r.key_id for r in rows} == {new_id}
    library.expected[owner]["authorization.password"] = "edited-password"
    assert revealed(scratch_database, only_active_key(tmp_path), list(library.expected)) == (
        library.expected
    )
    if postgres:
        # The swap of the edited row missed (its ciphertext had changed); the next pass
        # read the edit and resealed it.
        assert report.retried == 1
        assert report.resealed == total
        assert report.passes == 3
    else:
        # The first batch had resealed the row; the edit put it back under the old key and a
        # later pass resealed it again.
        assert report.retried == 0
        assert report.resealed == total + 1
        assert report.passes >= 2
    with scratch_database.transaction() as session:
        count = session.scalar(select(func.count()).select_from(Secret))
    assert count == total


# A row no key opens


def test_rotation_reseals_every_readable_secret_and_reports_the_one_no_key_opens(
    scratch_database: Database, tmp_path: Path
) -> None:
    keys = file_keys(tmp_path)
    old_key = keys.keyring().active_id
    with scratch_database.transaction() as session:
        client = add_client(session, "acme")
        api = apis.create_api(
            session,
            keys.keyring(),
            OPERATOR,
            client,
            ApiWrite.model_validate(
                api_body(
                    authorization={"type": "bearer", "token": "token-value"},
                    headers=[{"name": "X-Api-Key", "value": "key-value", "secret": True}],
                )
            ),
        )
        request = request_service.create_request(
            session,
            keys.keyring(),
            OPERATOR,
            client,
            api.id,
            RequestWrite.model_validate(
                request_body(
                    headers=[{"name": "X-Request-Token", "value": "request-value", "secret": True}]
                )
            ),
        )

    # The first row (the first a rotation meets) altered: its tag no longer verifies.
    with scratch_database.transaction() as session:
        bad = session.scalars(select(Secret).order_by(Secret.id).limit(1)).one()
        raw = bytearray(base64.b64decode(bad.ciphertext))
        raw[-1] ^= 0x01
        altered = base64.b64encode(bytes(raw)).decode()
        session.execute(update(Secret).where(Secret.id == bad.id).values(ciphertext=altered))
        bad_id, bad_name = bad.id, f"{bad.owner} {bad.field}"

    new_key = keys.add_key()
    report = rotate(scratch_database, keys, batch=1)

    assert report.unreadable == [f"row {bad_id} ({bad_name})"]
    assert report.resealed == 2
    keyring = keys.keyring()
    with scratch_database.transaction() as session:
        rows = session.scalars(select(Secret).order_by(Secret.id)).all()
        assert [(row.id, row.key_id) for row in rows] == [
            (row.id, old_key if row.id == bad_id else new_key) for row in rows
        ]
        assert rows[0].ciphertext == altered
        opened = {
            f"{row.owner} {row.field}": keyring.open(
                Sealed(row.key_id, row.ciphertext), Binding(row.client_id, row.owner, row.field)
            )
            for row in rows[1:]
        }
    expected = {
        f"{api_owner(api.id)} authorization.token": "token-value",
        f"{api_owner(api.id)} headers.x-api-key": "key-value",
        f"{request_owner(request.id)} headers.x-request-token": "request-value",
    }
    assert opened == {name: value for name, value in expected.items() if name != bad_name}
    assert bad_name in expected
