"""The real Redis the tests that share state through it use (127.0.0.1:6379, which CI
starts; the `redis_url` fixture is in tests/conftest.py), RedisProxy, which cuts and
mends the way to it as a Redis that goes away would, and `forget`, which deletes what a test
left under its namespace."""

import asyncio
import threading
from collections.abc import Coroutine
from contextlib import suppress
from typing import Any

import redis.asyncio as redis

from tests.cli import free_port

REDIS = ("127.0.0.1", 6379)


class RedisProxy:
    """Redis on another loopback port, for one process: `cut` resets its connections and
    refuses new ones, as a Redis that went away does; `mend` lets them through again.

    The relays run on a loop of their own, in a thread: on the test's loop they would wait
    behind every callback of the load the test makes, and a Redis that answers late looks
    lost to the processes relying on it."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def mend(self) -> None:
        await _on_relay_loop(self._mend())

    async def cut(self) -> None:
        await _on_relay_loop(self._cut())

    async def _mend(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ends, pumps = [writer], []
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*REDIS)
            ends.append(upstream_writer)
            if self._server is None:
                return  # cut while this connection was being made
            self._writers |= {writer, upstream_writer}
            pumps = [
                asyncio.create_task(pump(reader, upstream_writer)),
                asyncio.create_task(pump(upstream_reader, writer)),
            ]
            # Either side closing ends the relay, as a TCP proxy's would.
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        except (OSError, asyncio.CancelledError):
            pass  # Redis refused, or the loop is closing, and the relay with it
        finally:
            for end in ends:  # every transport ends here, whoever stopped the relay
                end.transport.abort()
            for task in pumps:
                task.cancel()


_relay_loop: asyncio.AbstractEventLoop | None = None


async def _on_relay_loop(step: Coroutine[Any, Any, None]) -> None:
    """Run `step` on the relays' loop (started on first use, a daemon thread for the rest
    of the run)."""
    global _relay_loop
    if _relay_loop is None:
        _relay_loop = asyncio.new_event_loop()
        threading.Thread(target=_relay_loop.run_forever, name="redis-proxy", daemon=True).start()
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(step, _relay_loop))


async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with suppress(OSError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()


async def forget(url: str, namespace: str) -> None:
    """Delete every key of a test's namespace."""
    client = redis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
