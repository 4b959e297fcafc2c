"""Four real `callout serve` processes of one installation, on one PostgreSQL database and
one Redis, as production runs them behind a load balancer: the calls of a test are spread
over the four in turn, and what the runtime keeps between calls must be kept once for all.

Each process reaches Redis through a loopback proxy of its own (tests/redis_peer.py), so a
test can take Redis away from all four, as if it were killed, and give it back. The fleet
is started once for the module: the tests run in the order written, the last one taking
Redis away.
"""

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
import pytest_asyncio

from tests.cli import KEY, callout, callout_serve, wait_up
from tests.conftest import empty_postgres
from tests.livevox_server import ACCESS_TOKEN, CLIENT_NAME, PASSWORD, USER_NAME, LiveVoxServer
from tests.oauth2_server import CLIENT_ID, CLIENT_SECRET, OAuth2Server
from tests.redis_peer import RedisProxy

pytestmark = pytest.mark.asyncio(loop_scope="module")  # the proxies live on the fleet's loop

PROCESSES = 4
APIS = "/api/v1/clients/demo/apis"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


@dataclass
class Fleet:
    roots: list[str]
    proxies: list[RedisProxy]
    http: aiohttp.ClientSession

    async def send(self, method: str, path: str, n: int = 0, **options: Any) -> Answer:
        """A request to process `n` (modulo the fleet's size)."""
        async with self.http.request(
            method, self.roots[n % len(self.roots)] + path, **options
        ) as answer:
            return Answer(answer.status, await answer.json(content_type=None))

    async def create(self, api: dict[str, Any]) -> tuple[str, str]:
        """An API with one request `ping`, made through process 0: its path, and the
        request's invoke path."""
        made = await self.send("POST", APIS, json=api)
        assert made.status == 201, made.body
        path = f"{APIS}/{made.body['id']}"
        request = await self.send(
            "POST", f"{path}/requests", json={"name": "Ping", "endpoint_path": "ping"}
        )
        assert request.status == 201, request.body
        return path, f"{path}/requests/{request.body['id']}/invoke"

    async def invoke_all(self, invoke: str, count: int) -> list[Answer]:
        """`count` invokes at once, spread over the processes in turn."""
        return list(
            await asyncio.gather(*(self.send("POST", invoke, n, json={}) for n in range(count)))
        )

    async def until_redis(self, state: str, within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        for n in range(len(self.roots)):
            while (await self.send("GET", "/api/v1/clients/demo/runtime", n)).body[
                "redis"
            ] != state:
                assert time.monotonic() < deadline, f"process {n}: redis never became {state}"
                await asyncio.sleep(0.05)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fleet(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[Fleet]:
    folder = tmp_path_factory.mktemp("fleet")
    with empty_postgres() as database_url:
        shared = {
            "CALLOUT_DATABASE_URL": database_url,
            "CALLOUT_REDIS_NAMESPACE": f"callout-test-{secrets.token_hex(6)}",
            "CALLOUT_CLIENT_MAX_IN_FLIGHT": "1000",
        }
        init = callout(folder / "data", "init", **shared)
        found = KEY.search(init.stdout)
        assert found, init.stdout + init.stderr
        async with AsyncExitStack() as stack:
            proxies = [RedisProxy() for _ in range(PROCESSES)]
            servers = []
            for n, proxy in enumerate(proxies):
                await proxy.mend()
                stack.push_async_callback(proxy.cut)
                servers.append(
                    stack.enter_context(
                        callout_serve(
                            folder / "data",
                            folder / f"serve-{n}.log",
                            **shared,
                            CALLOUT_REDIS_URL=proxy.url,
                        )
                    )
                )
            await asyncio.gather(*(wait_up(root, server) for server, root in servers))
            http = await stack.enter_async_context(
                aiohttp.ClientSession(
                    headers={"Authorization": f"Bearer {found.group(0)}"},
                    timeout=aiohttp.ClientTimeout(total=60),
                    connector=aiohttp.TCPConnector(limit=0),
                )
            )
            fleet = Fleet([root for _, root in servers], proxies, http)
            await fleet.until_redis("connected")
            yield fleet


def oauth2_api(provider: OAuth2Server, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "base_url": provider.api_url,
        "authorization": {
            "type": "oauth2",
            "grant": "client_credentials",
            "token_url": provider.token_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    }


async def test_a_thousand_cold_calls_over_four_processes_make_one_token_request(
    fleet: Fleet,
) -> None:
    async with OAuth2Server() as provider:
        provider.token_delay = 0.2  # every process has calls waiting while it is fetched
        _, invoke = await fleet.create(oauth2_api(provider, "Cold"))

        answers = await fleet.invoke_all(invoke, 1000)

        assert Counter(a.status for a in answers) == {200: 1000}
        assert provider.grants["client_credentials"] == 1
        assert len({r.token for r in provider.resource_requests}) == 1


async def test_a_refused_password_is_sent_once_for_every_process(fleet: Fleet) -> None:
    async with LiveVoxServer() as livevox:

        def livevox_api(password: str) -> dict[str, Any]:
            return {
                "name": "LiveVox",
                "base_url": livevox.base_url,
                "authorization": {
                    "type": "livevox",
                    "access_token": ACCESS_TOKEN,
                    "client_name": CLIENT_NAME,
                    "user_name": USER_NAME,
                    "password": password,
                    "agent": False,
                },
            }

        api, invoke = await fleet.create(livevox_api("not the password"))

        answers = await fleet.invoke_all(invoke, 200)

        assert {(a.status, a.body["reason"]) for a in answers} == {(502, "authorization")}
        assert [login.status for login in livevox.logins] == [401]
        assert sum("not sent again" in a.body["detail"] for a in answers) == 199

        # The corrected password is a new version of the API: tried at once, and the one
        # session it opens serves every process.
        fixed = await fleet.send(
            "PUT", api, 1, json=livevox_api(PASSWORD), headers={"If-Match": '"1"'}
        )
        assert fixed.status == 200, fixed.body
        await asyncio.sleep(0.1)  # the bound on an edit reaching the other processes
        answers = await fleet.invoke_all(invoke, 200)
        assert Counter(a.status for a in answers) == {200: 200}
        assert [login.status for login in livevox.logins] == [401, 200]


async def test_an_authorization_begun_through_one_process_completes_through_another_once(
    fleet: Fleet,
) -> None:
    """The browser comes back to whichever process the balancer picks: the flow's state
    waits in Redis, and the token the code is exchanged for serves every process."""
    async with OAuth2Server() as provider:
        api = oauth2_api(provider, "Authorized")
        api["authorization"] |= {
            "grant": "authorization_code",
            "authorization_url": provider.authorize_url,
        }
        path, invoke = await fleet.create(api)
        begun = await fleet.send("POST", f"{path}/authorize", 0, json={})
        assert begun.status == 200, begun.body
        async with fleet.http.get(
            begun.body["authorization_url"], allow_redirects=False
        ) as redirected:
            assert redirected.status == 302
            back = dict(parse_qsl(urlsplit(redirected.headers["Location"]).query))

        # The redirect reaches three processes at once (a reload, a replay): one completes.
        done = await asyncio.gather(
            *(fleet.send("GET", "/api/v1/oauth/callback", n, params=back) for n in (1, 2, 3))
        )

        assert sorted(a.status for a in done) == [200, 422, 422], [a.body for a in done]
        refused = [a.body for a in done if a.status == 422]
        assert all(b["errors"][0]["field"] == "state" for b in refused), refused
        answers = await fleet.invoke_all(invoke, 100)
        assert Counter(a.status for a in answers) == {200: 100}
        assert provider.grants == {"authorization_code": 1}


async def test_calls_go_on_when_redis_is_killed_mid_load(fleet: Fleet) -> None:
    async with OAuth2Server() as provider:
        _, invoke = await fleet.create(oauth2_api(provider, "Through"))
        assert {a.status for a in await fleet.invoke_all(invoke, PROCESSES)} == {200}

        async def kill() -> None:
            await asyncio.sleep(0.3)
            await asyncio.gather(*(proxy.cut() for proxy in fleet.proxies))

        waves = []
        killing = asyncio.create_task(kill())
        for _ in range(8):  # 8 waves of 100 calls, Redis gone from the third or so
            waves += await fleet.invoke_all(invoke, 100)
        await killing

        assert Counter(a.status for a in waves) == {200: 800}
        await fleet.until_redis("disconnected")
        # One token shared, then at most one of its own for each process while Redis is gone.
        assert provider.grants["client_credentials"] <= 1 + PROCESSES

        await asyncio.gather(*(proxy.mend() for proxy in fleet.proxies))
        await fleet.until_redis("connected")
        assert {a.status for a in await fleet.invoke_all(invoke, 100)} == {200}
