"""What a commit changed, told to every process through Redis pub/sub, so that an edit made
through one `callout serve` drops the plans, designers and keys the others cached at once:
the bound on a stale plan becomes the message's delay, not `plan_ttl`.

Each process publishes the `Changes` of its own commits as a small JSON message, ids only
(API, client and designer ids; an API key by the digest it is stored under, never as
presented):

    {"origin": "3f2a...", "apis": [12], "keys": [], "clients": [], "designers": []}

and applies every message whose origin is another process with the same `forget` calls its
own commits make. A process that may have missed messages, or whose own may not have been
heard, sends `{"origin": "...", "all": true}` and every process drops all it caches.

Redis is a help, never a need. A commit only hands its message to the event loop (commits run
in worker threads); it never waits on Redis. When Redis is unreachable or slow, the process
goes on as without it (its own commits drop its own caches, and what another process wrote is
seen once `plan_ttl` has passed), logs once that it lost Redis, and tries again with a growing
pause; once subscribed again it drops everything it cached meanwhile, logs that Redis is back,
and tells the others to drop theirs if a message of its own was lost.
"""

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, Literal, Protocol

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from callout.db.engine import Changes

log = logging.getLogger("callout.broadcast")

State = Literal["off", "connected", "disconnected"]
KINDS = ("apis", "keys", "clients", "designers")
# Redis answers on the same network in well under a millisecond: a second is "slow".
TIMEOUT = 1.0
# A subscription that heard nothing, not even the answer to its ping, for this long is dead
# (a peer gone without closing the connection).
PING_EVERY = 5.0
SILENT = 2 * PING_EVERY
BACKOFF = (0.1, 5.0)  # the first pause before connecting again, and the longest
QUEUED = 10_000  # messages waiting to be published; past this they count as lost


class Forgetting(Protocol):
    """A cache of values built from stored rows (plans, designers, resolved keys)."""

    def forget(self, changes: Changes) -> None: ...

    def clear(self) -> None: ...


class Broadcast:
    """One process's link to the others: `committed` publishes, a task subscribes."""

    def __init__(
        self,
        url: str,
        channel: str,
        caches: Sequence[Forgetting],
        on_state: Callable[[bool], None] = lambda _: None,
    ) -> None:
        self.url = url
        self.channel = channel
        self.caches = caches
        self.on_state = on_state  # told True when subscribed, False when Redis is lost
        self.origin = uuid.uuid4().hex
        self.connected = False
        self._missed = False  # a message of ours went unpublished: tell the others "all"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: asyncio.Queue[str] = asyncio.Queue(QUEUED)
        self._task: asyncio.Task[None] | None = None

    @property
    def state(self) -> State:
        return "connected" if self.connected else "disconnected"

    def start(self) -> None:
        """Run the subscriber on the running loop until `close`."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="callout-broadcast")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    def committed(self, changes: Changes) -> None:
        """A `Database.on_commit` listener, called in whatever thread committed: hands the
        message to the loop and returns at once."""
        loop = self._loop
        if loop is None or not self.connected:
            self._missed = True
            return
        message = json.dumps(
            {"origin": self.origin} | {kind: sorted(getattr(changes, kind)) for kind in KINDS}
        )
        with suppress(RuntimeError):  # the loop has closed: the process is stopping
            loop.call_soon_threadsafe(self._enqueue, message)

    def _enqueue(self, message: str) -> None:
        try:
            self._outbox.put_nowait(message)
        except asyncio.QueueFull:
            self._missed = True

    async def _run(self) -> None:
        pause = BACKOFF[0]
        warned = False
        while True:
            try:
                await self._session()
            except Exception as error:  # whatever Redis or its client does, calls go on
                while isinstance(error, ExceptionGroup):
                    error = error.exceptions[0]
                if self.connected or not warned:
                    log.warning(
                        "lost Redis on channel %s (%s): each process's caches are checked "
                        "after plan_ttl until it is back",
                        self.channel,
                        type(error).__name__,
                    )
                    warned = True
                    pause = BACKOFF[0]
                    self._disconnected()
            await asyncio.sleep(pause)
            pause = min(pause * 2, BACKOFF[1])

    def _disconnected(self) -> None:
        self.connected = False
        self._missed = True  # what was queued, and the commits from now on, go unheard
        while not self._outbox.empty():
            self._outbox.get_nowait()
        self.on_state(False)

    async def _session(self) -> None:
        """Subscribe, then hear and publish until the connection fails (it raises)."""
        # No retries inside the client: a pub/sub connection it silently made again would
        # have missed the messages sent meanwhile, and nobody would drop what they made stale.
        client = redis.Redis.from_url(
            self.url,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await asyncio.wait_for(pubsub.subscribe(self.channel), TIMEOUT)
                # Subscribed: every message from now on is heard; what is cached from before
                # may have missed some.
                for cache in self.caches:
                    cache.clear()
                self.connected = True
                self.on_state(True)
                log.info(
                    "Redis is connected on channel %s: caches follow every process", self.channel
                )
                if self._missed:
                    self._missed = False
                    self._enqueue(json.dumps({"origin": self.origin, "all": True}))
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._listen(pubsub))
                    group.create_task(self._publish(client))
        finally:
            with suppress(Exception):
                await client.aclose()

    async def _listen(self, pubsub: Any) -> None:
        loop = asyncio.get_running_loop()
        heard = pinged = loop.time()
        while True:
            message = await pubsub.get_message(timeout=1.0)
            now = loop.time()
            if message is not None:
                heard = now
                if message["type"] == "message":
                    self._apply(message["data"])
            if now - heard > SILENT:
                raise TimeoutError("Redis did not answer a ping")
            if now - pinged > PING_EVERY:
                pinged = now
                await pubsub.ping()

    async def _publish(self, client: Any) -> None:
        while True:
            message = await self._outbox.get()
            await asyncio.wait_for(client.publish(self.channel, message), TIMEOUT)

    def _apply(self, data: bytes) -> None:
        """Forget what another process's commit changed."""
        try:
            message = json.loads(data)
            if message.get("origin") == self.origin:
                return
            if message.get("all"):
                changes = None
            else:
                changes = Changes(**{kind: frozenset(message.get(kind, ())) for kind in KINDS})
        except (ValueError, TypeError, AttributeError):
            log.warning("an unreadable message on channel %s: every cache dropped", self.channel)
            changes = None
        for cache in self.caches:
            if changes is None:
                cache.clear()
            else:
                cache.forget(changes)
