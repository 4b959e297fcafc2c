"""The sentinel test: a secret planted in every secret field never comes back out.

`SENTINEL` goes into every secret field of every authorization type and into secret headers
of APIs and requests; then every path that touches them runs (create, read, list, update,
copy, audit, and each kind of error). The sentinel must show in no response body or header,
no log record of any logger at DEBUG, no error text, no OpenAPI document, and nowhere in the
database in plain text.
"""

import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import String, Text, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON

from callout.apis.authorization import SCHEMES
from callout.apis.schemas import ApiWrite, RequestWrite
from callout.clients.access import new_key
from callout.db.crypto import KeySource
from callout.db.models import Base, Secret
from callout.db.secrets import Vault, api_owner, request_owner
from callout.logging import RedactionFilter, configure, redact
from callout.schemas import MASK
from callout.validation import validation_problems
from tests.conftest import Tenant, Tenants
from tests.factories import SENTINEL, api_body, every_authorization, request_body, rsa_private_key

LIVEVOX_URL = "https://api.livevox.example.com/v1"


def sentinel_authorizations() -> list[dict[str, Any]]:
    """Every scheme with the sentinel in every secret field, RSA signing included (the
    sentinel rides in front of the PEM block, which the PEM reader skips)."""
    return [
        *every_authorization(SENTINEL),
        {
            "type": "oauth1",
            "consumer_key": "ck",
            "signature_method": "RSA-SHA1",
            "rsa_private_key": f"{SENTINEL}\n{rsa_private_key()}",
            "token": SENTINEL,
            "token_secret": SENTINEL,
        },
    ]


def secret_header(name: str = "X-Api-Key", value: str = SENTINEL) -> dict[str, Any]:
    return {"name": name, "value": value, "secret": True}


def sentinel_api(auth: dict[str, Any], name: str, **changes: Any) -> dict[str, Any]:
    body = api_body(
        name=name,
        base_url=LIVEVOX_URL if auth["type"] == "livevox" else api_body()["base_url"],
        headers=[{"name": "Accept", "value": "application/json"}, secret_header()],
        authorization=auth,
    )
    return body | changes


def sentinel_request(**changes: Any) -> dict[str, Any]:
    headers = [secret_header("X-Request-Token"), {"name": "X-Trace", "value": "plain"}]
    return request_body(headers=headers) | changes


def as_write(read: dict[str, Any], *drop: str) -> dict[str, Any]:
    """A read body sent back as a write, as the UI does: read-only fields left out."""
    return {k: v for k, v in read.items() if k not in drop}


API_READ_ONLY = ("id", "system", "version", "created_at", "updated_at", "requests")
REQUEST_READ_ONLY = ("id", "api_id", "url", "version", "created_at", "updated_at")


# Watching every way out


