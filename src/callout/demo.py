"""The demo client `callout init` seeds on a fresh installation, so there is something to try."""

from sqlalchemy.orm import Session

from callout.apis import request_service
from callout.apis import service as apis
from callout.apis.fields import Header, NameValue
from callout.apis.schemas import (
    ApiWrite,
    RequestParameter,
    RequestWrite,
    ResponseParameter,
    SampleResponse,
)
from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.schemas import ApiKeyCreate, ApiKeyCreated, ClientCreate, ServiceWrite
from callout.db.crypto import Keyring

DEMO_CODE = "demo"


def seed(session: Session, keyring: Keyring) -> ApiKeyCreated:
    """Create the demo client with a service and a sample CRM API; returns its admin key,
    which is shown once. The system APIs are listed to it as to every client."""
    made = clients.create_client(
        session, OPERATOR, ClientCreate(code=DEMO_CODE, name="Demo Contact Center")
    )
    client = clients.visible_client(session, OPERATOR, made.code)
    collections = clients.create_service(
        session, OPERATOR, client, ServiceWrite(name="Collections", description="Early-stage")
    )
    crm = apis.create_api(
        session,
        keyring,
        OPERATOR,
        client,
        ApiWrite(
            name="Customer CRM",
            description="Looks up the caller when a call starts; notes the outcome at wrap-up.",
            base_url="https://crm.example.com/api",
            service_id=collections.id,
            headers=[Header(name="Accept", value="application/json")],
        ),
    )
    request_service.create_request(
        session,
        keyring,
        OPERATOR,
        client,
        crm.id,
        RequestWrite(
            name="Get customer",
            description="The account behind the caller's number.",
            url_path="v1",
            endpoint_path="customers/${customerId}",
            parameters=[RequestParameter(name="customerId", required=True)],
            samples=[
                SampleResponse(
                    name="Overdue customer",
                    headers=[NameValue(name="Content-Type", value="application/json")],
                    body='{"name": "Ann Example", "balance": 1250.5, "overdue": true}',
                )
            ],
            outputs=[
                ResponseParameter(name="fullName", path="$.name"),
                ResponseParameter(name="balance", path="$.balance", type="number"),
                ResponseParameter(
                    name="overdue",
                    path="$.overdue",
                    type="boolean",
                    target="alert",
                    # Read from the response alone: a mock run of the sample needs no context.
                    message="${fullName} is overdue: balance ${balance}",
                ),
            ],
        ),
    )
    return clients.create_api_key(
        session, OPERATOR, client, ApiKeyCreate(name="demo-admin", role="admin")
    )
