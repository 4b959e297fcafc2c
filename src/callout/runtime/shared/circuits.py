"""Circuit breakers over every process through Redis: the rules of `breaker.py` (5 failures
in a row or half of the last 20 calls open; 30 s open; one probe; eras) applied to the
verdicts of every process's calls, so an API failing through one process is refused by all.

An API's circuit is a Redis hash, `<namespace>:circuit:<client>:<api>`: `v` (its version,
one more at each write), `openings` (its era), `opened` (when it opened, in ms on Redis's
clock; 0 while closed), `row` (failures in a row) and `recent` (the last verdicts, "1" a
failure). Lua scripts apply a verdict (VERDICT) and take the probe (PROBE: a key set NX with
a lease, so one probe goes over all processes) atomically, and publish the circuit on
`<namespace>:circuits` when it opens or closes, or turns clean or dirty. Clean is no failure
among the recent verdicts.

Each process keeps a `Circuit` per API it calls, the circuit as it last heard of it, so a
healthy API costs no round trip per call: a closed circuit lets a call through and an open one
refuses it without Redis; only past the open time is Redis asked for the probe. A verdict goes
to Redis only when it can change the circuit: a failure, any verdict while the circuit is
dirty, and the probe's. A success while it is clean is counted here and sent with the next
failure as the successes before it, so the window rule sees them. A process learns the circuit
from each script's answer and from the messages; it reads it (one round trip) the first time
it calls an API, and again after Redis comes back.

What that allows:
- A circuit opened through one process refuses in another once the message arrives (about a
  millisecond); calls let through meanwhile go out, and their verdicts count.
- Successes in other processes between a circuit turning dirty and the message are not sent:
  the window then holds a few successes less than were seen (it may open a little sooner).
- The successes of other processes while it was clean are not counted in the window: only
  those of the process that reports the first failure are.
- A message missed (sent while this process's subscription was being renewed) is made good
  by this process's next report (its next failure), or, for an open circuit, when its open time
  ends and the probe script answers with the circuit as it is. GET .../runtime reads every
  circuit of the client from Redis.

While Redis is away, each process goes on with breakers of its own (`Breakers`), starting
from what it last heard: a circuit open everywhere stays open here, until its own probe.
Verdicts of calls let through by the shared circuits are then dropped.
"""

import asyncio
import itertools
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from callout.runtime.breaker import (
    BreakerPolicy,
    Breakers,
    CircuitView,
    State,
    Verdict,
    circuit_open,
)
from callout.runtime.shared.link import Down, Link

log = logging.getLogger("callout.shared")

FIELDS = ("v", "openings", "opened", "row", "recent")
KEEP_MS = 86_400_000  # a circuit left alone for a day is forgotten: closed and clean again

# Reads the circuit in KEYS[1]; `answer()` is what every script answers, and what is
# published: {version, openings, opened (ms), failures in a row, clean (1) or dirty (0)}.
_CIRCUIT = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local r = redis.call('HMGET', KEYS[1], 'v', 'openings', 'opened', 'row', 'recent')
local v, openings = tonumber(r[1]) or 0, tonumber(r[2]) or 0
local opened, row, recent = tonumber(r[3]) or 0, tonumber(r[4]) or 0, r[5] or ''
local function answer()
  return {v, openings, opened, row, string.find(recent, '1', 1, true) and 0 or 1}
end
"""

# KEYS[1]: the circuit; KEYS[2]: its probe; KEYS[3]: the APIs of the client's circuits.
# ARGV: the call's era, its verdict ('1' failed, '0' answered, '' none), successes seen
# before it while clean, the probe's holder ('' unless it is the probe), window, failures in
# a row that open, the rate that opens, the channel, the circuit's name ("<client> <api>"),
# the API, how long a circuit is kept (ms).
VERDICT = (
    _CIRCUIT
    + """
if tonumber(ARGV[1]) ~= openings then return answer() end
local verdict, was = ARGV[2], answer()
if opened > 0 then
  if ARGV[4] == '' or redis.call('GET', KEYS[2]) ~= ARGV[4] then return was end
  redis.call('DEL', KEYS[2])
  if verdict == '' then return was end
  row, recent = 0, ''
  if verdict == '1' then openings, opened = openings + 1, now else opened = 0 end
