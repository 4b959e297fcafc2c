"""The cap on request bodies: a body past it is refused with 413 problem+json, whether its
size is declared (Content-Length) or it comes in chunks, and no more than the cap is read."""

import json
from collections.abc import AsyncIterator

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callout.db.models import Api
from tests.conftest import Tenant, Tenants
from tests.factories import api_body

PROBLEM = "application/problem+json"
CAP = 1024 * 1024  # the default of CALLOUT_MAX_REQUEST_BODY
CHUNK = 64 * 1024


def padded(size: int) -> bytes:
    """A valid API body of exactly `size` bytes: white space after the JSON fills it up."""
    body = json.dumps(api_body()).encode()
    return body + b" " * (size - len(body))


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert (problem["status"], problem["type"]) == (413, "/problems/too-large")
    assert (
        problem["detail"]
        == f"the request body is larger than {CAP:,} bytes, the most this route takes"
    )


def api_count(session: Session, tenant: Tenant) -> int:
    session.expire_all()
    query = select(func.count()).select_from(Api).where(Api.client_id == tenant.client.id)
    return session.scalar(query) or 0


async def test_a_body_declared_larger_than_the_cap_is_refused_with_413(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    headers = a.editor | {"Content-Type": "application/json"}

    response = await http.post(a.apis, content=padded(CAP + 1), headers=headers)

    assert_too_large(response)
    assert api_count(session, a) == 0


async def test_a_body_at_the_cap_is_accepted(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    """The control for the case above: the cap itself is allowed."""
    a = tenants.a
    headers = a.editor | {"Content-Type": "application/json"}
    body = padded(CAP)
    assert len(body) == CAP

    response = await http.post(a.apis, content=body, headers=headers)

    assert response.status_code == 201, response.text


async def test_a_chunked_body_is_refused_once_it_passes_the_cap_without_reading_the_rest(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(800):  # 50 MiB, were it all read
            sent += 1
            yield b" " * CHUNK

    headers = a.editor | {"Content-Type": "application/json"}
    response = await http.post(a.apis, content=chunks(), headers=headers)

    assert "content-length" not in response.request.headers
    assert_too_large(response)
    assert sent <= CAP // CHUNK + 2  # read up to the cap, then the answer
    assert api_count(session, a) == 0


async def test_a_chunked_body_within_the_cap_is_read_whole(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    body = json.dumps(api_body()).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 7):
            yield body[start : start + 7]

    headers = a.editor | {"Content-Type": "application/json"}
    response = await http.post(a.apis, content=chunks(), headers=headers)

    assert response.status_code == 201, response.text
    assert response.json()["name"] == api_body()["name"]
