"""LiveVox authorization at run time against a LiveVox Session API on loopback
(tests/livevox_server.py): the agent's own session relayed from the context, Callout's own
login when there is none, one session kept for many calls, a hundred cold calls making one
login (with the in-process store and with the one in Redis), a session kept alive by use,
one re-login
after a 401 on Callout's session and never on the agent's, refused credentials, the trace,
and a token, password or session that never comes back out."""

import asyncio
import dataclasses
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from callout.runtime.auth.tokens import MemoryTokenStore
from callout.runtime.executor import Executor, Outcome
from callout.runtime.http import HttpClient
from callout.runtime.plan import Plan
from callout.schemas import MASK
from tests.livevox_server import (
    ACCESS_TOKEN,
    AGENT_NAME,
    AGENT_PASSWORD,
    CLIENT_NAME,
    PASSWORD,
    USER_NAME,
    LiveVoxServer,
)
from tests.runtime.conftest import KEY, Stores, api_def, compile_from, request_def

CUSTOMER = {"customerId": "7"}


@pytest.fixture
async def livevox() -> AsyncIterator[LiveVoxServer]:
    async with LiveVoxServer() as server:
        yield server


@pytest.fixture
def executor(outbound: HttpClient) -> Executor:
    # A hundred calls at once from one client: above the default cap on calls in flight.
    return Executor(outbound, max_in_flight=1000)


def livevox_plan(
    livevox: LiveVoxServer, request: dict[str, Any] | None = None, **auth: Any
) -> Plan:
    """`GET {base}/v1/customers/${customerId}` under a LiveVox API that can log in as the
    API user; `auth` changes the authorization."""
    authorization = {
        "type": "livevox",
        "access_token": ACCESS_TOKEN,
        "client_name": CLIENT_NAME,
        "user_name": USER_NAME,
        "password": PASSWORD,
        "agent": False,
    } | auth
    api = api_def(base_url=livevox.base_url, authorization=authorization)
    return compile_from(api, request_def(**(request or {})))


def agent_context(session: str) -> dict[str, Any]:
    """What an agent's desktop sends: the session it opened when the agent logged in."""
    return {"loginData": {"sessionId": session, "agentId": "1007"}}


def succeeded(outcome: Outcome) -> bool:
    return (outcome.outcome, outcome.status) == ("success", 200)


# The agent's own session


