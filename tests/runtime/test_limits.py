"""What one call may take, against peers that take too much: bodies over the cap (announced,
chunked, a gzip bomb), header lines over the limit, hanging and dripping peers against the
deadline (also over redirects and retries), connections reset or answered in garbage, and TLS
trusted only through `Limits(ca_file=...)`, never through the environment.

Peers are real servers on loopback: the misbehaving ones from tests/faulty.py (raw asyncio),
`Upstream` (aiohttp) and an aiohttp HTTPS server with a CA made here. Calls go through a real
`Executor` on a real `HttpClient` whose guard allows loopback; what is checked is the outcome
a script sees, and how long it took.
"""

import ipaddress
import ssl
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from callout.runtime.executor import Executor
from callout.runtime.guard import Guard
from callout.runtime.http import HttpClient, Limits
from callout.runtime.plan import Plan
from callout.runtime.retry import RetryPolicy
from tests.conftest import LOOPBACK
from tests.faulty import (
    Faulty,
    compressed,
    drip,
    garbage,
    gzip_of_zeros,
    hang,
    headers,
    oversized,
    reset,
    respond,
)
from tests.runtime.conftest import api_def, compile_from, request_def
from tests.upstream import Upstream

CUSTOMER = {"customerId": "7"}
CAP = 64 * 1024
MARGIN = 0.3  # seconds a call may end after its deadline: scheduling, closing the socket


@asynccontextmanager
async def running(limits: Limits | None = None, **options: Any) -> AsyncIterator[Executor]:
    """An executor on a started client that may reach loopback, with these limits."""
    http = HttpClient(Guard.from_entries(LOOPBACK), limits)
    await http.start()
    try:
        yield Executor(http, **options)
    finally:
        await http.close()


def plan_at(url: str, **changes: Any) -> Plan:
    """`GET <url>/api/v1/customers/${customerId}`, with `changes` to the request."""
    return compile_from(api_def(base_url=f"{url}/api"), request_def(**changes))


# Bodies


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_over_the_cap_is_too_large_and_its_connection_is_not_reused(
    chunked: bool,
) -> None:
    async with (
        Faulty(respond(), oversized(4 * CAP, chunked=chunked), respond()) as peer,
        running(Limits(max_body=CAP)) as executor,
    ):
        plan = plan_at(peer.url)

        first = await executor.run(plan, CUSTOMER, {})
        over = await executor.run(plan, CUSTOMER, {})
        connections_so_far = peer.connections
        after = await executor.run(plan, CUSTOMER, {})

    assert first.outcome == "success"
    assert (over.outcome, over.reason) == ("failure", "too_large")
    assert over.message == "127.0.0.1 sent a body over 65,536 bytes"
    assert over.status is None
    assert after.outcome == "success"
    # The oversized answer came on the first call's pooled connection; the rest of that body
    # was never read, so the next call needs a connection of its own.
    assert connections_so_far == 1
    assert peer.connections == 2


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_of_exactly_the_cap_is_accepted(chunked: bool) -> None:
    async with (
        Faulty(oversized(CAP, chunked=chunked)) as peer,
        running(Limits(max_body=CAP)) as executor,
    ):
        outcome = await executor.run(plan_at(peer.url), CUSTOMER, {})

    assert (outcome.outcome, outcome.status) == ("success", 200)


async def test_a_gzip_bomb_stops_at_the_cap_quickly_without_inflating_in_memory() -> None:
    bomb = gzip_of_zeros(100 * 1024 * 1024)  # 100 MiB of zeros
    assert len(bomb) < 200 * 1024
    limits = Limits()  # the default cap: 5 MiB decoded
    async with Faulty(compressed(bomb)) as peer, running(limits) as executor:
        plan = plan_at(peer.url)
        tracemalloc.start()
        try:
            started = perf_counter()
            outcome = await executor.run(plan, CUSTOMER, {})
            elapsed = perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert (outcome.outcome, outcome.reason) == ("failure", "too_large")
    assert outcome.message == f"127.0.0.1 sent a body over {limits.max_body:,} bytes"
    assert elapsed < 1.0
    # Decoded as it streams and refused at the cap: never the 100 MiB, never much past 5.
    assert peak < 2 * limits.max_body, f"peak {peak:,} bytes"


# Headers


