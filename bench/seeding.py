"""The benchmark's library: one client's APIs and requests, varied, valid, bulk-inserted.

Every API and request is a valid `ApiWrite` / `RequestWrite` (built through the schemas, so
the app reads each one back without complaint); stored through the same column helpers and
secret splitting the services use, then inserted many rows per call with SQLAlchemy.
"""

import random
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import insert

from callout.apis import catalog
from callout.apis import secret_fields as sf
from callout.apis.authorization import BasicAuth, BearerAuth, NoAuth
from callout.apis.fields import Header, NameValue
from callout.apis.mappers import api_columns, request_columns
from callout.apis.schemas import ApiWrite, RequestParameter, RequestWrite, ResponseParameter
from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.schemas import ApiKeyCreate, ClientCreate, ServiceWrite
from callout.db.crypto import Binding, Keyring
from callout.db.engine import Database
from callout.db.models import Api, Request, Secret
from callout.db.secrets import api_owner

CLIENT_CODE = "bench"
REQUESTS_PER_API = 5
BATCH = 1000  # APIs per INSERT batch (with their 5 requests each)

# Name parts: 40 x 25 x 12 = 12,000 distinct API names before a numeric suffix is needed.
VENDORS = (
    "Salesforce", "Zendesk", "HubSpot", "Freshdesk", "ServiceNow", "Stripe", "Adyen",
    "Braintree", "Twilio", "Vonage", "SAP", "Oracle", "NetSuite", "Workday", "Shopify",
    "Magento", "Experian", "Equifax", "TransUnion", "FedEx", "UPS", "DHL", "USPS", "Okta",
    "Auth0", "Genesys", "Five9", "Talkdesk", "Intercom", "Gorgias", "Kustomer", "Dynamics",
    "Pipedrive", "Zoho", "Chargebee", "Recurly", "Zuora", "Plaid", "DocuSign", "Calendly",
)  # fmt: skip
DOMAINS = (
    "CRM", "Billing", "Payments", "Ticketing", "Accounts", "Orders", "Shipping", "Loyalty",
    "Identity", "Scheduling", "Claims", "Collections", "Inventory", "Notifications", "Surveys",
    "Fraud Check", "Credit Check", "Address Lookup", "Consent", "Appointments", "Returns",
    "Subscriptions", "Knowledge Base", "Case Notes", "Call Outcomes",
)  # fmt: skip
QUALIFIERS = (
    "", "EU", "US", "UK", "APAC", "Sandbox", "Staging", "v2", "Legacy", "Partner", "Internal",
    "Backup",
)  # fmt: skip
SERVICES = (
    "Collections", "Sales", "Customer Care", "Retention", "Billing Support", "Tech Support",
    "Onboarding", "Fraud",
)  # fmt: skip
PURPOSES = (
    "looks the caller up when a call starts",
    "records the outcome at wrap-up",
    "checks what the caller says against the record",
    "takes and confirms payments during the call",
    "opens a case when the agent escalates",
    "tells the agent about overdue balances",
    "books callbacks and appointments",
)
URL_PATHS = ("v1", "v2", "api/v1", "api/v2", "rest/v3", "")


def _out(name: str, path: str, **more: Any) -> ResponseParameter:
    return ResponseParameter(name=name, path=path, **more)


def _param(name: str, **more: Any) -> RequestParameter:
    return RequestParameter(name=name, required=True, **more)


def _json(body: str) -> dict[str, Any]:
    return {"content_type": "json", "body": body}


