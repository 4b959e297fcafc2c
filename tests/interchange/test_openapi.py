"""OpenAPI 3.0 and 3.1 import: real descriptions (GitHub's REST API, OAI's examples,
Callout's own) read into API documents, small ones for each rule, and hostile ones refused
with an error that names the file and the place."""

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callout.errors import Invalid
from callout.interchange import loading
from callout.interchange.openapi import read
from callout.interchange.schemas import ApiDocument, Converted, RequestDocument
from tests.contract import Contract

DATA = Path(__file__).parent.parent / "data" / "openapi"


def imported(name: str) -> Converted:
    data = (DATA / name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    return read(loading.parse(data, name), name)


def request(converted: Converted, name: str) -> RequestDocument:
    return next(r for r in converted.documents[0].requests if r.name == name)


def notes(converted: Converted) -> dict[str, str]:
    """Each note's message by where it is (the last one, where a place has several)."""
    return {note.where: note.message for note in converted.notes}


def messages(converted: Converted, where: str) -> list[str]:
    return [note.message for note in converted.notes if note.where == where]


def parameters(found: RequestDocument) -> dict[str, tuple[str, bool, Any]]:
    return {p.name: (p.type, p.required, p.default) for p in found.parameters}


def rows(found: RequestDocument, place: str) -> list[tuple[str, str, bool]]:
    return [(r.name, r.value, r.enabled) for r in getattr(found, place)]


def outputs(found: RequestDocument) -> dict[str, tuple[str, str]]:
    return {o.name: (o.path, o.type) for o in found.outputs}


def openapi(
    paths: dict[str, Any] | None = None, components: dict[str, Any] | None = None, **top: Any
) -> dict[str, Any]:
    """A small OpenAPI 3.1 document of a shop, with what a test gives (by default, one
    operation: a document of none is refused)."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Shop", "version": "1"},
        "servers": [{"url": "https://shop.example.com/v1"}],
        "paths": paths or {"/ping": {"get": {"responses": {"204": {"description": "Up"}}}}},
    }
    if components:
        document["components"] = components
    return document | top


def operation(**fields: Any) -> dict[str, Any]:
    return {"responses": {"204": {"description": "Done"}}} | fields


def refused(data: Any) -> str:
    with pytest.raises(Invalid) as caught:
        read(data, "shop.json")
    return caught.value.detail


# Real documents


@pytest.fixture(scope="module")
def github() -> Converted:
    return imported("api.github.com.json.gz")


def test_github_description_fills_an_api_to_its_thousand_requests(github: Converted) -> None:
    api = github.documents[0]
    assert api.base_url == "https://api.github.com"
    assert api.authorization.type == "none"
    assert api.missing_secrets == []
    assert len(api.requests) == 1000
    assert notes(github)["paths"].startswith(
        "223 operations beyond the 1,000 requests an API holds were left out: "
        "security-advisories/get-repository-advisory, "
    )


def test_github_operation_with_path_parameters_and_outputs(github: Converted) -> None:
    repo = request(github, "repos/get")
    assert (repo.method, repo.endpoint_path) == ("GET", "/repos/${owner}/${repo}")
    assert parameters(repo) == {"owner": ("string", True, None), "repo": ("string", True, None)}
    assert outputs(repo)["id"] == ("$.id", "number")
    assert outputs(repo)["full_name"] == ("$.full_name", "string")
    assert outputs(repo)["private"] == ("$.private", "boolean")
    assert "owner" not in outputs(repo)  # an object: not a scalar output


def test_github_operation_with_a_json_body(github: Converted) -> None:
    create = request(github, "issues/create")
    assert (create.method, create.content_type) == ("POST", "json")
    body = json.loads(create.body or "")
    assert body["title"] == "${title}"
    assert body["labels"] == "${labels}"
    assert parameters(create)["title"] == ("string", True, None)
    assert parameters(create)["labels"] == ("object", False, None)
    assert parameters(create)["body"] == ("string", False, None)


def test_github_optional_query_parameters_are_sent_only_when_enabled(github: Converted) -> None:
    listing = request(github, "repos/list-for-org")
    assert rows(listing, "query") == [
        ("type", "${type}", True),
        ("sort", "${sort}", True),
        ("direction", "${direction}", False),  # no default: left out until enabled
        ("per_page", "${per_page}", True),
        ("page", "${page}", True),
    ]
    assert parameters(listing)["per_page"] == ("number", False, 30)
    assert parameters(listing)["type"] == ("string", False, "all")


def test_github_notes_what_it_cannot_carry(github: Converted) -> None:
    said = notes(github)
    assert said["paths./markdown/raw.post.requestBody"] == (
        "a body of text/plain, text/x-markdown is not carried (JSON and forms are)"
    )
    upload = "paths./repos/{owner}/{repo}/releases/{release_id}/assets.post"
    assert said[f"{upload}.requestBody"].startswith("a body of application/octet-stream")
    assert said[upload] == "servers of its own are not carried: the API's base URL is used"
    team = "paths./enterprises/{enterprise}/teams/{enterprise-team}/memberships.get"
    assert said[team].endswith("path enterprise-team -> enterprise_team")
    members = request(github, "enterprise-team-memberships/list")
    assert (
        members.endpoint_path == "/enterprises/${enterprise}/teams/${enterprise_team}/memberships"
    )


def test_openapi_3_0_yaml_with_a_form_body_and_server_variables() -> None:
    uspto = imported("uspto.yaml")
    api = uspto.documents[0]
    assert (api.name, api.base_url) == ("USPTO Data Set API", "https://developer.uspto.gov/ds-api")
    search = request(uspto, "perform-search")
    assert (search.method, search.endpoint_path) == ("POST", "/${dataset}/${version}/records")
    assert search.content_type == "form"
    assert rows(search, "form") == [
        ("criteria", "${criteria}", True),
        ("start", "${start}", True),
        ("rows", "${rows}", True),
    ]
    assert parameters(search) == {
        "version": ("string", True, "v1"),
        "dataset": ("string", True, "oa_citations"),
        "criteria": ("string", True, "*:*"),
        "start": ("number", False, 0),
        "rows": ("number", False, 100),
    }
    assert outputs(request(uspto, "list-data-sets")) == {"total": ("$.total", "number")}
    assert uspto.notes == []


def test_openapi_3_0_all_of_gives_the_properties_of_each_part() -> None:
    petstore = imported("petstore-expanded.yaml")
    add = request(petstore, "addPet")
    assert json.loads(add.body or "") == {"name": "${name}", "tag": "${tag}"}
    assert parameters(add) == {"name": ("string", True, None), "tag": ("string", False, None)}
    # Pet is allOf [NewPet, {id}]: all three are outputs.
    assert outputs(add) == {
        "name": ("$.name", "string"),
        "tag": ("$.tag", "string"),
        "id": ("$.id", "number"),
    }
    find = request(petstore, "find pet by id")
    assert find.endpoint_path == "/pets/${id}"
    assert parameters(find) == {"id": ("number", True, None)}
    assert notes(petstore)["paths./pets.get"] == (
        "lists and objects are sent as one value, in JSON, where OpenAPI's styles would "
        "repeat or join them: query tags"
    )


def test_openapi_3_1_bearer_callbacks_links_and_webhooks() -> None:
    game = imported("tictactoe.yaml")
    api = game.documents[0]
    assert api.base_url == "https://server.invalid"
    assert api.authorization.type == "bearer"
    assert api.missing_secrets == ["authorization.token"]
    put = request(game, "put-square")
    assert (put.method, put.endpoint_path) == ("PUT", "/board/${row}/${column}")
    assert put.body == '"${body}"'  # a string schema: the body is the value itself
    assert rows(put, "headers") == [("progressUrl", "${progressUrl}", False)]
    assert parameters(put)["row"] == ("number", True, None)
    assert outputs(put) == {"winner": ("$.winner", "string")}
    assert notes(game) == {
        "servers": "no server is given: the base URL is https://server.invalid; "
        "set the API's base URL",
        "paths./board/{row}/{column}.get.responses.200.links": "links (markSquare) are not carried",
        "paths./board/{row}/{column}.put.callbacks": "callbacks (statusCallback) are calls "
        "the API makes; not carried",
        "components.securitySchemes.defaultApiKey": "not carried: the API authorizes with "
        "bearerHttpAuthentication",
        "components.securitySchemes.app2AppOauth": "not carried: the API authorizes with "
        "bearerHttpAuthentication",
        "components.securitySchemes.user2AppOauth": "not carried: the API authorizes with "
        "bearerHttpAuthentication",
        "paths./board.get.security": "asks for defaultApiKey or app2AppOauth; the API "
        "authorizes with bearerHttpAuthentication",
        "webhooks": "webhooks (markStatus) are calls the API makes; not carried",
    }


def test_callouts_own_openapi_document_imports(contract: Contract) -> None:
    own = read(json.loads(json.dumps(contract.document)), "callout.json")
    api = own.documents[0]
    assert api.name == "Callout"
    assert (api.authorization.type, api.missing_secrets) == ("bearer", ["authorization.token"])
    operations = sum(
        1 for item in contract.document["paths"].values() for method in item if method != "trace"
    )
    assert len(api.requests) == operations
    invoke = next(r for r in api.requests if r.endpoint_path.endswith("/invoke"))
    assert invoke.method == "POST"
    assert invoke.endpoint_path == (
        "/api/v1/clients/${client}/apis/${api_id}/requests/${request_id}/invoke"
    )
    assert parameters(invoke)["api_id"] == ("number", True, None)


# Servers


def test_a_document_of_no_operation_is_refused() -> None:
    """A file cut short before its paths would otherwise import as an empty API."""
    document = openapi() | {"paths": {}}
    with pytest.raises(Invalid, match=r"shop\.json: describes no operation under `paths`"):
        read(document, "shop.json")


def test_long_title_is_cut_to_the_name_limit() -> None:
    title = "The Shop's Order, Inventory and Customer Service API " * 3
    converted = read(openapi(info={"title": title, "version": "1"}), "shop.json")
    name = converted.documents[0].name
    assert name == title[:100].rstrip()
    assert notes(converted)["info.title"] == (
        f"the API is named {name}: a name has at most 100 characters"
    )


def test_server_variables_take_their_defaults() -> None:
    servers = [
        {
            "url": "https://{region}.shop.example.com:{port}/v1/",
            "variables": {
                "region": {"default": "eu", "enum": ["eu", "us"]},
                "port": {"default": "8443"},
            },
        }
    ]
    api = read(openapi(servers=servers), "shop.json").documents[0]
    assert api.base_url == "https://eu.shop.example.com:8443/v1"


def test_relative_server_keeps_its_path_on_a_host_that_never_resolves() -> None:
    converted = read(openapi(servers=[{"url": "/api/v3"}]), "shop.json")
    assert converted.documents[0].base_url == "https://server.invalid/api/v3"
    assert notes(converted)["servers[0].url"] == (
        "/api/v3 is relative to where the document is served: the base URL is "
        "https://server.invalid/api/v3; set its host"
    )


def test_server_callout_cannot_call_is_noted() -> None:
    converted = read(openapi(servers=[{"url": "ftp://files.example.com"}]), "shop.json")
    assert converted.documents[0].base_url == "https://server.invalid"
    assert "must be an absolute http:// or https:// URL" in notes(converted)["servers[0].url"]


# Requests and parameters


def test_parameters_become_typed_placeholders() -> None:
    item = operation(
        operationId="listItems",
        parameters=[
            {"name": "user-id", "in": "path", "required": True, "schema": {"type": "integer"}},
            {"name": "fields", "in": "query", "schema": {"type": "array", "items": {}}},
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": ["integer", "null"], "default": 20},
            },
            {
                "name": "flag",
                "in": "query",
                "required": True,
                "schema": {"type": "boolean", "default": "yes"},
            },
            {"name": "session", "in": "cookie", "schema": {"type": "string"}},
            {"name": "Host", "in": "header", "schema": {"type": "string"}},
            {"name": "Accept", "in": "header", "schema": {"type": "string"}},
            {
                "name": "X-Trace",
                "in": "header",
                "description": "Trace id",
                "schema": {"type": "string"},
            },
        ],
    )
    converted = read(openapi({"/users/{user-id}/items/{item}": {"get": item}}), "shop.json")
    found = request(converted, "listItems")
    assert found.endpoint_path == "/users/${user_id}/items/${item}"
    assert parameters(found) == {
        "user_id": ("number", True, None),
        "fields_": ("object", False, None),
        "limit": ("number", False, 20),
        "flag": ("boolean", True, None),  # "yes" is no boolean: no default
        "X_Trace": ("string", False, None),
        "item": ("string", True, None),
    }
    assert rows(found, "query") == [
        ("fields", "${fields_}", False),
        ("limit", "${limit}", True),
        ("flag", "${flag}", True),
    ]
    assert rows(found, "headers") == [("X-Trace", "${X_Trace}", False)]
    said = notes(converted)
    at = "paths./users/{user-id}/items/{item}.get"
    assert (
        said[f"{at}.parameters[4]"]
        == "cookie parameter session is not sent: Callout sends no cookies"
    )
    assert said[f"{at}.parameters[5]"] == (
        "header parameter Host is not sent: not a header Callout may set"
    )
    assert messages(converted, at) == [
        "{item} in the path is not declared; imported as a required string",
        "parameters renamed, as a placeholder is letters, digits and _ and not a context "
        "value: path user-id -> user_id, query fields -> fields_, header X-Trace -> X_Trace",
        "lists and objects are sent as one value, in JSON, where OpenAPI's styles would "
        "repeat or join them: query fields",
    ]


def test_operation_parameters_override_the_paths_and_refs_are_followed() -> None:
    shared = {"$ref": "#/components/parameters/Page"}
    own = {"name": "page", "in": "query", "required": True, "schema": {"type": "string"}}
    paths = {
        "/orders": {
            "parameters": [shared],
            "get": operation(operationId="listOrders", parameters=[own]),
            "post": operation(operationId="addOrder"),
        }
    }
    page = {"name": "page", "in": "query", "schema": {"$ref": "#/components/schemas/Page"}}
    components = {"parameters": {"Page": page}, "schemas": {"Page": {"type": "integer"}}}
    converted = read(openapi(paths, components), "shop.json")
    assert parameters(request(converted, "listOrders")) == {"page": ("string", True, None)}
    assert parameters(request(converted, "addOrder")) == {"page": ("number", False, None)}


def test_names_are_unique_and_within_the_limit() -> None:
    long = "getEverythingAboutTheOrder" * 5
    paths = {
        "/a": {"get": operation(operationId=long), "post": operation(operationId=long)},
        "/orders/{id}": {"delete": operation()},
    }
    converted = read(openapi(paths), "shop.json")
    names = [r.name for r in converted.documents[0].requests]
    assert names == [long[:100], long[:96] + " (2)", "DELETE /orders/{id}"]
    assert (
        notes(converted)["paths./a.post"] == f"named {long[:96]} (2): {long} is taken or too long"
    )


def test_json_body_has_a_placeholder_per_writable_property() -> None:
    order = {
        "type": "object",
        "required": ["sku"],
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "sku": {"type": "string"},
            "user-name": {"type": "string"},
            "quantity": {"type": "integer", "default": 1},
            "gift": {"type": "boolean"},
        },
    }
    body = {"content": {"application/vnd.shop+json": {"schema": order}}}
    created = {"description": "Created", "content": {"application/json": {"schema": order}}}
    post = operation(operationId="addOrder", requestBody=body, responses={"201": created})
    found = request(read(openapi({"/orders": {"post": post}}), "shop.json"), "addOrder")
    assert found.content_type == "json"
    assert json.loads(found.body or "") == {
        "sku": "${sku}",
        "user-name": "${user_name}",
        "quantity": "${quantity}",
        "gift": "${gift}",
    }
    assert parameters(found) == {
        "sku": ("string", True, None),
        "user_name": ("string", False, None),
        "quantity": ("number", False, 1),
        "gift": ("boolean", False, None),
    }
    assert outputs(found) == {
        "id": ("$.id", "number"),
        "sku": ("$.sku", "string"),
        "user_name": ("$['user-name']", "string"),
        "quantity": ("$.quantity", "number"),
        "gift": ("$.gift", "boolean"),
    }


def test_multipart_files_are_noted_and_text_fields_kept() -> None:
    upload = {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string"},
            "file": {"type": "string", "format": "binary"},
        },
    }
    body = {"content": {"multipart/form-data": {"schema": upload}}}
    converted = read(
        openapi({"/files": {"post": operation(operationId="upload", requestBody=body)}}),
        "shop.json",
    )
    found = request(converted, "upload")
    assert found.content_type == "multipart"
    assert rows(found, "form") == [("title", "${title}", True)]
    assert notes(converted)["paths./files.post.requestBody.content.multipart/form-data"] == (
        "file field file is not sent: Callout sends text fields"
    )


def test_parameters_beyond_the_limit_are_left_out_optional_first() -> None:
    many: list[dict[str, Any]] = [
        {"name": f"q{i}", "in": "query", "schema": {"type": "string"}} for i in range(110)
    ]
    many.append({"name": "last", "in": "query", "required": True, "schema": {"type": "string"}})
    converted = read(
        openapi({"/search": {"get": operation(operationId="search", parameters=many)}}),
        "shop.json",
    )
    found = request(converted, "search")
    assert len(found.parameters) == 100
    assert found.parameters[-1].name == "last"
    assert notes(converted)["paths./search.get"] == (
        "parameters beyond 100 left out: " + ", ".join(f"q{i}" for i in range(99, 110))
    )


def test_an_operation_that_cannot_be_carried_is_skipped_with_a_note() -> None:
    paths = {
        "/a": {"get": operation(operationId="broken", parameters="none")},
        "/b": {
            "get": operation(
                operationId="lost", requestBody={"$ref": "#/components/requestBodies/Gone"}
            )
        },
        "/c": {"trace": operation(), "get": operation(operationId="fine")},
        "/d": {
            "get": operation(
                operationId="dots",
                parameters=[
                    {"name": "x", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
            )
        },
        "/e/../{x}": {"get": operation(operationId="climbs")},
    }
    converted = read(openapi(paths), "shop.json")
    assert [r.name for r in converted.documents[0].requests] == ["fine", "dots"]
    said = notes(converted)
    assert said["paths./a.get.parameters"] == "skipped: Input should be a valid list"
    assert said["paths./b.get.requestBody"] == (
        "skipped: $ref '#/components/requestBodies/Gone' names nothing in this file"
    )
    assert said["paths./c.trace"] == "skipped: Callout does not send TRACE"
    assert said["paths./d.get.parameters[0]"] == "path parameter x is not in the path /d; left out"
    assert said["paths./e/../{x}.get.endpoint_path"] == (
        "skipped: must not hold '.' or '..' segments, encoded or not"
    )


# Security


def secured(scheme: dict[str, Any], *scopes: list[str]) -> Converted:
    """A shop whose operations each ask for the scheme `auth` with the scopes given."""
    paths = {
        f"/r{i}": {"get": operation(operationId=f"r{i}", security=[{"auth": wanted}])}
        for i, wanted in enumerate(scopes or ([],))
    }
    return read(openapi(paths, {"securitySchemes": {"auth": scheme}}), "shop.json")


def test_http_basic_needs_a_username_entered() -> None:
    converted = secured({"type": "http", "scheme": "Basic"})
    api = converted.documents[0]
    assert api.authorization.model_dump(include={"type", "username"}) == {
        "type": "basic",
        "username": "change-me",
    }
    assert api.missing_secrets == ["authorization.password"]
    assert notes(converted)["components.securitySchemes.auth"] == (
        "basic authorization: the username is a placeholder (change-me); enter the username "
        "and the password in the API window"
    )


def test_oauth2_client_credentials_asks_for_every_scope_used() -> None:
    flows = {
        "authorizationCode": {
            "authorizationUrl": "https://id.example.com/authorize",
            "tokenUrl": "https://id.example.com/token",
            "scopes": {},
        },
        "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}},
    }
    converted = secured({"type": "oauth2", "flows": flows}, ["orders:read"], ["orders:write"])
    api = converted.documents[0]
    auth = api.authorization.model_dump(
        include={"type", "grant", "token_url", "scope", "client_id"}
    )
    assert auth == {
        "type": "oauth2",
        "grant": "client_credentials",
        "token_url": "https://shop.example.com/oauth/token",  # relative to the server
        "client_id": "change-me",
        "scope": "orders:read orders:write",
    }
    assert api.missing_secrets == ["authorization.client_secret"]
    assert [n.message for n in converted.notes] == [
        "oauth2 client_credentials: the client id is a placeholder (change-me); enter it in "
        "the API window",
        "oauth2 uses the clientCredentials flow; not carried: authorizationCode",
    ]


def test_oauth2_authorization_code_and_password_flows() -> None:
    code = {
        "authorizationUrl": "https://id.example.com/authorize",
        "tokenUrl": "https://id.example.com/token",
        "scopes": {"read": "Read"},
    }
    api = secured({"type": "oauth2", "flows": {"authorizationCode": code}}).documents[0]
    assert api.authorization.model_dump(include={"grant", "authorization_url"}) == {
        "grant": "authorization_code",
        "authorization_url": "https://id.example.com/authorize",
    }
    password = {"tokenUrl": "https://id.example.com/token", "scopes": {}}
    api = secured({"type": "oauth2", "flows": {"password": password}}).documents[0]
    assert api.authorization.model_dump(include={"grant", "username"}) == {
        "grant": "password",
        "username": "change-me",
    }
    assert api.missing_secrets == ["authorization.client_secret", "authorization.password"]


def test_api_key_header_is_a_secret_header() -> None:
    api = secured({"type": "apiKey", "in": "header", "name": "X-Api-Key"}).documents[0]
    assert [(h.name, h.secret) for h in api.headers] == [("X-Api-Key", True)]
    assert api.missing_secrets == ["headers.x-api-key"]


@pytest.mark.parametrize(
    ("scheme", "why"),
    [
        (
            {"type": "apiKey", "in": "query", "name": "key"},
            "the API key goes in the query parameter key, and Callout keeps no secret query "
            "values; if the API also takes it in a header, add that as a secret header",
        ),
        (
            {"type": "apiKey", "in": "cookie", "name": "sid"},
            "the API key goes in the cookie sid, which Callout does not send",
        ),
        (
            {"type": "openIdConnect", "openIdConnectUrl": "https://id.example.com/.well-known"},
            "OpenID Connect discovery is not read; set up oauth2 with the token URL that "
            "https://id.example.com/.well-known gives",
        ),
        (
            {"type": "mutualTLS"},
            "mutual TLS (a client certificate) is not an authorization Callout sends",
        ),
        (
            {
                "type": "oauth2",
                "flows": {"clientCredentials": {"tokenUrl": "ftp://id", "scopes": {}}},
            },
            "clientCredentials: token_url must be an absolute http:// or https:// URL",
        ),
        (
            {"type": "http", "scheme": "Digest"},
            "HTTP Digest is not sent by Callout (basic and bearer are)",
        ),
        (
            {
                "type": "oauth2",
                "flows": {"implicit": {"authorizationUrl": "https://a.example.com", "scopes": {}}},
            },
            "only the implicit flow is offered, which Callout does not use",
        ),
    ],
)
def test_schemes_callout_cannot_carry_are_noted(scheme: dict[str, Any], why: str) -> None:
    converted = secured(scheme)
    api = converted.documents[0]
    assert (api.authorization.type, api.headers, api.missing_secrets) == ("none", [], [])
    assert notes(converted)["components.securitySchemes.auth"] == f"not carried: {why}"


# Hostile documents


def test_ref_loop_is_refused_naming_the_loop() -> None:
    components = {
        "parameters": {
            "A": {"$ref": "#/components/parameters/B"},
            "B": {"$ref": "#/components/parameters/A"},
        }
    }
    get = operation(parameters=[{"$ref": "#/components/parameters/A"}])
    detail = refused(openapi({"/a": {"get": get}}, components))
    assert detail == (
        "shop.json: components.parameters.B.$ref: $ref leads back to itself: "
        "#/components/parameters/A -> #/components/parameters/B -> #/components/parameters/A"
    )


def test_schema_that_includes_itself_ends() -> None:
    node = {
        "type": "object",
        "allOf": [{"$ref": "#/components/schemas/Node"}],
        "properties": {"name": {"type": "string"}, "child": {"$ref": "#/components/schemas/Node"}},
    }
    ok = {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}},
    }
    get = operation(operationId="tree", responses={"200": ok})
    found = request(
        read(openapi({"/tree": {"get": get}}, {"schemas": {"Node": node}}), "t.json"), "tree"
    )
    assert outputs(found) == {"name": ("$.name", "string")}


def test_remote_ref_is_refused_naming_where_it_is() -> None:
    get = operation(parameters=[{"$ref": "common.yaml#/components/parameters/Page"}])
    assert refused(openapi({"/pets": {"get": get}})) == (
        "shop.json: paths./pets.get.parameters[0].$ref: $ref 'common.yaml#/components/"
        "parameters/Page' points to another file or URL; only references inside this file "
        "(#/...) are read: bundle the document into one file first"
    )
    url = {"$ref": "https://schemas.example.com/pet.json"}
    body = {"content": {"application/json": {"schema": url}}}
    detail = refused(openapi({"/pets": {"post": operation(requestBody=body)}}))
    assert detail.startswith(
        "shop.json: paths./pets.post.requestBody.content.application/json.$ref: $ref "
        "'https://schemas.example.com/pet.json' points to another file or URL"
    )


def test_a_document_that_is_not_openapi_is_refused() -> None:
    postman = {
        "info": {"name": "Shop", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/"},
        "item": [],
    }
    assert refused(postman) == "shop.json: is not an OpenAPI document: it has no openapi field"
    assert refused([1, 2]) == "shop.json: is not an OpenAPI document: it is not a mapping"
    assert refused({"openapi": "3.0.3", "paths": {}}) == "shop.json: info: Field required"
    assert refused({"openapi": 3.1, "info": {}}) == (
        "shop.json: openapi: declares openapi '3.1'; only OpenAPI 3.0.x and 3.1.x are read"
    )


def test_swagger_2_is_refused() -> None:
    swagger = {"swagger": "2.0", "info": {"title": "Shop", "version": "1"}, "paths": {}}
    assert refused(swagger) == (
        "shop.json: swagger: is Swagger 2.0; only OpenAPI 3.0 and 3.1 are read: convert it to "
        "OpenAPI 3 first"
    )


def test_truncated_json_is_refused() -> None:
    whole = json.dumps(openapi({"/pets": {"get": operation()}})).encode()
    with pytest.raises(Invalid) as caught:
        loading.parse(whole[: len(whole) // 2], "shop.json")
    assert caught.value.detail.startswith("shop.json: line 1, column ")
    assert "is neither JSON nor YAML" in caught.value.detail


KEYS = st.sampled_from(
    [
        "$ref", "type", "properties", "items", "allOf", "oneOf", "required", "in", "name",
        "schema", "content", "application/json", "default", "parameters", "requestBody",
        "responses", "200", "get", "servers", "url", "securitySchemes", "flows", "scheme",
        "security", "readOnly", "enum", "x",
    ]
)  # fmt: skip
REFS = st.sampled_from(
    [
        "#/components/schemas/a", "#/components/parameters/p", "#/components", "#",
        "#/paths/~1a~1{b}/get", "#/x/0", "#a",
    ]
).map(lambda ref: {"$ref": ref})  # fmt: skip
NAMES = st.sampled_from(["b", "id", "user-id", "fields", "Host", "X-Key", "", "a b", "2x"])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4) | NAMES | REFS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS | NAMES, inner, max_size=4),
    max_leaves=24,
)
TYPES = st.sampled_from(["string", "integer", "number", "boolean", "object", "array", "null"])
SCHEMAS = st.recursive(
    st.fixed_dictionaries(
        {}, optional={"type": TYPES | st.lists(TYPES, max_size=2), "default": VALUES}
    )
    | REFS,
    lambda inner: st.fixed_dictionaries(
        {},
        optional={
            "type": TYPES,
            "properties": st.dictionaries(NAMES, inner, max_size=4),
            "required": st.lists(NAMES, max_size=2),
            "allOf": st.lists(inner, max_size=2),
            "oneOf": st.lists(inner, max_size=2),
            "items": inner,
            "readOnly": st.booleans(),
        },
    ),
    max_leaves=12,
)
PARAMETERS = st.fixed_dictionaries(
    {"name": NAMES, "in": st.sampled_from(["path", "query", "header", "cookie", "body"])},
    optional={"schema": SCHEMAS, "required": st.booleans(), "content": VALUES},
)
MEDIA = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]
)
CONTENT = st.dictionaries(MEDIA, st.fixed_dictionaries({}, optional={"schema": SCHEMAS}))
OPERATIONS = st.fixed_dictionaries(
    {},
    optional={
        "operationId": NAMES,
        "parameters": st.lists(PARAMETERS | REFS | VALUES, max_size=4),
        "requestBody": st.fixed_dictionaries({"content": CONTENT}) | REFS | VALUES,
        "responses": st.dictionaries(
            st.sampled_from(["200", "201", "2XX", "default"]),
            st.fixed_dictionaries({"description": st.just("")}, optional={"content": CONTENT}),
        ),
        "security": VALUES,
        "callbacks": VALUES,
    },
)
SCHEMES = st.fixed_dictionaries(
    {"type": st.sampled_from(["http", "apiKey", "oauth2", "openIdConnect", "mutualTLS"])},
    optional={
        "scheme": st.sampled_from(["basic", "Bearer", "digest"]),
        "in": st.sampled_from(["header", "query", "cookie"]),
        "name": NAMES,
        "flows": VALUES,
    },
)
SERVERS = st.sampled_from([[{"url": "https://shop.example.com"}], [{"url": "/v1"}], []])


@settings(max_examples=300, deadline=None)
@given(
    operation_=OPERATIONS | VALUES,
    schema=SCHEMAS | VALUES,
    parameter=PARAMETERS | VALUES,
    scheme=SCHEMES | VALUES,
    servers=SERVERS | VALUES,
)
def test_any_shape_is_read_or_refused_clearly(
    operation_: Any, schema: Any, parameter: Any, scheme: Any, servers: Any
) -> None:
    data = openapi(
        {"/a/{b}": {"get": operation_, "parameters": [{"$ref": "#/components/parameters/p"}]}},
        {
            "schemas": {"a": schema},
            "parameters": {"p": parameter},
            "securitySchemes": {"s": scheme},
        },
        security=[{"s": []}],
        servers=servers,
    )
    refusal = ""
    try:
        converted = read(data, "shop.json")
    except Invalid as error:
        refusal = error.detail
    if refusal:
        assert refusal.startswith("shop.json: ")  # names the file, then the place
        return
    for api in converted.documents:
        ApiDocument.model_validate(api.model_dump(mode="json"))
