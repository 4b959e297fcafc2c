"""Retries, circuit breakers and the per-client cap, against real peers on loopback
(`Upstream`, closed ports, a listener that never completes a connect) through a real
`Executor` and `HttpClient`; then the same state through REST: `GET .../runtime`, and
invoke answering 429 past the cap and 503 while a circuit is open.

Connection attempts are counted where they happen: a guard that counts the sockets it lets
open (one per attempt), so "not retried" is seen on the wire, not taken from the trace.
"""

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from time import perf_counter
from typing import Any

import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI

from callout.apis.schemas import ApiWrite, RequestWrite
from callout.invocations.compile import compile_plan
from callout.runtime.breaker import Breaker, BreakerPolicy, Breakers, InFlight
from callout.runtime.executor import Executor, Outcome
from callout.runtime.guard import Guard, Verdict
from callout.runtime.http import HttpClient, Limits
from callout.runtime.plan import Plan, PlanKey
from callout.runtime.retry import NO_RETRIES
from callout.settings import Settings
from tests.conftest import LOOPBACK, Tenants
from tests.factories import invoke_url
from tests.invocations.test_router import crm
from tests.runtime.conftest import api_def, request_def
from tests.upstream import Upstream

CUSTOMER = {"customerId": "7"}
POST_JSON: dict[str, Any] = {
    "method": "POST",
    "content_type": "json",
    "body": '{"id": "${customerId}"}',
}
QUICK = 0.3  # seconds: how long an answer that needs no round trip to a slow peer may take


@dataclass
class Counting(Guard):
    """The loopback guard, noting each address it lets a socket open to: one per connection
    attempt. `before_connect(n)` runs as the n-th attempt's socket opens."""

    judged: list[str] = field(default_factory=list)
    before_connect: Callable[[int], None] | None = None

    def judge(self, address: str) -> Verdict:
        self.judged.append(address)
        if self.before_connect is not None:
            self.before_connect(len(self.judged))
        return super().judge(address)


def counting() -> Counting:
    return Counting(allow=Guard.from_entries(LOOPBACK).allow)


@asynccontextmanager
async def running(
    guard: Guard | None = None, limits: Limits | None = None, **options: Any
) -> AsyncIterator[Executor]:
    """An executor on a started client that may reach loopback."""
    http = HttpClient(guard or Guard.from_entries(LOOPBACK), limits)
    await http.start()
    try:
        yield Executor(http, **options)
    finally:
        await http.close()


def plan_at(url: str, *, client_id: int = 1, api_id: int = 1, **changes: Any) -> Plan:
    """`GET <url>/api/v1/customers/${customerId}` as a plan of this client's API."""
    key = PlanKey(
        client_id=client_id, api_id=api_id, request_id=1, api_version=1, request_version=1
    )
    api = ApiWrite.model_validate(api_def(base_url=f"{url}/api"))
    return compile_plan(key, api, RequestWrite.model_validate(request_def(**changes)))


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def kinds(outcome: Outcome) -> tuple[str, str | None, int | None]:
    return outcome.outcome, outcome.reason, outcome.status


def breaker_of(executor: Executor, client_id: int = 1, api_id: int = 1) -> Breaker:
    """The API's breaker in the executor's own `Breakers`."""
    assert isinstance(executor.breakers, Breakers)
    return executor.breakers.of_client(client_id)[api_id]


def counts(executor: Executor) -> dict[int, int]:
    """Calls in flight by client in the executor's own `InFlight`."""
    assert isinstance(executor.in_flight, InFlight)
    return executor.in_flight.counts


# Retries


async def test_a_get_answered_503_is_tried_again_and_succeeds(upstream: Upstream) -> None:
    upstream.answer(503)
    upstream.answer(200, {"name": "Ann"})
    async with running() as executor:
        outcome = await executor.run(plan_at(upstream.url), CUSTOMER, {})

    assert kinds(outcome) == ("success", None, 200)
    assert [seen.method for seen in upstream.received] == ["GET", "GET"]


