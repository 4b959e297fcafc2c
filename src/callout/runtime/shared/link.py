"""The runtime's link to Redis, which every store kept there uses (`shared/tokens.py`,
`shared/limits.py`): one connection pool, one subscription, and whether to use them at all.

Redis is a help, never a need. Each shared store keeps the per-process store it replaces as
its fallback and asks the link for Redis only while the link is up. A command that fails, or
takes longer than TIMEOUT, takes the link down: that is logged once, shown in GET .../runtime
and /metrics (`callout_redis_connected{purpose="runtime"}`), and every store goes on with
per-process state, paying no timeout per call, until a probe (a PING after a pause that
grows from 0.1 s to 5 s) finds Redis again. Then the stores are told (`on_state`), and
calls use Redis again.

Messages (`subscribe`) come through one pub/sub connection per process, subscribed again
whenever the link comes back; a message published while a process was away is not heard,
so what listens for them must also look for itself now and then (waiters poll, breakers
read their state when they next record).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, Literal, TypeVar

import redis.asyncio as redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

log = logging.getLogger("callout.shared")

T = TypeVar("T")
State = Literal["connected", "disconnected"]
# Redis on the same network answers in well under a millisecond; a busy process may take a
# while to read the answer, so only a second without one is a Redis in trouble.
TIMEOUT = 1.0
BACKOFF = (0.1, 5.0)  # the first pause before probing again, and the longest
CONNECTIONS = 64  # calls past this many at once wait (within TIMEOUT) for a connection
PING_EVERY = 5.0  # a subscription that hears nothing for twice this is dead


class Down(Exception):
    """Redis is not in use now: go on with per-process state."""


class Link:
    """One process's connection to the Redis every process of an installation shares.

    Keys and channels are named under `namespace` (`key("lock", ...)`), so installations can
    share one Redis."""

    def __init__(
        self,
        url: str,
        namespace: str,
        on_state: Callable[[bool], None] = lambda _: None,
    ) -> None:
        self.namespace = namespace
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=CONNECTIONS,
            timeout=TIMEOUT,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
        )
        # No retries inside the client: a failure takes the link down instead, at once.
        self.client = redis.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
        self.up = False
        self._watchers = [on_state]
        self._handlers: dict[str, Callable[[bytes], None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    @property
    def state(self) -> State:
        return "connected" if self.up else "disconnected"

    def key(self, *parts: object) -> str:
        """A key or channel of this installation: `callout:lock:oauth2:1:2:3`."""
        return ":".join((self.namespace, *map(str, parts)))

    def watch(self, on_state: Callable[[bool], None]) -> None:
        """Be told True when the link comes up, False when it goes down."""
        self._watchers.append(on_state)

    def subscribe(self, channel: str, handler: Callable[[bytes], None]) -> None:
        """Call `handler` with each message published on `channel` while the link is up
        (subscribe before `start`)."""
        self._handlers[channel] = handler

    def script(self, source: str) -> AsyncScript:
        """A Lua script, sent by its digest (and loaded once when Redis lacks it)."""
        return self.client.register_script(source)

    async def start(self) -> None:
        """Connect (or begin probing) and keep the subscription until `close`."""
        if not await self._probe():
            log.warning(
                "Redis is unreachable: tokens, sessions, hold-offs, breakers and caps are kept "
                "by each process alone until it is"
            )
            for watcher in self._watchers:
                watcher(False)
        self._task = asyncio.create_task(self._run(), name="callout-shared")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        with suppress(Exception):
            await self.client.aclose(close_connection_pool=True)

    async def call(self, command: Callable[[Any], Awaitable[T]]) -> T:
        """`command(client)` within TIMEOUT, or Down (at once while the link is down)."""
        if not self.up:
            raise Down
        try:
            async with asyncio.timeout(TIMEOUT):
                return await command(self.client)
        except (RedisError, OSError, TimeoutError) as error:
            self._down(error)
            raise Down from None

    def pipeline(self) -> Pipeline:
        """Commands sent together in one round trip (run it through `call`)."""
        return self.client.pipeline(transaction=False)

    def _down(self, error: BaseException) -> None:
        if not self.up:
            return
        self.up = False
        self._lost.set()
        log.warning(
            "lost Redis (%s): tokens, sessions, hold-offs, breakers and caps are kept by "
            "each process alone until it is back",
            type(error).__name__,
        )
        for watcher in self._watchers:
            watcher(False)

    async def _probe(self) -> bool:
        try:
            async with asyncio.timeout(TIMEOUT):
                # A pooled connection from before the loss may be dead without knowing it:
                # its first command would take the link down again.
                await self.client.connection_pool.disconnect()
                await self.client.ping()
        except (RedisError, OSError, TimeoutError):
            return False
        self.up = True
        self._lost.clear()
        log.info("Redis is connected: tokens, sessions, hold-offs, breakers and caps are shared")
        for watcher in self._watchers:
            watcher(True)
        return True

    async def _run(self) -> None:
        pause = BACKOFF[0]
        while True:
            if self.up:
                pause = BACKOFF[0]
                try:
                    await self._listen()
                except Exception as error:  # whatever Redis or its client does, calls go on
                    self._down(error)
                continue
            await asyncio.sleep(pause)
            pause = min(pause * 2, BACKOFF[1])
            await self._probe()

    async def _listen(self) -> None:
        """Hear the subscribed channels until the link goes down (or the connection fails)."""
        if not self._handlers:
            await self._lost.wait()
            return
        loop = asyncio.get_running_loop()
        async with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
            async with asyncio.timeout(TIMEOUT):
                await pubsub.subscribe(*self._handlers)
            heard = pinged = loop.time()
            while not self._lost.is_set():
                message = await pubsub.get_message(timeout=0.5)
                now = loop.time()
                if message is not None:
                    heard = now
                    if message["type"] == "message":
                        self._handlers[message["channel"].decode()](message["data"])
                if now - heard > 2 * PING_EVERY:
                    raise TimeoutError("Redis did not answer a ping")
                if now - pinged > PING_EVERY:
                    pinged = now
                    await pubsub.ping()
