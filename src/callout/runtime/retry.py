"""Retries: which calls are sent again, and when.

A call is sent again only when sending it twice cannot do twice what it does: an idempotent
method (RFC 9110 section 9.2.2), or a POST or PATCH that carries an Idempotency-Key. And only
when the first try says another may work: no connection could be made, or the answer is 429,
502, 503 or 504. Between tries: exponential backoff with full jitter, or what Retry-After
asks when it asks more. Never past the call's deadline: when the next try could not start in
time, the last answer stands (a 503 is a truer outcome than a timeout).
"""

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from callout.runtime.errors import Timeout, UpstreamError
from callout.runtime.http import HttpClient, Outgoing, Received

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # tries in all, the first included
    base: float = 0.1  # seconds; the n-th wait is drawn from [0, base * 2**n]
    cap: float = 2.0  # the longest backoff (Retry-After may ask more, within the deadline)

    def retryable(self, outgoing: Outgoing) -> bool:
        return self.attempts > 1 and (
            outgoing.method in IDEMPOTENT or outgoing.header("Idempotency-Key") is not None
        )

    def backoff(self, attempt: int) -> float:
        return random.uniform(0.0, min(self.cap, self.base * 2**attempt))  # noqa: S311 (jitter)


NO_RETRIES = RetryPolicy(attempts=1)
Retried = Callable[[str, float], None]  # (why, seconds waited): for the trace


async def send(
    http: HttpClient,
    outgoing: Outgoing,
    timeout: float,
    policy: RetryPolicy,
    retried: Retried | None = None,
) -> Received:
    """The answer to `outgoing`, tried again as the policy allows, within `timeout`."""
    if not policy.retryable(outgoing):  # the common case: one try, no clock
        return await http.send(outgoing, timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    attempt = 0
    while True:
        failed: UpstreamError | None = None
        try:
            received = await http.send(outgoing, max(deadline - loop.time(), 0.001))
        except Timeout:
            raise Timeout(f"no complete answer within {timeout:g} s") from None
        except UpstreamError as error:
            if not error.connect:
                raise
            failed, why = error, "no connection"
        else:
            if received.status not in STATUSES:
                return received
            why = f"status {received.status}"
        attempt += 1
        wait = policy.backoff(attempt - 1)
        if failed is None:
            wait = max(wait, retry_after(received) or 0.0)
        if attempt >= policy.attempts or loop.time() + wait >= deadline:
            if failed is not None:
                raise failed
            return received
        if retried is not None:
            retried(why, wait)
        await asyncio.sleep(wait)


def retry_after(received: Received) -> float | None:
    """Retry-After's seconds, from either form (RFC 9110 section 10.2.3), or None."""
    value = received.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