# One valid request per kind; an API takes 5 of them (names are unique within an API).
REST_REQUESTS = [
    RequestWrite(
        name="Get customer",
        endpoint_path="customers/${customerId}",
        parameters=[_param("customerId")],
        outputs=[
            _out("fullName", "$.name"),
            _out("balance", "$.balance", type="number"),
            _out(
                "overdue",
                "$.overdue",
                type="boolean",
                target="alert",
                message="Account ${account.id} is overdue",
            ),
        ],
    ),
    RequestWrite(
        name="Find customer by phone",
        endpoint_path="customers",
        query=[NameValue(name="phone", value="${call.ani}"), NameValue(name="limit", value="1")],
        outputs=[_out("customerId", "$.items[0].id"), _out("matches", "$.total", type="number")],
    ),
    RequestWrite(
        name="Add note",
        method="POST",
        endpoint_path="customers/${customerId}/notes",
        parameters=[_param("customerId"), _param("note")],
        **_json('{"text": "${note}", "agent": "${loginData.agentId}", "call": "${call.id}"}'),
        outputs=[_out("noteId", "$.id")],
    ),
    RequestWrite(
        name="Update address",
        method="PATCH",
        endpoint_path="customers/${customerId}/address",
        parameters=[_param("customerId"), _param("street"), _param("postalCode")],
        **_json('{"street": "${street}", "postalCode": "${postalCode}"}'),
        success_statuses=[200, 204],
    ),
    RequestWrite(
        name="List open tickets",
        endpoint_path="tickets",
        query=[
            NameValue(name="customer", value="${account.id}"),
            NameValue(name="status", value="open"),
        ],
        outputs=[
            _out("ticketCount", "$.total", type="number"),
            _out("ticketIds", "$.items[*].id", array=True),
        ],
    ),
    RequestWrite(
        name="Open ticket",
        method="POST",
        endpoint_path="tickets",
        parameters=[_param("subject"), RequestParameter(name="priority", default="normal")],
        **_json('{"subject": "${subject}", "priority": "${priority}", "ani": "${call.ani}"}'),
        outputs=[_out("ticketId", "$.id"), _out("ticketUrl", "Location", source="header")],
    ),
    RequestWrite(
        name="Check balance",
        endpoint_path="accounts/${account.id}/balance",
        outputs=[
            _out("balance", "$.amount", type="number"),
            _out("currency", "$.currency"),
            _out("dueDate", "$.due_date"),
        ],
        timeout=5,
    ),
    RequestWrite(
        name="Take payment",
        method="POST",
        endpoint_path="payments",
        parameters=[_param("amount", type="number"), _param("cardToken")],
        content_type="form",
        form=[
            NameValue(name="amount", value="${amount}"),
            NameValue(name="source", value="${cardToken}"),
            NameValue(name="account", value="${account.id}"),
        ],
        outputs=[_out("paymentId", "$.id"), _out("httpStatus", "", source="status", type="number")],
    ),
    RequestWrite(
        name="Cancel order",
        method="DELETE",
        endpoint_path="orders/${orderId}",
        parameters=[_param("orderId")],
        success_statuses=[200, 202, 204],
    ),
    RequestWrite(
        name="Verify identity",
        method="POST",
        endpoint_path="identity/verify",
        parameters=[_param("dob")],
        content_type="xml",
        body="<verify><account>${account.id}</account><dob>${dob}</dob></verify>",
        outputs=[_out("verified", "/result/match", type="boolean")],
    ),
]
MESSAGE_REQUESTS = [
    RequestWrite(name=name, method="POST", **_json(body))
    for name, body in (
        ("Post alert", '{"text": "Alert on call ${call.id}: ${fields.reason}"}'),
        ("Post escalation", '{"text": "${loginData.agentName} escalates ${account.id}"}'),
        ("Post callback request", '{"text": "Call back ${call.ani} about ${account.id}"}'),
        ("Post VIP arrival", '{"text": "VIP ${account.name} is on the line"}'),
        ("Post wrap-up", '{"text": "Call ${call.id} ended: ${fields.outcome}"}'),
    )
]


@dataclass
class Library:
    """The seeded client's library: what the timed calls pick from."""

    code: str
    key: str
    api_ids: list[int]
    total: int  # APIs the client lists: its own plus the system APIs
    seconds: float
    secrets: int


def api_names(count: int, rng: random.Random) -> list[str]:
    combos = [
        f"{v} {d}" + (f" ({q})" if q else "") for v in VENDORS for d in DOMAINS for q in QUALIFIERS
    ]
    rng.shuffle(combos)
    # Past 12,000 the names repeat with " 2", " 3"... after them.
    return [
        combos[i % len(combos)] + (f" {i // len(combos) + 1}" if i >= len(combos) else "")
        for i in range(count)
    ]


def _slug(text_: str) -> str:
    return "".join(c for c in text_.lower().replace(" ", "-") if c.isalnum() or c == "-")


def api_variant(name: str, rng: random.Random) -> ApiWrite:
    """A valid ApiWrite for one API of the library: type, URL and authorization vary."""
    vendor = next(v for v in VENDORS if name.startswith(v))
    domain = next(d for d in DOMAINS if name.startswith(f"{vendor} {d}"))
    kind = rng.choices(("api", "slack", "teams"), weights=(90, 5, 5))[0]
    if kind == "slack":
        base_url = (
            f"https://hooks.slack.com/services/T{rng.randrange(10**8)}/B{rng.randrange(10**8)}"
        )
    elif kind == "teams":
        base_url = f"https://{_slug(vendor)}.webhook.office.com/webhookb2/{rng.randbytes(8).hex()}"
    else:
        region = rng.choice(("", "", "eu.", "us.", "api."))
        base_url = f"https://{region}{_slug(vendor)}.example.com/{_slug(domain)}"
    scheme = rng.choices(("none", "bearer", "basic"), weights=(50, 30, 20))[0]
    # Secret values are placeholders here: `seed` seals a fresh random value for each one.
    auth: NoAuth | BearerAuth | BasicAuth = NoAuth()
    if scheme == "bearer":
        auth = BearerAuth(token=SecretStr("token"))
    elif scheme == "basic":
        auth = BasicAuth(username=f"cc-{_slug(vendor)}", password=SecretStr("password"))
    headers = [Header(name="Accept", value="application/json")]
    if rng.random() < 0.3:
        headers.append(Header(name="X-Tenant", value=CLIENT_CODE))
    return ApiWrite(
        name=name,
        description=f"{domain} at {vendor}: {rng.choice(PURPOSES)}.",
        base_url=base_url,
        type=kind,
        headers=headers,
        authorization=auth,
    )


