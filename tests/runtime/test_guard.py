"""The outbound guard, against hostile spellings of where a call goes.

Two layers are tested, honestly apart:
- the API schema, when an admin saves a base URL (`ApiWrite`): it refuses what is malformed
  (legacy IPv4 spellings, credentials, fragments, other schemes) with a message, and keeps
  well-formed URLs to private addresses, which an operator may allow at run time;
- the guard at connect time, through a real `HttpClient.send` with `Guard()` (nothing private
  allowed): every spelling ends as `BlockedAddress` (outcome reason `blocked_address`).

No test sends traffic off this machine. Names resolve through `tests/resolver.py` (no DNS);
an address outside loopback is first judged refused, then sent, and must be refused by the
socket factory before any connect. Real sockets go only to loopback peers: `Upstream`, or a
`Peer` that counts connections and must count none where nothing may arrive. 127.0.0.2 stands
for a public address where one must be reached: it is allowed by CIDR, 127.0.0.1 is not.
"""

import asyncio
import ipaddress
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from time import perf_counter

import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from yarl import URL

from callout.apis.schemas import ApiWrite
from callout.runtime.errors import BlockedAddress, UpstreamError
from callout.runtime.executor import Executor
from callout.runtime.guard import (
    BLOCKED,
    BlockedAddressError,
    Guard,
    IPNetwork,
    Verdict,
    check_entry,
    host_allowed,
    refusals,
    socket_factory,
)
from callout.runtime.guard import advice as guard_advice
from callout.runtime.http import HttpClient, Outgoing, redirected
from callout.settings import Settings
from tests.resolver import Resolver
from tests.runtime.conftest import KEY, api_def, compile_from, request_def
from tests.upstream import Upstream

TIMEOUT = 5.0  # longer than the 3 s connect timeout: a connect attempt would show in the time
QUICK = 1.0  # a refusal by the socket factory takes no round trip
NAMES = {
    "metadata.google.internal": "169.254.169.254",
    "instance-data": "169.254.169.254",  # AWS's name for its metadata service
    "loopback.test": "127.0.0.1",
    "internal.test": "10.20.30.40",
    "v6-loopback.test": "::1",
    "mapped.test": "::ffff:127.0.0.1",
}

# What the schema says when it refuses a base URL.
NO_HOST = "must name a host"
PLAIN = "must name its IP address plainly"
CREDENTIALS = "must not hold credentials"
FRAGMENT = "must not have a #fragment"
QUERY = "must not have a query"
SCHEME = "must be an absolute http:// or https:// URL"
BACKSLASH = "must not contain backslashes"
# What the HTTP client says when it refuses before the guard sees an address.
NOT_HTTP = "only http and https are sent"
LEGACY = "is not a canonical IPv4 address"

