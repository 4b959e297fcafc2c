"""Tokens and sessions in Redis, shared by every process: the TokenStore of
runtime/auth/tokens.py when CALLOUT_REDIS_URL is set. The schemes do not change.

Each credential (an OAuth 2.0 token with its refresh token, a LiveVox session, a refusal
noted for a hold-off) is one Redis string, `{namespace}:credential:{key}`, sealed with the
database's keyring (AES-GCM, the Redis key bound in as associated data): Redis holds no
plaintext secret. It expires in Redis when it expires (one holding a refresh token is kept
REFRESH_KEEP longer, to renew by).

Single flight over every process: `flight(key)` is

  1. within the process, one call at a time per key (an asyncio.Lock, as in memory), so a
     thousand waiting calls in one process make one contender in Redis;
  2. over the processes, a lock in Redis, `{namespace}:lock:{key}`, taken only when absent,
     holding a fence number (INCR of `{namespace}:fence:{key}`) and a lease of LEASE
     seconds that the holder renews every third of it while it works, so a crashed holder
     frees the key within LEASE;
  3. fenced: inside its flight a process writes the key's credential only while the lock
     still holds its fence (one script checks and writes), so a holder that stalled past its
     lease, while another took the key and stored a newer token, cannot overwrite it, and
     two processes never store different refresh tokens;
  4. released by deleting the lock (if still its own) and publishing the key on
     `{namespace}:flights`: a process waiting for that key tries again at once. A waiter
     that hears nothing tries again every POLL seconds: a lost message costs a poll.

A write outside a flight of its key (a LiveVox session extended by use, a refusal noted, a
refused token expired) is a compare-and-swap: it replaces only the value this process last
read there, so an old session's extension never overwrites a new login's session.

A warm token costs at most one round trip per call (a GET), and calls that read the same key
at the same time share one GET, unless the call is inside a flight: what it reads there
must be newer than the lock it took. The value read last for each key is kept with its
opened credential, so an unchanged value is not opened again, and is the same object (the
schemes compare by identity to see "renewed meanwhile").

Redis down (runtime/shared/link.py) means the per-process store, as without Redis: calls go
on, and each process obtains its own tokens until Redis is back.
"""

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from dataclasses import replace
from typing import Protocol

from callout.runtime.auth.tokens import Credential, MemoryTokenStore
from callout.runtime.shared.link import Down, Link

LEASE = 5.0  # seconds a flight's lock outlives a holder that stopped renewing it
POLL = 0.2  # seconds a waiter that heard nothing waits before trying the lock again
REFRESH_KEEP = 24 * 3600.0  # seconds an expired token's refresh token is kept to renew by