TOO_MUCH_HEADER = {
    "a-header-line-over-8190-bytes": (["X-Big: " + "a" * 9000], Limits()),
    "a-header-name-over-8190-bytes": (["X-" + "b" * 9000 + ": v"], Limits()),
    "more-than-100-headers": ([f"X-Many-{i}: v" for i in range(101)], Limits()),
    "more-than-a-configured-10-headers": (
        [f"X-Many-{i}: v" for i in range(11)],
        Limits(max_headers=10),
    ),
    "a-line-over-a-configured-1000-bytes": (["X-Big: " + "a" * 1000], Limits(max_header_line=1000)),
}


@pytest.mark.parametrize(
    ("lines", "limits"),
    [pytest.param(*case, id=name) for name, case in TOO_MUCH_HEADER.items()],
)
async def test_headers_over_the_limits_are_too_large(lines: list[str], limits: Limits) -> None:
    async with Faulty(headers(lines)) as peer, running(limits) as executor:
        outcome = await executor.run(plan_at(peer.url), CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "too_large")
    assert outcome.message == f"127.0.0.1:{peer.port} sent a header over the size limit"


async def test_headers_within_the_limits_are_accepted() -> None:
    lines = ["X-Long: " + "a" * 8000, *(f"X-Many-{i}: v" for i in range(90))]
    async with Faulty(headers(lines)) as peer, running() as executor:
        outcome = await executor.run(plan_at(peer.url), CUSTOMER, {})

    assert (outcome.outcome, outcome.status) == ("success", 200)


# The deadline


async def test_a_hanging_upstream_times_out_on_time() -> None:
    async with Faulty(hang()) as peer, running() as executor:
        started = perf_counter()
        outcome = await executor.run(plan_at(peer.url, timeout=0.5), CUSTOMER, {})
        elapsed = perf_counter() - started

    assert (outcome.outcome, outcome.reason) == ("timeout", "timeout")
    assert outcome.message == "no complete answer within 0.5 s"
    assert 0.5 <= elapsed < 0.5 + MARGIN
    assert len(peer.requests) == 1


async def test_an_upstream_dripping_its_body_times_out_within_the_deadline() -> None:
    # Bytes keep coming, each well within any read timeout: only a deadline over the whole
    # call, body included, ends it.
    async with Faulty(drip(every=0.1)) as peer, running() as executor:
        started = perf_counter()
        outcome = await executor.run(plan_at(peer.url, timeout=1.0), CUSTOMER, {})
        elapsed = perf_counter() - started

    assert (outcome.outcome, outcome.reason) == ("timeout", "timeout")
    assert outcome.message == "no complete answer within 1 s"
    assert 1.0 <= elapsed < 1.0 + MARGIN


async def test_the_deadline_covers_every_redirect_hop(upstream: Upstream) -> None:
    # Five hops of 0.2 s each would take 1 s: the deadline of 0.7 s ends it during the fourth.
    for _ in range(6):
        upstream.answer(302, headers={"Location": "/api/v1/customers/7"}, delay=0.2)
    async with running() as executor:
        started = perf_counter()
        outcome = await executor.run(plan_at(upstream.url, timeout=0.7), CUSTOMER, {})
        elapsed = perf_counter() - started

    assert (outcome.outcome, outcome.reason) == ("timeout", "timeout")
    assert 0.7 <= elapsed < 0.7 + MARGIN
    assert len(upstream.received) == 4


async def test_the_deadline_covers_retries_and_their_redirects_together(
    upstream: Upstream,
) -> None:
    # Each try is a redirect then a 503, 0.2 s each; no backoff, ten tries allowed. The first
    # try ends at 0.4 s, the second is cut at 0.7 s, halfway through.
    for _ in range(10):
        upstream.answer(302, headers={"Location": "/api/v1/customers/7?hop=2"}, delay=0.2)
        upstream.answer(503, delay=0.2)
    async with running(retries=RetryPolicy(attempts=10, base=0.0)) as executor:
        started = perf_counter()
        outcome = await executor.run(plan_at(upstream.url, timeout=0.7), CUSTOMER, {}, trace=True)
        elapsed = perf_counter() - started

    assert (outcome.outcome, outcome.reason) == ("timeout", "timeout")
    assert outcome.message == "no complete answer within 0.7 s"
    assert 0.7 <= elapsed < 0.7 + MARGIN
    assert [seen.raw_path for seen in upstream.received] == [
        "/api/v1/customers/7",
        "/api/v1/customers/7?hop=2",
        "/api/v1/customers/7",
        "/api/v1/customers/7?hop=2",
    ]
    assert [step.detail for step in outcome.steps if step.name == "retry"] == [
        "status 503 after 0 ms"
    ]


