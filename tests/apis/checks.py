"""What the API tests check around a write: the problem+json of a refusal, and what the
client holds in the database before and after."""

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from callout.db.models import Secret
from tests.conftest import Tenant
from tests.factories import SENTINEL, rows_of

PROBLEM = "application/problem+json"
Json = dict[str, Any]


def assert_refused(response: httpx.Response, status: int, *errors: tuple[str, str]) -> None:
    """problem+json with `status` naming exactly these (field, message) errors, each once:
    the message contains the one given and the detail names the field. Inputs, which may be
    secrets, are never echoed."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    found = problem["errors"]
    assert sorted(e["field"] for e in found) == sorted(field for field, _ in errors), found
    messages = {e["field"]: e["message"] for e in found}
    for field, message in errors:
        assert message in messages[field], (field, messages[field])
        assert field in problem["detail"]
    assert SENTINEL not in response.text


def stored(session: Session, tenant: Tenant) -> dict[str, Any]:
    """What the client has: how many rows of each kind, and its secrets as
    sealed (a secret rewritten in place changes its ciphertext, so it shows here too)."""
    client_id = tenant.client.id
    found: dict[str, Any] = rows_of(session, client_id)
    secrets = select(Secret.owner, Secret.field, Secret.ciphertext).where(
        Secret.client_id == client_id
    )
    found["secrets"] = sorted(tuple(row) for row in session.execute(secrets))
    return found


async def read(http: httpx.AsyncClient, url: str, tenant: Tenant) -> tuple[Json, str]:
    """An object as a viewer reads it, with its ETag."""
    response = await http.get(url, headers=tenant.viewer)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]
