"""A base for the suite's peers: an aiohttp application on a free loopback port, entered
with `async with`; a subclass adds its routes in `route`. `in_thread` runs one for code that
runs no event loop (the browser tests)."""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self, TypeVar

from aiohttp import web


class LoopbackServer:
    url = ""
    _runner: web.AppRunner | None = None

    def route(self, app: web.Application) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        app = web.Application()
        self.route(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


Server = TypeVar("Server", bound=LoopbackServer)


@contextmanager
def in_thread(server: Server) -> Iterator[Server]:
    """`server` serving from an event loop in a thread of its own while the block runs."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="loopback", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(timeout=10)
        try:
            yield server
        finally:
            asyncio.run_coroutine_threadsafe(server.__aexit__(), loop).result(timeout=10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
