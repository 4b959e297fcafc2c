"""API keys and clients this process has already resolved, so that a request whose key and
client are known reads no database: an agent script's invoke is on the hot path, and
authentication was most of its server time.

A change committed in this process (a key revoked or its role changed, a client changed or
deleted) drops what it touched at once (`forget`, heard through `Database.on_commit`). A change
made by another process is seen within `ttl` seconds, after which the next request reads the
key again. When that time has passed, one request reads it again while the others go on
with what is held for the moment the read takes (at most `CHECK_GRACE` seconds), so requests
in flight do not all queue for the same read; a key the read refuses is dropped at once.
A key is held by its SHA-256 digest, never as presented.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from time import monotonic
from typing import Generic, TypeVar

from callout.clients.access import Principal, digest
from callout.db.engine import Changes
from callout.db.models import Client

T = TypeVar("T")
CHECK_GRACE = 5.0


@dataclass
class _Held(Generic[T]):
    value: T
    until: float
    checking_until: float = 0.0  # a request is reading it again until then


class AccessCache:
    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._principals: OrderedDict[str, _Held[Principal]] = OrderedDict()
        self._clients: OrderedDict[str, _Held[Client]] = OrderedDict()
        self._lock = threading.Lock()
        # Moves with every `forget`: what was read before a change committed is not kept.
        self.generation = 0

    def principal(self, key: str) -> Principal | None:
        return self._get(self._principals, digest(key))

    def keep_principal(self, key: str, principal: Principal, generation: int) -> None:
        self._keep(self._principals, digest(key), principal, generation)

    def client(self, code: str) -> Client | None:
        return self._get(self._clients, code)

    def keep_client(self, code: str, client: Client, generation: int) -> None:
        self._keep(self._clients, code, client, generation)

    def drop(self, key: str | None, code: str | None = None) -> None:
        """Forget a key, or a client code, that a fresh read refused."""
        with self._lock:
            if key:
                self._principals.pop(digest(key), None)
            if code:
                self._clients.pop(code, None)

    def forget(self, changes: Changes) -> None:
        """Drop the keys and clients a commit changed (a client's keys go with it)."""
        if not (changes.keys or changes.clients):
            return
        with self._lock:
            self.generation += 1
            for found, held in list(self._principals.items()):
                if found in changes.keys or held.value.client_id in changes.clients:
                    del self._principals[found]
            for code, client in list(self._clients.items()):
                if client.value.id in changes.clients:
                    del self._clients[code]

    def clear(self) -> None:
        """Drop every key and client (`db/broadcast.py`: messages from other processes may be
        lost)."""
        with self._lock:
            self.generation += 1
            self._principals.clear()
            self._clients.clear()

    def _get(self, held: OrderedDict[str, _Held[T]], name: str) -> T | None:
        now = monotonic()
        with self._lock:
            entry = held.get(name)
            if entry is None:
                return None
            if entry.until <= now and entry.checking_until <= now:
                entry.checking_until = now + CHECK_GRACE
                return None  # this caller reads it again
            held.move_to_end(name)
            return entry.value

    def _keep(self, held: OrderedDict[str, _Held[T]], name: str, value: T, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            held[name] = _Held(value, monotonic() + self.ttl)
            held.move_to_end(name)
            while len(held) > self.size:
                held.popitem(last=False)
