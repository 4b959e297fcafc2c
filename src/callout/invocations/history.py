"""The invocation history: every invoke and test, written to the database off the hot path.

`record` only appends to this process's buffer: no await, no thread, no lock a write can
hold. A task of the Runtime writes the buffer in batches of up to BATCH rows, one write
transaction each, every `flush_every` seconds (sooner when a batch is full) and once more when
the Runtime closes; every PRUNE_EVERY seconds it also removes what retention lets go, in
transactions of PRUNE_BATCH rows, so no SQLite write lock is held for long.

While the database cannot take a batch, the rows stay buffered and are tried again; past
BUFFER_CAP the oldest go, counted in `dropped` and logged once per outage. Nothing of this
reaches a caller: a call's answer never waits on, nor fails with, its history.

Kept per call: names, outcome, reason, status and timings, never parameter values nor
secrets; a failed test also keeps the trace it answered, masked as it was shown.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from time import monotonic
from typing import Any

from sqlalchemy.orm import Session

from callout.db.engine import Database
from callout.invocations import repository
from callout.invocations.schemas import Mode, TracedResult
from callout.runtime.executor import Outcome
from callout.runtime.plan import Plan

log = logging.getLogger("callout.history")

BATCH = 500
BUFFER_CAP = 100_000
PRUNE_EVERY = 60.0
PRUNE_BATCH = 1_000


class History:
    def __init__(
        self, database: Database, *, flush_every: float, keep_days: int, keep_rows: int
    ) -> None:
        self.database = database
        self.flush_every = flush_every
        self.keep = timedelta(days=keep_days)
        self.keep_rows = keep_rows
        self.dropped = 0
        # Rows as the history table takes them: a dict is built faster on the call's path
        # than an object, and is what the insert wants.
        self._buffer: deque[dict[str, Any]] = deque()
        self._full = asyncio.Event()
        self._writing = asyncio.Lock()
        self._failing = self._dropping = self._closing = False
        self._task: asyncio.Task[None] | None = None

    def record(self, plan: Plan, actor: str, mode: Mode, outcome: Outcome, *, test: bool) -> None:
        """Buffer one call; a dry run or a mock called nothing and is not history."""
        if mode != "live":
            return
        failed_test = test and outcome.outcome != "success"
        key = plan.key
        self._buffer.append(
            {
                "client_id": key.client_id,
                "invocation_id": outcome.invocation_id,
                "at": datetime.now(UTC),
                "actor": actor,
                "api_id": key.api_id,
                "api_name": plan.api_name,
                "request_id": key.request_id,
                "request_name": plan.request_name,
                "mode": "test" if test else "invoke",
                "outcome": outcome.outcome,
                "reason": outcome.reason,
                "status": outcome.status,
                "duration_ms": outcome.duration_ms,
                # Computed fields (a request's cURL line) are made again when it is read back.
                "trace": (
                    TracedResult.of(outcome).model_dump(mode="json", exclude_computed_fields=True)
                    if failed_test
                    else None
                ),
            }
        )
        self._trim()
        if len(self._buffer) >= BATCH:
            self._full.set()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="invocation history")

    async def close(self) -> None:
        """Let the task finish its round (never cut off mid-write), then write what is left."""
        self._closing = True
        self._full.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        prune_at = monotonic()
        while not self._closing:
            try:
                async with asyncio.timeout(self.flush_every):
                    await self._full.wait()
            except TimeoutError:
                pass
            self._full.clear()
            await self.flush()
            if monotonic() >= prune_at and not self._closing:
                prune_at = monotonic() + PRUNE_EVERY
                try:
                    await self.prune(datetime.now(UTC))
                except Exception:
                    log.warning(
                        "invocation history: pruning failed; tried again later", exc_info=True
                    )

    async def flush(self) -> None:
        """Write everything buffered, a batch per transaction; a batch the database refuses
        goes back to the front of the buffer for the next round."""
        async with self._writing:
            while self._buffer:
                batch = [self._buffer.popleft() for _ in range(min(BATCH, len(self._buffer)))]
                try:
                    await asyncio.to_thread(self._write, batch)
                except Exception:
                    self._buffer.extendleft(reversed(batch))
                    self._trim()
                    if not self._failing:
                        self._failing = True
                        log.warning(
                            "invocation history: cannot write, %d call(s) buffered; retrying "
                            "every %g s",
                            len(self._buffer),
                            self.flush_every,
                            exc_info=True,
                        )
                    return
            if self._failing or self._dropping:
                log.warning(
                    "invocation history: written up; %d call(s) dropped since start", self.dropped
                )
            self._failing = self._dropping = False

    def _write(self, batch: list[dict[str, Any]]) -> None:
        with self.database.transaction() as session:
            repository.append(session, batch)

    def _trim(self) -> None:
        """Drop the oldest calls past BUFFER_CAP; said once until the buffer is written up."""
        over = len(self._buffer) - BUFFER_CAP
        if over <= 0:
            return
        for _ in range(over):
            self._buffer.popleft()
        self.dropped += over
        if not self._dropping:
            self._dropping = True
            log.warning(
                "invocation history: %d calls buffered unwritten; dropping the oldest", BUFFER_CAP
            )

    async def prune(self, now: datetime) -> int:
        """Remove calls older than the retention age, then each client's oldest beyond its
        count; one short transaction per PRUNE_BATCH rows. How many went."""
        before = now - self.keep
        removed = await self._prune_all(
            lambda session: repository.prune_older(session, before, PRUNE_BATCH)
        )
        for client_id, last in await asyncio.to_thread(self._crowded):
            removed += await self._prune_all(
                partial(repository.prune_through, client_id=client_id, last=last, batch=PRUNE_BATCH)
            )
        return removed

    async def _prune_all(self, prune: Callable[[Session], int]) -> int:
        removed = 0
        while True:
            gone = await asyncio.to_thread(self._in_transaction, prune)
            removed += gone
            if gone < PRUNE_BATCH:
                return removed

    def _in_transaction(self, prune: Callable[[Session], int]) -> int:
        with self.database.transaction() as session:
            return prune(session)

    def _crowded(self) -> list[tuple[int, int]]:
        with self.database.transaction(reads_only=True) as session:
            return repository.crowded(session, self.keep_rows)
