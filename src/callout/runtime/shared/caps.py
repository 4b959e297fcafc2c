"""The per-client cap on calls in flight, held over every process through Redis:
CALLOUT_CLIENT_MAX_IN_FLIGHT bounds the sum of a client's calls in all processes.

Each process holds slots per client in a Redis hash, one field per process
(`<namespace>:in-flight:<client>`: process name -> slots held), and a lease in a sorted set
(`<namespace>:processes`: process name -> when its lease ends, on Redis's clock). A call takes
a slot its process holds and no call uses; only when there is none does the process ask
Redis, and a Lua script (GRANT) grants slots atomically: it drops the fields of processes
whose lease has ended and grants no more than keeps the sum within the cap. Calls that need a
slot while a request for their client is out wait for it and ask together in the next one.
A call past the cap is refused at once (below), never queued.

A slot stays with its process when the call ends, for the next call: at steady concurrency a
process asks Redis for nothing. Every TICK the process gives back the slots none of its calls
needed since the previous tick (an idle slot is back in the pool within 2 x TICK), and renews
its lease every LEASE / 3. When the cap refuses a process slots, GRANT also publishes the
client on `<namespace>:slots` (at most every WANTED_MS), and every process gives back the slots
it holds idle for that client at once; the refused calls ask once more RECLAIM later, and only
then are they refused (TooManyCalls), so that one process's idle slots seldom refuse another's
calls while fewer than the cap are in flight. A process that stops gives its slots back; the
slots of one that crashed count until its lease ends.

While Redis is away, calls are capped by this process alone (an `InFlight` of the same cap).
When it is back, and whenever the process finds that its lease had ended (others may have
dropped its slots), it first sets its fields to the slots its calls hold now and renews its
lease (REJOIN), before any call asks for more: a count left wrong by a command that timed out
(it may or may not have run) is set right, and no slot held before the loss is left behind.
The sum can pass the cap only around a loss of Redis: while a process is cut off, the calls
its fallback lets in are not counted in Redis, and its calls from before count there only
until its lease ends.
"""

import asyncio
import secrets
from contextlib import suppress
from dataclasses import dataclass, field

from callout.runtime.breaker import InFlight, Slots, too_many_calls
from callout.runtime.shared.link import Down, Link

TICK = 0.1  # seconds between returns of idle slots
LEASE = 3.0  # seconds a process's slots outlive its last renewal
WANTED_MS = 10  # the least time between two calls for idle slots of one client
RECLAIM = 0.02  # seconds a refused call waits for idle slots to come back, before it asks again

# KEYS[1]: the client's slots by process; KEYS[2]: leases by process; KEYS[3]: when the
# client's idle slots were last called for. ARGV: this process's name, slots wanted, the cap,
# the lease (ms), the channel that calls for idle slots, the client, WANTED_MS.
# Answers {granted, slots held by every live process before}; granted is -1 when this
# process's lease had ended: its slots may have been dropped, it must rejoin.
GRANT = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local mine = redis.call('ZSCORE', KEYS[2], ARGV[1])
if mine and tonumber(mine) < now then return {-1, 0} end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])
local held, total = redis.call('HGETALL', KEYS[1]), 0
for i = 1, #held, 2 do
  local lease = redis.call('ZSCORE', KEYS[2], held[i])
  if lease and tonumber(lease) >= now then
    total = total + tonumber(held[i + 1])
  else
    redis.call('HDEL', KEYS[1], held[i])
  end
end
local granted = math.max(math.min(tonumber(ARGV[2]), tonumber(ARGV[3]) - total), 0)
if granted > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], granted) end
if granted < tonumber(ARGV[2]) and redis.call('SET', KEYS[3], 1, 'NX', 'PX', ARGV[7]) then
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
return {granted, total}
"""

# KEYS[1]: leases by process; KEYS[2...]: slots by process of clients.
# ARGV: this process's name, the lease (ms), then the slots it holds, one per KEYS[2...].
# Sets them (none: the field goes) and renews the lease, whether it had ended or not.
REJOIN = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
for i = 2, #KEYS do
  if tonumber(ARGV[i + 1]) > 0 then
    redis.call('HSET', KEYS[i], ARGV[1], ARGV[i + 1])
  else
    redis.call('HDEL', KEYS[i], ARGV[1])
  end
end
return 1
"""

