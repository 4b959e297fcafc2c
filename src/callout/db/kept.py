"""Values built from stored rows (compiled plans, designers as fired), kept in this process
and trusted for a while: the hot path reads no database while they are.

A value is trusted for `ttl` seconds after it was last checked against what is stored. Then
the next `get` answers None, telling its caller to check (read the version, rebuild only if
it moved); for the moment that check takes (at most CHECK_GRACE seconds) other callers go on
with the value held, so calls in flight do not all queue for the same check. A commit in this
process drops what it touched at once (`forget`); a value built from what was read before
such a commit is given to its caller but not kept (`generation`).
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from time import monotonic
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
CHECK_GRACE = 5.0


@dataclass
class _Entry(Generic[V]):
    value: V
    checked: float
    checking_until: float = 0.0  # a caller is checking this value until then


class Kept(Generic[K, V]):
    """At most `size` values by key, the least recently used dropped first."""

    def __init__(self, ttl: float, size: int) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0  # moves with every `forget`

    @property
    def generation(self) -> int:
        """Read before reading the rows a value is built from; given back to `keep`."""
        with self._lock:
            return self._generation

    def get(self, key: K) -> V | None:
        """The value, if trusted now (or being checked by another caller); None tells this
        caller to check it."""
        now = monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if now - entry.checked >= self.ttl and now >= entry.checking_until:
                entry.checking_until = now + CHECK_GRACE
                return None
            self._entries.move_to_end(key)
            return entry.value

    def held(self, key: K) -> V | None:
        """The value held, trusted or not: what a check compares with what is stored."""
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else entry.value

    def confirm(self, key: K) -> None:
        """A check found the value still true: trust it for another `ttl`."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.checked, entry.checking_until = monotonic(), 0.0

    def keep(self, key: K, value: V, generation: int) -> None:
        """Keep a value built anew, unless a commit came since `generation` was read."""
        with self._lock:
            if generation != self._generation:
                return
            self._entries[key] = _Entry(value, monotonic())
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def drop(self, key: K) -> None:
        """Drop a value a check found gone or unreadable: nobody goes on with it."""
        with self._lock:
            self._entries.pop(key, None)

    def forget(self, stale: Callable[[K, V], bool]) -> None:
        """After a commit in this process: drop every value it made stale."""
        with self._lock:
            self._generation += 1
            for key in [k for k, entry in self._entries.items() if stale(k, entry.value)]:
                del self._entries[key]

    def clear(self) -> None:
        """Drop every value: what another process wrote may have gone unheard."""
        self.forget(lambda _key, _value: True)
