"""Stored secrets: sealed on write, opened only to build an outgoing request or a copy.

Every row is bound (AES-GCM associated data) to its client, owner and field; see `crypto`.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from callout.db.crypto import Binding, Keyring, KeySource, Sealed
from callout.db.engine import Database
from callout.db.models import Secret
from callout.errors import SecretUnreadable


def api_owner(api_id: int) -> str:
    return f"api:{api_id}"


def request_owner(request_id: int) -> str:
    return f"request:{request_id}"


def stored_fields(session: Session, client_id: int, owners: Iterable[str]) -> dict[str, set[str]]:
    """Which fields of these owners hold a stored secret; nothing is decrypted."""
    found: dict[str, set[str]] = defaultdict(set)
    owners = list(owners)
    if owners:
        rows = session.execute(
            select(Secret.owner, Secret.field).where(
                Secret.client_id == client_id, Secret.owner.in_(owners)
            )
        )
        for owner, name in rows:
            found[owner].add(name)
    return found


class Vault:
    """Sealing and opening one client's secrets, in the caller's unit of work.

    Every query is the client's: a secret row of another client is never read, whatever
    owner name is asked for.
    """

    def __init__(self, session: Session, keyring: Keyring, client_id: int) -> None:
        self.session = session
        self.keyring = keyring
        self.client_id = client_id

    def readable(self) -> Select[Secret]:
        return select(Secret).where(Secret.client_id == self.client_id)

    def put(self, api_id: int, request_id: int | None, field: str, plaintext: str) -> None:
        owner = request_owner(request_id) if request_id else api_owner(api_id)
        sealed = self.keyring.seal(plaintext, Binding(self.client_id, owner, field))
        row = self.session.scalar(
            self.readable().where(Secret.owner == owner, Secret.field == field)
        )
        if row is None:
            self.session.add(
                Secret(
                    client_id=self.client_id,
                    api_id=api_id,
                    request_id=request_id,
                    owner=owner,
                    field=field,
                    key_id=sealed.key_id,
                    ciphertext=sealed.ciphertext,
                )
            )
        else:
            row.key_id, row.ciphertext = sealed.key_id, sealed.ciphertext
        self.session.flush()

    def keep_only(self, owner: str, fields: set[str]) -> None:
        """Drop the owner's secrets for fields no longer in use."""
        self.session.execute(
            delete(Secret).where(
                Secret.client_id == self.client_id,
                Secret.owner == owner,
                Secret.field.not_in(fields),
            )
        )

    def swap(self, api_id: int, field: str, expected: str | None, new: str) -> bool:
        """Seal `new` as the API's `field` if the row still holds `expected` (anything, when
        `expected` is None): one compare-and-swap, so of two writers racing, one wins and
        the other learns it lost. Returns whether `new` was stored."""
        owner = api_owner(api_id)
        row = self.session.scalar(
            self.readable().where(Secret.owner == owner, Secret.field == field)
        )
        if row is None:
            if expected is not None:
                return False  # removed meanwhile: an admin changed the authorization
            self.put(api_id, None, field, new)
            return True
        binding = Binding(self.client_id, owner, field)
        current = self.keyring.open(Sealed(row.key_id, row.ciphertext), binding)
        if expected is not None and current != expected:
            return False
        sealed = self.keyring.seal(new, binding)
        swapped = self.session.execute(
            update(Secret)
            .where(Secret.id == row.id, Secret.ciphertext == row.ciphertext)
            .values(key_id=sealed.key_id, ciphertext=sealed.ciphertext)
            .execution_options(synchronize_session=False)
        )
        return swapped.rowcount == 1  # type: ignore[attr-defined,no-any-return]

    def reveal_all(self, owner: str) -> dict[str, str]:
        """The owner's secrets in plain text: for an outgoing request or a copy, nothing else."""
        rows = self.session.scalars(self.readable().where(Secret.owner == owner)).all()
        return {
            row.field: self.keyring.open(
                Sealed(row.key_id, row.ciphertext), Binding(row.client_id, row.owner, row.field)
            )
            for row in rows
        }


@dataclass
class RotationReport:
    resealed: int = 0
    retried: int = 0
    passes: int = 0
    unreadable: list[str] = field(default_factory=list)  # "row 12 (api:7 authorization.token)"


def rotate(database: Database, keys: KeySource, batch: int = 200) -> RotationReport:
    """Reseal every secret not under the active key, one compare-and-swap per row.

    Each row is rewritten only if its ciphertext is still the one read; a row an edit changed
    meanwhile is read again on the next pass, so the edit survives and, if it was sealed
    under an old key, is resealed too. Passes repeat until no row is left under an old key.
    A row no key opens is left as it is and reported; the others are still resealed.
    """
    report = RotationReport()
    skipped: set[int] = set()
    while True:
        keyring = keys.keyring()
        report.passes += 1
        with database.transaction() as session:
            rows = session.execute(
                select(
                    Secret.id,
                    Secret.client_id,
                    Secret.owner,
                    Secret.field,
                    Secret.key_id,
                    Secret.ciphertext,
                )
                .where(Secret.key_id != keyring.active_id, Secret.id.not_in(skipped))
                .order_by(Secret.id)
                .limit(batch)
            ).all()
            for row in rows:
                binding = Binding(row.client_id, row.owner, row.field)
                try:
                    plain = keyring.open(Sealed(row.key_id, row.ciphertext), binding)
                except SecretUnreadable:
                    skipped.add(row.id)
                    report.unreadable.append(f"row {row.id} ({row.owner} {row.field})")
                    continue
                sealed = keyring.seal(plain, binding)
                swapped = session.execute(
                    update(Secret)
                    .where(Secret.id == row.id, Secret.ciphertext == row.ciphertext)
                    .values(key_id=sealed.key_id, ciphertext=sealed.ciphertext)
                    .execution_options(synchronize_session=False)
                )
                if swapped.rowcount == 1:  # type: ignore[attr-defined]
                    report.resealed += 1
                else:
                    report.retried += 1
        if not rows:
            return report