# (URL, the schema's refusal or None when it saves the URL, what the refusal at send names:
# the address the guard refused, as the message spells it, or why it never got that far)
SPELLINGS: list[tuple[str, str | None, str]] = [
    # IPv4 loopback, and the spellings inet_aton reads as it
    ("http://127.0.0.1/", None, "127.0.0.1"),
    ("http://127.255.255.254:8080/", None, "127.255.255.254"),
    ("http://2130706433/", PLAIN, LEGACY),  # decimal
    ("http://0177.0.0.1/", PLAIN, LEGACY),  # octal
    ("http://0177.0000.0000.0001/", PLAIN, LEGACY),
    ("http://017700000001/", PLAIN, LEGACY),  # one octal number
    ("http://127.000.000.001/", PLAIN, LEGACY),  # zero-padded
    ("http://127.1/", PLAIN, LEGACY),  # short forms
    ("http://127.0.1/", PLAIN, LEGACY),
    ("http://127.0.0.1./", PLAIN, LEGACY),  # trailing dot
    ("http://0/", PLAIN, LEGACY),
    # Hex looks like a name to aiohttp, and getaddrinfo reads it as an address; the schema
    # refuses it as inet_aton does, and the guard judges the address getaddrinfo gives.
    ("http://0x7f.0.0.1/", PLAIN, "127.0.0.1"),
    ("http://0x7f000001/", PLAIN, "127.0.0.1"),
    ("http://0X7F.0.0.1/", PLAIN, "127.0.0.1"),  # uppercase hex
    ("http://0x7F.0x0.0x0.0x1/", PLAIN, "127.0.0.1"),
    ("http://0x7f.1/", PLAIN, "127.0.0.1"),
    # IPv6 loopback, and IPv6 addresses that carry 127.0.0.1
    ("http://[::1]/", None, "::1"),
    ("https://[::1]:8443/", None, "::1"),
    ("http://[0:0:0:0:0:0:0:1]/", None, "0:0:0:0:0:0:0:1"),
    ("http://[::ffff:127.0.0.1]/", None, "::ffff:127.0.0.1"),  # IPv4-mapped
    ("http://[::ffff:7f00:1]/", None, "::ffff:7f00:1"),
    ("http://[::FFFF:7F00:1]/", None, "::FFFF:7F00:1"),  # uppercase hex
    ("http://[0:0:0:0:0:ffff:7f00:0001]/", None, "0:0:0:0:0:ffff:7f00:0001"),
    ("http://[64:ff9b::7f00:1]/", None, "64:ff9b::7f00:1"),  # NAT64
    ("http://[64:ff9b::127.0.0.1]/", None, "64:ff9b::127.0.0.1"),
    ("http://[2002:7f00:1::]/", None, "2002:7f00:1::"),  # 6to4
    ("http://[2001:0:4136:e378::1]/", None, "2001:0:4136:e378::1"),  # Teredo
    ("http://[::127.0.0.1]/", None, "::127.0.0.1"),  # IPv4-compatible
    # Private ranges, bare and wrapped
    ("http://10.0.0.1/", None, "10.0.0.1"),
    ("http://10.255.255.254/", None, "10.255.255.254"),
    ("http://172.16.0.1/", None, "172.16.0.1"),
    ("http://172.31.255.254/", None, "172.31.255.254"),
    ("http://192.168.0.1/", None, "192.168.0.1"),
    ("https://192.168.1.1:8443/", None, "192.168.1.1"),
    ("http://[::ffff:10.0.0.1]/", None, "::ffff:10.0.0.1"),
    ("http://[::ffff:192.168.0.1]/", None, "::ffff:192.168.0.1"),
    ("http://[2002:c0a8:1::1]/", None, "2002:c0a8:1::1"),  # 6to4 of 192.168.0.1
    ("http://[64:ff9b:1::a00:1]/", None, "64:ff9b:1::a00:1"),  # local-use translation
    # Shared address space (CGNAT)
    ("http://100.64.0.1/", None, "100.64.0.1"),
    ("http://100.127.255.254/", None, "100.127.255.254"),
    # Link-local, where cloud metadata services live
    ("http://169.254.169.254/latest/meta-data/", None, "169.254.169.254"),
    ("http://169.254.170.2/v2/credentials", None, "169.254.170.2"),  # ECS task credentials
    ("http://169.254.169.254./", PLAIN, LEGACY),
    ("http://0xa9fea9fe/", PLAIN, "169.254.169.254"),
    ("http://0251.0376.0251.0376/", PLAIN, LEGACY),
    ("http://[::ffff:169.254.169.254]/", None, "::ffff:169.254.169.254"),
    ("http://[::ffff:a9fe:a9fe]/", None, "::ffff:a9fe:a9fe"),
    ("http://[64:ff9b::a9fe:a9fe]/", None, "64:ff9b::a9fe:a9fe"),
    ("http://[2002:a9fe:a9fe::]/", None, "2002:a9fe:a9fe::"),
    ("http://[fd00:ec2::254]/", None, "fd00:ec2::254"),  # AWS's IPv6 metadata address
    ("http://metadata.google.internal/computeMetadata/v1/", None, "169.254.169.254"),
    ("http://METADATA.GOOGLE.INTERNAL/", None, "169.254.169.254"),
    ("http://metadata.google.internal./", None, "169.254.169.254"),  # trailing dot
    ("http://instance-data/latest/meta-data/", None, "169.254.169.254"),
    ("http://[fe80::1]/", None, "fe80::1"),
    ("http://[FE80::A9FE:A9FE]/", None, "FE80::A9FE:A9FE"),
    ("http://[fe80::1%25eth0]/", NO_HOST, "fe80::1%25eth0"),  # with a zone id
    # Multicast, reserved, broadcast, unspecified
    ("http://224.0.0.1/", None, "224.0.0.1"),
    ("http://239.255.255.250/", None, "239.255.255.250"),
    ("http://[ff02::1]/", None, "ff02::1"),
    ("http://240.0.0.1/", None, "240.0.0.1"),
    ("http://255.255.255.255/", None, "255.255.255.255"),
    ("http://0.0.0.0/", None, "0.0.0.0"),  # noqa: S104 - a hostile URL, not a bind
    ("http://[::]/", None, "::"),
    ("http://[::ffff:0.0.0.0]/", None, "::ffff:0.0.0.0"),
    # Unique local, site-local, discard-only
    ("http://[fc00::1]/", None, "fc00::1"),
    ("http://[fd12:3456:789a::1]/", None, "fd12:3456:789a::1"),
    ("http://[fec0::1]/", None, "fec0::1"),
    ("http://[100::1]/", None, "100::1"),
    # Documentation, benchmarking, IETF protocol assignments, 6to4 relay
    ("http://192.0.2.1/", None, "192.0.2.1"),
    ("http://198.51.100.7/", None, "198.51.100.7"),
    ("http://203.0.113.9/", None, "203.0.113.9"),
    ("http://[2001:db8::1]/", None, "2001:db8::1"),
    ("http://[3fff::1]/", None, "3fff::1"),
    ("http://198.18.0.1/", None, "198.18.0.1"),
    ("http://192.0.0.170/", None, "192.0.0.170"),
    ("http://192.88.99.1/", None, "192.88.99.1"),
    # Userinfo, fragment and query tricks: the host is what follows the last @ before the path
    ("http://public.example@127.0.0.1/", CREDENTIALS, "127.0.0.1"),
    ("http://public.example:443@127.0.0.1/", CREDENTIALS, "127.0.0.1"),
    ("http://user:pass@10.0.0.1/", CREDENTIALS, "10.0.0.1"),
    ("http://public.example@[::1]/", CREDENTIALS, "::1"),
    ("http://127.0.0.1#@public.example/", FRAGMENT, "127.0.0.1"),
    ("http://127.0.0.1:80#@public.example/", FRAGMENT, "127.0.0.1"),
    ("http://127.0.0.1/#public.example", FRAGMENT, "127.0.0.1"),
    ("http://127.0.0.1?@public.example/", QUERY, "127.0.0.1"),
    # Names that resolve to blocked addresses
    ("http://localhost/", None, "(loopback)"),
    ("http://LOCALHOST:8080/", None, "(loopback)"),
    ("http://localhost./", None, "(loopback)"),
    ("http://loopback.test/", None, "127.0.0.1"),
    ("http://loopback.test./", None, "127.0.0.1"),
    ("http://internal.test/", None, "10.20.30.40"),
    ("http://v6-loopback.test/", None, "::1"),
    ("http://mapped.test/", None, "::ffff:127.0.0.1"),
    # Other schemes
    ("file:///etc/passwd", SCHEME, NOT_HTTP),
    ("ftp://127.0.0.1/", SCHEME, NOT_HTTP),
    ("gopher://127.0.0.1:6379/_INFO", SCHEME, NOT_HTTP),
    ("dict://127.0.0.1:11211/stats", SCHEME, NOT_HTTP),
    ("data:text/plain,hello", SCHEME, NOT_HTTP),
    ("ws://127.0.0.1/", SCHEME, NOT_HTTP),
    ("wss://127.0.0.1/", SCHEME, NOT_HTTP),
]
# yarl refuses a backslash in the authority outright; the schema refuses it first, and a
# redirect carrying one is tested below.
SCHEMA_ONLY: list[tuple[str, str | None, str]] = [
    ("http://127.0.0.1\\@public.example/", BACKSLASH, "")
]


