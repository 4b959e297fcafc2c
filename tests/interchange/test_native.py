"""Callout's own files: an API exported and imported back is the same API, secrets
included when sealed; a bad file changes nothing and says where it is bad; name clashes
fail, skip or rename as asked; a dry run writes nothing."""

import io
import zipfile
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.orm import Session

from callout.apis import service as apis
from callout.clients.access import OPERATOR
from callout.db.crypto import KeySource
from callout.db.secrets import Vault, api_owner, request_owner
from callout.errors import Invalid
from callout.interchange import archive, export, native, service
from callout.interchange.schemas import ApiDocument
from callout.interchange.sealing import Sealer
from tests.apis import checks
from tests.conftest import Tenant, Tenants
from tests.factories import (
    SENTINEL,
    every_authorization,
    invoke_url,
    make_api,
    make_request,
    rows_of,
)
from tests.upstream import Upstream

PASSPHRASE = "correct horse battery staple"
SETTINGS_READ_ONLY = {"id", "version", "created_at", "updated_at", "api_id", "service_id"}


def _plain(value: Any) -> Any:
    """A read body without what differs between two copies of one API (ids, versions)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in SETTINGS_READ_ONLY}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def _rich_api(http: httpx.AsyncClient, tenant: Tenant, auth: dict[str, Any]) -> int:
    """An API with a secret header, the given authorization and a request with its own
    secret header, parameters, outputs, a JSON body and a sample."""
    base = "https://api.livevox.com" if auth["type"] == "livevox" else "https://crm.example.com"
    api = await make_api(
        http,
        tenant,
        name=f"CRM {auth['type']}",
        base_url=base,
        headers=[
            {"name": "Accept", "value": "application/json"},
            {"name": "X-Api-Key", "value": SENTINEL, "secret": True},
        ],
        authorization=auth,
    )
    await make_request(
        http,
        tenant,
        api["id"],
        method="POST",
        headers=[{"name": "X-Token", "value": SENTINEL + "-request", "secret": True}],
        content_type="json",
        body='{"id": "${customerId}",\n "note": "café ${call.ani}"}',
        samples=[{"name": "Found", "body": '{"name": "Ann"}'}],
        success_statuses=[200, 201],
        timeout=4.5,
    )
    await make_request(http, tenant, api["id"], name="Second", description="Line one\nline two")
    return int(api["id"])


def _opened(session: Session, keys: KeySource, tenant: Tenant, api_id: int) -> dict[str, Any]:
    vault = Vault(session, keys.keyring(), tenant.client.id)
    api = apis.get_api(session, tenant.client, api_id)
    return {
        "api": vault.reveal_all(api_owner(api_id)),
        "requests": {r.name: vault.reveal_all(request_owner(r.id)) for r in api.requests},
    }


@pytest.mark.parametrize("auth", every_authorization(), ids=lambda a: a["type"])
async def test_export_with_sealed_secrets_then_import_gives_the_same_api(
    http: httpx.AsyncClient,
    session: Session,
    keys: KeySource,
    tenants: Tenants,
    auth: dict[str, Any],
) -> None:
    a, b = tenants.a, tenants.b
    api_id = await _rich_api(http, a, auth)
    document = export.export_api(session, keys.keyring(), a.client, api_id, Sealer(PASSPHRASE))
    text = native.dump(document)
    assert SENTINEL not in text

    report = service.import_files(
        session,
        keys.keyring(),
        OPERATOR,
        b.client,
        [service.File("crm.yaml", text.encode())],
        passphrase=PASSPHRASE,
    )
    [imported] = report.apis
    assert (imported.action, imported.missing_secrets) == ("created", [])
    assert imported.id is not None

    original = (await http.get(f"{a.apis}/{api_id}", headers=a.viewer)).json()
    copy = (await http.get(f"{b.apis}/{imported.id}", headers=b.viewer)).json()
    assert _plain(copy) == _plain(original)
    assert _opened(session, keys, b, imported.id) == _opened(session, keys, a, api_id)


async def test_export_without_secrets_names_each_one_and_the_import_lists_them(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    api_id = await _rich_api(http, a, every_authorization()[2])  # basic
    exported = await http.get(f"{a.apis}/{api_id}/export", headers=a.viewer)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/yaml")
    assert 'filename="crm-basic.yaml"' in exported.headers["content-disposition"]
    assert SENTINEL not in exported.text
    data = yaml.safe_load(exported.text)
    assert data["callout"] == 1
    assert not {"id", "version", "created_at"} & set(data)
    assert data["missing_secrets"] == ["authorization.password", "headers.x-api-key"]
    assert data["requests"][0]["missing_secrets"] == ["headers.x-token"]
    assert list(data) == [
        "callout",
        "name",
        "description",
        "base_url",
        "headers",
        "authorization",
        "missing_secrets",
        "requests",
    ]

    imported = await http.post(
        f"/api/v1/clients/{b.code}/import", content=exported.content, headers=b.editor
    )
    assert imported.status_code == 201, imported.text
    [api] = imported.json()["apis"]
    assert api["missing_secrets"] == [
        "authorization.password",
        "headers.x-api-key",
        "requests.Get customer.headers.x-token",
    ]
    read = (await http.get(f"{b.apis}/{api['id']}", headers=b.viewer)).json()
    assert read["authorization"]["has_password"] is False
    assert read["requests"][0]["body"] == '{"id": "${customerId}",\n "note": "café ${call.ani}"}'


async def test_the_same_export_twice_is_the_same_text(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api_id = await _rich_api(http, a, every_authorization()[5])
    first = await http.get(f"{a.apis}/{api_id}/export", headers=a.viewer)
    second = await http.get(f"{a.apis}/{api_id}/export", headers=a.viewer)
    assert first.text == second.text
    assert "|" in first.text  # the body of several lines is a literal block


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


GOOD = """callout: 1
name: Good
base_url: https://good.example.com
requests:
  - name: Ping
