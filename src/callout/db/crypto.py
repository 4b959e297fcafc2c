"""AES-GCM encryption of stored secrets, each ciphertext bound to where it belongs.

Fernet cannot carry associated data, so a Fernet token copied into another row would still
decrypt. Here the associated data names the client, the owning object, the field and the key
id; the same ciphertext read for any other place fails its authentication tag:

    seal("s3cret", Binding(client_id=7, owner="api:12", field="authorization.password"))
    # opens only as client 7 / api:12 / authorization.password, under that key id

Keys come from `CALLOUT_SECRET_KEYS` or from the key file in the data dir (created on first run
with mode 0600), as `key_id:base64(32 bytes)` entries; the first one encrypts, all decrypt.
"""

import base64
import fcntl
import hashlib
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callout.errors import SecretUnreadable

NONCE_BYTES = 12
KEY_BYTES = 32
# Values people paste from examples; a key like this protects nothing.
PLACEHOLDER_KEYS = frozenset({"changethis", "change-me", "changeme", "secret", "example"})


@dataclass(frozen=True)
class Binding:
    """Where a secret belongs: the associated data its ciphertext is sealed to."""

    client_id: int
    owner: str
    field: str

    def associated_data(self, key_id: str) -> bytes:
        return json.dumps(
            ["callout-secret/1", self.client_id, self.owner, self.field, key_id],
            separators=(",", ":"),
        ).encode()


@dataclass(frozen=True)
class Sealed:
    key_id: str
    ciphertext: str


class KeyMaterialError(ValueError):
    """A key entry is malformed; the message says which one and why."""


def parse_keys(
    text: str, source: str, *, allow_placeholders: bool = False
) -> list[tuple[str, bytes]]:
    """Parse `key_id:base64` entries separated by commas or newlines, first one active.

    A placeholder such as `dev:changethis` is refused, except in development, where it
    stands for a key derived from it: convenient, and worthless as protection.
    """
    keys: list[tuple[str, bytes]] = []
    for number, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        key_id, sep, material = entry.partition(":")
        if not sep or not key_id.strip():
            raise KeyMaterialError(f"{source}: entry {number} is not `key_id:base64key`")
        if material.strip().lower() in PLACEHOLDER_KEYS:
            if not allow_placeholders:
                raise KeyMaterialError(
                    f"{source}: key {key_id.strip()!r} is a placeholder; generate one with "
                    "`callout keys generate` (placeholders are accepted only when "
                    "CALLOUT_ENVIRONMENT=development)"
                )
            keys.append((key_id.strip(), hashlib.sha256(material.strip().encode()).digest()))
            continue
        try:
            key = base64.b64decode(material.strip(), validate=True)
        except ValueError:
            raise KeyMaterialError(f"{source}: key {key_id.strip()!r} is not base64") from None
        if len(key) != KEY_BYTES:
            raise KeyMaterialError(
                f"{source}: key {key_id.strip()!r} is {len(key)} bytes; AES-256 needs 32"
            )
        keys.append((key_id.strip(), key))
    if not keys:
        raise KeyMaterialError(f"{source}: no keys")
    if len({k for k, _ in keys}) != len(keys):
        raise KeyMaterialError(f"{source}: key ids repeat")
    return keys


def generate_entry() -> str:
    """A fresh `key_id:base64key` entry."""
    key_id = "k" + secrets.token_hex(4)
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class Keyring:
    """The keys that seal and open secrets; the first one seals."""

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        self._keys = dict(keys)
        self.active_id = keys[0][0]
        self._active = AESGCM(keys[0][1])

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def seal(self, plaintext: str, binding: Binding) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        box = self._active.encrypt(
            nonce, plaintext.encode(), binding.associated_data(self.active_id)
        )
        return Sealed(self.active_id, base64.b64encode(nonce + box).decode())

    def open(self, sealed: Sealed, binding: Binding) -> str:
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise SecretUnreadable(
                f"{binding.field}: sealed under key {sealed.key_id!r}, which this keyring lacks"
            )
        try:
            raw = base64.b64decode(sealed.ciphertext)
            plain = AESGCM(key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], binding.associated_data(sealed.key_id)
            )
        except (InvalidTag, ValueError):
            raise SecretUnreadable(
                f"{binding.field}: ciphertext does not belong here or was altered"
            ) from None
        return plain.decode()


class KeySource:
    """The keyring: the keys given (`CALLOUT_SECRET_KEYS`, parsed), or else the key file,
    reloaded when it changes.

    A rotation run by `callout keys rotate` rewrites the key file; a server that is running
    picks the new key up on its next seal or open, so it neither fails to read rows the
    rotation re-sealed nor keeps sealing under the retired key.

    Only `callout init` creates the key file (`create=True`): a missing file anywhere else
    is an error, never a fresh key that would leave every stored secret unreadable.
    """

    def __init__(
        self,
        key_file: Path,
        keys: list[tuple[str, bytes]] | None = None,
        *,
        create: bool = False,
    ) -> None:
        self._key_file = key_file
        self._given = Keyring(keys) if keys is not None else None
        self._create = create
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keyring: Keyring | None = None

    def keyring(self) -> Keyring:
        if self._given is not None:
            return self._given
        path = self._key_file
        with self._lock:
            stamp = _stamp(path)
            if stamp is None and self._create:
                with _locked(path):
                    if _stamp(path) is None:
                        write_key_file(path, [generate_entry()])
                stamp = _stamp(path)
            if stamp is None:
                raise KeyMaterialError(
                    f"no key file at {path}: run `callout init`, or restore it from the backup "
                    "taken with the database"
                )
            if self._keyring is None or stamp != self._stamp:
                self._keyring = Keyring(parse_keys(_read_private(path), str(path)))
                self._stamp = stamp
            return self._keyring

    @property
    def file_based(self) -> bool:
        return self._given is None

    def add_key(self) -> str:
        """Put a new key first in the key file; returns its id. Old keys stay to open old rows.

        Under an exclusive lock on the key file, so two rotations at once both keep their keys.
        """
        path = self._key_file
        with _locked(path):
            lines = [line for line in _read_private(path).splitlines() if line.strip()]
            entry = generate_entry()
            write_key_file(path, [entry, *lines])
        return entry.partition(":")[0]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between processes, held on a file beside the key file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_private(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyMaterialError(
            f"{path} is readable by others (mode {mode:04o}); run `chmod 600 {path}`"
        )
    return path.read_text()


def _stamp(path: Path) -> tuple[int, int] | None:
    """The key file's identity: a rewrite replaces the inode, so this changes with it."""
    try:
        found = path.stat()
        return found.st_ino, found.st_mtime_ns
    except FileNotFoundError:
        return None


def write_key_file(path: Path, entries: list[str]) -> None:
    """Write the key file atomically, readable by its owner only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(entries) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
