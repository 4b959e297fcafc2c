"""Designers as they are fired, kept per client and designer (`db/kept.py`) and checked
against the stored version after `ttl`, as request plans are: a fire whose designer and plans
are kept reads no database. A save or delete in this process drops the designer at once."""

from sqlalchemy.orm import Session

from callout.db.engine import Changes
from callout.db.kept import Kept
from callout.db.models import Client
from callout.designers import service
from callout.designers.repository import DesignerRepository
from callout.designers.schemas import DesignerRead
from callout.errors import NotFound


class DesignerCache:
    def __init__(self, ttl: float = 2.0, size: int = 1_000) -> None:
        self._kept: Kept[tuple[int, int], DesignerRead] = Kept(ttl, size)

    def cached(self, client: Client, designer_id: int) -> DesignerRead | None:
        """The designer if trusted now, without touching the database; None tells this
        caller to read it (`load`)."""
        return self._kept.get((client.id, designer_id))

    def forget(self, changes: Changes) -> None:
        """Drop the designers a commit changed or deleted."""
        if changes.designers:
            self._kept.forget(lambda key, _: key[1] in changes.designers)

    def clear(self) -> None:
        """Drop every designer (`db/broadcast.py`: messages from other processes may be lost)."""
        self._kept.clear()

    def load(self, session: Session, client: Client, designer_id: int) -> DesignerRead:
        """The designer as stored now; read whole only if its version moved."""
        key = (client.id, designer_id)
        generation = self._kept.generation
        version = DesignerRepository(session, client).version(designer_id)
        if version is None:
            self._kept.drop(key)
            raise NotFound(f"no designer {designer_id} in client {client.code!r}")
        held = self._kept.held(key)
        if held is not None and held.version == version:
            self._kept.confirm(key)
            return held
        designer = service.get_designer(session, client, designer_id)
        self._kept.keep(key, designer, generation)
        return designer
