"""Circuit breakers and the per-client cap held over every process through Redis, when
CALLOUT_REDIS_URL is set: `circuits.py` and `caps.py`, on the runtime's `Link`.

Without Redis, or while it is away, each process keeps its own (`runtime/breaker.py`).
"""

from callout.runtime.breaker import BreakerPolicy
from callout.runtime.shared.caps import LEASE, SharedInFlight
from callout.runtime.shared.circuits import SharedBreakers
from callout.runtime.shared.link import Link


class SharedLimits:
    """The executor's `breakers` and `in_flight`, shared; `start` and `close` run the task
    that gives idle slots back."""

    def __init__(
        self, link: Link, cap: int, policy: BreakerPolicy | None = None, lease: float = LEASE
    ) -> None:
        self.breakers = SharedBreakers(link, policy)
        self.in_flight = SharedInFlight(link, cap, lease)

    def start(self) -> None:
        self.in_flight.start()

    async def close(self) -> None:
        await self.in_flight.close()