"""
BAD = """callout: 1
name: Bad
base_url: https://bad.example.com
requests:
  - name: Ping
  - name: Pong
    method: FETCH
"""


async def test_a_bad_file_among_good_ones_changes_nothing_and_says_where(
    http: httpx.AsyncClient, session: Session, tenants: Tenants
) -> None:
    b = tenants.b
    before = rows_of(session, b.client.id)
    response = await http.post(
        f"/api/v1/clients/{b.code}/import",
        params={"name": "library.zip"},
        content=_zip({"a-good.yaml": GOOD, "b-bad.yaml": BAD}),
        headers=b.editor | {"Content-Type": "application/zip"},
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "library.zip/b-bad.yaml: requests[1].method"
    assert "GET" in error["message"]
    assert rows_of(session, b.client.id) == before


async def test_a_clash_fails_skips_or_renames_as_asked(
    http: httpx.AsyncClient, session: Session, tenants: Tenants
) -> None:
    b = tenants.b
    url = f"/api/v1/clients/{b.code}/import"
    assert (await http.post(url, content=GOOD, headers=b.editor)).status_code == 201
    before = rows_of(session, b.client.id)

    refused = await http.post(url, content=GOOD, headers=b.editor)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "upload: name"
    assert refused.json()["detail"].endswith(
        "(import with clash=skip or clash=rename to go on)"  # as REST spells the option
    )
    skipped = await http.post(url, params={"clash": "skip"}, content=GOOD, headers=b.editor)
    assert [a["action"] for a in skipped.json()["apis"]] == ["skipped"]
    assert rows_of(session, b.client.id) == before

    renamed = await http.post(url, params={"clash": "rename"}, content=GOOD, headers=b.editor)
    assert [(a["action"], a["name"]) for a in renamed.json()["apis"]] == [("renamed", "Good (2)")]


async def test_a_clash_between_two_files_of_one_import_names_the_first(
    http: httpx.AsyncClient, session: Session, tenants: Tenants
) -> None:
    b = tenants.b
    before = rows_of(session, b.client.id)
    files = {"a.yaml": GOOD, "b.yaml": GOOD.replace("name: Good", "name: good")}
    refused = await http.post(
        f"/api/v1/clients/{b.code}/import",
        params={"name": "library.zip"},
        content=_zip(files),
        headers=b.editor | {"Content-Type": "application/zip"},
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"] == [
        {
            "field": "library.zip/b.yaml: name",
            "message": "an API named 'good' clashes with 'Good' from library.zip/a.yaml in "
            "this import",
        }
    ]
    assert rows_of(session, b.client.id) == before


def test_a_file_of_a_newer_format_says_so() -> None:
    newer = yaml.safe_load(GOOD) | {"callout": 2}
    with pytest.raises(Invalid) as refused:
        native.read(newer, "crm.yaml")
    assert refused.value.detail == (
        "crm.yaml: was written by a newer Callout (format 2; this one reads format 1)"
    )


async def test_a_dry_run_reports_what_an_import_would_write_and_writes_nothing(
    http: httpx.AsyncClient, session: Session, tenants: Tenants
) -> None:
    b = tenants.b
    url = f"/api/v1/clients/{b.code}/import"
    with_service = "service: Billing\n" + GOOD
    before = rows_of(session, b.client.id)
    dry = await http.post(url, params={"dry_run": "true"}, content=with_service, headers=b.editor)
    assert dry.status_code == 200, dry.text
    assert rows_of(session, b.client.id) == before
    real = await http.post(url, content=with_service, headers=b.editor)
    assert real.status_code == 201
    expected = real.json() | {"dry_run": True, "apis": [real.json()["apis"][0] | {"id": None}]}
    assert dry.json() | {"apis": [dry.json()["apis"][0] | {"id": None}]} == expected
    assert real.json()["services_created"] == ["Billing"]


async def test_sealed_secrets_need_the_passphrase_and_stay_with_their_api(
    http: httpx.AsyncClient, session: Session, keys: KeySource, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    api_id = await _rich_api(http, a, every_authorization()[3])  # bearer
    sealer = Sealer(PASSPHRASE)
    document = export.export_api(session, keys.keyring(), a.client, api_id, sealer)
    keyring = keys.keyring()

    def load(doc: ApiDocument, passphrase: str | None) -> None:
        file = service.File("crm.yaml", native.dump(doc).encode())
        service.import_files(session, keyring, OPERATOR, b.client, [file], passphrase=passphrase)

    with pytest.raises(
        Invalid, match=r"crm\.yaml: secrets: the file holds sealed secrets: import it with"
    ):
        load(document, None)
    with pytest.raises(Invalid, match="a wrong passphrase, or the file was changed"):
        load(document, "not the passphrase at all")
    moved = document.model_copy(update={"name": "Other"})  # the block, in another API's file
    with pytest.raises(Invalid, match="a wrong passphrase, or the file was changed"):
        load(moved, PASSPHRASE)
    with pytest.raises(Invalid, match="at least 12 characters"):
        Sealer("short")


async def test_sealed_files_are_refused_over_rest_without_a_passphrase(
    http: httpx.AsyncClient, session: Session, keys: KeySource, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    api_id = await _rich_api(http, a, every_authorization()[3])
    text = native.dump(
        export.export_api(session, keys.keyring(), a.client, api_id, Sealer(PASSPHRASE))
    )
    response = await http.post(f"/api/v1/clients/{b.code}/import", content=text, headers=b.editor)
    assert response.status_code == 422
    assert "import it with `callout import --passphrase-file`" in response.text


async def test_export_and_import_keep_to_the_client_and_the_role(
    http: httpx.AsyncClient, session: Session, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    api = await make_api(http, a)
    other = await http.get(f"{b.apis}/{api['id']}/export", headers=b.admin)
    assert other.status_code == 404
    viewer = await http.post(f"/api/v1/clients/{b.code}/import", content=GOOD, headers=b.viewer)
    assert viewer.status_code == 403


async def test_the_library_export_is_a_zip_the_import_takes_back(
    http: httpx.AsyncClient, session: Session, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    await make_api(http, a, name="One")
    await make_api(http, a, name="one!")  # the same file stem: numbered
    exported = await http.get(f"/api/v1/clients/{a.code}/export", headers=a.viewer)
    assert exported.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    assert names == ["one.yaml", "one-2.yaml"]
    imported = await http.post(
        f"/api/v1/clients/{b.code}/import",
        content=exported.content,
        headers=b.editor | {"Content-Type": "application/zip"},
    )
    assert imported.status_code == 201, imported.text
    assert sorted(x["name"] for x in imported.json()["apis"]) == ["One", "one!"]


SLACK = """callout: 1
name: Alerts
base_url: https://hooks.slack.com/services
type: slack
requests:
  - name: Escalation
    method: POST
    content_type: json
    body: '{"text": "Escalated"}'
  - name: Lookup
    method: GET