def _address(refused: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(refused.split("%", 1)[0])
    except ValueError:
        return None


@asynccontextmanager
async def started(guard: Guard, resolver: Resolver | None = None) -> AsyncIterator[HttpClient]:
    """A started client on `guard`, resolving through the test resolver (never DNS)."""
    http = HttpClient(guard, resolver=resolver or Resolver(NAMES))
    await http.start()
    try:
        yield http
    finally:
        await http.close()


def test_there_are_at_least_sixty_hostile_spellings() -> None:
    assert len(SPELLINGS) + len(SCHEMA_ONLY) >= 60


@pytest.mark.parametrize(
    ("url", "schema", "refused"),
    SPELLINGS + SCHEMA_ONLY,
    ids=[u for u, *_ in SPELLINGS + SCHEMA_ONLY],
)
def test_the_schema_refuses_malformed_spellings_and_leaves_addresses_to_the_guard(
    url: str, schema: str | None, refused: str
) -> None:
    if schema is None:
        # Well-formed: saved, since an operator may allow an on-premises address at run time.
        assert ApiWrite.model_validate(api_def(base_url=url)).base_url == url
        return
    with pytest.raises(ValidationError) as caught:
        ApiWrite.model_validate(api_def(base_url=url))
    [error] = caught.value.errors()
    assert error["loc"] == ("base_url",)
    assert schema in error["msg"]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def guarded() -> AsyncIterator[HttpClient]:
    """One client with production's default guard for all the spellings (a client costs
    its TLS set-up); it never makes a connection, so none is pooled."""
    async with started(Guard()) as http:
        yield http


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("url", "schema", "refused"), SPELLINGS, ids=[u for u, *_ in SPELLINGS])
async def test_every_spelling_is_refused_as_blocked_address_before_any_connect(
    guarded: HttpClient, url: str, schema: str | None, refused: str
) -> None:
    address = _address(refused)
    if address is not None:  # judged before anything is sent: no test connects off this box
        assert not Guard().judge(str(address)).allowed
    began = perf_counter()
    with pytest.raises(BlockedAddress) as caught:
        await guarded.send(Outgoing("GET", url), TIMEOUT)
    took = perf_counter() - began
    assert caught.value.reason == "blocked_address"
    assert refused in caught.value.message
    if address is not None:  # the socket factory said so: `refusals` noted the address
        assert f"the outbound guard refused {refused}" in caught.value.message
    assert took < QUICK