async def test_retry_after_in_seconds_is_waited_out(upstream: Upstream) -> None:
    upstream.answer(503, headers={"Retry-After": "1"})
    upstream.answer(200)
    async with running() as executor:
        started = perf_counter()
        outcome = await executor.run(plan_at(upstream.url, timeout=3), CUSTOMER, {})
        elapsed = perf_counter() - started

    assert kinds(outcome) == ("success", None, 200)
    assert len(upstream.received) == 2
    assert 0.95 <= elapsed < 1.5


async def test_retry_after_as_an_http_date_is_waited_out(upstream: Upstream) -> None:
    # The date has whole seconds: two seconds ahead is a wait of more than one.
    upstream.answer(429, headers={"Retry-After": formatdate(time.time() + 2, usegmt=True)})
    upstream.answer(200)
    async with running() as executor:
        started = perf_counter()
        outcome = await executor.run(plan_at(upstream.url, timeout=4), CUSTOMER, {})
        elapsed = perf_counter() - started

    assert kinds(outcome) == ("success", None, 200)
    assert len(upstream.received) == 2
    assert 0.95 <= elapsed < 2.5


@pytest.mark.parametrize("status", [503, 429])
async def test_a_retry_after_past_the_deadline_lets_the_answer_stand(
    upstream: Upstream, status: int
) -> None:
    upstream.answer(status, headers={"Retry-After": "5"})
    upstream.answer(200)
    async with running() as executor:
        outcome = await executor.run(plan_at(upstream.url, timeout=1), CUSTOMER, {})

    # Not a timeout at 1 s: the upstream's own answer, at once.
    assert kinds(outcome) == ("failure", "status", status)
    assert outcome.duration_ms < QUICK * 1000
    assert len(upstream.received) == 1


@pytest.mark.parametrize("status", [500, 404])
async def test_a_status_that_says_nothing_of_a_later_try_is_not_retried(
    upstream: Upstream, status: int
) -> None:
    upstream.answer(status)
    upstream.answer(200)
    async with running() as executor:
        outcome = await executor.run(plan_at(upstream.url), CUSTOMER, {})

    assert kinds(outcome) == ("failure", "status", status)
    assert len(upstream.received) == 1


async def test_an_upstream_that_keeps_answering_503_is_tried_three_times(
    upstream: Upstream,
) -> None:
    upstream.answer(503)
    async with running() as executor:
        outcome = await executor.run(plan_at(upstream.url), CUSTOMER, {})

    assert kinds(outcome) == ("failure", "status", 503)
    assert len(upstream.received) == 3


async def test_the_trace_shows_each_retry_and_why(upstream: Upstream) -> None:
    upstream.answer(503)
    upstream.answer(502)
    upstream.answer(200)
    async with running() as executor:
        outcome = await executor.run(plan_at(upstream.url), CUSTOMER, {}, trace=True)

    assert outcome.outcome == "success"
    retries = [step.detail for step in outcome.steps if step.name == "retry"]
    assert [detail.split(" after ")[0] for detail in retries] == ["status 503", "status 502"]
    assert all(detail.endswith(" ms") for detail in retries)
    names = [step.name for step in outcome.steps]
    assert names.index("retry") < names.index("send")  # the retries come before the answer


async def test_a_post_is_never_retried_without_an_idempotency_key(upstream: Upstream) -> None:
    upstream.answer(503)
    upstream.answer(200)
    async with running() as executor:
        outcome = await executor.run(plan_at(upstream.url, **POST_JSON), CUSTOMER, {})

    assert kinds(outcome) == ("failure", "status", 503)
    assert [seen.method for seen in upstream.received] == ["POST"]


async def test_a_post_that_cannot_connect_is_tried_once_without_an_idempotency_key() -> None:
    guard = counting()
    port = closed_port()
    async with running(guard) as executor:
        outcome = await executor.run(plan_at(f"http://127.0.0.1:{port}", **POST_JSON), CUSTOMER, {})

    assert kinds(outcome) == ("failure", "upstream_error", None)
    assert outcome.message == f"could not connect to 127.0.0.1:{port}"
    assert guard.judged == ["127.0.0.1"]