# KEYS[1]: leases by process; KEYS[2...]: slots by process of clients given slots back.
# ARGV: this process's name, the lease (ms), then the slots given back, one per KEYS[2...].
# Renews the lease (and forgets processes gone for an hour); answers 0 when it had ended.
RENEW = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local mine = redis.call('ZSCORE', KEYS[1], ARGV[1])
if mine and tonumber(mine) < now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3600000)
for i = 2, #KEYS do
  if redis.call('HINCRBY', KEYS[i], ARGV[1], -tonumber(ARGV[i + 1])) <= 0 then
    redis.call('HDEL', KEYS[i], ARGV[1])
  end
end
return 1
"""


@dataclass(eq=False)
class Ask:
    """Calls waiting for slots from one request to Redis: how many, and what it granted
    (None: ask again, Redis went away or this process rejoins)."""

    answer: asyncio.Future[int | None]
    wanted: int = 0
    sender: asyncio.Task[None] | None = None  # kept: the loop holds only a weak reference


@dataclass(eq=False)
class Held:
    """The slots this process holds in Redis, and uses, by client."""

    held: dict[int, int] = field(default_factory=dict)
    used: dict[int, int] = field(default_factory=dict)
    peak: dict[int, int] = field(default_factory=dict)  # most used since the last tick

    def take(self, client_id: int) -> None:
        used = self.used[client_id] = self.used.get(client_id, 0) + 1
        if used > self.peak.get(client_id, 0):
            self.peak[client_id] = used

    def leave(self, client_id: int) -> None:
        self.used[client_id] -= 1

    def granted(self, client_id: int, slots: int) -> None:
        """Slots granted for calls waiting: taken for them at once, so no other takes one."""
        self.held[client_id] = self.held.get(client_id, 0) + slots
        for _ in range(slots):
            self.take(client_id)

    def idle(self) -> dict[int, int]:
        """Slots no call needed since the last tick, by client: taken off here, before they
        are given back, so no call takes one meanwhile."""
        idle: dict[int, int] = {}
        for client_id, held in self.held.items():
            spare = held - self.peak.get(client_id, 0)
            if spare > 0:
                idle[client_id] = spare
                self.held[client_id] = held - spare
            self.peak[client_id] = self.used.get(client_id, 0)
        return idle

    def in_use(self) -> dict[int, int]:
        """Keep only the slots calls use now, by client (idle ones are dropped)."""
        for client_id in self.held:
            self.held[client_id] = self.peak[client_id] = self.used.get(client_id, 0)
        return dict(self.held)


class SharedInFlight:
    """Calls each client has in flight in every process, capped (a `Cap`)."""

    def __init__(self, link: Link, cap: int, lease: float = LEASE) -> None:
        self.link = link
        self.cap = cap
        self.lease_ms = round(lease * 1000)
        self.name = secrets.token_hex(8)  # this process's field and lease
        self.held = Held()
        self.local = InFlight(cap)  # while Redis is away
        self._leases = link.key("processes")
        self._wanted = link.key("slots")
        self._grant = link.script(GRANT)
        self._renew = link.script(RENEW)
        self._rejoin = link.script(REJOIN)
        self._asking: dict[int, Ask] = {}  # the next request per client, gathering
        self._locks: dict[int, asyncio.Lock] = {}  # one request out per client
        self._rejoining: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._giving: set[asyncio.Task[None]] = set()
        link.subscribe(self._wanted, self._called_for)
        link.watch(self._linked)

    def start(self) -> None:
        """Give idle slots back and renew the lease, until `close`."""
        self._task = asyncio.create_task(self._ticking(), name="callout-caps")

    async def close(self) -> None:
        """Stop, and give back every slot this process holds (a process that crashed holds
        them until its lease ends)."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        pipeline = self.link.pipeline()
        for client_id in self.held.held:
            pipeline.hdel(self.link.key("in-flight", client_id), self.name)
        pipeline.zrem(self._leases, self.name)
        with suppress(Down):
            await self.link.call(lambda _: pipeline.execute())

    async def enter(self, client_id: int, *, again: bool = False) -> Slots:
        """`again`: the cap refused this call once already."""
        if self._rejoining is not None:
            await asyncio.shield(self._rejoining)
        if not self.link.up:
            return await self.local.enter(client_id)
        held = self.held
        if held.used.get(client_id, 0) < held.held.get(client_id, 0):
            held.take(client_id)
            return held
        return await self._ask(client_id, again)

    async def count(self, client_id: int) -> int:
        """The client's calls in flight over every process: this process's, and the slots
        the others hold (a slot stays up to 2 x TICK after its call ended)."""
        if self._rejoining is not None:
            await asyncio.shield(self._rejoining)
        held = self.held
        mine = held.used.get(client_id, 0) + self.local.counts.get(client_id, 0)
        try:
            granted, total = await self._request(client_id, 0)
        except Down:
            return mine
        return mine if granted < 0 else total - held.held.get(client_id, 0) + mine

    async def _ask(self, client_id: int, again: bool) -> Slots:
        ask = self._asking.get(client_id)
        if ask is None:
            ask = self._asking[client_id] = Ask(asyncio.get_running_loop().create_future())
            ask.sender = asyncio.create_task(self._send(client_id, ask))
        ask.wanted += 1
        place = ask.wanted
        try:
            granted = await asyncio.shield(ask.answer)
        except asyncio.CancelledError:  # a slot granted for a call given up on is left idle
            ask.answer.add_done_callback(lambda answer: _forgo(self.held, client_id, place, answer))
            raise
        if granted is None:
            return await self.enter(client_id, again=again)
        if place <= granted:
            return self.held  # taken for this call when granted
        if again:
            raise too_many_calls(self.cap)
        # The slots the cap counts may be idle in other processes, which were just told to
        # give them back: once they have, this call asks once more.
        await asyncio.sleep(RECLAIM)
        return await self.enter(client_id, again=True)

    async def _send(self, client_id: int, ask: Ask) -> None:
        granted: int | None = None
        try:
            async with self._locks.setdefault(client_id, asyncio.Lock()):
                del self._asking[client_id]  # calls from now on gather the next request
                self.held.held.setdefault(client_id, 0)  # known to REJOIN, if it times out
                found, _ = await self._request(client_id, ask.wanted)
                if found < 0:
                    self._rejoin_soon()
                else:
                    self.held.granted(client_id, found)
                    granted = found
        except Down:
            pass
        finally:
            ask.answer.set_result(granted)

    async def _request(self, client_id: int, wanted: int) -> tuple[int, int]:
        keys = (
            self.link.key("in-flight", client_id),
            self._leases,
            self.link.key("slots-wanted", client_id),
        )
        args = (self.name, wanted, self.cap, self.lease_ms, self._wanted, client_id, WANTED_MS)
        granted, total = await self.link.call(
            lambda redis: self._grant(keys=keys, args=args, client=redis)
        )
        return int(granted), int(total)

    async def _ticking(self) -> None:
        loop = asyncio.get_running_loop()
        renew_at = 0.0
        while True:
            await asyncio.sleep(TICK)
            if not self.link.up or self._rejoining is not None:
                continue
            idle = self.held.idle()
            if not idle and loop.time() < renew_at:
                continue
            await self._give_back(idle)
            renew_at = loop.time() + self.lease_ms / 3000

    async def _give_back(self, idle: dict[int, int]) -> None:
        """Give idle slots back (already taken off `held`) and renew the lease."""
        keys = [self._leases, *(self.link.key("in-flight", client) for client in idle)]
        args: list[str | int] = [self.name, self.lease_ms, *idle.values()]
        try:
            alive = await self.link.call(
                lambda redis: self._renew(keys=keys, args=args, client=redis)
            )
        except Down:
            return  # set right when it is back
        if not alive:
            self._rejoin_soon()

    def _called_for(self, message: bytes) -> None:
        """A process was refused slots for the client: give back those idle here at once."""
        held = self.held
        try:
            client_id = int(message)
        except ValueError:
            return  # not one of ours
        idle = held.held.get(client_id, 0) - held.used.get(client_id, 0)
        if idle > 0 and self.link.up:
            held.held[client_id] -= idle
            task = asyncio.create_task(self._give_back({client_id: idle}))
            self._giving.add(task)
            task.add_done_callback(self._giving.discard)

    def _linked(self, up: bool) -> None:
        if up:
            self._rejoin_soon()

    def _rejoin_soon(self) -> None:
        """Set this process's slots in Redis right before any call asks for more."""
        if self._rejoining is None:
            self._rejoining = asyncio.get_running_loop().create_task(self._rejoined())

    async def _rejoined(self) -> None:
        in_use = self.held.in_use()
        keys = [self._leases, *(self.link.key("in-flight", client) for client in in_use)]
        args: list[str | int] = [self.name, self.lease_ms, *in_use.values()]
        try:
            await self.link.call(lambda redis: self._rejoin(keys=keys, args=args, client=redis))
        except Down:
            pass  # tried again once Redis is back
        finally:
            self._rejoining = None


def _forgo(held: Held, client_id: int, place: int, answer: asyncio.Future[int | None]) -> None:
    granted = answer.result()
    if granted is not None and place <= granted:
        held.leave(client_id)