@pytest.mark.parametrize(
    ("address", "advised"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.10", True),
        ("100.64.0.1", True),
        ("fd00::1", True),
        ("::ffff:172.16.0.1", True),
        ("169.254.169.254", False),  # cloud metadata: no one should be told to allow it
        ("224.0.0.1", False),
        ("192.0.2.1", False),
    ],
)
def test_a_refusal_of_an_on_premises_address_names_the_allow_list(
    address: str, advised: bool
) -> None:
    verdict = Guard().judge(address)
    assert not verdict.allowed
    advice = guard_advice(f"{address} ({verdict.why})")
    assert ("CALLOUT_OUTBOUND_ALLOW" in advice) is advised


def test_the_socket_factory_refuses_before_a_socket_exists_and_notes_why() -> None:
    create = socket_factory(Guard())
    noted: list[str] = []
    token = refusals.set(noted)
    try:
        with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.1: private"):
            create((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", 80)))
    finally:
        refusals.reset(token)
    assert noted == ["10.0.0.1 (private)"]


def test_the_socket_factory_gives_an_unconnected_socket_when_the_host_is_allowed() -> None:
    create = socket_factory(Guard())
    token = host_allowed.set(True)
    try:
        sock = create((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", 80)))
    finally:
        host_allowed.reset(token)
    # The factory only makes the socket: nothing is connected, nothing sent.
    with sock, pytest.raises(OSError):  # noqa: PT011 - "not connected" has no finer type
        sock.getpeername()


# --- every address of every blocked range ------------------------------------------------


def _inside(network: IPNetwork) -> st.SearchStrategy[str]:
    """Addresses inside `network`, and for IPv4 its IPv6 carriers: mapped, NAT64, 6to4,
    compatible."""
    low, high = int(network.network_address), int(network.broadcast_address)
    numbers = st.integers(low, high)
    if network.version == 6:
        return numbers.map(lambda n: str(ipaddress.IPv6Address(n)))
    return st.tuples(numbers, st.sampled_from(range(5)), st.integers(0, 2**80 - 1)).map(
        lambda drawn: str(_carrier(*drawn))
    )


def _carrier(v4: int, form: int, low_bits: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return (
        ipaddress.IPv4Address(v4),
        ipaddress.IPv6Address(0xFFFF << 32 | v4),  # ::ffff:a.b.c.d
        ipaddress.IPv6Address(0x64FF9B << 96 | v4),  # 64:ff9b::a.b.c.d
        ipaddress.IPv6Address(0x2002 << 112 | v4 << 80 | low_bits),  # 2002:aabb:ccdd::/48
        ipaddress.IPv6Address(v4),  # ::a.b.c.d
    )[form]


@pytest.mark.parametrize("network", [n for n, _ in BLOCKED], ids=str)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_address_in_a_blocked_range_and_its_carriers_is_refused(
    network: IPNetwork, data: st.DataObject
) -> None:
    address = data.draw(_inside(network))
    verdict = Guard().judge(address)
    assert not verdict.allowed, (address, verdict)


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "9.9.9.9",
        "2606:4700::1111",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",  # carriers of a global address are as global
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_known_global_addresses_are_allowed(address: str) -> None:
    assert Guard().judge(address).allowed


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("::ffff:0:7f00:1", "outside IPv6 global unicast (2000::/3)"),  # RFC 2765 translated
        ("4000::1", "outside IPv6 global unicast (2000::/3)"),  # unallocated
        ("255.255.255.255", "broadcast"),
    ],
)
def test_addresses_outside_allocated_space_are_refused(address: str, why: str) -> None:
    assert Guard().judge(address) == Verdict(False, why)


# --- names whose answer changes, or holds more than one address -------------------------

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def redirect_to(location: str) -> bytes:
    return (
        f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


class Peer:
    """A plain loopback listener that counts connections and answers each request with
    `answer`: a canary where nothing may arrive, or an upstream on 127.0.0.2."""

    def __init__(self, host: str, port: int = 0, answer: bytes = OK) -> None:
        self.host, self.port, self.answer = host, port, answer
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.answer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> "Peer":
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Peer, Peer]]:
    """An allowed peer on 127.0.0.2 and a canary on 127.0.0.1, on the same port (a name's
    addresses share the URL's port)."""
    for _ in range(20):
        allowed = await Peer("127.0.0.2").start()
        try:
            canary = await Peer("127.0.0.1", allowed.port).start()
        except OSError:  # that port is taken on 127.0.0.1: try another
            await allowed.stop()
            continue
        try:
            yield allowed, canary
        finally:
            await canary.stop()
            await allowed.stop()
        return
    pytest.fail("no port free on both 127.0.0.1 and 127.0.0.2")


ALLOW_127_0_0_2 = Guard.from_entries(["127.0.0.2/32"])


async def test_a_name_that_rebinds_to_loopback_is_refused_at_connect(
    pair: tuple[Peer, Peer],
) -> None:
    allowed, canary = pair
    resolver = Resolver()
    resolver.answer("rebind.test", ["127.0.0.2"], ["127.0.0.1"])  # allowed first, then not
    url = f"http://rebind.test:{allowed.port}/"
    # The connector caches an answer for 60 s: a second client stands for a later connection
    # that looks the name up again. What each lookup answers is judged as the socket opens:
    # there is no earlier check for a later answer to slip past.
    async with started(ALLOW_127_0_0_2, resolver) as http:
        assert (await http.send(Outgoing("GET", url), TIMEOUT)).body == b"ok"
    async with started(ALLOW_127_0_0_2, resolver) as http:
        with pytest.raises(BlockedAddress, match=r"refused 127\.0\.0\.1 \(loopback\)"):
            await http.send(Outgoing("GET", url), TIMEOUT)
    assert resolver.lookups == ["rebind.test", "rebind.test"]
    assert (allowed.connections, canary.connections) == (1, 0)


async def test_of_a_names_addresses_only_the_allowed_one_is_connected_to(
    pair: tuple[Peer, Peer],
) -> None:
    allowed, canary = pair
    resolver = Resolver({"split.test": ["127.0.0.1", "127.0.0.2"]})  # the blocked one first
    async with started(ALLOW_127_0_0_2, resolver) as http:
        received = await http.send(Outgoing("GET", f"http://split.test:{allowed.port}/"), TIMEOUT)
    assert (received.status, received.body) == (200, b"ok")
    assert (allowed.connections, canary.connections) == (1, 0)


# --- redirects -------------------------------------------------------------------------


async def test_a_redirect_from_an_allowed_address_into_a_blocked_one_is_refused(
    pair: tuple[Peer, Peer],
) -> None:
    allowed, canary = pair
    allowed.answer = redirect_to(f"http://127.0.0.1:{canary.port}/")
    async with started(ALLOW_127_0_0_2) as http:
        with pytest.raises(BlockedAddress, match=r"refused 127\.0\.0\.1 \(loopback\)"):
            await http.send(Outgoing("GET", f"http://127.0.0.2:{allowed.port}/"), TIMEOUT)
    assert (allowed.connections, canary.connections) == (1, 0)


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/",
        "//127.0.0.1:{port}/admin",  # scheme-relative
        "http://api.test@127.0.0.1:{port}/",  # the allowed name as userinfo
        "http://127.0.0.1:{port}#@api.test/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://2130706433:{port}/",
        "http://127.1:{port}/",
        "http://0x7f.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://canary.test:{port}/",
    ],
)
async def test_a_redirect_from_a_host_allowed_by_name_into_loopback_is_refused(
    upstream: Upstream, location: str
) -> None:
    # api.test is allowed by name and resolves to the upstream's 127.0.0.1; the hop is judged
    # on its own host, which is not allowed.
    canary = await Peer("127.0.0.1").start()
    try:
        upstream.answer(302, headers={"Location": location.format(port=canary.port)})
        resolver = Resolver({"api.test": "127.0.0.1", "canary.test": "127.0.0.1"})
        port = upstream.url.rsplit(":", 1)[1]
        async with started(Guard.from_entries(["api.test"]), resolver) as http:
            with pytest.raises(BlockedAddress) as caught:
                await http.send(Outgoing("GET", f"http://api.test:{port}/start"), TIMEOUT)
    finally:
        await canary.stop()
    assert caught.value.reason == "blocked_address"
    assert len(upstream.received) == 1
    assert canary.connections == 0