async def test_an_agents_session_from_the_context_is_relayed_without_a_login(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    session = livevox.open_session()

    outcome = await executor.run(livevox_plan(livevox), CUSTOMER, agent_context(session))

    assert succeeded(outcome), outcome.message
    assert livevox.logins == []
    [seen] = livevox.resource_requests
    assert seen.session == session
    assert seen.path == "/livevox/v1/customers/7"
    # The access token proves the application at login only; it goes nowhere else.
    assert "LV-Access" not in seen.headers


async def test_an_agents_session_is_not_kept_for_calls_without_one(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    # A back-office call must not borrow whichever agent called last.
    agents = livevox.open_session()
    plan = livevox_plan(livevox)

    await executor.run(plan, CUSTOMER, agent_context(agents))
    outcome = await executor.run(plan, CUSTOMER, {})

    assert succeeded(outcome), outcome.message
    assert livevox.accepted_logins == 1
    assert livevox.sessions_sent()[1] not in (agents, None)


# Callout's own session


@pytest.mark.parametrize(
    ("user", "password", "agent"),
    [
        pytest.param(USER_NAME, PASSWORD, False, id="user"),
        # Agent names ignore case on LiveVox's side: sent as configured.
        pytest.param(AGENT_NAME.upper(), AGENT_PASSWORD, True, id="agent"),
    ],
)
async def test_without_a_session_in_the_context_callout_logs_in_and_sends_the_new_session(
    executor: Executor, livevox: LiveVoxServer, user: str, password: str, agent: bool
) -> None:
    plan = livevox_plan(livevox, user_name=user, password=password, agent=agent)

    outcome = await executor.run(plan, CUSTOMER, {"loginData": {"agentId": "1007"}})

    assert succeeded(outcome), outcome.message
    [login] = livevox.logins
    assert login.status == 200
    assert login.headers["LV-Access"] == ACCESS_TOKEN
    assert login.headers["Content-Type"] == "application/json"
    assert login.body == {
        "clientName": CLIENT_NAME,
        "userName": user,
        "password": password,
        "agent": agent,
    }
    [seen] = livevox.resource_requests
    assert seen.session is not None
    assert livevox.sessions[seen.session].user[2] is agent
    assert "LV-Access" not in seen.headers


async def test_one_session_serves_many_calls(executor: Executor, livevox: LiveVoxServer) -> None:
    plan = livevox_plan(livevox)

    outcomes = [await executor.run(plan, {"customerId": str(n)}, {}) for n in range(20)]

    assert all(succeeded(o) for o in outcomes)
    assert len(livevox.logins) == 1
    assert len(set(livevox.sessions_sent())) == 1


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "redis"])
async def test_a_hundred_cold_calls_at_once_make_one_login(
    outbound: HttpClient, shared: bool, stores: Stores
) -> None:
    # Single flight: the others wait for the one login and read what it stored. A login
    # held back 50 ms makes sure they all arrive while it is on its way.
    store = (await stores(1))[0] if shared else MemoryTokenStore()
    executor = Executor(outbound, store, max_in_flight=1000)
    async with LiveVoxServer(login_delay=0.05) as livevox:
        plan = livevox_plan(livevox)

        outcomes = await asyncio.gather(
            *(executor.run(plan, {"customerId": str(n)}, {}) for n in range(100))
        )

        assert {(o.outcome, o.message) for o in outcomes} == {("success", None)}
        assert len(livevox.logins) == 1
        assert len(set(livevox.sessions_sent())) == 1


async def test_a_session_used_within_its_window_is_kept_and_one_left_unused_is_not(
    outbound: HttpClient, livevox: LiveVoxServer
) -> None:
    """LiveVox keeps a session while it is used within 2 hours; Callout notes the use at
    most once a minute, so its own window ends at most a minute before LiveVox's."""
    now = [1_000_000.0]
    executor = Executor(outbound, MemoryTokenStore(lambda: now[0]))
    plan = livevox_plan(livevox)

    async def call_after(minutes: float) -> None:
        now[0] += minutes * 60
        assert succeeded(await executor.run(plan, CUSTOMER, {}))

    await call_after(0)
    for _ in range(6):
        await call_after(30)  # in use for 3 hours, used every half hour
    await call_after(0.5)  # half a minute later: not noted, the window is nearly whole
    await call_after(118)  # 1 h 58 min after the last note: still within its window
    assert len(livevox.logins) == 1

    await call_after(119)  # unused for 1 h 59 min: past Callout's window of 1 h 59 min
    assert len(livevox.logins) == 2


# A session that ends


