"""Valid request bodies to start from; tests change the one field they are about."""

from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callout.apis import catalog
from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.schemas import ClientCreate
from callout.db.models import (
    Api,
    ApiKey,
    AuditEvent,
    Client,
    Designer,
    Invocation,
    Request,
    Secret,
    Service,
)

if TYPE_CHECKING:
    from tests.conftest import Tenant

SENTINEL = "s3ntinel-7f1c2b9e"  # planted in secret fields; must never come back out
# OAuth 2.0 client credentials, the client secret planted.
OAUTH2 = {
    "type": "oauth2",
    "token_url": "https://auth.example.com/token",
    "client_id": "cid",
    "client_secret": SENTINEL,
}


def api_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "CRM",
        "description": "Customer records",
        "base_url": "https://crm.example.com/api",
        "type": "api",
        "headers": [{"name": "Accept", "value": "application/json"}],
        "authorization": {"type": "none"},
    }
    return body | changes


def request_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Get customer",
        "method": "GET",
        "url_path": "v1",
        "endpoint_path": "customers/${customerId}",
        "parameters": [{"name": "customerId", "type": "string", "required": True}],
        "outputs": [{"name": "fullName", "path": "$.name"}],
    }
    return body | changes


def function_call(
    api_id: int, request_id: int, parameters: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A FUNCTION CALL action; by default it maps `request_body`'s customerId from the call."""
    mapped = [{"name": "customerId", "path": "call.ani"}] if parameters is None else parameters
    return {
        "kind": "function_call",
        "api_id": api_id,
        "request_id": request_id,
        "parameters": mapped,
    }


def designer_body(*actions: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A designer with one page and two events; `actions` run when its agent logs in."""
    body: dict[str, Any] = {
        "name": "Inbound",
        "description": "The inbound desk",
        "pages": [
            {
                "name": "Main",
                "components": [
                    {"name": "Search", "kind": "button"},
                    {"name": "Customer", "kind": "text", "fields": ["fullName"]},
                ],
            }
        ],
        "events": [
            {
                "type": "system",
                "name": "Login",
                "page": "Main",
                "conditions": [{"expression": "", "actions": list(actions)}],
            },
            {
                "type": "user",
                "name": "Search clicked",
                "page": "Main",
                "component": "Search",
                "conditions": [
                    {
                        "expression": "not ${call.ani} is empty",
                        "actions": [
                            {"kind": "component_load", "page": "Main", "component": "Customer"}
                        ],
                    }
                ],
            },
        ],
    }
    return body | changes


RSA_KEY_PEM: str | None = None


def rsa_private_key() -> str:
    """A fresh PEM RSA private key (generated once per run)."""
    global RSA_KEY_PEM
    if RSA_KEY_PEM is None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        RSA_KEY_PEM = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    return RSA_KEY_PEM


def every_authorization(secret: str = SENTINEL) -> list[dict[str, Any]]:
    """One authorization of each type, every secret field set to `secret`.

    LiveVox needs a base URL containing "livevox"; the others take any.
    """
    return [
        {"type": "none"},
        {
            "type": "livevox",
            "access_token": secret,
            "client_name": "acme",
            "user_name": "agent7",
            "password": secret,
        },
        {"type": "basic", "username": "alice", "password": secret},
        {"type": "bearer", "token": secret},
        {
            "type": "oauth1",
            "consumer_key": "ck",
            "consumer_secret": secret,
            "token": secret,
            "token_secret": secret,
        },
        {
            "type": "oauth2",
            "grant": "password",
            "token_url": "https://auth.example.com/token",
            "client_id": "cid",
            "client_secret": secret,
            "username": "alice",
            "password": secret,
            "refresh_token": secret,
        },
    ]


SYSTEM_API_SLUG = "test-status-page"
SYSTEM_API_YAML = """
name: Status page
description: A system API shipped for the tests, beside the catalogue's own.
base_url: https://status.example.com/api
headers:
  - name: Accept
    value: application/json
requests:
  - name: Summary
    endpoint_path: v2/summary.json
    outputs:
      - name: indicator
        path: $.status.indicator
  - name: Component
    endpoint_path: v2/components/${componentId}.json
    parameters:
      - name: componentId
        required: true
"""


def add_client(session: Session, code: str) -> Client:
    """A client made by the operator (named for its code), as the use cases take it."""
    made = clients.create_client(session, OPERATOR, ClientCreate(code=code, name=code.title()))
    return clients.visible_client(session, OPERATOR, made.code)


def add_system_api(session: Session) -> int:
    """Ship one more system API (in the test's transaction) and return its id, so tests of
    system APIs do not depend on what the catalogue holds."""
    entry = catalog.parse(SYSTEM_API_SLUG, SYSTEM_API_YAML)
    catalog.sync(session, [*catalog.load(), entry])
    api_id = session.scalar(select(Api.id).where(Api.slug == SYSTEM_API_SLUG))
    session.commit()
    assert api_id is not None
    return api_id


async def make_api(http: httpx.AsyncClient, tenant: "Tenant", **changes: Any) -> dict[str, Any]:
    """Create an API for `tenant` through the REST API (`api_body` with `changes`)."""
    response = await http.post(tenant.apis, json=api_body(**changes), headers=tenant.editor)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_request(
    http: httpx.AsyncClient, tenant: "Tenant", api_id: int, **changes: Any
) -> dict[str, Any]:
    """Create a request under `api_id` through the REST API (`request_body` with `changes`)."""
    response = await http.post(
        f"{tenant.apis}/{api_id}/requests", json=request_body(**changes), headers=tenant.editor
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_designer(
    http: httpx.AsyncClient, tenant: "Tenant", *actions: dict[str, Any], **changes: Any
) -> httpx.Response:
    """Create a designer for `tenant` through the REST API (`designer_body`)."""
    response = await http.post(
        tenant.designers, json=designer_body(*actions, **changes), headers=tenant.editor
    )
    assert response.status_code == 201, response.text
    return response


def invoke_url(tenant: "Tenant", api_id: int, request_id: int, action: str = "invoke") -> str:
    """Where a request of `tenant`'s is invoked (`action="test"` for its test route)."""
    return f"{tenant.apis}/{api_id}/requests/{request_id}/{action}"


def rows_of(session: Session, client_id: int) -> dict[str, int]:
    """How many rows of each kind the client owns."""
    session.expire_all()
    count = {
        "apis": select(func.count()).select_from(Api).where(Api.client_id == client_id),
        "requests": select(func.count())
        .select_from(Request)
        .join(Api, Request.api_id == Api.id)
        .where(Api.client_id == client_id),
        "services": select(func.count()).select_from(Service).where(Service.client_id == client_id),
        "designers": select(func.count())
        .select_from(Designer)
        .where(Designer.client_id == client_id),
        "keys": select(func.count()).select_from(ApiKey).where(ApiKey.client_id == client_id),
        "secrets": select(func.count()).select_from(Secret).where(Secret.client_id == client_id),
        "audit": select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.client_id == client_id),
        "invocations": select(func.count())
        .select_from(Invocation)
        .where(Invocation.client_id == client_id),
    }
    return {name: session.scalar(stmt) or 0 for name, stmt in count.items()}