async def test_five_redirects_are_followed(upstream: Upstream, outbound: HttpClient) -> None:
    for _ in range(5):
        upstream.answer(302, headers={"Location": "/again"})
    upstream.answer(200, "done")
    received = await outbound.send(Outgoing("GET", f"{upstream.url}/start"), TIMEOUT)
    assert (received.status, received.body, len(upstream.received)) == (200, b"done", 6)


async def test_a_redirect_loop_is_refused_after_five_hops(
    upstream: Upstream, outbound: HttpClient
) -> None:
    upstream.answer(302, headers={"Location": "/again"})  # the only answer: it repeats
    with pytest.raises(UpstreamError, match="more than 5 redirects"):
        await outbound.send(Outgoing("GET", f"{upstream.url}/start"), TIMEOUT)
    assert len(upstream.received) == 6


async def test_a_failure_after_a_redirect_names_the_host_it_happened_at(
    upstream: Upstream, outbound: HttpClient
) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    upstream.answer(302, headers={"Location": f"http://127.0.0.1:{closed}/next"})
    with pytest.raises(UpstreamError) as caught:
        await outbound.send(Outgoing("GET", f"{upstream.url}/start"), TIMEOUT)
    assert caught.value.message == f"could not connect to 127.0.0.1:{closed}"


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "ftp://127.0.0.1/",
        "dict://127.0.0.1:11211/stats",
        "data:text/plain,hello",
        "javascript:alert(1)",
        "ws://127.0.0.1/",
    ],
)
async def test_a_redirect_to_another_scheme_is_refused(
    upstream: Upstream, outbound: HttpClient, location: str
) -> None:
    upstream.answer(302, headers={"Location": location})
    with pytest.raises(BlockedAddress, match=r"a redirect to a \w+: URL is not followed"):
        await outbound.send(Outgoing("GET", f"{upstream.url}/start"), TIMEOUT)
    assert len(upstream.received) == 1


