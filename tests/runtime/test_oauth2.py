"""OAuth 2.0 at run time against a real authorization server on loopback (oauthlib's server
classes, tests/oauth2_server.py): every grant with both client authentication methods, the
token cache, expiry and renewal in the background (token lifetimes passed on the token
store's clock, not waited out), a 401 or an expiry signal on a
fresh-looking token, dead and rotated refresh tokens, a thousand cold calls making one token
request, where the token goes, the trace, and tokens that never come back out."""

import asyncio
import base64
import dataclasses
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, quote_plus, urlsplit

import httpx
import pytest

from callout.apis.schemas import ApiWrite, RequestWrite
from callout.invocations.compile import compile_plan
from callout.runtime.auth.base import AuthContext
from callout.runtime.auth.oauth2 import authorization_code
from callout.runtime.auth.oauth2.scheme import OAuth2
from callout.runtime.auth.tokens import Credential, MemoryTokenStore, Owner
from callout.runtime.errors import AuthError
from callout.runtime.executor import Executor, Outcome
from callout.runtime.http import HttpClient
from callout.runtime.plan import Plan, PlanKey
from callout.runtime.trace import Recorder, Redactor
from callout.schemas import MASK
from tests.oauth2_server import (
    CLIENT_SECRET,
    PASSWORD,
    USERNAME,
    ClientAuth,
    OAuth2Server,
    Registered,
    ResourceAnswer,
    challenge_of,
)
from tests.runtime.conftest import KEY, Stores, api_def, request_def
from tests.upstream import Upstream

GRANTS = ["client_credentials", "password", "authorization_code", "refresh_token"]
CLIENT_AUTHS: dict[str, ClientAuth] = {"basic": "client_secret_basic", "post": "client_secret_post"}
REDIRECT_URI = "https://callout.example/api/v1/oauth/callback"
CUSTOMER = {"customerId": "7"}
OWNER = KEY.owner
SIGNAL: dict[str, Any] = {
    "expiry_signal_path": "$.error.code",
    "expiry_signal_value": "token_expired",
}


def client_id_of(client_auth: str) -> str:
    """Each client authentication method has its own client, held to that method."""
    return f"callout-{client_auth}"


class RecordingSaver:
    """A CredentialSaver that keeps what it was handed: (owner, old, new)."""

    def __init__(self) -> None:
        self.saved: list[tuple[Owner, str | None, str]] = []

    async def save_refresh_token(self, owner: Owner, old: str | None, new: str) -> None:
        self.saved.append((owner, old, new))


@pytest.fixture
async def server() -> AsyncIterator[OAuth2Server]:
    clients = [
        Registered(client_id_of(method), CLIENT_SECRET, auth_method=name)
        for method, name in CLIENT_AUTHS.items()
    ]
    async with OAuth2Server(clients) as running:
        yield running


class Clock:
    """The token store's clock, which a test moves on: a token ages without a wait."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def saver() -> RecordingSaver:
    return RecordingSaver()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def executor(
    saver: RecordingSaver, outbound: HttpClient, clock: Clock
) -> AsyncIterator[Executor]:
    """An executor whose token store runs on `clock` and whose rotated refresh tokens go to
    the recording saver."""
    # A thousand calls at once from one client: above the default cap on calls in flight.
    executor = Executor(outbound, MemoryTokenStore(clock), saver, max_in_flight=1000)
    yield executor
    # A renewal left running in the background finishes before its client closes.
    await executor.renewals.settled()


def oauth_plan(
    server: OAuth2Server,
    grant: str = "client_credentials",
    client_auth: str = "basic",
    *,
    key: PlanKey = KEY,
    request: dict[str, Any] | None = None,
    **auth: Any,
) -> Plan:
    """A plan for `GET <server>/api/v1/customers/${customerId}` under an OAuth 2.0 API."""
    authorization: dict[str, Any] = {
        "type": "oauth2",
        "grant": grant,
        "token_url": server.token_url,
        "client_id": client_id_of(client_auth),
        "client_secret": CLIENT_SECRET,
        "client_auth": client_auth,
    }
    if grant == "password":
        authorization |= {"username": USERNAME, "password": PASSWORD}
    if grant == "authorization_code":
        authorization["authorization_url"] = server.authorize_url
    authorization |= auth
    api = ApiWrite.model_validate(api_def(base_url=server.api_url, authorization=authorization))
    return compile_plan(key, api, RequestWrite.model_validate(request_def(**(request or {}))))


async def authorize(server: OAuth2Server, executor: Executor, plan: Plan) -> Credential:
    """The authorization_code grant's two legs: the browser's, against the server's
    authorization endpoint, then the code exchanged with its PKCE verifier; the token is
    cached for the plan's API, as after `POST .../authorize` and the callback."""
    auth = plan.authorization
    assert isinstance(auth, OAuth2)
    verifier, state = secrets.token_urlsafe(64), secrets.token_urlsafe(16)
    url = authorization_code.authorization_url(auth, REDIRECT_URI, state, challenge_of(verifier))
    async with httpx.AsyncClient() as browser:
        redirect = await browser.get(url)
    assert redirect.status_code == 302, redirect.text
    back = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert back["state"] == [state]
    loop = asyncio.get_running_loop()
    ctx = AuthContext(
        plan.key.owner,
        {},
        executor.http,
        executor.store,
        None,
        Recorder(Redactor(()), False),
        loop.time() + 5,
    )
    credential = await authorization_code.exchange_code(
        auth, ctx, back["code"][0], REDIRECT_URI, verifier
    )
    await executor.store.put(plan.key.owner.key("oauth2"), credential)
    return credential