# Broken answers


async def test_a_connection_reset_after_the_request_is_an_upstream_error_naming_the_host() -> None:
    async with Faulty(reset()) as peer, running() as executor:
        outcome = await executor.run(plan_at(peer.url), CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "upstream_error")
    assert outcome.message is not None
    assert f"127.0.0.1:{peer.port}" in outcome.message
    assert "/api" not in outcome.message  # the host, never the URL (a query may hold a token)
    # Callout's retries add nothing (a reset after sending is not a failed connect). aiohttp
    # itself sends an idempotent request once more when a connection drops: at most two.
    assert len(peer.requests) in (1, 2)


async def test_a_post_reset_after_sending_is_sent_once() -> None:
    async with Faulty(reset()) as peer, running() as executor:
        plan = plan_at(peer.url, method="POST", content_type="json", body='{"id": 7}')
        outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "upstream_error")
    assert len(peer.requests) == 1


async def test_garbage_instead_of_http_is_an_upstream_error_naming_the_host() -> None:
    async with Faulty(garbage()) as peer, running() as executor:
        outcome = await executor.run(plan_at(peer.url), CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "upstream_error")
    assert outcome.message == f"127.0.0.1:{peer.port} sent an answer that is not valid HTTP"
    assert outcome.status is None


# TLS


@dataclass(frozen=True)
class Authority:
    """A CA made for this run, and a server certificate it signed for 127.0.0.1 and localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    folder = tmp_path_factory.mktemp("tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Callout Test CA"))
        .issuer_name(_name("Callout Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    found = Authority(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    found.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return found


@dataclass
class Secure:
    url: str
    received: list[str]


@pytest.fixture
async def secure(authority: Authority, upstream: Upstream) -> AsyncIterator[Secure]:
    """An HTTPS server on loopback with the authority's certificate. It answers JSON, except
    on `/api/v1/customers/away`, which redirects to plain http on `upstream`."""
    received: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        received.append(request.raw_path)
        if request.path.endswith("/away"):
            raise web.HTTPFound(f"{upstream.url}/api/v1/customers/7")
        return web.json_response({"name": "Ann"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(authority.cert_file, authority.key_file)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    try:
        yield Secure(f"https://127.0.0.1:{runner.addresses[0][1]}", received)
    finally:
        await runner.cleanup()


@pytest.fixture
def environment_trusts_the_ca(authority: Authority, monkeypatch: pytest.MonkeyPatch) -> None:
    """SSL_CERT_FILE and SSL_CERT_DIR point at the test CA, as a careless host might set them."""
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.ca_file))
    monkeypatch.setenv("SSL_CERT_DIR", str(authority.ca_file.parent))
    # Python's own defaults do read them: a client that used those would trust the CA.
    assert ssl.get_default_verify_paths().cafile == str(authority.ca_file)


@pytest.mark.usefixtures("environment_trusts_the_ca")
async def test_a_certificate_from_an_unknown_ca_is_refused_whatever_the_environment_says(
    secure: Secure,
) -> None:
    async with running() as executor:  # started after the environment was set
        outcome = await executor.run(plan_at(secure.url), CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "upstream_error")
    host = secure.url.removeprefix("https://")
    assert outcome.message == f"TLS with {host} failed: the certificate or handshake was refused"
    assert secure.received == []


async def test_a_ca_file_in_the_limits_is_trusted(authority: Authority, secure: Secure) -> None:
    async with running(Limits(ca_file=authority.ca_file)) as executor:
        plan = plan_at(secure.url, outputs=[{"name": "name", "path": "$.name"}])
        outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.status, outcome.outputs) == ("success", 200, {"name": "Ann"})
    assert secure.received == ["/api/v1/customers/7"]


async def test_a_redirect_from_https_to_http_is_refused_end_to_end(
    authority: Authority, secure: Secure, upstream: Upstream
) -> None:
    async with running(Limits(ca_file=authority.ca_file)) as executor:
        outcome = await executor.run(plan_at(secure.url), {"customerId": "away"}, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "blocked_address")
    assert outcome.message == "a redirect from https to http (127.0.0.1) is not followed"
    assert secure.received == ["/api/v1/customers/away"]
    assert upstream.received == []  # nothing went out in the clear