def seed(database: Database, keyring: Keyring, count: int, rng: random.Random) -> Library:
    """Create the client, its services and a viewer key through the services, then bulk-insert
    `count` APIs with their requests and sealed secrets, `BATCH` APIs per transaction."""
    started = time.perf_counter()
    with database.transaction() as session:
        made = clients.create_client(
            session, OPERATOR, ClientCreate(code=CLIENT_CODE, name="Bench")
        )
        client = clients.visible_client(session, OPERATOR, made.code)
        service_ids = [
            clients.create_service(session, OPERATOR, client, ServiceWrite(name=name)).id
            for name in SERVICES
        ]
        key = clients.create_api_key(
            session, OPERATOR, client, ApiKeyCreate(name="bench", role="viewer")
        ).key
        client_id = client.id
    rest_rows = [request_columns(r) | {"headers": []} for r in REST_REQUESTS]
    message_rows = [request_columns(r) | {"headers": []} for r in MESSAGE_REQUESTS]
    now = datetime.now(UTC)
    api_ids: list[int] = []
    secret_count = 0
    names = api_names(count, rng)
    for start in range(0, count, BATCH):
        apis, sealed, requests = [], [], []
        for name in names[start : start + BATCH]:
            data = api_variant(name, rng)
            changes = sf.SecretSplit(stored=set())
            headers = changes.headers(data.headers)
            authorization = changes.authorization(data.authorization)
            created = now - timedelta(seconds=rng.randrange(2 * 365 * 86400))
            apis.append(
                api_columns(data)
                | {
                    "client_id": client_id,
                    "service_id": rng.choice([None, *service_ids]),
                    "headers": headers,
                    "authorization": authorization,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created + timedelta(seconds=rng.randrange(86400 * 30)),
                }
            )
            sealed.append(changes.new)
            pool = message_rows if data.type != "api" else rest_rows
            requests.append(rng.sample(pool, REQUESTS_PER_API))
        with database.transaction() as session:
            # render_nulls: a None is sent as NULL rather than left out of the row, so rows
            # with and without a service (or a body) still share one multi-row INSERT.
            bulk = {"render_nulls": True}
            # APIs: RETURNING makes SQLAlchemy send multi-row INSERT ... VALUES statements
            # (1,000 rows each); rows come back in no set order, so ids are matched by name.
            added = session.execute(
                insert(Api).returning(Api.name_key, Api.id).execution_options(**bulk), apis
            )
            id_of: dict[str, int] = dict(added.all())
            ids = [id_of[api["name_key"]] for api in apis]
            request_rows, secret_rows = [], []
            for api_id, api, chosen, new in zip(ids, apis, requests, sealed, strict=True):
                url_path = rng.choice(URL_PATHS) if api["type"] == "api" else ""
                for row in chosen:
                    request_rows.append(
                        row
                        | {
                            "api_id": api_id,
                            "url_path": url_path,
                            "description": f"{row['name']} in {api['name']}.",
                            "version": 1,
                            "created_at": api["created_at"],
                            "updated_at": api["updated_at"],
                        }
                    )
                for name in new:  # each sealed secret is a fresh random value
                    owner = api_owner(api_id)
                    box = keyring.seal(secrets.token_urlsafe(24), Binding(client_id, owner, name))
                    secret_rows.append(
                        {
                            "client_id": client_id,
                            "api_id": api_id,
                            "owner": owner,
                            "field": name,
                            "key_id": box.key_id,
                            "ciphertext": box.ciphertext,
                        }
                    )
            # Requests and secrets need no ids back: one executemany each, which psycopg
            # pipelines and sqlite3 runs on one prepared statement. (Multi-row VALUES through
            # RETURNING measured 4x slower on PostgreSQL: 1.6 s against 0.4 s per 5,000.)
            session.execute(insert(Request).execution_options(**bulk), request_rows)
            if secret_rows:
                session.execute(insert(Secret).execution_options(**bulk), secret_rows)
        api_ids += ids
        secret_count += len(secret_rows)
    if database.engine.dialect.name == "postgresql":
        # Autovacuum would analyze these tables within a minute; do it now so plans are settled.
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    total = count + len(catalog.load())
    return Library(CLIENT_CODE, key, api_ids, total, time.perf_counter() - started, secret_count)