async def until(condition: Callable[[], bool], within: float = 3.0) -> None:
    """Wait until `condition()` holds (something happening in the background)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def tokens_seen(server: OAuth2Server) -> list[str | None]:
    return [seen.token for seen in server.resource_requests]


# Every grant, both client authentication methods


@pytest.mark.parametrize("client_auth", list(CLIENT_AUTHS))
@pytest.mark.parametrize("grant", GRANTS)
async def test_each_grant_with_each_client_authentication_gets_a_token_the_resource_accepts(
    executor: Executor, server: OAuth2Server, grant: str, client_auth: str
) -> None:
    changes: dict[str, Any] = {}
    if grant == "refresh_token":
        changes["refresh_token"] = server.issue_refresh_token(client_id_of(client_auth))
    plan = oauth_plan(server, grant, client_auth, **changes)
    if grant == "authorization_code":
        await authorize(server, executor, plan)

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.status) == ("success", 200), outcome.message
    assert dict(server.grants) == {grant: 1}
    [token_request] = server.token_requests
    assert token_request.status == 200
    assert token_request.auth_method == CLIENT_AUTHS[client_auth]
    form = token_request.form
    if client_auth == "basic":
        assert "client_secret" not in form
        assert "client_id" not in form
    else:
        assert (form["client_id"], form["client_secret"]) == ("callout-post", CLIENT_SECRET)
        assert "Authorization" not in token_request.headers
    if grant == "password":
        assert (form["username"], form["password"]) == (USERNAME, PASSWORD)
    if grant == "authorization_code":
        assert form["redirect_uri"] == REDIRECT_URI
        assert form["code_verifier"]
    assert tokens_seen(server) == [server.issued_access_tokens[-1]]
    assert server.resource_requests[0].path_qs == "/api/v1/customers/7"


async def test_a_code_exchanged_with_the_wrong_verifier_is_refused(
    executor: Executor, server: OAuth2Server
) -> None:
    # The server checks PKCE (RFC 7636 section 4.6): a code is no use without its verifier.
    plan = oauth_plan(server, "authorization_code")
    auth = plan.authorization
    assert isinstance(auth, OAuth2)
    url = authorization_code.authorization_url(auth, REDIRECT_URI, "st", challenge_of("v" * 64))
    async with httpx.AsyncClient() as browser:
        redirect = await browser.get(url)
    [code] = parse_qs(urlsplit(redirect.headers["location"]).query)["code"]
    loop = asyncio.get_running_loop()
    ctx = AuthContext(
        OWNER,
        {},
        executor.http,
        executor.store,
        None,
        Recorder(Redactor(()), False),
        loop.time() + 5,
    )

    with pytest.raises(AuthError) as refused:
        await authorization_code.exchange_code(auth, ctx, code, REDIRECT_URI, "w" * 64)

    assert "invalid_grant" in refused.value.message
    assert server.token_requests[0].status == 400
    assert server.issued_access_tokens == []


async def test_basic_client_authentication_form_encodes_the_id_and_secret(
    executor: Executor, server: OAuth2Server
) -> None:
    # RFC 6749 section 2.3.1: `:`, `+`, `/` and `%` in the secret are form-encoded first.
    plan = oauth_plan(server, client_auth="basic")

    await executor.run(plan, CUSTOMER, {})

    pair = f"{quote('callout-basic', safe='')}:{quote(CLIENT_SECRET, safe='')}"
    expected = "Basic " + base64.b64encode(pair.encode()).decode()
    assert server.token_requests[0].headers["Authorization"] == expected
    assert server.token_requests[0].status == 200


async def test_scope_audience_and_extra_parameters_go_with_the_token_request(
    executor: Executor, server: OAuth2Server
) -> None:
    plan = oauth_plan(
        server,
        scope="customers:read calls:write",
        audience="https://crm.example.com",
        extra_token_params=[
            {"name": "resource", "value": "crm"},
            {"name": "ignored", "value": "x", "enabled": False},
        ],
    )

    outcome = await executor.run(plan, CUSTOMER, {})

    assert outcome.outcome == "success", outcome.message
    form = server.token_requests[0].form
    assert form["scope"] == "customers:read calls:write"
    assert form["audience"] == "https://crm.example.com"
    assert form["resource"] == "crm"
    assert "ignored" not in form


async def test_a_refused_client_is_an_authorization_failure_naming_the_error(
    executor: Executor, server: OAuth2Server
) -> None:
    plan = oauth_plan(server, client_secret="not-the-secret-4c1e")

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "authorization")
    assert outcome.message is not None
    assert "invalid_client" in outcome.message
    assert "not-the-secret-4c1e" not in outcome.message
    assert server.resource_requests == []


async def test_a_refused_grant_is_not_sent_again_for_every_call(
    executor: Executor, server: OAuth2Server
) -> None:
    plan = oauth_plan(server, "password", password="wrong-password-9f2e")

    first, *later = [await executor.run(plan, CUSTOMER, {}) for _ in range(3)]

    # One token request: a refused password sent per call would soon lock the account.
    assert len(server.token_requests) == 1
    assert first.message is not None
    assert first.message.startswith("the token endpoint refused the password grant (")
    for outcome in later:
        assert (outcome.outcome, outcome.reason) == ("failure", "authorization")
        assert outcome.message is not None
        assert outcome.message.startswith(
            first.message + "; the credentials of API version 1 are not sent again for "
        )
    corrected = oauth_plan(server, "password", key=dataclasses.replace(KEY, api_version=2))
    assert (await executor.run(corrected, CUSTOMER, {})).outcome == "success"
    assert len(server.token_requests) == 2


async def test_a_token_endpoint_that_quotes_the_secret_back_has_it_masked(
    executor: Executor, upstream: Upstream
) -> None:
    # A token endpoint's error text is the provider's to choose, and some echo what they
    # were sent; the outcome's message must not carry the secret onward.
    upstream.answer(401, {"error": f"invalid_client: no client with secret {CLIENT_SECRET}"})
    authorization = {
        "type": "oauth2",
        "token_url": f"{upstream.url}/oauth/token",
        "client_id": "callout-basic",
        "client_secret": CLIENT_SECRET,
    }
    api = ApiWrite.model_validate(api_def(base_url=upstream.url, authorization=authorization))
    plan = compile_plan(KEY, api, RequestWrite.model_validate(request_def()))

    outcome = await executor.run(plan, CUSTOMER, {}, trace=True)

    assert (outcome.outcome, outcome.reason) == ("failure", "authorization")
    assert CLIENT_SECRET not in repr(outcome)


def upstream_plan(upstream: Upstream, **authorization: Any) -> Plan:
    """A plan whose token endpoint is `upstream`, answering as the test tells it."""
    auth = {
        "type": "oauth2",
        "token_url": f"{upstream.url}/oauth/token",
        "client_id": "callout-basic",
        "client_secret": CLIENT_SECRET,
    } | authorization
    api = ApiWrite.model_validate(api_def(base_url=upstream.url, authorization=auth))
    return compile_plan(KEY, api, RequestWrite.model_validate(request_def()))


async def test_a_refusal_passes_on_the_providers_description(
    executor: Executor, upstream: Upstream
) -> None:
    upstream.answer(
        401,
        {
            "error": "invalid_client",
            "error_description": "client_secret_basic is required\nfor this client",
        },
    )

    outcome = await executor.run(upstream_plan(upstream, client_auth="post"), CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "authorization")
    assert outcome.message == (
        "the token endpoint refused the client_credentials grant (invalid_client: "
        "client_secret_basic is required for this client, status 401)"
    )


async def test_a_description_that_quotes_the_form_has_the_password_masked(
    executor: Executor, upstream: Upstream
) -> None:
    password = "p@ss w+rd/é"
    quoted = "grant_type=password&username=ann&password=" + quote_plus(password)
    upstream.answer(400, {"error": "invalid_grant", "error_description": f"bad form: {quoted}"})
    plan = upstream_plan(upstream, grant="password", username="ann", password=password)

    outcome = await executor.run(plan, CUSTOMER, {})

    assert outcome.message is not None
    assert "bad form: grant_type=password&username=ann&password=**********" in outcome.message
    assert quote_plus(password) not in outcome.message


async def test_the_hold_off_names_the_version_whose_credentials_were_refused(
    executor: Executor, server: OAuth2Server
) -> None:
    wrong = oauth_plan(server, "password", password="wrong-password-9f2e")
    await executor.run(wrong, CUSTOMER, {})
    also_wrong = dataclasses.replace(wrong, key=dataclasses.replace(KEY, api_version=2))
    await executor.run(also_wrong, CUSTOMER, {})

    # A call on a plan older than the corrected credentials says which version it sent.
    stale = await executor.run(wrong, CUSTOMER, {})
    newer = await executor.run(also_wrong, CUSTOMER, {})

    assert stale.message is not None
    assert newer.message is not None
    assert "the credentials of API version 1 are not sent again" in stale.message
    assert "the credentials of API version 2 are not sent again" in newer.message
    assert "until the API's credentials change" not in stale.message
    assert len(server.token_requests) == 2


# The token cache


async def test_a_token_is_cached_and_reused_for_many_calls(
    executor: Executor, server: OAuth2Server
) -> None:
    plan = oauth_plan(server)

    outcomes = [await executor.run(plan, CUSTOMER, {}) for _ in range(20)]

    assert {o.outcome for o in outcomes} == {"success"}
    assert len(server.token_requests) == 1
    assert tokens_seen(server) == [server.issued_access_tokens[0]] * 20


async def test_a_new_version_of_the_api_gets_a_new_token(
    executor: Executor, server: OAuth2Server
) -> None:
    # A change to the API (its credentials, say) is a new version: the old token is not used.
    await executor.run(oauth_plan(server), CUSTOMER, {})
    changed = dataclasses.replace(KEY, api_version=KEY.api_version + 1)

    outcome = await executor.run(oauth_plan(server, key=changed), CUSTOMER, {})

    assert outcome.outcome == "success", outcome.message
    assert len(server.token_requests) == 2
    assert tokens_seen(server) == server.issued_access_tokens


async def test_a_thousand_concurrent_cold_calls_make_one_token_request(
    executor: Executor, server: OAuth2Server
) -> None:
    server.token_delay = 0.05  # every call arrives while the one token request is out
    plan = oauth_plan(server, "password")

    outcomes = await asyncio.gather(*(executor.run(plan, CUSTOMER, {}) for _ in range(1000)))

    assert {o.outcome for o in outcomes} == {"success"}
    assert len(server.token_requests) == 1
    assert len(server.resource_requests) == 1000
    assert set(tokens_seen(server)) == {server.issued_access_tokens[0]}


# Expiry


async def test_in_its_last_fifth_a_token_is_used_and_renewed_in_the_background(
    executor: Executor, server: OAuth2Server, clock: Clock
) -> None:
    # Lives 2 s: renewal from 1.6 s, a call waits only from 1.9 s.
    server.expires_in = 2
    plan = oauth_plan(server)
    await executor.run(plan, CUSTOMER, {})
    [old] = server.issued_access_tokens
    clock.advance(1.7)
    server.token_delay = 0.5  # the renewal is slow; no call may wait for it

    during = [await executor.run(plan, CUSTOMER, {}) for _ in range(2)]

    assert {o.outcome for o in during} == {"success"}
    assert max(o.duration_ms for o in during) < 250
    assert tokens_seen(server) == [old, old, old]
    await until(lambda: len(server.issued_access_tokens) == 2)
    assert len(server.token_requests) == 2  # one renewal, however many calls noticed
    server.token_delay = 0
    await executor.renewals.settled()

    after = await executor.run(plan, CUSTOMER, {})

    assert after.outcome == "success"
    assert tokens_seen(server)[-1] == server.issued_access_tokens[1] != old
    assert len(server.token_requests) == 2


async def test_two_executors_renew_their_own_tokens_in_the_background(
    executor: Executor, server: OAuth2Server, clock: Clock, outbound: HttpClient
) -> None:
    # Each executor keeps its own renewals: one renewing a token does not stop the other,
    # whose token (in a store of its own) would otherwise age into expiry.
    other = Executor(outbound, MemoryTokenStore(clock))
    server.expires_in = 2  # renewal from 1.6 s
    plan = oauth_plan(server)
    for each in (executor, other):
        await each.run(plan, CUSTOMER, {})
    clock.advance(1.7)
    server.token_delay = 0.2  # both renewals are out at once

    during = [await each.run(plan, CUSTOMER, {}) for each in (executor, other)]
    await executor.renewals.settled()
    await other.renewals.settled()

    assert {o.outcome for o in during} == {"success"}
    assert len(server.token_requests) == 4  # two first tokens, two renewals


async def test_processes_sharing_redis_renew_a_token_once_in_the_background(
    server: OAuth2Server, clock: Clock, outbound: HttpClient, stores: Stores
) -> None:
    # Two executors with stores in one Redis: two processes of one installation.
    first, second = (Executor(outbound, store) for store in await stores(2, clock=clock))
    server.expires_in = 2  # renewal from 1.6 s
    plan = oauth_plan(server)
    for each in (first, second):
        assert (await each.run(plan, CUSTOMER, {})).outcome == "success"
    assert len(server.token_requests) == 1  # the second process used the first one's token
    clock.advance(1.7)
    server.token_delay = 0.2  # both notice the token ageing while the renewal is out

    during = [await each.run(plan, CUSTOMER, {}) for each in (first, second)]
    await first.renewals.settled()
    await second.renewals.settled()

    assert {o.outcome for o in during} == {"success"}
    assert len(server.token_requests) == 2  # one renewal over both
    after = [await each.run(plan, CUSTOMER, {}) for each in (first, second)]
    assert {o.outcome for o in after} == {"success"}
    assert tokens_seen(server)[-2:] == [server.issued_access_tokens[1]] * 2


async def test_a_rotated_refresh_token_is_refreshed_once_by_processes_sharing_redis(
    server: OAuth2Server, saver: RecordingSaver, outbound: HttpClient, stores: Stores
) -> None:
    server.rotate_refresh_tokens = True
    stored = server.issue_refresh_token("callout-basic")
    plan = oauth_plan(server, "refresh_token", refresh_token=stored)
    executors = [Executor(outbound, store, saver, max_in_flight=1000) for store in await stores(4)]
    server.token_delay = 0.1

    outcomes = await asyncio.gather(*(executors[n % 4].run(plan, CUSTOMER, {}) for n in range(400)))
    assert {o.outcome for o in outcomes} == {"success"}
    server.answer("unauthorized", times=4)  # the token is refused, once for each process
    outcomes = await asyncio.gather(*(each.run(plan, CUSTOMER, {}) for each in executors))

    assert {o.outcome for o in outcomes} == {"success"}
    _, rotated, rotated_again = server.issued_refresh_tokens
    assert [(r.form["refresh_token"], r.status) for r in server.token_requests] == [
        (stored, 200),
        (rotated, 200),
    ]
    assert saver.saved == [(OWNER, stored, rotated), (OWNER, rotated, rotated_again)]


async def test_a_refused_background_renewal_is_not_sent_again_for_every_call(
    executor: Executor, server: OAuth2Server, clock: Clock
) -> None:
    server.expires_in = 2  # renewal from 1.6 s, a call waits only from 1.9 s
    plan = oauth_plan(server)
    await executor.run(plan, CUSTOMER, {})
    obtained = clock.now
    server.state.clients[client_id_of("basic")].client_secret = "rotated-at-the-provider"
    clock.advance(1.65)

    during = []
    for _ in range(5):  # each call would start a renewal: the first is refused
        during.append(await executor.run(plan, CUSTOMER, {}))
        await executor.renewals.settled()

    assert clock.now - obtained < 1.9  # all within the renewal window
    assert {o.outcome for o in during} == {"success"}  # the token is still valid
    assert len(server.token_requests) == 2  # the first grant, then one refused renewal


async def test_a_call_after_expiry_gets_a_new_token(
    executor: Executor, server: OAuth2Server, clock: Clock
) -> None:
    server.expires_in = 1
    plan = oauth_plan(server)
    await executor.run(plan, CUSTOMER, {})
    clock.advance(1.0)

    outcome = await executor.run(plan, CUSTOMER, {})

    assert outcome.outcome == "success", outcome.message
    assert len(server.token_requests) == 2
    assert tokens_seen(server) == server.issued_access_tokens
    assert [seen.status for seen in server.resource_requests] == [200, 200]


async def test_an_expired_token_is_renewed_with_its_refresh_token(
    executor: Executor, server: OAuth2Server, clock: Clock
) -> None:
    server.expires_in = 1
    plan = oauth_plan(server, "password")
    await executor.run(plan, CUSTOMER, {})
    clock.advance(1.0)

    outcome = await executor.run(plan, CUSTOMER, {})

    assert outcome.outcome == "success", outcome.message
    assert dict(server.grants) == {"password": 1, "refresh_token": 1}
    assert server.token_requests[1].form["refresh_token"] == server.issued_refresh_tokens[0]


# A token refused before its time


async def test_a_401_on_a_fresh_looking_token_renews_it_once_and_retries(
    executor: Executor, server: OAuth2Server
) -> None:
    plan = oauth_plan(server, "password")
    await executor.run(plan, CUSTOMER, {})
    server.answer("unauthorized")

    outcome = await executor.run(plan, CUSTOMER, {}, trace=True)

    assert (outcome.outcome, outcome.status) == ("success", 200), outcome.message
    assert dict(server.grants) == {"password": 1, "refresh_token": 1}
    first, second = server.issued_access_tokens
    assert tokens_seen(server) == [first, first, second]
    assert [s.status for s in server.resource_requests] == [200, 401, 200]
    sent, renewed = ["authorize", "send"], ["renew", "token", "authorize", "send"]
    assert [step.name for step in outcome.steps] == ["bind", "render", *sent, *renewed, "map"]


async def test_a_second_401_after_the_renewal_is_a_status_failure(
    executor: Executor, server: OAuth2Server
) -> None:
    plan = oauth_plan(server)
    await executor.run(plan, CUSTOMER, {})
    server.answer("unauthorized", times=2)

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.reason, outcome.status) == ("failure", "status", 401)
    assert len(server.token_requests) == 2  # one renewal, not one per 401
    assert [s.status for s in server.resource_requests] == [200, 401, 401]


async def test_an_expiry_signal_in_a_200_body_renews_the_token_once_and_retries(
    executor: Executor, server: OAuth2Server
) -> None:
    plan = oauth_plan(server, request={"outputs": [{"name": "ok", "path": "$.ok"}]}, **SIGNAL)
    await executor.run(plan, CUSTOMER, {})
    server.answer("expired")

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.status) == ("success", 200), outcome.message
    assert outcome.outputs == {"ok": "true"}
    assert len(server.token_requests) == 2
    first, second = server.issued_access_tokens
    assert tokens_seen(server) == [first, first, second]


async def test_a_second_expiry_signal_after_the_renewal_is_a_failure(
    executor: Executor, server: OAuth2Server
) -> None:
    # As with a second 401: the fresh token was refused too, so the call did not succeed.
    plan = oauth_plan(server, **SIGNAL)
    await executor.run(plan, CUSTOMER, {})
    server.answer("expired", times=2)

    outcome = await executor.run(plan, CUSTOMER, {})

    assert len(server.token_requests) == 2
    assert len(server.resource_requests) == 3
    assert (outcome.outcome, outcome.reason, outcome.status) == ("failure", "status", 200)


async def test_an_expired_body_is_an_ordinary_answer_when_no_signal_is_declared(
    executor: Executor, server: OAuth2Server
) -> None:
    plan = oauth_plan(server)
    await executor.run(plan, CUSTOMER, {})
    server.answer("expired")

    outcome = await executor.run(plan, CUSTOMER, {})

    assert outcome.outcome == "success"
    assert len(server.token_requests) == 1
    assert len(server.resource_requests) == 2


async def test_a_late_401_for_a_token_already_replaced_makes_no_second_renewal(
    executor: Executor, server: OAuth2Server
) -> None:
    # Two calls send token A; the first 401 comes back at once and the call renews to B;
    # the second 401, for A as well, comes back after that. B is fresh: it must be kept,
    # and the second call retried with it, not thrown away for a third token.
    plan = oauth_plan(server)
    await executor.run(plan, CUSTOMER, {})
    [a] = server.issued_access_tokens
    server.resource_answers = [
        ResourceAnswer("unauthorized"),
        ResourceAnswer("unauthorized", delay=0.3),
    ]

    outcomes = await asyncio.gather(*(executor.run(plan, CUSTOMER, {}) for _ in range(2)))

    assert {o.outcome for o in outcomes} == {"success"}
    assert tokens_seen(server).count(a) == 3  # the warm-up and both 401s
    assert len(server.token_requests) == 2, "the renewed token was thrown away"


# Refresh tokens: dead, rotated


@pytest.mark.parametrize("grant", ["client_credentials", "password"])
async def test_a_dead_refresh_token_falls_back_to_the_full_grant(
    executor: Executor, server: OAuth2Server, grant: str
) -> None:
    dead = server.issue_refresh_token("callout-basic")
    server.revoke(dead)
    plan = oauth_plan(server, grant, refresh_token=dead)

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.status) == ("success", 200), outcome.message
    assert [r.grant_type for r in server.token_requests] == ["refresh_token", grant]
    assert server.token_requests[0].status == 400
    assert tokens_seen(server) == server.issued_access_tokens


async def test_a_refresh_token_revoked_while_in_use_falls_back_to_the_password_grant(
    executor: Executor, server: OAuth2Server, saver: RecordingSaver
) -> None:
    plan = oauth_plan(server, "password")
    await executor.run(plan, CUSTOMER, {})
    [first] = server.issued_refresh_tokens
    server.revoke(first)
    server.answer("unauthorized")

    outcome = await executor.run(plan, CUSTOMER, {})

    assert outcome.outcome == "success", outcome.message
    assert [r.grant_type for r in server.token_requests] == [
        "password",
        "refresh_token",
        "password",
    ]
    # The new grant's refresh token replaces the dead one.
    owner, _, saved = saver.saved[-1]
    assert (owner, saved) == (OWNER, server.issued_refresh_tokens[-1])


@pytest.mark.parametrize("grant", ["authorization_code", "refresh_token"])
async def test_a_dead_refresh_token_asks_to_authorize_the_api_again(
    executor: Executor, server: OAuth2Server, grant: str
) -> None:
    dead = server.issue_refresh_token("callout-basic")
    server.revoke(dead)
    plan = oauth_plan(server, grant, refresh_token=dead)

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "authorization")
    assert outcome.message is not None
    assert "authorize this API again" in outcome.message
    assert "invalid_grant" in outcome.message
    assert dead not in outcome.message
    assert [r.grant_type for r in server.token_requests] == ["refresh_token"]
    assert server.resource_requests == []


async def test_an_authorization_code_api_never_authorized_asks_to_authorize_it(
    executor: Executor, server: OAuth2Server
) -> None:
    outcome = await executor.run(oauth_plan(server, "authorization_code"), CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "authorization")
    assert "authorize this API again" in (outcome.message or "")
    assert server.token_requests == []


async def test_a_rotated_refresh_token_is_used_for_the_next_refresh_and_saved(
    executor: Executor, server: OAuth2Server, saver: RecordingSaver
) -> None:
    server.rotate_refresh_tokens = True
    stored = server.issue_refresh_token("callout-basic")
    plan = oauth_plan(server, "refresh_token", refresh_token=stored)

    first = await executor.run(plan, CUSTOMER, {})
    server.answer("unauthorized")
    second = await executor.run(plan, CUSTOMER, {})

    assert (first.outcome, second.outcome) == ("success", "success")
    _, rotated, rotated_again = server.issued_refresh_tokens
    assert [r.form["refresh_token"] for r in server.token_requests] == [stored, rotated]
    assert not server.alive(stored)
    assert not server.alive(rotated)
    assert saver.saved == [(OWNER, stored, rotated), (OWNER, rotated, rotated_again)]


async def test_a_refresh_that_keeps_the_refresh_token_saves_nothing(
    executor: Executor, server: OAuth2Server, saver: RecordingSaver
) -> None:
    stored = server.issue_refresh_token("callout-basic")
    plan = oauth_plan(server, "refresh_token", refresh_token=stored)

    await executor.run(plan, CUSTOMER, {})
    server.answer("unauthorized")
    await executor.run(plan, CUSTOMER, {})

    assert [r.form["refresh_token"] for r in server.token_requests] == [stored, stored]
    assert saver.saved == []


# Where the token goes


@pytest.mark.parametrize("name", ["access_token", "token"])
async def test_a_token_can_go_in_a_query_parameter(
    executor: Executor, server: OAuth2Server, name: str
) -> None:
    plan = oauth_plan(
        server,
        placement="query",
        query_parameter=name,
        request={"query": [{"name": "q", "value": "a b"}]},
    )

    outcome = await executor.run(plan, CUSTOMER, {})

    assert outcome.outcome == "success", outcome.message
    [seen] = server.resource_requests
    path, _, query = seen.path_qs.partition("?")
    assert path == "/api/v1/customers/7"
    assert parse_qsl(query) == [("q", "a b"), (name, server.issued_access_tokens[0])]
    assert "Authorization" not in seen.headers


@pytest.mark.parametrize(("prefix", "sent"), [("Token", "Token {}"), ("", "{}")])
async def test_a_token_goes_after_the_header_prefix(
    executor: Executor, server: OAuth2Server, prefix: str, sent: str
) -> None:
    plan = oauth_plan(server, header_prefix=prefix)

    outcome = await executor.run(plan, CUSTOMER, {})

    assert outcome.outcome == "success", outcome.message
    [seen] = server.resource_requests
    assert seen.headers["Authorization"] == sent.format(server.issued_access_tokens[0])


# The trace


async def test_the_trace_shows_the_token_request_as_a_step(
    executor: Executor, server: OAuth2Server
) -> None:
    plan = oauth_plan(server)

    cold = await executor.run(plan, CUSTOMER, {}, trace=True)
    warm = await executor.run(plan, CUSTOMER, {}, trace=True)

    assert [s.name for s in cold.steps] == ["bind", "render", "token", "authorize", "send", "map"]
    [token] = [s for s in cold.steps if s.name == "token"]
    assert token.detail == f"POST {urlsplit(server.url).netloc} 200"
    assert [s.name for s in warm.steps] == ["bind", "render", "authorize", "send", "map"]
    assert cold.request is not None
    assert dict(cold.request.headers)["Authorization"] == MASK


# Secrets


def assert_nowhere(secrets_: list[str], outcome: Outcome, caplog: pytest.LogCaptureFixture) -> None:
    """None of `secrets_` in any field of the outcome (trace and steps included) or in any
    log record of Callout's (oauthlib's records are the test server's own)."""
    assert secrets_
    shown = [repr(outcome), *(repr(getattr(outcome, f.name)) for f in dataclasses.fields(outcome))]
    records = [r for r in caplog.records if not r.name.startswith("oauthlib")]
    shown += [f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in records]
    for secret in secrets_:
        for text in shown:
            assert secret not in text