async def test_a_401_on_callouts_session_logs_in_again_once_and_retries(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    plan = livevox_plan(livevox)
    await executor.run(plan, CUSTOMER, {})
    [first] = livevox.sessions_sent()
    assert first is not None
    livevox.expire(first)  # two hours unused, or the API user's password changed

    outcome = await executor.run(plan, CUSTOMER, {}, trace=True)

    assert succeeded(outcome), outcome.message
    assert len(livevox.logins) == 2
    sent = livevox.sessions_sent()
    assert sent[:2] == [first, first]
    assert sent[2] not in (first, None)
    assert [seen.status for seen in livevox.resource_requests] == [200, 401, 200]
    names = [step.name for step in outcome.steps]
    assert names.count("login") == 1
    assert names.index("renew") < names.index("login")


async def test_calls_refused_together_on_an_ended_session_log_in_again_once(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    # Each refused call drops the session it sent, not the one another call has just opened.
    # In-process store only: with a shared store, a call that extends the old session's
    # window can write it back after another call dropped it (a store `put` cannot say
    # "only if it is still this one"), and the retry sends the dead session again.
    plan = livevox_plan(livevox)
    await executor.run(plan, CUSTOMER, {})
    [first] = livevox.sessions_sent()
    assert first is not None
    livevox.expire(first)

    outcomes = await asyncio.gather(*(executor.run(plan, CUSTOMER, {}) for _ in range(50)))

    assert {(o.outcome, o.message) for o in outcomes} == {("success", None)}
    assert len(livevox.logins) == 2
    assert len(set(livevox.sessions_sent()) - {first}) == 1


async def test_a_401_after_logging_in_again_is_a_failure(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    # The new session is refused too: not a session problem, so no third try.
    livevox.refuse(2)

    outcome = await executor.run(livevox_plan(livevox), CUSTOMER, {})

    assert (outcome.outcome, outcome.reason, outcome.status) == ("failure", "status", 401)
    assert outcome.message == "the upstream refused renewed livevox credentials too (status 401)"
    assert len(livevox.logins) == 2
    assert len(livevox.resource_requests) == 2


async def test_a_401_on_the_agents_own_session_is_not_logged_in_again(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    # The agent's session is the platform's to renew: logging in as the API user instead
    # would act under another identity.
    agents = livevox.open_session()
    livevox.expire(agents)

    outcome = await executor.run(livevox_plan(livevox), CUSTOMER, agent_context(agents))

    assert (outcome.outcome, outcome.reason, outcome.status) == ("failure", "status", 401)
    assert outcome.message == "the upstream answered 401"
    assert livevox.logins == []
    assert livevox.sessions_sent() == [agents]


# Refused credentials


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        pytest.param({"password": "wrong password"}, 401, id="wrong-password"),
        pytest.param({"user_name": "nobody"}, 401, id="unknown-user"),
        pytest.param({"client_name": "OTHER"}, 401, id="wrong-client"),
        pytest.param({"access_token": "lv-access-unknown-token"}, 403, id="unknown-token"),
    ],
)
async def test_refused_credentials_fail_with_reason_authorization(
    executor: Executor, livevox: LiveVoxServer, auth: dict[str, Any], status: int
) -> None:
    outcome = await executor.run(livevox_plan(livevox, **auth), CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "authorization")
    assert outcome.message == f"the LiveVox login was refused (status {status})"
    assert [login.status for login in livevox.logins] == [status]
    assert livevox.resource_requests == []


async def test_refused_credentials_are_not_sent_again_for_every_call(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    plan = livevox_plan(livevox, password="wrong password")

    first, *later = [await executor.run(plan, CUSTOMER, {}) for _ in range(3)]

    # One login: refused credentials sent per call would soon lock the account.
    assert [login.status for login in livevox.logins] == [401]
    assert first.message == "the LiveVox login was refused (status 401)"
    for outcome in later:
        assert (outcome.outcome, outcome.reason) == ("failure", "authorization")
        assert outcome.message is not None
        assert re.fullmatch(
            r"the LiveVox login was refused \(status 401\); the credentials of API version 1 "
            r"are not sent again for \d+ s \(saving corrected ones makes a new version, "
            r"tried at once\)",
            outcome.message,
        )


async def test_corrected_credentials_are_tried_at_once(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    refused = await executor.run(livevox_plan(livevox, password="wrong password"), CUSTOMER, {})
    corrected = dataclasses.replace(
        livevox_plan(livevox), key=dataclasses.replace(KEY, api_version=2)
    )  # saved again

    outcome = await executor.run(corrected, CUSTOMER, {})

    assert refused.reason == "authorization"
    assert succeeded(outcome), outcome.message
    assert [login.status for login in livevox.logins] == [401, 200]


async def test_a_login_that_fails_for_livevox_itself_is_tried_again_on_the_next_call(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    livevox.down = True
    plan = livevox_plan(livevox)
    unavailable = await executor.run(plan, CUSTOMER, {})
    livevox.down = False

    outcome = await executor.run(plan, CUSTOMER, {})

    assert unavailable.message == "the LiveVox login was refused (status 503)"
    assert succeeded(outcome), outcome.message
    assert [login.status for login in livevox.logins] == [503, 200]


async def test_without_a_session_or_an_access_token_nothing_is_sent(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    outcome = await executor.run(livevox_plan(livevox, access_token=None), CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "authorization")
    assert outcome.message == (
        "no LiveVox session in loginData.sessionId, and no access token to log in"
    )
    assert livevox.logins == []
    assert livevox.resource_requests == []


# The trace, and secrets


async def test_the_trace_shows_the_login_before_the_call(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    outcome = await executor.run(livevox_plan(livevox), CUSTOMER, {}, trace=True)

    assert [step.name for step in outcome.steps] == [
        "bind",
        "render",
        "login",
        "authorize",
        "send",
        "map",
    ]
    assert outcome.steps[2].detail == "POST session/login 200"
    assert outcome.request is not None
    assert dict(outcome.request.headers)["LV-Session"] == MASK


async def test_a_relayed_session_makes_no_login_step(
    executor: Executor, livevox: LiveVoxServer
) -> None:
    session = livevox.open_session()

    outcome = await executor.run(
        livevox_plan(livevox), CUSTOMER, agent_context(session), trace=True
    )

    assert "login" not in [step.name for step in outcome.steps]


def assert_nowhere(secrets: list[str], outcome: Outcome, caplog: pytest.LogCaptureFixture) -> None:
    for secret in secrets:
        for item in dataclasses.fields(outcome):
            assert secret not in repr(getattr(outcome, item.name)), item.name
        for record in caplog.records:
            assert secret not in record.getMessage(), record.name
            assert secret not in repr(record.args), record.name
            assert secret not in (record.exc_text or ""), record.name


ECHO = {
    "endpoint_path": "echo",
    "parameters": [],
    "outputs": [{"name": "session", "path": "$.session"}],
}


async def test_no_token_password_or_session_comes_back_out(
    executor: Executor, livevox: LiveVoxServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The resource echoes the session it was sent, as a careless upstream might; Callout
    # logs in, has the session refused, logs in again: every path a secret could take.
    caplog.set_level(logging.DEBUG)
    plan = livevox_plan(livevox, request=ECHO)
    await executor.run(plan, {}, {})
    [first] = livevox.sessions_sent()
    assert first is not None
    livevox.expire(first)

    outcome = await executor.run(plan, {}, {}, trace=True)

    assert succeeded(outcome), outcome.message
    second = livevox.sessions_sent()[-1]
    assert second is not None
    assert outcome.outputs == {"session": MASK}
    assert outcome.response is not None
    assert json.loads(outcome.response.body)["session"] == MASK
    assert_nowhere([ACCESS_TOKEN, PASSWORD, first, second], outcome, caplog)


async def test_a_relayed_session_echoed_back_is_masked(
    executor: Executor, livevox: LiveVoxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = livevox.open_session()

    outcome = await executor.run(
        livevox_plan(livevox, request=ECHO), {}, agent_context(session), trace=True
    )

    assert succeeded(outcome), outcome.message
    assert outcome.outputs == {"session": MASK}
    assert_nowhere([session], outcome, caplog)


async def test_a_refused_login_leaks_nothing_either(
    executor: Executor, livevox: LiveVoxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    outcome = await executor.run(
        livevox_plan(livevox, password=PASSWORD + "-old"), CUSTOMER, {}, trace=True
    )

    assert outcome.reason == "authorization"
    assert [step.name for step in outcome.steps][-2:] == ["login", "authorization"]
    assert_nowhere([ACCESS_TOKEN, PASSWORD, PASSWORD + "-old"], outcome, caplog)