async def test_a_post_with_an_idempotency_key_is_retried_with_the_same_key(
    upstream: Upstream,
) -> None:
    upstream.answer(503)
    upstream.answer(200)
    plan = plan_at(
        upstream.url, headers=[{"name": "Idempotency-Key", "value": "order-7f3a"}], **POST_JSON
    )
    async with running() as executor:
        outcome = await executor.run(plan, CUSTOMER, {})

    assert kinds(outcome) == ("success", None, 200)
    assert [(s.method, s.header("Idempotency-Key"), s.body) for s in upstream.received] == [
        ("POST", "order-7f3a", b'{"id": "7"}'),
        ("POST", "order-7f3a", b'{"id": "7"}'),
    ]


async def test_a_get_that_cannot_connect_is_tried_three_times() -> None:
    guard = counting()
    port = closed_port()
    async with running(guard) as executor:
        outcome = await executor.run(plan_at(f"http://127.0.0.1:{port}"), CUSTOMER, {}, trace=True)

    assert kinds(outcome) == ("failure", "upstream_error", None)
    assert outcome.message == f"could not connect to 127.0.0.1:{port}"
    assert guard.judged == ["127.0.0.1"] * 3
    retries = [step.detail for step in outcome.steps if step.name == "retry"]
    assert [detail.split(" after ")[0] for detail in retries] == ["no connection"] * 2


