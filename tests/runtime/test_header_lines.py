"""A token or session that would end a header line: the agent's session from the context is
refused as a bad parameter, a token an upstream gave as an authorization failure; neither
reaches the wire, and the call ends in a named outcome rather than an exception."""

from collections.abc import AsyncIterator

import pytest

from callout.runtime.executor import Executor
from tests.livevox_server import LiveVoxServer
from tests.runtime.conftest import PlanFactory
from tests.runtime.test_livevox import CUSTOMER, livevox_plan
from tests.upstream import Upstream


@pytest.fixture
async def livevox() -> AsyncIterator[LiveVoxServer]:
    async with LiveVoxServer() as server:
        yield server


BROKEN = ["abc\r\nX-Injected: 1", "abc\n", "abc\rdef", "abc\x00"]


@pytest.mark.parametrize("session", BROKEN)
async def test_an_agents_session_holding_a_line_break_is_an_invalid_parameter(
    executor: Executor, livevox: LiveVoxServer, session: str
) -> None:
    context = {"loginData": {"sessionId": session, "agentId": "1007"}}

    outcome = await executor.run(livevox_plan(livevox), CUSTOMER, context)

    assert (outcome.outcome, outcome.reason) == ("failure", "invalid_parameters")
    assert outcome.message == "loginData.sessionId holds a control character"
    assert livevox.sessions_sent() == []
    assert livevox.accepted_logins == 0


@pytest.mark.parametrize("token", BROKEN)
async def test_a_token_from_the_provider_holding_a_line_break_is_an_authorization_failure(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory, token: str
) -> None:
    upstream.answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": 300})
    authorization = {
        "type": "oauth2",
        "token_url": f"{upstream.url}/oauth/token",
        "client_id": "callout",
        "client_secret": "s3cret-client",
    }

    outcome = await executor.run(on_upstream(api={"authorization": authorization}), CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "authorization")
    assert "control character" in (outcome.message or "")
    assert [seen.raw_path for seen in upstream.received] == ["/oauth/token"]
