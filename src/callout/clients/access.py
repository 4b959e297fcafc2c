"""Who is calling: API keys, their roles, and the principal a request acts as.

A key is `callout_<prefix>_<secret>` with 256 random bits. Only its SHA-256 digest is kept:
a fast hash is right for a random key of that length (nothing to brute-force, unlike a
password), and keeps authentication off the request's critical path.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from callout.errors import Forbidden

Role = Literal["viewer", "editor", "admin", "platform"]
RANK: dict[str, int] = {"viewer": 1, "editor": 2, "admin": 3, "platform": 4}
KEY_START = "callout_"


@dataclass(frozen=True)
class Principal:
    """The key a request acts as; `client_id` is None for a platform-admin key."""

    name: str
    role: Role
    client_id: int | None

    @property
    def actor(self) -> str:
        return f"key:{self.name}"

    @property
    def is_platform(self) -> bool:
        return self.role == "platform"

    def require(self, role: Role) -> None:
        if RANK[self.role] < RANK[role]:
            raise Forbidden(f"this needs the {role} role; the key {self.name!r} is {self.role}")


# Work done outside any request (CLI, set-up) acts with full rights under this name.
OPERATOR = Principal(name="operator", role="platform", client_id=None)


def new_key() -> tuple[str, str, str]:
    """A fresh key: (the key, its lookup prefix, its digest)."""
    prefix = secrets.token_hex(6)
    key = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, digest(key)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def prefix_of(key: str) -> str | None:
    if not key.startswith(KEY_START):
        return None
    prefix, sep, rest = key.removeprefix(KEY_START).partition("_")
    return prefix if sep and rest else None


def matches(key: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(key), stored_digest)