else
  if verdict == '' then return was end
  local window = tonumber(ARGV[5])
  if was[5] == 1 then recent = recent .. string.rep('0', tonumber(ARGV[3])) end
  recent = string.sub(recent .. verdict, -window)
  if verdict == '1' then row = row + 1 else row = 0 end
  local _, failures = string.gsub(recent, '1', '')
  if row >= tonumber(ARGV[6]) or (#recent == window and failures >= tonumber(ARGV[7]) * window) then
    openings, opened, row, recent = openings + 1, now, 0, ''
  end
end
v = v + 1
redis.call('HSET', KEYS[1], 'v', v, 'openings', openings, 'opened', opened, 'row', row,
  'recent', recent)
redis.call('PEXPIRE', KEYS[1], ARGV[11])
redis.call('SADD', KEYS[3], ARGV[10])
redis.call('PEXPIRE', KEYS[3], ARGV[11])
local now_answer = answer()
if (now_answer[3] > 0) ~= (was[3] > 0) or now_answer[2] ~= was[2] or now_answer[5] ~= was[5] then
  redis.call('PUBLISH', ARGV[8], ARGV[9] .. ' ' .. table.concat(now_answer, ' '))
end
return now_answer
"""
)

# KEYS[1]: the circuit; KEYS[2]: its probe. ARGV: the era, the open time (ms), the probe's
# lease (ms), its holder. Answers {1 if this call is the probe, then the circuit}.
PROBE = (
    _CIRCUIT
    + """
if opened > 0 and openings == tonumber(ARGV[1]) and now >= opened + tonumber(ARGV[2])
    and redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', ARGV[3]) then
  return {1, unpack(answer())}
end
return {0, unpack(answer())}
"""
)


@dataclass(slots=True)
class Circuit:
    """One API's circuit as this process last heard of it (a `CircuitView`)."""

    policy: BreakerPolicy
    version: int = -1  # not read yet
    openings: int = 0
    opened_at: float = 0.0  # time.time() when it opened; 0 while closed
    consecutive: int = 0
    clean: bool = True
    quiet: int = 0  # successes seen here while it was clean, not sent

    @property
    def state(self) -> State:
        if not self.opened_at:
            return "closed"
        if time.time() < self.opened_at + self.policy.open_seconds:
            return "open"
        return "half_open"

    def retry_at(self) -> float | None:
        return self.opened_at + self.policy.open_seconds if self.state == "open" else None

    def learn(self, answer: Sequence[Any]) -> None:
        """Take the circuit as a script answered or a message said, unless older."""
        version, openings, opened, row, clean = map(int, answer)
        if version < self.version:
            return
        self.version, self.openings, self.consecutive = version, openings, row
        self.opened_at = opened / 1000
        self.clean = bool(clean)


@dataclass(slots=True)
class Passed:
    """A call let through a shared circuit, in an era; `probe` names it if it is the probe."""

    breakers: "SharedBreakers"
    key: tuple[int, int]
    circuit: Circuit
    era: int
    probe: str = ""

    async def record(self, failed: bool | None) -> None:
        await self.breakers.record(self, failed)


class SharedBreakers:
    """Every API's circuit over every process (`Circuits`)."""

    def __init__(self, link: Link, policy: BreakerPolicy | None = None) -> None:
        self.link = link
        self.policy = policy or BreakerPolicy()
        self.local = Breakers(self.policy)  # while Redis is away
        self.circuits: dict[tuple[int, int], Circuit] = {}
        self._reading: dict[tuple[int, int], asyncio.Future[list[bytes | None]]] = {}
        self._channel = link.key("circuits")
        self._verdict = link.script(VERDICT)
        self._probe = link.script(PROBE)
        self._name = secrets.token_hex(8)
        self._probes = itertools.count()
        self._open_ms = round(self.policy.open_seconds * 1000)
        link.subscribe(self._channel, self._heard)
        link.watch(self._linked)

    async def admit(self, client_id: int, api_id: int) -> Verdict:
        if not self.link.up:
            return await self.local.admit(client_id, api_id)
        key = (client_id, api_id)
        circuit = self.circuits.get(key)
        if circuit is None:
            circuit = self.circuits[key] = Circuit(self.policy)
        try:
            if circuit.version < 0:
                circuit.learn(await self._read(key))
            if circuit.opened_at:
                return await self._probing(key, circuit)
        except Down:
            return await self.local.admit(client_id, api_id)
        return Passed(self, key, circuit, circuit.openings)

    async def record(self, passed: Passed, failed: bool | None) -> None:
        """Send the verdict to Redis if it can change the circuit."""
        circuit = passed.circuit
        if not passed.probe:
            if failed is None or passed.era != circuit.openings:
                return  # no verdict, or one of a call let through before the circuit opened
            if not failed and circuit.clean:
                circuit.quiet = min(circuit.quiet + 1, self.policy.window - 1)
                return
        quiet, circuit.quiet = circuit.quiet, 0
        client_id, api_id = passed.key
        keys = (
            self.link.key("circuit", client_id, api_id),
            self.link.key("probe", client_id, api_id),
            self.link.key("circuit-apis", client_id),
        )
        args = (
            passed.era,
            "" if failed is None else "1" if failed else "0",
            quiet,
            passed.probe,
            self.policy.window,
            self.policy.consecutive,
            self.policy.rate,
            self._channel,
            f"{client_id} {api_id}",
            api_id,
            KEEP_MS,
        )
        try:
            answer = await self.link.call(
                lambda redis: self._verdict(keys=keys, args=args, client=redis)
            )
        except Down:
            return  # the verdict is lost; the probe's turn lapses with its lease
        circuit.learn(answer)

    async def view(self, client_id: int) -> Mapping[int, CircuitView]:
        """Every circuit of the client, read from Redis; this process's own while it is away."""
        if not self.link.up:
            return self.local.of_client(client_id)
        try:
            apis = sorted(
                int(api)
                for api in await self.link.call(
                    lambda redis: redis.smembers(self.link.key("circuit-apis", client_id))
                )
            )
            pipeline = self.link.pipeline()
            for api in apis:
                pipeline.hmget(self.link.key("circuit", client_id, api), *FIELDS)
            found = await self.link.call(lambda _: pipeline.execute())
        except Down:
            return self.local.of_client(client_id)
        shown: dict[int, Circuit] = {}
        for api, fields in zip(apis, found, strict=True):
            if fields[0] is None:
                continue  # forgotten
            circuit = self.circuits.setdefault((client_id, api), Circuit(self.policy))
            circuit.learn(_answer(fields))
            shown[api] = circuit
        return shown

    async def _read(self, key: tuple[int, int]) -> list[Any]:
        """The circuit as Redis has it: one HMGET for every call that asks at the same time."""
        reading = self._reading.get(key)
        if reading is None:
            name = self.link.key("circuit", *key)
            reading = asyncio.ensure_future(self.link.call(lambda r: r.hmget(name, *FIELDS)))
            self._reading[key] = reading
            reading.add_done_callback(lambda done: self._read_done(key, done))
        return _answer(await asyncio.shield(reading))

    def _read_done(self, key: tuple[int, int], done: asyncio.Future[list[bytes | None]]) -> None:
        self._reading.pop(key, None)
        if not done.cancelled():
            done.exception()  # seen, even when every caller has gone (cancelled)

    async def _probing(self, key: tuple[int, int], circuit: Circuit) -> Verdict:
        """An open circuit: refuse the call, or let it through as the one probe once the
        open time has passed."""
        now = time.time()
        if now < circuit.opened_at + self.policy.open_seconds:
            raise circuit_open(circuit.opened_at + self.policy.open_seconds - now)
        holder = f"{self._name}:{next(self._probes)}"
        keys = (self.link.key("circuit", *key), self.link.key("probe", *key))
        args = (circuit.openings, self._open_ms, self._open_ms, holder)
        took, *answer = await self.link.call(
            lambda redis: self._probe(keys=keys, args=args, client=redis)
        )
        circuit.learn(answer)
        if took:
            return Passed(self, key, circuit, circuit.openings, holder)
        if not circuit.opened_at:  # a probe through another process closed it
            return Passed(self, key, circuit, circuit.openings)
        raise circuit_open(max(circuit.opened_at + self.policy.open_seconds - now, 0.0))

    def _heard(self, message: bytes) -> None:
        try:
            client_id, api_id, *answer = message.split()
            circuit = self.circuits.get((int(client_id), int(api_id)))
            if circuit is not None:
                circuit.learn(answer)
        except ValueError:
            log.warning("an unreadable message on %s: %r", self._channel, message[:100])

    def _linked(self, up: bool) -> None:
        if up:  # what was heard before may be stale: read each circuit again when next used
            for circuit in self.circuits.values():
                circuit.version = -1
            return
        self.local = Breakers(self.policy)
        for (client_id, api_id), circuit in self.circuits.items():
            if circuit.opened_at:
                self.local.opened(client_id, api_id, circuit.opened_at)


def _answer(fields: Sequence[bytes | None]) -> list[Any]:
    """A circuit read with HMGET (FIELDS) in the shape the scripts answer."""
    version, openings, opened, row, recent = (value or b"0" for value in fields)
    return [version, openings, opened, row, int(b"1" not in recent)]