async def test_a_server_that_comes_up_after_a_refused_connect_is_reached_on_the_retry() -> None:
    # A socket bound but not listening refuses connects. As the second attempt's socket
    # opens, it starts listening (synchronously, so that connect lands in its backlog) and
    # an aiohttp app starts serving it.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    async def handle(_: web.Request) -> web.Response:
        return web.json_response({"name": "Ann"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    serving: list[asyncio.Task[None]] = []

    def come_up(attempt: int) -> None:
        if attempt == 2:
            listener.listen()
            serving.append(asyncio.create_task(web.SockSite(runner, listener).start()))

    guard = counting()
    guard.before_connect = come_up
    try:
        async with running(guard) as executor:
            outcome = await executor.run(plan_at(f"http://127.0.0.1:{port}"), CUSTOMER, {})
    finally:
        await runner.cleanup()
        listener.close()

    assert kinds(outcome) == ("success", None, 200)
    assert guard.judged == ["127.0.0.1", "127.0.0.1"]
    assert len(serving) == 1


@pytest.fixture
def unresponsive() -> Iterator[int]:
    """A loopback port whose listener's backlog is full: the kernel drops new SYNs, so a
    connect neither succeeds nor is refused until the connect timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    with socket.socket() as probe:
        probe.settimeout(0.1)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            pytest.skip("this kernel completes connects past a full backlog")
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_a_connect_timeout_is_a_failed_connect_and_is_retried(unresponsive: int) -> None:
    # Not the call's deadline (2 s): each try gives up connecting after 0.1 s, and another
    # try may work, so three are made, and the outcome says what happened.
    guard = counting()
    async with running(guard, Limits(connect_timeout=0.1)) as executor:
        started = perf_counter()
        outcome = await executor.run(
            plan_at(f"http://127.0.0.1:{unresponsive}", timeout=2), CUSTOMER, {}
        )
        elapsed = perf_counter() - started

    assert kinds(outcome) == ("failure", "upstream_error", None)
    assert outcome.message == f"could not connect to 127.0.0.1:{unresponsive} within 0.1 s"
    assert guard.judged == ["127.0.0.1"] * 3
    assert elapsed < 1.0


# Circuit breakers

SHORT = BreakerPolicy(consecutive=3, open_seconds=0.2)


def breakers(policy: BreakerPolicy = SHORT) -> Breakers:
    return Breakers(policy)


async def test_consecutive_server_errors_open_the_circuit_and_later_calls_fail_at_once(
    upstream: Upstream,
) -> None:
    upstream.answer(500)
    async with running(breakers=breakers()) as executor:
        plan = plan_at(upstream.url)
        failed = [await executor.run(plan, CUSTOMER, {}) for _ in range(3)]
        refused = await executor.run(plan, CUSTOMER, {})
        breaker = breaker_of(executor)

    assert [kinds(outcome) for outcome in failed] == [("failure", "status", 500)] * 3
    assert kinds(refused) == ("failure", "circuit_open", None)
    assert refused.message is not None
    assert refused.message.startswith("the API's circuit is open after repeated failures")
    assert refused.duration_ms < 50
    assert len(upstream.received) == 3  # the refused call never left
    assert breaker.state == "open"
    assert executor.failures[(1, "circuit_open")] == 1


async def test_consecutive_failed_connects_open_the_circuit() -> None:
    guard = counting()
    url = f"http://127.0.0.1:{closed_port()}"
    async with running(guard, retries=NO_RETRIES, breakers=breakers()) as executor:
        failed = [await executor.run(plan_at(url), CUSTOMER, {}) for _ in range(3)]
        refused = await executor.run(plan_at(url), CUSTOMER, {})

    assert [outcome.reason for outcome in failed] == ["upstream_error"] * 3
    assert refused.reason == "circuit_open"
    assert len(guard.judged) == 3  # no socket opened for the refused call


def queue(upstream: Upstream, *statuses: int, delay: float = 0.0) -> None:
    """Queue answers in order (the upstream repeats the last one queued once it is reached)."""
    for status in statuses:
        upstream.answer(status, delay=delay)


async def open_circuit(executor: Executor, plan: Plan) -> None:
    """Fail enough calls in a row to open the plan's circuit; the upstream must answer 500s."""
    for _ in range(SHORT.consecutive):
        await executor.run(plan, CUSTOMER, {})
    assert breaker_of(executor, plan.key.client_id, plan.key.api_id).state == "open"


async def test_after_open_seconds_one_probe_goes_through_and_its_success_closes_the_circuit(
    upstream: Upstream,
) -> None:
    queue(upstream, 500, 500, 500)
    upstream.answer(200, delay=0.1)  # the probe's answer is held: the others come meanwhile
    async with running(breakers=breakers()) as executor:
        plan = plan_at(upstream.url)
        await open_circuit(executor, plan)
        await asyncio.sleep(SHORT.open_seconds + 0.05)
        received_before = len(upstream.received)

        outcomes = await asyncio.gather(*(executor.run(plan, CUSTOMER, {}) for _ in range(3)))
        probes = len(upstream.received) - received_before
        state = breaker_of(executor).state
        after = await executor.run(plan, CUSTOMER, {})

    assert sorted(outcome.reason or "success" for outcome in outcomes) == [
        "circuit_open",
        "circuit_open",
        "success",
    ]
    assert probes == 1
    assert state == "closed"
    assert after.outcome == "success"


async def test_a_failed_probe_opens_the_circuit_again(upstream: Upstream) -> None:
    upstream.answer(500)
    async with running(breakers=breakers()) as executor:
        plan = plan_at(upstream.url)
        await open_circuit(executor, plan)
        await asyncio.sleep(SHORT.open_seconds + 0.05)

        probe = await executor.run(plan, CUSTOMER, {})
        refused = await executor.run(plan, CUSTOMER, {})

    assert kinds(probe) == ("failure", "status", 500)
    assert refused.reason == "circuit_open"
    assert len(upstream.received) == SHORT.consecutive + 1


async def test_a_cancelled_probe_neither_closes_nor_reopens_the_circuit(
    upstream: Upstream,
) -> None:
    queue(upstream, 500, 500, 500)
    upstream.answer(200, delay=2.0)  # the probe hangs until its caller gives up on it
    upstream.answer(200)
    async with running(breakers=breakers()) as executor:
        plan = plan_at(upstream.url)
        await open_circuit(executor, plan)
        await asyncio.sleep(SHORT.open_seconds + 0.05)

        probe = asyncio.create_task(executor.run(plan, CUSTOMER, {}))
        while len(upstream.received) == SHORT.consecutive:
            await asyncio.sleep(0.01)
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe
        breaker = breaker_of(executor)
        state_after_cancel = breaker.state
        next_probe = await executor.run(plan, CUSTOMER, {})

    # A call given up on says nothing of the API's health; its turn as the probe is freed.
    assert state_after_cancel == "half_open"
    assert next_probe.outcome == "success"
    assert breaker.state == "closed"


async def test_a_call_from_before_the_circuit_opened_has_no_say_in_its_probe(
    upstream: Upstream,
) -> None:
    upstream.answer(200, delay=0.6)  # a slow call, let through while all was well
    queue(upstream, 500, 500, 500)
    upstream.answer(500, delay=0.5)  # the probe, failing slowly
    upstream.answer(200)
    async with running(breakers=breakers()) as executor:
        plan = plan_at(upstream.url)
        slow = asyncio.create_task(executor.run(plan, CUSTOMER, {}))
        while not upstream.received:
            await asyncio.sleep(0.01)
        await open_circuit(executor, plan)
        await asyncio.sleep(SHORT.open_seconds + 0.05)
        probe = asyncio.create_task(executor.run(plan, CUSTOMER, {}))
        late = await slow  # succeeds while the probe is out
        breaker = breaker_of(executor)
        state_after_late_success = breaker.state
        failed_probe = await probe

    assert late.outcome == "success"
    assert state_after_late_success == "half_open"  # the old success closed nothing
    assert failed_probe.status == 500
    assert breaker.state == "open"


async def test_failing_tests_and_dry_runs_leave_the_live_circuit_closed(
    upstream: Upstream,
) -> None:
    upstream.answer(500)
    async with running(breakers=breakers()) as executor:
        plan = plan_at(upstream.url)
        tests = [await executor.run(plan, CUSTOMER, {}, trace=True) for _ in range(4)]
        await executor.run(plan, {}, {}, mode="dry_run")  # a missing parameter: a failure
        await executor.run(plan, CUSTOMER, {}, mode="mock")  # no sample: a failure
        real = await executor.run(plan, CUSTOMER, {})
        breaker = breaker_of(executor)

    assert [kinds(outcome) for outcome in tests] == [("failure", "status", 500)] * 4
    assert kinds(real) == ("failure", "status", 500)
    assert (breaker.state, breaker.consecutive) == ("closed", 1)
    assert dict(executor.failures) == {(1, "status"): 1}  # the real call's only
    assert counts(executor) == {1: 0}


async def test_a_test_goes_through_an_open_circuit_and_leaves_it_open(
    upstream: Upstream,
) -> None:
    queue(upstream, 500, 500, 500, 200)
    async with running(breakers=breakers()) as executor:
        plan = plan_at(upstream.url)
        await open_circuit(executor, plan)
        tested = await executor.run(plan, CUSTOMER, {}, trace=True)
        refused = await executor.run(plan, CUSTOMER, {})

    assert kinds(tested) == ("success", None, 200)
    assert kinds(refused) == ("failure", "circuit_open", None)


async def test_tests_in_flight_take_nothing_from_the_clients_cap(upstream: Upstream) -> None:
    upstream.answer(200, {"name": "Ann"}, delay=0.3)
    async with running(max_in_flight=1) as executor:
        plan = plan_at(upstream.url)
        test = asyncio.create_task(executor.run(plan, CUSTOMER, {}, trace=True))
        await asyncio.sleep(0.1)
        real = await executor.run(plan, CUSTOMER, {})
        tested = await test

    assert kinds(real) == ("success", None, 200)
    assert kinds(tested) == ("success", None, 200)


async def test_client_errors_do_not_open_the_circuit(upstream: Upstream) -> None:
    upstream.answer(404)
    async with running(breakers=breakers()) as executor:
        outcomes = [await executor.run(plan_at(upstream.url), CUSTOMER, {}) for _ in range(6)]
        breaker = breaker_of(executor)

    # A 404 is the caller's problem, not a sign the API is down.
    assert [outcome.reason for outcome in outcomes] == ["status"] * 6
    assert len(upstream.received) == 6
    assert (breaker.state, breaker.consecutive) == ("closed", 0)


async def test_a_failure_rate_over_the_window_opens_the_circuit(upstream: Upstream) -> None:
    # Never two failures in a row, but half of the last four calls.
    policy = BreakerPolicy(consecutive=100, window=4, rate=0.5, open_seconds=30)
    queue(upstream, 500, 200, 500, 200)
    async with running(breakers=breakers(policy)) as executor:
        plan = plan_at(upstream.url)
        statuses = [(await executor.run(plan, CUSTOMER, {})).status for _ in range(4)]
        refused = await executor.run(plan, CUSTOMER, {})

    assert statuses == [500, 200, 500, 200]
    assert refused.reason == "circuit_open"
    assert len(upstream.received) == 4


async def test_a_circuit_belongs_to_one_api_of_one_client(upstream: Upstream) -> None:
    queue(upstream, 500, 500, 500, 200)
    async with running(breakers=breakers()) as executor:
        await open_circuit(executor, plan_at(upstream.url, client_id=1, api_id=1))

        same_api = await executor.run(plan_at(upstream.url, api_id=1), CUSTOMER, {})
        other_api = await executor.run(plan_at(upstream.url, api_id=2), CUSTOMER, {})
        other_client = await executor.run(plan_at(upstream.url, client_id=2), CUSTOMER, {})

    assert same_api.reason == "circuit_open"
    assert other_api.outcome == "success"
    assert other_client.outcome == "success"


# The per-client cap


async def test_past_the_cap_calls_are_refused_at_once_while_other_clients_go_through(
    upstream: Upstream,
) -> None:
    queue(upstream, *[200] * 5, delay=0.5)  # for the five admitted
    upstream.answer(200)  # for the call after them
    async with Upstream() as other, running(max_in_flight=5) as executor:
        a_plan, b_plan = plan_at(upstream.url, client_id=1), plan_at(other.url, client_id=2)
        a_calls = [asyncio.create_task(executor.run(a_plan, CUSTOMER, {})) for _ in range(20)]
        await asyncio.sleep(0.1)  # the five admitted are out, held by the upstream
        in_flight = dict(counts(executor))

        b_outcomes = await asyncio.gather(*(executor.run(b_plan, CUSTOMER, {}) for _ in range(5)))
        a_still_out = sum(not call.done() for call in a_calls)
        a_outcomes = await asyncio.gather(*a_calls)
        again = await executor.run(a_plan, CUSTOMER, {})

    assert in_flight == {1: 5}
    assert [outcome.outcome for outcome in b_outcomes] == ["success"] * 5
    assert a_still_out == 5  # B went through while A's five were still out
    refused = [outcome for outcome in a_outcomes if outcome.reason == "too_many_calls"]
    assert len(refused) == 15
    assert all(outcome.duration_ms < 50 for outcome in refused)
    assert refused[0].message == "this client already has 5 calls in flight; try again shortly"
    assert sum(outcome.outcome == "success" for outcome in a_outcomes) == 5
    assert len(upstream.received) == 6  # the five admitted and the last call; no refused one
    assert again.outcome == "success"
    assert counts(executor) == {1: 0, 2: 0}


async def test_the_cap_is_released_after_failures_and_timeouts(upstream: Upstream) -> None:
    # In the order the calls arrive; the unconnected ones never do.
    queue(upstream, 500, 500)
    queue(upstream, 200, 200, delay=0.3)
    queue(upstream, 200)
    async with running(max_in_flight=2) as executor:
        failures = await asyncio.gather(
            *(executor.run(plan_at(upstream.url), CUSTOMER, {}) for _ in range(2))
        )
        unreachable = plan_at(f"http://127.0.0.1:{closed_port()}", api_id=2)
        unconnected = await asyncio.gather(
            *(executor.run(unreachable, CUSTOMER, {}) for _ in range(2))
        )
        slow = plan_at(upstream.url, api_id=3, timeout=0.1)
        timeouts = await asyncio.gather(*(executor.run(slow, CUSTOMER, {}) for _ in range(2)))
        successes = await asyncio.gather(
            *(executor.run(plan_at(upstream.url, api_id=4), CUSTOMER, {}) for _ in range(2))
        )

    assert [outcome.reason for outcome in failures] == ["status"] * 2
    assert [outcome.reason for outcome in unconnected] == ["upstream_error"] * 2
    assert [outcome.reason for outcome in timeouts] == ["timeout"] * 2
    assert [outcome.outcome for outcome in successes] == ["success"] * 2  # none refused
    assert counts(executor) == {1: 0}


# Through REST


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with a cap of one call in flight per client."""
    return settings.model_copy(update={"client_max_in_flight": 1})


async def test_the_runtime_route_shows_failures_by_reason_and_the_open_circuit(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)
    upstream.answer(500)
    url = invoke_url(a, api_id, request_id)

    statuses = [
        (await http.post(url, json={"parameters": CUSTOMER}, headers=a.editor)).status_code
        for _ in range(5)  # the default breaker opens after five failures in a row
    ]
    refused = await http.post(url, json={"parameters": CUSTOMER}, headers=a.editor)
    state = await http.get(f"/api/v1/clients/{a.code}/runtime", headers=a.viewer)

    assert statuses == [502] * 5
    assert refused.status_code == 503, refused.text
    assert (refused.json()["outcome"], refused.json()["reason"]) == ("failure", "circuit_open")
    assert len(upstream.received) == 5
    assert state.status_code == 200, state.text
    view = state.json()
    assert (view["in_flight"], view["max_in_flight"]) == (0, 1)
    assert view["failures"] == {"circuit_open": 1, "status": 5}
    [circuit] = view["circuits"]
    assert (circuit["api_id"], circuit["state"]) == (api_id, "open")
    assert circuit["retry_at"] is not None


async def test_failing_test_calls_through_rest_leave_the_circuit_closed(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)
    upstream.answer(500)
    url = invoke_url(a, api_id, request_id)
    test_url = url.removesuffix("/invoke") + "/test"

    tests = [
        await http.post(test_url, json={"parameters": CUSTOMER}, headers=a.editor)
        for _ in range(5)  # as many as open the default breaker
    ]
    real = await http.post(url, json={"parameters": CUSTOMER}, headers=a.editor)
    state = await http.get(f"/api/v1/clients/{a.code}/runtime", headers=a.viewer)

    assert [(t.status_code, t.json()["reason"]) for t in tests] == [(200, "status")] * 5
    assert real.status_code == 502, real.text
    assert real.json()["reason"] == "status"
    view = state.json()
    assert view["failures"] == {"status": 1}
    [circuit] = view["circuits"]
    assert (circuit["state"], circuit["failures_in_a_row"]) == ("closed", 1)


async def test_a_client_sees_only_its_own_runtime_view(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a, b = tenants.a, tenants.b
    api_id, request_id = await crm(http, a, upstream)
    upstream.answer(500)
    await http.post(
        invoke_url(a, api_id, request_id), json={"parameters": CUSTOMER}, headers=a.editor
    )

    theirs = await http.get(f"/api/v1/clients/{a.code}/runtime", headers=b.admin)
    own = await http.get(f"/api/v1/clients/{b.code}/runtime", headers=b.admin)

    assert theirs.status_code == 404, theirs.text
    assert own.status_code == 200, own.text
    assert own.json() == {
        "in_flight": 0,
        "max_in_flight": 1,
        "failures": {},
        "circuits": [],
        "redis": "off",  # no CALLOUT_REDIS_URL: each process on its own, as ever
    }


async def test_invoke_past_the_cap_answers_429_at_once(
    app: FastAPI, http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)
    # The client's one slot is taken by a slow call on the app's own executor. (Not a second
    # REST call side by side: the test's requests share one database connection.)
    executor: Executor = app.state.runtime.executor
    upstream.answer(200, delay=0.5)
    holding = asyncio.create_task(
        executor.run(plan_at(upstream.url, client_id=a.client.id, api_id=10**6), CUSTOMER, {})
    )
    await asyncio.sleep(0.1)

    started = perf_counter()
    refused = await http.post(
        invoke_url(a, api_id, request_id), json={"parameters": CUSTOMER}, headers=a.editor
    )
    elapsed = perf_counter() - started
    state = await http.get(f"/api/v1/clients/{a.code}/runtime", headers=a.viewer)
    held = await holding

    assert refused.status_code == 429, refused.text
    assert refused.json()["reason"] == "too_many_calls"
    assert elapsed < QUICK
    assert held.outcome == "success"
    view = state.json()
    assert (view["in_flight"], view["max_in_flight"]) == (1, 1)
    assert view["failures"] == {"too_many_calls": 1}
    assert len(upstream.received) == 1  # only the call holding the slot
