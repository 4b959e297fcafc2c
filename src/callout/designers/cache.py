"""Designers as they are fired, cached per client and designer, checked against the stored
version, as request plans are (`invocations/plans.py`).

A write in this process drops the designers it touched as it commits (`forget`). Another
process trusts its copy for `ttl` seconds, after which the next fire reads the designer's
version (one indexed query) and reads the designer again only if it moved. So a fire whose
designer and plans are cached reads no database. When the `ttl` has passed, one caller checks
while the others go on with the copy for the moment the check takes (at most CHECK_GRACE s).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from time import monotonic

from sqlalchemy.orm import Session

from callout.db.engine import Changes
from callout.db.models import Client
from callout.designers import service
from callout.designers.repository import DesignerRepository
from callout.designers.schemas import DesignerRead
from callout.errors import NotFound

CHECK_GRACE = 5.0


@dataclass
class _Entry:
    designer: DesignerRead
    checked: float
    checking_until: float = 0.0  # a caller is checking this designer until then


class DesignerCache:
    def __init__(self, ttl: float = 2.0, size: int = 1_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[tuple[int, int], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        # Moves with every `forget`: a designer read before a write committed is returned to
        # its caller but not kept.
        self._generation = 0

    def cached(self, client: Client, designer_id: int) -> DesignerRead | None:
        """The designer within its ttl (or being checked by another caller), without touching
        the database; None tells this caller to read it (`load`)."""
        now = monotonic()
        with self._lock:
            entry = self._entries.get((client.id, designer_id))
            if entry is None:
                return None
            if now - entry.checked >= self.ttl and now >= entry.checking_until:
                entry.checking_until = now + CHECK_GRACE
                return None
            self._entries.move_to_end((client.id, designer_id))
            return entry.designer

    def forget(self, changes: Changes) -> None:
        """Drop the designers a commit changed or deleted."""
        if not changes.designers:
            return
        with self._lock:
            self._generation += 1
            for key in [k for k in self._entries if k[1] in changes.designers]:
                del self._entries[key]

    def load(self, session: Session, client: Client, designer_id: int) -> DesignerRead:
        """The designer as stored now; read whole only if its version moved."""
        key = (client.id, designer_id)
        with self._lock:
            generation = self._generation
            entry = self._entries.get(key)
        version = DesignerRepository(session, client).version(designer_id)
        if version is None:
            with self._lock:
                self._entries.pop(key, None)
            raise NotFound(f"no designer {designer_id} in client {client.code!r}")
        if entry is not None and entry.designer.version == version:
            entry.checked, entry.checking_until = monotonic(), 0.0
            return entry.designer
        designer = service.get_designer(session, client, designer_id)
        with self._lock:
            if generation == self._generation:
                self._entries[key] = _Entry(designer, monotonic())
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return designer
