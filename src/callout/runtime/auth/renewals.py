"""Renewals running in the background, one executor's own.

A token in its last fifth is still sent while a new one is fetched beside the call (OAuth 2.0,
auth/oauth2/scheme.py). Each renewal is kept here by its key until it ends: held, so the event
loop does not drop it half-way, and by key, so the calls that notice the same token ageing
before the first renewal takes the store's flight start no second one.
"""

import asyncio
from collections.abc import Coroutine
from typing import Any


class Renewals:
    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[None]] = {}

    def running(self, key: str) -> bool:
        return key in self._running

    def start(self, key: str, renewal: Coroutine[Any, Any, None]) -> None:
        """Run `renewal` for `key` beside the call that asked; the caller checks `running`."""
        task = asyncio.get_running_loop().create_task(renewal)
        self._running[key] = task
        task.add_done_callback(lambda _: self._running.pop(key, None))

    async def settled(self) -> None:
        """Wait for the renewals running now to end (a client closing, a test looking)."""
        await asyncio.gather(*self._running.values(), return_exceptions=True)
