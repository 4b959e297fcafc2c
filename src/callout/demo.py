"""The demo client `callout init` seeds on a fresh installation, so there is something to try."""

from typing import Any

from sqlalchemy.orm import Session

from callout.apis import request_service
from callout.apis import service as apis
from callout.apis.fields import Header, NameValue
from callout.apis.schemas import (
    ApiWrite,
    RequestParameter,
    RequestRead,
    RequestWrite,
    ResponseParameter,
    SampleResponse,
)
from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.schemas import ApiKeyCreate, ApiKeyCreated, ClientCreate, ServiceWrite
from callout.db.crypto import Keyring
from callout.db.models import Client
from callout.designers import service as designers
from callout.designers.schemas import DesignerWrite

DEMO_CODE = "demo"


def seed(session: Session, keyring: Keyring) -> ApiKeyCreated:
    """Create the demo client with a service, a sample CRM API and a designer that calls
    it; returns its admin key, which is shown once. The system APIs are listed to it as to
    every client."""
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
    customer = _request(
        session,
        keyring,
        client,
        crm.id,
        RequestWrite(
            name="Get customer",
            description="The account behind the caller's number.",
            url_path="v1",
            endpoint_path="customers/${customerId}",
            parameters=[RequestParameter(name="customerId", required=True)],
            samples=[
                _sample(
                    "Overdue customer",
                    '{"name": "Ann Example", "balance": 1250.5, "overdue": true}',
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
    agent = _request(
        session,
        keyring,
        client,
        crm.id,
        RequestWrite(
            name="Get agent",
            description="The agent who logged in, for the desktop's header.",
            url_path="v1",
            endpoint_path="agents/${agentId}",
            parameters=[RequestParameter(name="agentId", required=True)],
            samples=[_sample("Agent", '{"name": "Dana Agent", "team": "Collections"}')],
            outputs=[
                ResponseParameter(name="agentName", path="$.name"),
                ResponseParameter(name="team", path="$.team"),
            ],
        ),
    )
    find = _request(
        session,
        keyring,
        client,
        crm.id,
        RequestWrite(
            name="Find customer",
            description="The customer id behind a phone number.",
            url_path="v1",
            endpoint_path="customers",
            query=[NameValue(name="phone", value="${phone}")],
            parameters=[RequestParameter(name="phone", required=True)],
            samples=[_sample("Known caller", '{"id": "C-1001"}')],
            outputs=[ResponseParameter(name="customerId", path="$.id")],
        ),
    )
    disposition = _request(
        session,
        keyring,
        client,
        crm.id,
        RequestWrite(
            name="Post disposition",
            description="Notes how the call ended on the customer's record.",
            method="POST",
            url_path="v1",
            endpoint_path="customers/${customerId}/notes",
            content_type="json",
            body='{"call": "${callId}", "disposition": "${disposition}"}',
            parameters=[
                RequestParameter(name="customerId", required=True),
                RequestParameter(name="callId", required=True),
                RequestParameter(name="disposition", required=True),
            ],
            samples=[_sample("Noted", '{"id": "N-77"}', status=201)],
            outputs=[ResponseParameter(name="noteId", path="$.id")],
        ),
    )
    designers.create_designer(
        session,
        OPERATOR,
        client,
        agent_desktop(crm.id, agent.id, find.id, customer.id, disposition.id),
    )
    return clients.create_api_key(
        session, OPERATOR, client, ApiKeyCreate(name="demo-admin", role="admin")
    )


def _request(
    session: Session, keyring: Keyring, client: Client, api_id: int, data: RequestWrite
) -> RequestRead:
    return request_service.create_request(session, keyring, OPERATOR, client, api_id, data)


def _sample(name: str, body: str, status: int = 200) -> SampleResponse:
    return SampleResponse(
        name=name,
        status=status,
        headers=[NameValue(name="Content-Type", value="application/json")],
        body=body,
    )


def agent_desktop(
    crm: int, agent: int, find: int, customer: int, disposition: int
) -> DesignerWrite:
    """The demo script: who the agent is at Login; at In Call the caller's account, found
    by phone number and then read by id (the first call feeds the second), and the CRM
    page popped; at Wrap-Up the disposition noted."""

    def call(request: int, **paths: str) -> dict[str, Any]:
        mapped = [{"name": name, "path": path} for name, path in paths.items()]
        return {"kind": "function_call", "api_id": crm, "request_id": request, "parameters": mapped}

    return DesignerWrite.model_validate(
        {
            "name": "Agent desktop",
            "description": "Looks up the agent and the caller; notes the disposition.",
            "pages": [
                {
                    "name": "Home",
                    "components": [
                        {"name": "Agent", "kind": "label", "fields": ["agentName", "team"]}
                    ],
                },
                {
                    "name": "Customer",
                    "components": [
                        {"name": "Summary", "kind": "label", "fields": ["fullName", "balance"]},
                        {"name": "Notes", "kind": "text_area"},
                    ],
                },
            ],
            "events": [
                {
                    "type": "system",
                    "name": "Login",
                    "page": "Home",
                    "conditions": [{"actions": [call(agent, agentId="loginData.agentId")]}],
                },
                {
                    "type": "system",
                    "name": "In Call",
                    "page": "Home",
                    "conditions": [
                        {
                            "expression": "not ${call.ani} is empty",
                            "actions": [
                                call(find, phone="call.ani"),
                                call(customer, customerId="responses.Find customer.customerId"),
                                {
                                    "kind": "pop_url",
                                    "url": "https://crm.example.com/customers/${fields.customerId}",
                                },
                                {"kind": "page_transition", "page": "Customer"},
                            ],
                        }
                    ],
                },
                {
                    "type": "system",
                    "name": "Wrap-Up",
                    "page": "Customer",
                    "conditions": [
                        {
                            "expression": "not ${call.disposition} is empty",
                            "actions": [
                                call(
                                    disposition,
                                    customerId="fields.customerId",
                                    callId="call.id",
                                    disposition="call.disposition",
                                ),
                                {"kind": "page_transition", "page": "Home"},
                            ],
                        }
                    ],
                },
            ],
        }
    )
