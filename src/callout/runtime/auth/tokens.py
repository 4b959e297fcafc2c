"""Where tokens and sessions live between calls: one small store interface.

The in-process store below serves one worker. A shared store (Redis) can replace it for many
workers without touching the schemes: they only `get`, `put`, `expire`, take `flight` and
read `now`.

`flight(key)` is single flight, Callout's own: while one call fetches a token for a key,
the others wait for it and then read what it stored, so a thousand cold calls make one
token request. (Authlib's refresh lock is per client instance, and there is one instance
per call here, so it cannot give this.)

`now()` is the store's clock, which every credential's times are read against: time.time(),
unless a test moves it.

A login or grant the provider refused is noted beside the key for `HOLD_OFF` seconds, and
not sent again meanwhile: sending refused credentials once per call would soon lock the
account on many providers. Keys carry the API's version, so corrected credentials are tried
at once.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Protocol

from callout.runtime.errors import AuthError

HOLD_OFF = 30.0  # seconds refused credentials are not sent again
REFUSED = ":refused"  # beside a key: the refusal noted for it


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose credentials: a client's API as it is now (a change to the API is a new version,
    so its tokens are new too)."""

    client_id: int
    api_id: int
    api_version: int

    def key(self, scheme: str) -> str:
        """Where the store keeps this owner's token or session for `scheme`."""
        return f"{scheme}:{self.client_id}:{self.api_id}:{self.api_version}"


@dataclass(frozen=True)
class Credential:
    """A token or session as obtained: the value sent, and when to renew it."""

    value: str = field(repr=False)
    obtained: float  # the store's `now()` when it arrived
    renew_at: float  # from here a call still uses it, and a renewal starts in the background
    expires_at: float  # from here a call waits for a new one
    refresh_token: str | None = field(default=None, repr=False)

    def fresh(self, now: float) -> bool:
        return now < self.renew_at

    def usable(self, now: float) -> bool:
        return now < self.expires_at

    def extended(self, now: float, seconds: float) -> "Credential":
        """A session kept alive by use (LiveVox: valid while used within a rolling window)."""
        return replace(self, renew_at=now + seconds, expires_at=now + seconds)


def lifetime(
    obtained: float, expires_in: float | None, default: float = 3600.0
) -> tuple[float, float]:
    """(renew_at, expires_at) for a token valid `expires_in` seconds from `obtained`.

    Renewal starts a fifth of the lifetime (at most a minute) before expiry; a call waits only
    in the last twentieth (at most 5 s), kept for clock skew and the request's own flight.
    """
    seconds = float(expires_in) if expires_in and expires_in > 0 else default
    expires_at = obtained + seconds - min(5.0, seconds * 0.05)
    return obtained + seconds - min(60.0, seconds * 0.2), expires_at


class TokenStore(Protocol):
    def now(self) -> float:
        """What time it is for the credentials kept here, in time.time()'s seconds."""

    async def get(self, key: str) -> Credential | None:
        """The key's credential, expired or not: an expired one may still hold a refresh
        token."""

    async def put(self, key: str, credential: Credential) -> None: ...

    async def expire(self, key: str, credential: Credential) -> None:
        """Mark the key's credential expired, if it is still this one (a refused token)."""

    async def take(self, key: str) -> Credential | None:
        """The key's credential, removed: of callers taking it at once, one gets it (an
        authorization's state, good for one redirect)."""

    def flight(self, key: str) -> AbstractAsyncContextManager[None]:
        """Held while one call obtains the key's credential; the others wait."""

    def in_flight(self, key: str) -> bool: ...


class MemoryTokenStore:
    """Tokens in this process's memory: never written anywhere, gone on restart."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._credentials: dict[str, Credential] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def now(self) -> float:
        return self._clock()

    async def get(self, key: str) -> Credential | None:
        return self._credentials.get(key)

    async def put(self, key: str, credential: Credential) -> None:
        self._credentials[key] = credential

    async def expire(self, key: str, credential: Credential) -> None:
        if self._credentials.get(key) is credential:
            self._credentials[key] = replace(credential, renew_at=0.0, expires_at=0.0)

    async def take(self, key: str) -> Credential | None:
        return self._credentials.pop(key, None)

    @asynccontextmanager
    async def flight(self, key: str) -> AsyncIterator[None]:
        # One lock per key, kept: keys are API versions, a few per API over its life.
        async with self._locks.setdefault(key, asyncio.Lock()):
            yield

    def in_flight(self, key: str) -> bool:
        lock = self._locks.get(key)
        return lock is not None and lock.locked()


async def held_off(store: TokenStore, key: str, version: int) -> None:
    """Refuse at once while a refusal of these credentials (the API's `version`) is noted
    for `key`. The message names the version: a call that still sends an older one than the
    user just saved says so, rather than blaming the corrected credentials."""
    noted = await store.get(key + REFUSED)
    now = store.now()
    if noted is not None and noted.usable(now):
        raise AuthError(
            f"{noted.value}; the credentials of API version {version} are not sent again "
            f"for {noted.expires_at - now:.0f} s (saving corrected ones makes a new version, "
            "tried at once)"
        )


async def note_refusal(store: TokenStore, key: str, message: str) -> None:
    """Note that the provider refused the credentials behind `key`, saying `message`."""
    now = store.now()
    await store.put(key + REFUSED, Credential(message, now, now + HOLD_OFF, now + HOLD_OFF))