# Take the lock if it is free: a new fence number, and the lease. 0: held by another.
ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 86400000)
redis.call('SET', KEYS[1], fence, 'PX', ARGV[1])
return fence
"""
# Extend the lease, if the lock still holds this fence.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Free the lock, if it still holds this fence, and wake the waiters.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"""
# Write (or, with a lifetime of 0, delete) the credential if the lock still holds the fence.
FENCED = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then redis.call('DEL', KEYS[1])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
"""
# Write (or delete) the credential if it is still the value read ('' for none).
SWAP = """
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then redis.call('DEL', KEYS[1])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
"""

# The fence of each flight the running task holds, by key (0 while Redis was down when it
# was taken): a write inside it is fenced, and a read inside it shares no GET.
_fences: ContextVar[dict[str, int]] = ContextVar("callout_fences")


class Sealer(Protocol):
    """Seals a credential for Redis, bound to where it is kept (the database's keyring)."""

    def seal(self, text: str, where: str) -> bytes: ...

    def open(self, sealed: bytes, where: str) -> str | None:
        """The text, or None when no key opens it here (retired key, or moved or altered)."""


class RedisTokenStore:
    """Tokens and sessions every process shares; the process's own while Redis is down."""

    def __init__(self, link: Link, sealer: Sealer, clock: Callable[[], float]) -> None:
        self.link = link
        self.sealer = sealer
        self.local = MemoryTokenStore(clock)
        self._clock = clock
        self._read: dict[str, tuple[bytes, Credential]] = {}  # the last value read, opened
        self._reading: dict[str, asyncio.Future[bytes | None]] = {}
        self._woken: dict[str, asyncio.Event] = {}
        self._acquire = link.script(ACQUIRE)
        self._renew = link.script(RENEW)
        self._release = link.script(RELEASE)
        self._fenced = link.script(FENCED)
        self._swap = link.script(SWAP)
        self._flights = link.key("flights")
        link.subscribe(self._flights, self._heard)

    def now(self) -> float:
        return self._clock()

    async def get(self, key: str) -> Credential | None:
        try:
            raw = await self._raw(key)
        except Down:
            return await self.local.get(key)
        read = self._read.get(key)
        if raw is None:
            self._read.pop(key, None)
            return None
        if read is not None and read[0] == raw:
            return read[1]
        credential = self._opened(raw, self.link.key("credential", key))
        if credential is None:
            self._read.pop(key, None)
            return None
        self._read[key] = (raw, credential)
        return credential

    async def put(self, key: str, credential: Credential) -> None:
        await self._write(key, credential)

    async def take(self, key: str) -> Credential | None:
        name = self.link.key("credential", key)
        try:
            raw: bytes | None = await self.link.call(lambda r: r.getdel(name))
        except Down:
            return await self.local.take(key)
        self._read.pop(key, None)
        if raw is None:  # perhaps kept here while Redis was down
            return await self.local.take(key)
        return self._opened(raw, name)

    async def expire(self, key: str, credential: Credential) -> None:
        read = self._read.get(key)
        if read is None or read[1] is not credential:
            await self.local.expire(key, credential)  # not read from Redis: the local one
            return
        await self._write(key, replace(credential, renew_at=0.0, expires_at=0.0))

    @asynccontextmanager
    async def flight(self, key: str) -> AsyncIterator[None]:
        async with self.local.flight(key):
            fence = await self._take(key)
            token = _fences.set(_fences.get({}) | {key: fence})
            renewing = asyncio.create_task(self._keep(key, fence)) if fence else None
            try:
                yield
            finally:
                _fences.reset(token)
                if renewing is not None:
                    renewing.cancel()
                    await self._give_back(key, fence)

    def in_flight(self, key: str) -> bool:
        return self.local.in_flight(key)

    async def _raw(self, key: str) -> bytes | None:
        """The key's value in Redis: one GET for every call that asks at the same time,
        outside a flight."""
        name = self.link.key("credential", key)
        if _fences.get({}):
            value: bytes | None = await self.link.call(lambda r: r.get(name))
            return value
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.ensure_future(self.link.call(lambda r: r.get(name)))
            self._reading[key] = reading
            reading.add_done_callback(lambda done: self._done_reading(key, done))
        return await asyncio.shield(reading)

    def _done_reading(self, key: str, done: asyncio.Future[bytes | None]) -> None:
        self._reading.pop(key, None)
        if not done.cancelled():
            done.exception()  # seen, even when every caller has gone (cancelled)

    async def _write(self, key: str, credential: Credential) -> None:
        name = self.link.key("credential", key)
        sealed = self.sealer.seal(_text(credential), name)
        life = _lifetime_ms(credential, self.now())
        fence = _fences.get({}).get(key)
        try:
            if fence:
                lock = self.link.key("lock", key)
                fenced: list[bytes | int] = [fence, sealed, life]
                await self.link.call(lambda r: self._fenced([name, lock], fenced, r))
            else:
                read = self._read.get(key)
                swapped: list[bytes | int] = [read[0] if read else b"", sealed, life]
                await self.link.call(lambda r: self._swap([name], swapped, r))
        except Down:
            await self.local.put(key, credential)
            return
        # Whether it was written or a newer value kept, the next read shows what is there.
        self._read.pop(key, None)

    async def _take(self, key: str) -> int:
        """The key's lock in Redis, waiting while another process holds it: its fence, or
        0 when Redis is down (the process's own lock is then the flight)."""
        lock, fences = self.link.key("lock", key), self.link.key("fence", key)
        lease = int(LEASE * 1000)
        woken = self._woken.setdefault(key, asyncio.Event())
        while True:
            woken.clear()
            try:
                fence: int = await self.link.call(
                    lambda r: self._acquire([lock, fences], [lease], r)
                )
            except Down:
                return 0
            if fence:
                return fence
            with suppress(TimeoutError):
                async with asyncio.timeout(POLL):
                    await woken.wait()

    async def _keep(self, key: str, fence: int) -> None:
        """Renew the lease while the flight lasts."""
        lock, lease = self.link.key("lock", key), int(LEASE * 1000)
        while True:
            await asyncio.sleep(LEASE / 3)
            with suppress(Down):
                await self.link.call(lambda r: self._renew([lock], [fence, lease], r))

    async def _give_back(self, key: str, fence: int) -> None:
        lock = self.link.key("lock", key)
        with suppress(Down):  # the lease ends it
            await self.link.call(lambda r: self._release([lock], [fence, self._flights, key], r))

    def _heard(self, data: bytes) -> None:
        woken = self._woken.get(data.decode())
        if woken is not None:
            woken.set()

    def _opened(self, raw: bytes, name: str) -> Credential | None:
        text = self.sealer.open(raw, name)
        if text is None:
            return None
        fields = json.loads(text)
        return Credential(fields["v"], fields["o"], fields["r"], fields["e"], fields["t"])


def _text(credential: Credential) -> str:
    return json.dumps(
        {
            "v": credential.value,
            "o": credential.obtained,
            "r": credential.renew_at,
            "e": credential.expires_at,
            "t": credential.refresh_token,
        }
    )


def _lifetime_ms(credential: Credential, now: float) -> int:
    """How long Redis keeps it: until it expires, and a refresh token a while longer; 0 for
    a credential with nothing left to keep (deleted)."""
    seconds = credential.expires_at - now
    if credential.refresh_token:
        seconds = max(seconds, 0.0) + REFRESH_KEEP
    return max(math.ceil(seconds * 1000), 0)
