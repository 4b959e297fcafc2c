"""The real Redis the tests that share state through it use (127.0.0.1:6379, which CI
starts; the `redis_url` fixture is in tests/conftest.py), RedisProxy, which cuts and
mends the way to it as a Redis that goes away would, and `forget`, which deletes what a test
left under its namespace."""

import asyncio
from contextlib import suppress

import redis.asyncio as redis

from tests.cli import free_port

REDIS = ("127.0.0.1", 6379)


class RedisProxy:
    """Redis on another loopback port, for one process: `cut` resets its connections and
    refuses new ones, as a Redis that went away does; `mend` lets them through again."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def mend(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
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
