"""Circuit breakers, one per API, and the per-client cap on calls in flight.

A breaker stops calls to an API that is down, so agents get an answer at once instead of
each waiting out a deadline, and the API gets room to recover:

    closed  --(5 failures in a row, or half of the last 20 calls)-->  open
    open    --(30 s later)-->  half-open: one call goes through as a probe
    half-open  --(the probe succeeds)--> closed  --(it fails)--> open again

A failure is an answer the API could not give: no connection, no answer in time, an unreadable
answer, or a 5xx status. A 4xx is the caller's problem, not the API's health.

The cap keeps one noisy client from holding every connection: past it, a call is refused at
once ("too many calls") rather than queued without end, and other clients' calls go through.

These are one process's breakers and cap: the default, and what each process falls back on
while Redis is away. With Redis (CALLOUT_REDIS_URL) the same rules hold over every process
(`shared/limits.py`); the executor asks either through `Circuits` and `Cap`.
"""

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from callout.runtime.errors import CircuitOpen, TooManyCalls

State = Literal["closed", "open", "half_open"]


class Verdict(Protocol):
    """A call let through a circuit, whose verdict goes back to it."""

    async def record(self, failed: bool | None) -> None:
        """True: the API failed; False: it answered; None: no verdict (refused on this
        side, or cancelled)."""


class CircuitView(Protocol):
    """A circuit as GET .../runtime shows it."""

    @property
    def state(self) -> State: ...

    @property
    def consecutive(self) -> int: ...

    def retry_at(self) -> float | None: ...


class Circuits(Protocol):
    """Every API's circuit: this process's (`Breakers`) or every process's (shared)."""

    async def admit(self, client_id: int, api_id: int) -> Verdict:
        """Let a call through the API's circuit, or raise CircuitOpen."""

    async def view(self, client_id: int) -> Mapping[int, CircuitView]:
        """The client's circuits by API id."""


class Slots(Protocol):
    """Where a call took its place under the cap, and gives it back."""

    def leave(self, client_id: int) -> None: ...


class Cap(Protocol):
    """The per-client cap on calls in flight: this process's (`InFlight`) or every
    process's (shared)."""

    cap: int

    async def enter(self, client_id: int) -> Slots:
        """Take a place for a call, or raise TooManyCalls at once."""

    async def count(self, client_id: int) -> int:
        """The client's calls in flight."""


def circuit_open(retry_in: float) -> CircuitOpen:
    return CircuitOpen(
        f"the API's circuit is open after repeated failures; calls resume in "
        f"{retry_in:.0f} s or when a probe succeeds"
    )


def too_many_calls(cap: int) -> TooManyCalls:
    return TooManyCalls(f"this client already has {cap} calls in flight; try again shortly")


@dataclass(frozen=True)
class BreakerPolicy:
    consecutive: int = 5  # failures in a row that open the circuit
    window: int = 20  # the last calls a failure rate is taken over
    rate: float = 0.5  # the failure rate over a full window that opens it
    open_seconds: float = 30.0  # how long it stays open before a probe


@dataclass
class Breaker:
    """One API's circuit."""

    policy: BreakerPolicy
    state: State = "closed"
    consecutive: int = 0
    opened_at: float = 0.0
    probing: bool = False
    recent: deque[bool] = field(default_factory=deque)  # True: a failure
    openings: int = 0  # how many times it opened: a call's verdict counts in its own era

    def admit(self, now: float) -> int:
        """Let a call through, saying in which era (for `record`), or refuse it while the
        circuit is open."""
        if self.state == "closed":
            return self.openings
        if self.state == "open" and now - self.opened_at >= self.policy.open_seconds:
            self.state, self.probing = "half_open", False
        if self.state == "half_open" and not self.probing:
            self.probing = True  # this call is the probe; the others wait for its verdict
            return self.openings
        raise circuit_open(max(self.opened_at + self.policy.open_seconds - now, 0.0))

    def record(self, failed: bool | None, now: float, era: int) -> None:
        """Take the verdict of a call let through in `era`; None when it gave none (refused
        on this side, or cancelled), which frees the probe's turn and changes nothing else."""
        if self.state == "open" or era != self.openings:
            return  # let through before the circuit last opened: it speaks of an older API
        if self.state == "half_open":
            self.probing = False
            if failed is None:
                return
            if failed:
                self._open(now)
            else:
                self.state, self.consecutive = "closed", 0
                self.recent.clear()
            return
        if failed is None:
            return
        recent = self.recent
        recent.append(failed)
        if len(recent) > self.policy.window:
            recent.popleft()
        self.consecutive = self.consecutive + 1 if failed else 0
        if self.consecutive >= self.policy.consecutive or (
            len(recent) == self.policy.window
            and sum(recent) >= self.policy.rate * self.policy.window
        ):
            self._open(now)

    def retry_at(self) -> float | None:
        """When a probe may go (time.time()), while the circuit is open."""
        return self.opened_at + self.policy.open_seconds if self.state == "open" else None

    def _open(self, now: float) -> None:
        self.state, self.opened_at, self.consecutive = "open", now, 0
        self.openings += 1
        self.recent.clear()


@dataclass(slots=True)
class Admitted:
    """A call let through one of this process's breakers, in an era."""

    breaker: Breaker
    era: int

    async def record(self, failed: bool | None) -> None:
        self.breaker.record(failed, time.time(), self.era)


class Breakers:
    """Every API's breaker in this process, made on first use."""

    def __init__(self, policy: BreakerPolicy | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self._breakers: dict[tuple[int, int], Breaker] = {}

    async def admit(self, client_id: int, api_id: int) -> Admitted:
        """The call let through the API's breaker, or CircuitOpen."""
        breaker = self._breakers.get((client_id, api_id))
        if breaker is None:
            breaker = self._breakers[(client_id, api_id)] = Breaker(self.policy)
        return Admitted(breaker, breaker.admit(time.time()))

    def opened(self, client_id: int, api_id: int, at: float) -> None:
        """Take the API's circuit as open since `at` (as every process saw it)."""
        self._breakers[(client_id, api_id)] = Breaker(self.policy, "open", opened_at=at)

    def of_client(self, client_id: int) -> dict[int, Breaker]:
        """The client's breakers by API id."""
        return {api: b for (client, api), b in self._breakers.items() if client == client_id}

    async def view(self, client_id: int) -> dict[int, Breaker]:
        return self.of_client(client_id)


class InFlight:
    """Calls each client has in flight in this process, capped."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.counts: dict[int, int] = {}

    async def enter(self, client_id: int) -> "InFlight":
        count = self.counts.get(client_id, 0)
        if count >= self.cap:
            raise too_many_calls(self.cap)
        self.counts[client_id] = count + 1
        return self

    def leave(self, client_id: int) -> None:
        self.counts[client_id] -= 1

    async def count(self, client_id: int) -> int:
        return self.counts.get(client_id, 0)