"""


async def test_a_rule_a_request_breaks_at_save_is_named_with_its_place(
    http: httpx.AsyncClient, session: Session, tenants: Tenants
) -> None:
    """The requests of an import are written together: the service's own rules (here, a
    Slack webhook takes POST) still name the request by its place in the file."""
    b = tenants.b
    before = rows_of(session, b.client.id)
    response = await http.post(
        f"/api/v1/clients/{b.code}/import",
        params={"name": "alerts.yaml"},
        content=SLACK,
        headers=b.editor,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "alerts.yaml: requests[1].method", "message": "a slack webhook takes POST"}
    ]
    assert rows_of(session, b.client.id) == before


UNENTERED = """callout: 1
name: Echo
base_url: {url}
headers:
  - name: X-Api-Key
    secret: true
missing_secrets: [headers.x-api-key]
requests:
  - name: Ping
    endpoint_path: ping
    headers:
      - name: X-Token
        secret: true
    missing_secrets: [headers.x-token]
"""


async def test_secrets_never_entered_show_unset_are_named_again_and_refuse_calls(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    text = UNENTERED.format(url=upstream.url)
    imported = await http.post(
        f"/api/v1/clients/{a.code}/import", content=text.encode(), headers=a.editor
    )
    assert imported.status_code == 201, imported.text
    api_id = imported.json()["apis"][0]["id"]
    url = f"{a.apis}/{api_id}"
    read, etag = await checks.read(http, url, a)
    request_id = read["requests"][0]["id"]
    # Shown as not set: the mask would say a value is stored.
    assert read["headers"][0]["value"] == read["requests"][0]["headers"][0]["value"] == ""

    exported = yaml.safe_load((await http.get(f"{url}/export", headers=a.viewer)).text)
    assert exported["missing_secrets"] == ["headers.x-api-key"]
    assert exported["requests"][0]["missing_secrets"] == ["headers.x-token"]

    async def invoke() -> tuple[int, dict[str, Any]]:
        answer = await http.post(invoke_url(a, api_id, request_id), json={}, headers=a.editor)
        body: dict[str, Any] = answer.json()
        return answer.status_code, body

    status, called = await invoke()
    assert (status, called["reason"], called["detail"]) == (
        502,
        "authorization",
        "the secret headers X-Api-Key and X-Token have no value stored: enter them before calling",
    )
    assert upstream.received == []  # never sent empty

    # Saved back as read (the web UI's API tab does so): still nothing stored.
    saved = await http.put(url, json=read, headers=a.editor | {"If-Match": etag})
    assert saved.status_code == 200, saved.text
    assert saved.json()["headers"][0]["value"] == ""
    assert (await invoke())[1]["reason"] == "authorization"
    etag = saved.headers["ETag"]

    entered = read | {"headers": [read["headers"][0] | {"value": "k-" + SENTINEL}]}
    saved = await http.put(url, json=entered, headers=a.editor | {"If-Match": etag})
    assert saved.status_code == 200, saved.text
    assert (await invoke())[1]["detail"] == (
        "the secret header X-Token has no value stored: enter it before calling"
    )
    request_url = f"{url}/requests/{request_id}"
    request, etag = await checks.read(http, request_url, a)
    entered = request | {"headers": [request["headers"][0] | {"value": "t-" + SENTINEL}]}
    saved = await http.put(request_url, json=entered, headers=a.editor | {"If-Match": etag})
    assert saved.status_code == 200, saved.text
    assert saved.json()["headers"][0]["value"] == "**********"

    assert (await invoke())[0] == 200
    [seen] = upstream.received
    assert (seen.header("X-Api-Key"), seen.header("X-Token")) == ("k-" + SENTINEL, "t-" + SENTINEL)


def test_file_names_keep_accented_letters_as_ascii() -> None:
    names = ["Über API", "Café Crème", "Straße", "日本 API", "API"]
    assert list(archive.file_names(names)) == [
        "uber-api.yaml",
        "cafe-creme.yaml",
        "strasse.yaml",
        "api.yaml",
        "api-2.yaml",
    ]