@pytest.fixture(autouse=True)
def every_log_record(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, enabled and propagating to caplog's handler on the root.

    Autouse, so it is in place before the test's database connection is opened: SQLAlchemy
    decides per connection whether to log statements and their parameters.
    """
    manager = logging.Logger.manager
    saved = []
    for logger in [manager.root, *manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            saved.append((logger, logger.level, logger.propagate, logger.disabled))
            logger.setLevel(logging.DEBUG)
            logger.propagate = True
            logger.disabled = False
    caplog.set_level(logging.DEBUG)
    yield caplog
    for logger, level, propagate, disabled in saved:
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


@dataclass
class Watch:
    """Every response a test received, checked with every log record at the end."""

    caplog: pytest.LogCaptureFixture
    responses: list[httpx.Response] = field(default_factory=list)

    def __call__(self, response: httpx.Response, status: int) -> httpx.Response:
        self.responses.append(response)
        assert response.status_code == status, response.text
        return response

    def assert_clean(self) -> None:
        assert self.responses
        for response in self.responses:
            where = f"{response.request.method} {response.request.url} -> {response.status_code}"
            assert SENTINEL not in response.text, where
            for name, value in response.headers.items():
                assert SENTINEL not in f"{name}: {value}", where
        records = self.caplog.records
        assert records, "no log record was captured: the capture is broken"
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for record in records:
            line = formatter.format(record)
            assert SENTINEL not in line, line
            assert SENTINEL not in repr(vars(record)), line
        assert SENTINEL not in self.caplog.text


@pytest.fixture
def watch(every_log_record: pytest.LogCaptureFixture) -> Watch:
    return Watch(every_log_record)


async def create_everything(
    http: httpx.AsyncClient, tenant: Tenant, watch: Watch
) -> list[dict[str, Any]]:
    """One API per authorization type, each with a request holding a secret header."""
    created = []
    for number, auth in enumerate(sentinel_authorizations()):
        body = sentinel_api(auth, f"API {number} {auth['type']}")
        api = watch(await http.post(tenant.apis, json=body, headers=tenant.editor), 201).json()
        request = watch(
            await http.post(
                f"{tenant.apis}/{api['id']}/requests",
                json=sentinel_request(),
                headers=tenant.editor,
            ),
            201,
        ).json()
        planted = {k for k, v in auth.items() if isinstance(v, str) and SENTINEL in v}
        created.append(api | {"requests": [request], "planted": planted})
    return created


def stored_secrets(session: Session, keys: KeySource, owner: str) -> dict[str, str]:
    client_id = session.scalar(select(Secret.client_id).where(Secret.owner == owner))
    if client_id is None:
        return {}
    return Vault(session, keys.keyring(), client_id).reveal_all(owner)


def scan_database(session: Session) -> list[str]:
    """Every text and JSON value of every table, as text: where a plaintext would show."""
    session.flush()
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is not None:
                    text = value if isinstance(value, str) else json.dumps(value)
                    found.append(f"{table.name}.{column.name}={text}")
    return found


# The paths through the REST API


async def test_sentinel_never_leaves_create_read_list_copy_or_audit(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, keys: KeySource, watch: Watch
) -> None:
    a = tenants.a
    created = await create_everything(http, a, watch)

    for api in created:
        read = watch(await http.get(f"{a.apis}/{api['id']}", headers=a.viewer), 200).json()
        for name in SCHEMES[read["authorization"]["type"]].secret_fields():
            planted = name in api["planted"]
            assert read["authorization"][name] == (MASK if planted else None)
            assert read["authorization"][f"has_{name}"] is planted
        assert read["headers"][1] == secret_header(value=MASK) | {"enabled": True}
        request = api["requests"][0]
        base = f"{a.apis}/{api['id']}/requests"
        watch(await http.get(base, headers=a.viewer), 200)
        one = watch(await http.get(f"{base}/{request['id']}", headers=a.viewer), 200).json()
        assert one["headers"][0]["value"] == MASK
        copy = watch(await http.post(f"{a.apis}/{api['id']}/copy", headers=a.editor), 201).json()
        watch(await http.get(f"{a.apis}/{copy['id']}", headers=a.viewer), 200)
        # The copy holds the same secrets, sealed for its own rows.
        pairs = [
            (api_owner(api["id"]), api_owner(copy["id"])),
            (request_owner(request["id"]), request_owner(copy["requests"][0]["id"])),
        ]
        for original, twin in pairs:
            copied = stored_secrets(session, keys, twin)
            assert copied == stored_secrets(session, keys, original)
            assert copied
            assert all(value.startswith(SENTINEL) for value in copied.values())

    for query in ("", "?kind=client", f"?search={created[0]['name']}", "?limit=2&offset=1"):
        watch(await http.get(f"{a.apis}{query}", headers=a.viewer), 200)
    audit = watch(
        await http.get(f"/api/v1/clients/{a.code}/audit?limit=200", headers=a.admin), 200
    ).json()
    assert any("authorization.password" in e["changed"] for e in audit["items"])
    watch(await http.get("/api/v1/clients", headers=tenants.platform), 200)

    watch.assert_clean()
    assert not [line for line in scan_database(session) if SENTINEL in line]


async def test_mask_round_trip_keeps_every_secret_and_shows_none(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, keys: KeySource, watch: Watch
) -> None:
    a = tenants.a
    created = await create_everything(http, a, watch)

    for api in created:
        url = f"{a.apis}/{api['id']}"
        read = watch(await http.get(url, headers=a.editor), 200)
        body = as_write(read.json(), *API_READ_ONLY) | {"description": "renamed"}
        put = await http.put(url, json=body, headers=a.editor | {"If-Match": read.headers["ETag"]})
        watch(put, 200)
        assert put.json()["description"] == "renamed"

        request_url = f"{url}/requests/{api['requests'][0]['id']}"
        read = watch(await http.get(request_url, headers=a.editor), 200)
        body = as_write(read.json(), *REQUEST_READ_ONLY) | {"description": "renamed"}
        if_match = {"If-Match": read.headers["ETag"]}
        watch(await http.put(request_url, json=body, headers=a.editor | if_match), 200)

        stored = stored_secrets(session, keys, api_owner(api["id"]))
        expected_fields = {
            f"authorization.{f}"
            for f in SCHEMES[api["authorization"]["type"]].secret_fields()
            if api["authorization"].get(f"has_{f}")
        } | {"headers.x-api-key"}
        assert set(stored) == expected_fields
        assert stored["headers.x-api-key"] == SENTINEL
        assert all(value.startswith(SENTINEL) for value in stored.values())
        request_secrets = stored_secrets(session, keys, request_owner(api["requests"][0]["id"]))
        assert request_secrets == {"headers.x-request-token": SENTINEL}

    audit = watch(
        await http.get(f"/api/v1/clients/{a.code}/audit?object_type=api", headers=a.admin), 200
    ).json()
    updates = [e for e in audit["items"] if e["action"] == "update"]
    assert updates
    assert all(e["changed"] == ["description"] for e in updates)  # kept secrets are no change

    watch.assert_clean()
    assert not [line for line in scan_database(session) if SENTINEL in line]


async def test_refused_writes_holding_the_sentinel_echo_none_of_it(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, watch: Watch
) -> None:
    a = tenants.a
    [api, *_] = await create_everything(http, a, watch)
    url = f"{a.apis}/{api['id']}"
    request_url = f"{url}/requests/{api['requests'][0]['id']}"
    etag = {"If-Match": '"1"'}
    oauth2 = next(x for x in sentinel_authorizations() if x["type"] == "oauth2")
    bearer = {"type": "bearer", "token": SENTINEL}

    refused = [
        # Validation errors whose input holds the sentinel.
        ("POST", a.apis, sentinel_api(oauth2 | {"token_url": "ftp://nowhere"}, "Bad"), 422),
        ("POST", a.apis, sentinel_api(oauth2 | {"token_url": SENTINEL}, "Bad"), 422),
        ("POST", a.apis, sentinel_api(bearer, "Bad", base_url=f"https://x/?k={SENTINEL}"), 422),
        ("POST", a.apis, sentinel_api(bearer, "Bad", extra_field=SENTINEL), 422),
        ("POST", a.apis, sentinel_api({"type": "basic", "username": f"a:{SENTINEL}"}, "X"), 422),
        ("POST", a.apis, sentinel_api({"type": "basic", "password": SENTINEL}, "Bad"), 422),
        ("POST", a.apis, sentinel_api(bearer | {"token": [SENTINEL]}, "Bad"), 422),
        ("POST", a.apis, sentinel_api({"type": "nope", "token": SENTINEL}, "Bad"), 422),
        (
            "POST",
            a.apis,
            sentinel_api(
                {
                    "type": "oauth1",
                    "consumer_key": "ck",
                    "signature_method": "RSA-SHA1",
                    "rsa_private_key": f"-----BEGIN PRIVATE KEY-----\n{SENTINEL}\n",
                },
                "Bad",
            ),
            422,
        ),
        (
            "POST",
            a.apis,
            sentinel_api(bearer, "Bad")
            | {"headers": [secret_header(value=f"{SENTINEL}\r\nX-Injected: 1")]},
            422,
        ),
        # A bad update holding the sentinel, rejected before anything is stored.
        ("PUT", url, sentinel_api(bearer, "Bad update", base_url="not a url"), 422),
        (
            "PUT",
            request_url,
            sentinel_request(body=f'{{"k": "{SENTINEL}"', content_type="json"),
            422,
        ),
        # Another writer got there first, or the write did not say what it read.
        ("PUT", url, sentinel_api(bearer, "Stale"), 412),
        ("PUT", request_url, sentinel_request(), 412),
        ("PUT", url, sentinel_api(bearer, "No If-Match"), 428),
        ("PUT", request_url, sentinel_request(), 428),
        # Name taken, wrong role, another client's API.
        ("POST", a.apis, sentinel_api(bearer, api["name"]), 409),
        ("POST", f"{tenants.b.apis}", sentinel_api(bearer, "Elsewhere"), 404),
        ("PUT", f"{tenants.b.apis}/{api['id']}", sentinel_api(bearer, "Elsewhere"), 404),
    ]
    for method, target, body, status in refused:
        headers = dict(a.editor)
        if method == "PUT" and status != 428:
            headers |= {"If-Match": '"7"'} if status == 412 else etag
        response = watch(await http.request(method, target, json=body, headers=headers), status)
        assert response.headers["content-type"] == "application/problem+json"

    # Malformed JSON whose text holds the sentinel.
    broken = json.dumps(sentinel_api(bearer, "Broken"))[:-5]
    response = await http.post(
        a.apis, content=broken, headers=a.editor | {"content-type": "application/json"}
    )
    watch(response, 422)
    # A viewer's write, refused for its role.
    watch(await http.post(a.apis, json=sentinel_api(bearer, "Viewer"), headers=a.viewer), 403)

    # Nothing of the refused writes was stored: the secrets are as first written.
    read = watch(await http.get(url, headers=a.viewer), 200).json()
    assert read["version"] == 1
    assert read["name"] == api["name"]

    watch.assert_clean()
    assert not [line for line in scan_database(session) if SENTINEL in line]


async def test_unknown_placeholder_in_a_secret_header_is_not_quoted(
    http: httpx.AsyncClient, tenants: Tenants, watch: Watch
) -> None:
    a = tenants.a
    [api, *_] = await create_everything(http, a, watch)
    header = secret_header("X-Request-Token", f"Token ${{{SENTINEL}}}")
    body = sentinel_request(name="Placeholder", headers=[header])

    response = await http.post(f"{a.apis}/{api['id']}/requests", json=body, headers=a.editor)

    watch(response, 422)
    assert response.json()["errors"][0]["field"] == "headers[0].value"
    watch.assert_clean()


async def test_unreadable_secret_error_names_the_field_not_the_value(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, watch: Watch
) -> None:
    a = tenants.a
    created = await create_everything(http, a, watch)
    source, target = created[2], created[3]  # basic, bearer
    moved = session.scalar(
        select(Secret).where(
            Secret.owner == api_owner(source["id"]), Secret.field == "headers.x-api-key"
        )
    )
    assert moved is not None
    session.execute(
        update(Secret)
        .where(Secret.owner == api_owner(target["id"]), Secret.field == "headers.x-api-key")
        .values(key_id=moved.key_id, ciphertext=moved.ciphertext)
    )
    session.commit()

    response = watch(await http.post(f"{a.apis}/{target['id']}/copy", headers=a.editor), 500)

    problem = response.json()
    assert problem["type"] == "/problems/secret-unreadable"
    assert "headers.x-api-key" in problem["detail"]
    watch.assert_clean()


async def test_openapi_document_holds_no_secret_and_marks_secrets_write_only(
    http: httpx.AsyncClient, tenants: Tenants, watch: Watch
) -> None:
    await create_everything(http, tenants.a, watch)
    document = watch(await http.get("/openapi.json"), 200)
    watch(await http.get("/docs"), 200)
    watch.assert_clean()

    schemas = document.json()["components"]["schemas"]
    for scheme in SCHEMES.values():
        for name in scheme.secret_fields():
            for suffix in ("", "-Input"):
                found = schemas.get(f"{scheme.__name__}{suffix}")
                if found:
                    variants = found["properties"][name].get("anyOf", [])
                    strings = [v for v in variants if v.get("type") == "string"]
                    assert strings, f"{scheme.__name__}.{name} takes no string"
                    assert all(
                        v.get("format") == "password" and v.get("writeOnly") is True
                        for v in strings
                    )


# The same rules below the REST API


def test_validation_errors_and_reprs_hold_no_secret() -> None:
    for auth in sentinel_authorizations():
        api = ApiWrite.model_validate(sentinel_api(auth, "API"))
        assert SENTINEL not in repr(api)
        assert SENTINEL not in str(api)
        assert SENTINEL not in repr(api.headers)
        for bad in (
            sentinel_api(auth, "API", base_url=f"ftp://{SENTINEL}"),
            sentinel_api(auth | {"type": "oauth2", "token_url": "nowhere"}, "API"),
            sentinel_api(auth, "API", unknown=SENTINEL),
        ):
            with pytest.raises(ValidationError) as caught:
                ApiWrite.model_validate(bad)
            assert SENTINEL not in str(caught.value)
            assert SENTINEL not in repr(caught.value)
            problems = validation_problems(caught.value.errors(include_input=False))
            assert SENTINEL not in repr(problems)
    request = RequestWrite.model_validate(sentinel_request())
    assert SENTINEL not in repr(request)
    assert SENTINEL in request.headers[0].value  # kept for sealing, only never shown
    assert SENTINEL not in request.model_dump_json()


# The redaction filter: the last line of defence


def filtered(message: str, *args: object) -> str:
    record = logging.LogRecord("callout.test", logging.INFO, __file__, 1, message, args, None)
    assert RedactionFilter().filter(record) is True
    return logging.Formatter("%(message)s").format(record)


@pytest.mark.parametrize(
    "line",
    [
        f"Authorization: Bearer {SENTINEL}",
        f"authorization: Basic {SENTINEL}",
        f"Proxy-Authorization: Bearer {SENTINEL}",
        f'{{"Authorization": "Bearer {SENTINEL}", "Accept": "*/*"}}',
        f"{{'Authorization': 'Bearer {SENTINEL}', 'Accept': '*/*'}}",
        f"LV-Access: {SENTINEL}",
        f"LV-Session={SENTINEL}",
        f"Cookie: session={SENTINEL}",
        f"set-cookie: id={SENTINEL}; Path=/; HttpOnly",
    ],
)
def test_redaction_masks_authorization_headers(line: str) -> None:
    clean = filtered(line)
    assert SENTINEL not in clean
    assert MASK in clean


@pytest.mark.parametrize(
    "line",
    [
        f"login password={SENTINEL} user=alice",
        f"POST /token grant_type=password&password={SENTINEL}&username=alice",
        f"client_secret={SENTINEL}",
        f"refresh_token={SENTINEL}",
        f"access_token={SENTINEL}",
        f'{{"password": "{SENTINEL}"}}',
        f"{{'token': '{SENTINEL}'}}",
        f"api_key: {SENTINEL}",
        f"private_key={SENTINEL}",
    ],
)
def test_redaction_masks_secret_key_value_pairs(line: str) -> None:
    clean = filtered(line)
    assert SENTINEL not in clean
    assert MASK in clean


def test_redaction_keeps_the_rest_of_the_line() -> None:
    assert filtered(f"login password={SENTINEL} user=alice") == f"login password={MASK} user=alice"
    assert filtered("GET /customers/42 -> 200 in 12 ms") == "GET /customers/42 -> 200 in 12 ms"


def test_redaction_masks_callout_api_keys() -> None:
    key = new_key()[0]
    clean = filtered("request with key %s refused", key)
    assert key not in clean
    assert key.split("_")[-1] not in clean
    assert "callout_" in clean


def test_redaction_applies_to_arguments_and_exceptions() -> None:
    assert SENTINEL not in filtered("sending %s", f"Authorization: Bearer {SENTINEL}")
    try:
        raise ValueError(f"token refused: password={SENTINEL}")
    except ValueError:
        record = logging.LogRecord(
            "callout.test", logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info()
        )
    assert RedactionFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "ValueError" in text
    assert SENTINEL not in text


def test_configured_logging_redacts_every_logger(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure("DEBUG")
        for name in ("callout.runtime", "uvicorn.error", "sqlalchemy.engine.Engine", "other"):
            logger = logging.getLogger(name)
            logger.debug("Authorization: Bearer %s", SENTINEL)
            logger.warning("password=%s", SENTINEL)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    err = capsys.readouterr().err
    assert err.count(MASK) == 8
    assert SENTINEL not in err


def test_redact_is_idempotent() -> None:
    once = redact(f"Authorization: Bearer {SENTINEL} password={SENTINEL}")
    assert redact(once) == once
