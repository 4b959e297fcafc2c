"""The invocation log: each client's latest calls, kept in memory, bounded.

In-process by design for now: it is for looking at what just happened, it costs the hot
path one append, and it holds no secrets (only names, outcome, status and timings). Each
worker process keeps its own; a shared store can replace this class later.
"""

import threading
from collections import defaultdict, deque

from callout.invocations.schemas import InvocationRead


class InvocationLog:
    def __init__(self, per_client: int = 1000) -> None:
        self._entries: defaultdict[int, deque[InvocationRead]] = defaultdict(
            lambda: deque(maxlen=per_client)
        )
        self._lock = threading.Lock()

    def add(self, client_id: int, entry: InvocationRead) -> None:
        with self._lock:
            self._entries[client_id].append(entry)

    def page(self, client_id: int, limit: int, offset: int) -> tuple[list[InvocationRead], int]:
        """Newest first."""
        with self._lock:
            entries = list(self._entries.get(client_id, ()))
        entries.reverse()
        return entries[offset : offset + limit], len(entries)