@pytest.mark.parametrize(
    "location",
    ["http://[::1", "http://127.0.0.1:99999/", "http://127.0.0.1\\@public.example/"],
)
async def test_a_redirect_to_a_malformed_url_is_refused_not_raised(
    upstream: Upstream, outbound: HttpClient, location: str
) -> None:
    upstream.answer(302, headers={"Location": location})
    with pytest.raises(BlockedAddress, match="a redirect to a malformed URL is not followed"):
        await outbound.send(Outgoing("GET", f"{upstream.url}/start"), TIMEOUT)


def test_a_redirect_from_https_to_http_is_refused() -> None:
    outgoing = Outgoing("GET", "https://api.example.com/start")
    with pytest.raises(BlockedAddress, match="from https to http"):
        redirected(outgoing, 301, "http://api.example.com/next")
    assert redirected(outgoing, 301, "https://other.example.com/next").url == (
        "https://other.example.com/next"
    )
    assert redirected(Outgoing("GET", "http://a.example/"), 301, "https://a.example/").url == (
        "https://a.example/"
    )


CREDENTIALS_SENT = [
    ("Authorization", "Bearer s3cret"),
    ("Cookie", "session=s3cret"),
    ("X-Api-Key", "s3cret"),
    ("Accept", "application/json"),
]


