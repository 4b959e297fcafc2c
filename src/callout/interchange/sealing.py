"""Secrets in an exported file, sealed under a passphrase (`--with-secrets`).

scrypt (RFC 7914, memory-hard: each guess at the passphrase costs 128 MiB and a fraction of
a second) derives a 256-bit key from the passphrase and a random salt; AES-256-GCM seals a
JSON object of the secret values, bound to the API's name in the file, so a sealed block
moved into another API's file does not open. One key is derived per export (every file
carries the same salt) and opened keys are kept per salt, so a library of many APIs costs
one derivation each way, not one per file.
"""

import base64
import json
import os
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from callout.errors import Invalid
from callout.interchange.schemas import SealedSecrets

# OWASP's password storage cheat sheet: N=2^17, r=8, p=1.
N, R, P = 2**17, 8, 1
MIN_PASSPHRASE = 12


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def _aad(name: str) -> bytes:
    return b"callout-secrets/1:" + name.encode()


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise Invalid.field(
            "passphrase", f"must have at least {MIN_PASSPHRASE} characters to seal secrets"
        )


class Sealer:
    """Seals each exported API's secrets under one key derived from the passphrase."""

    def __init__(self, passphrase: str) -> None:
        check_passphrase(passphrase)
        self._salt = os.urandom(16)
        self._aead = AESGCM(_key(passphrase, self._salt, N, R, P))

    def seal(self, name: str, values: dict[str, Any]) -> SealedSecrets:
        nonce = os.urandom(12)
        plain = json.dumps(values, sort_keys=True, ensure_ascii=False).encode()
        sealed = self._aead.encrypt(nonce, plain, _aad(name))
        return SealedSecrets(
            n=N, r=R, p=P, salt=_b64(self._salt), nonce=_b64(nonce), ciphertext=_b64(sealed)
        )


class Opener:
    """Opens sealed secrets with the passphrase, deriving each salt's key once."""

    def __init__(self, passphrase: str | Callable[[], str] | None) -> None:
        """`passphrase` may be a function that asks for it: it is asked once, and only if
        a file holds sealed secrets."""
        self._passphrase = passphrase
        self._keys: dict[tuple[str, int, int, int], AESGCM] = {}

    def open(self, source: str, name: str, sealed: SealedSecrets) -> dict[str, Any]:
        where = f"{source}: secrets"
        if callable(self._passphrase):
            self._passphrase = self._passphrase()
        if self._passphrase is None:
            raise Invalid.field(
                where,
                "the file holds sealed secrets: import it with `callout import "
                "--passphrase-file` (REST and the web UI take no passphrase), or export it "
                "again without --with-secrets",
            )
        try:
            salt, nonce, ciphertext = (
                base64.b64decode(text, validate=True)
                for text in (sealed.salt, sealed.nonce, sealed.ciphertext)
            )
        except ValueError:
            raise Invalid.field(where, "is not base64") from None
        slot = (sealed.salt, sealed.n, sealed.r, sealed.p)
        if slot not in self._keys:
            key = _key(self._passphrase, salt, sealed.n, sealed.r, sealed.p)
            self._keys[slot] = AESGCM(key)
        try:
            plain = self._keys[slot].decrypt(nonce, ciphertext, _aad(name))
        except (InvalidTag, ValueError):
            raise Invalid.field(
                where, "do not open: a wrong passphrase, or the file was changed"
            ) from None
        values = json.loads(plain)
        if not isinstance(values, dict):
            raise Invalid.field(where, "do not hold an object of secrets")
        return values


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
