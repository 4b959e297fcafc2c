"""How many units of work the server runs against the database at once.

A unit of work holds a pooled connection and a worker thread for as long as it is open. Left
alone, more requests than connections wait on each other: one holds a connection while it waits
for a thread, another holds a thread while it waits for a connection, until the pool's timeout
answers 500. So the server admits units of work here first, waiting without a thread or a
connection, and never more than the pool holds: an admitted unit of work always finds both.

Three kinds are admitted apart, each up to its own number:
- lookups: one read in one thread hop (who calls, which client, a plan to compile), never
  held while waiting for anything else. A route's unit of work may wait for one, so they must
  not share slots with routes' units of work, or routes holding every slot would wait forever.
- reads: a GET's unit of work, open for the whole route. With WAL, reads never wait on writes.
- writes: SQLite takes one writer at a time, so writes queue here, in order, rather than in
  SQLite's busy loop.
A unit of work that cannot start within `wait` seconds is refused with 503 and Retry-After,
never left to stall. Lookups run on threads of their own, one per slot, so nothing else that
uses worker threads (routes, the history's writes waiting on SQLite's lock) can hold them up.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.orm import Session

from callout.db.engine import Database
from callout.errors import Busy

T = TypeVar("T")


class Admission:
    def __init__(self, database: Database, wait: float = 10.0) -> None:
        self.database = database
        self.wait = wait
        self._slots = {
            "lookups": asyncio.Semaphore(database.lookup_slots),
            "reads": asyncio.Semaphore(database.read_slots),
            "writes": asyncio.Semaphore(database.write_slots),
        }
        self._lookup_threads = ThreadPoolExecutor(
            database.lookup_slots, thread_name_prefix="callout-lookup"
        )

    def close(self) -> None:
        self._lookup_threads.shutdown(wait=False)

    @asynccontextmanager
    async def _slot(self, kind: str) -> AsyncIterator[None]:
        slots = self._slots[kind]
        try:
            async with asyncio.timeout(self.wait):
                await slots.acquire()
        except TimeoutError:
            raise Busy(
                f"more {kind} are queued than can start within {self.wait:g} s; retry shortly"
            ) from None
        try:
            yield
        finally:
            slots.release()

    async def lookup(self, work: Callable[[Session], T]) -> T:
        """`work`, which only reads, in a unit of work of its own, in one worker thread."""

        def unit() -> T:
            with self.database.transaction(reads_only=True) as session:
                return work(session)

        async with self._slot("lookups"):
            return await asyncio.get_running_loop().run_in_executor(self._lookup_threads, unit)

    @asynccontextmanager
    async def session(self, *, reads_only: bool) -> AsyncIterator[Session]:
        """A unit of work spanning a route: committed when the block ends, rolled back when it
        raises. The session is used from worker threads; it is opened and closed here."""
        async with self._slot("reads" if reads_only else "writes"):
            session = self.database.session(reads_only=reads_only)
            try:
                yield session
            except BaseException:
                await asyncio.to_thread(session.rollback)
                raise
            else:
                await asyncio.to_thread(session.commit)
            finally:
                await asyncio.to_thread(session.close)
        self.database.committed(session)