async def test_a_redirect_to_another_origin_drops_credentials(
    upstream: Upstream, outbound: HttpClient
) -> None:
    async with Upstream() as other:  # same address, another port: another origin
        upstream.answer(302, headers={"Location": f"{other.url}/landing"})
        outgoing = Outgoing("GET", f"{upstream.url}/start", list(CREDENTIALS_SENT))
        await outbound.send(outgoing, TIMEOUT)
        [first], [second] = upstream.received, other.received
    assert all(first.header(name) == value for name, value in CREDENTIALS_SENT)
    assert [second.header(n) for n, _ in CREDENTIALS_SENT] == [None, None, None, "application/json"]


async def test_a_redirect_within_the_origin_keeps_credentials(
    upstream: Upstream, outbound: HttpClient
) -> None:
    upstream.answer(302, headers={"Location": "/landing"})
    upstream.echo()
    await outbound.send(Outgoing("GET", f"{upstream.url}/start", list(CREDENTIALS_SENT)), TIMEOUT)
    second = upstream.received[1]
    assert second.raw_path == "/landing"
    assert all(second.header(name) == value for name, value in CREDENTIALS_SENT)


async def test_a_303_turns_a_post_into_a_get_without_its_body(
    upstream: Upstream, outbound: HttpClient
) -> None:
    upstream.answer(303, headers={"Location": "/result"})
    upstream.echo()
    headers = [("Content-Type", "application/json")]
    await outbound.send(Outgoing("POST", f"{upstream.url}/jobs", headers, b'{"a": 1}'), TIMEOUT)
    second = upstream.received[1]
    assert (second.method, second.body, second.header("Content-Type")) == ("GET", b"", None)


async def test_a_307_keeps_the_method_and_the_body(
    upstream: Upstream, outbound: HttpClient
) -> None:
    upstream.answer(307, headers={"Location": "/jobs-v2"})
    upstream.echo()
    headers = [("Content-Type", "application/json")]
    await outbound.send(Outgoing("POST", f"{upstream.url}/jobs", headers, b'{"a": 1}'), TIMEOUT)
    second = upstream.received[1]
    assert (second.method, second.raw_path, second.body) == ("POST", "/jobs-v2", b'{"a": 1}')
    assert second.header("Content-Type") == "application/json"


# --- the allow list ----------------------------------------------------------------------


def test_the_allow_list_takes_cidrs_addresses_and_host_names() -> None:
    guard = Guard.from_entries(["10.0.0.0/8", "192.168.1.7", "fd00::/8", " CRM.Internal. "])
    assert guard.judge("10.1.2.3").allowed
    assert guard.judge("::ffff:10.1.2.3").allowed  # the same address, carried
    assert guard.judge("192.168.1.7").allowed
    assert not guard.judge("192.168.1.8").allowed
    assert guard.judge("fd00:ec2::254").allowed
    assert not guard.judge("127.0.0.1").allowed
    assert guard.host_allowed("crm.internal")
    assert guard.host_allowed("CRM.INTERNAL.")
    assert not guard.host_allowed("other.internal")
    assert not guard.host_allowed(None)


