"""A base for the suite's peers: an aiohttp application on a free loopback port, entered
with `async with`; a subclass adds its routes in `route`."""

from typing import Self

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