@pytest.mark.parametrize(
    "scenario",
    ["echo-header", "echo-query", "second-401", "dead-refresh-token", "refused-client"],
)
async def test_no_token_or_secret_appears_in_the_outcome_trace_or_logs(
    executor: Executor,
    server: OAuth2Server,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    outputs = [
        {"name": "auth", "path": "$.headers.Authorization", "default": ""},
        {"name": "where", "path": "$.path_qs", "default": ""},
        {
            "name": "sent",
            "path": "$.headers.Authorization",
            "target": "alert",
            "message": "sent ${sent}",
        },
    ]
    changes: dict[str, Any] = {"request": {"outputs": outputs}}
    if scenario == "echo-query":
        changes["placement"] = "query"
    if scenario == "dead-refresh-token":
        changes |= {"refresh_token": server.issue_refresh_token("callout-basic")}
        server.revoke(changes["refresh_token"])
        grant = "refresh_token"
    else:
        grant = "password"
    if scenario == "refused-client":
        changes["client_secret"] = CLIENT_SECRET + "-wrong"
    plan = oauth_plan(server, grant, **changes)
    server.echo = True
    if scenario == "second-401":
        await executor.run(plan, CUSTOMER, {})
        server.answer("unauthorized", times=2)

    outcome = await executor.run(plan, CUSTOMER, {}, trace=True)

    if scenario.startswith("echo"):
        assert outcome.outcome == "success", outcome.message
        assert outcome.outputs["auth" if scenario == "echo-header" else "where"]
        assert outcome.response is not None
        assert MASK in outcome.response.body
    else:
        assert outcome.outcome == "failure"
    pair = f"callout-basic:{quote(CLIENT_SECRET, safe='')}"
    leaked = [
        *server.issued_access_tokens,
        *server.issued_refresh_tokens,
        CLIENT_SECRET,
        CLIENT_SECRET + "-wrong",
        PASSWORD,
        base64.b64encode(pair.encode()).decode(),
    ]
    assert_nowhere(leaked, outcome, caplog)