def test_the_allow_list_takes_a_host_name_as_a_base_url_may_spell_it() -> None:
    # One rule for a host name, the schema's and the allow list's: an internationalized
    # name is allowed as a URL's host reads (yarl gives `bücher.internal`, not its IDNA form).
    guard = Guard.from_entries(["Bücher.Internal", "a_b.internal", f"{'a' * 63}.internal"])
    assert guard.host_allowed(URL("http://bücher.internal:8080/").host)
    assert guard.host_allowed("a_b.internal")
    for entry in ("-a.internal", f"{'a' * 64}.internal", ".".join(["a" * 63] * 4) + ".a"):
        with pytest.raises(ValueError, match="is not a CIDR, an IP address or a host name"):
            check_entry(entry)


async def test_a_host_allowed_by_name_may_connect_wherever_it_resolves(
    upstream: Upstream,
) -> None:
    port = upstream.url.rsplit(":", 1)[1]
    resolver = Resolver({"crm.internal": "127.0.0.1", "other.internal": "127.0.0.1"})
    async with started(Guard.from_entries(["crm.internal"]), resolver) as http:
        for host in ("crm.internal", "CRM.Internal."):
            received = await http.send(Outgoing("GET", f"http://{host}:{port}/"), TIMEOUT)
            assert received.status == 200
        for host in ("other.internal", "127.0.0.1"):  # the same address, by another name
            with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1 \(loopback\)"):
                await http.send(Outgoing("GET", f"http://{host}:{port}/"), TIMEOUT)
    assert len(upstream.received) == 2


def test_settings_read_the_allow_list_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("CALLOUT_OUTBOUND_ALLOW", "10.0.0.0/8, 192.168.1.7 ,crm.internal")
    allowed = Settings(data_dir=tmp_path).outbound_allow
    assert allowed == ("10.0.0.0/8", "192.168.1.7", "crm.internal")
    guard = Guard.from_entries(allowed)
    assert guard.judge("10.9.9.9").allowed
    assert guard.host_allowed("crm.internal")


@pytest.mark.parametrize(
    "entry",
    ["not a cidr!", "10.0.0.0/33", "300.1.2.3", "http://10.0.0.1", "*.internal", "10.0.0.1:80"],
)
def test_a_bad_allow_entry_fails_settings_naming_the_entry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, entry: str
) -> None:
    monkeypatch.setenv("CALLOUT_OUTBOUND_ALLOW", f"10.0.0.0/8,{entry}")
    with pytest.raises(ValidationError, match=re.escape(repr(entry))):
        Settings(data_dir=tmp_path)
    with pytest.raises(ValueError, match="is not a CIDR, an IP address or a host name"):
        check_entry(entry)


# --- end to end --------------------------------------------------------------------------


async def test_an_invocation_whose_api_resolves_to_loopback_fails_as_blocked_address(
    upstream: Upstream,
) -> None:
    port = upstream.url.rsplit(":", 1)[1]
    resolver = Resolver({"crm.test": "127.0.0.1"})
    plan = compile_from(api_def(base_url=f"http://crm.test:{port}/api"), request_def())
    async with started(Guard(), resolver) as http:  # loopback not allowed: production's default
        executor = Executor(http)
        outcome = await executor.run(plan, {"customerId": "7"}, {}, trace=True)
        real = await executor.run(plan, {"customerId": "7"}, {})
    assert (outcome.outcome, outcome.reason) == ("failure", "blocked_address")
    assert outcome.message == (
        "the outbound guard refused 127.0.0.1 (loopback); an on-premises system is let "
        "through by naming its address or host in CALLOUT_OUTBOUND_ALLOW"
    )
    assert outcome.request is not None
    assert outcome.request.url == f"http://crm.test:{port}/api/v1/customers/7"
    assert [step.name for step in outcome.steps][-1] == "blocked_address"
    assert (real.reason, real.message) == (outcome.reason, outcome.message)
    assert executor.failures[(KEY.client_id, "blocked_address")] == 1  # the real call only
    assert upstream.received == []
