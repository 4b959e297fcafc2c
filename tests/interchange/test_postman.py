"""Postman collections read into API documents, and API documents written as collections.

Real collections (tests/data/postman, README.md there) are read as `loading.parse` gives
them, and each result is checked field by field with the notes for what is not carried.
Written collections are checked against Postman's v2.1 JSON schema, and read back.
"""

import base64
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callout.apis import catalog
from callout.apis.authorization import SCHEMES, BearerAuth
from callout.errors import Invalid
from callout.interchange import loading, postman
from callout.interchange.postman.variables import is_secret_name
from callout.interchange.schemas import ApiDocument, Converted, Note, RequestDocument
from callout.runtime import templates
from callout.runtime.plan import join_url
from callout.schemas import MASK, name_key

DATA = Path(__file__).parent.parent / "data" / "postman"
SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
SCHEMA = jsonschema.Draft7Validator(
    json.loads((DATA / "collection-v2.1.0.schema.json").read_text())
)


def read_file(name: str) -> Converted:
    return postman.read(loading.parse((DATA / name).read_bytes(), name), name)


def collection(items: list[Any], **more: Any) -> dict[str, Any]:
    return {"info": {"name": "Shop", "schema": SCHEMA_URL}, "item": items, **more}


def request(name: str, url: Any, **more: Any) -> dict[str, Any]:
    return {"name": name, "request": {"method": "GET", "url": url, **more}}


def only(converted: Converted) -> ApiDocument:
    assert converted.format == "postman"
    [document] = converted.documents
    return document


def named(document: ApiDocument, name: str) -> RequestDocument:
    [found] = [r for r in document.requests if r.name == name]
    return found


def parameters(request: RequestDocument) -> dict[str, tuple[str, Any, bool, bool]]:
    """name -> (type, default, required, secret)"""
    return {p.name: (p.type, p.default, p.required, p.secret) for p in request.parameters}


def notes_at(converted: Converted, where: str) -> list[str]:
    return [n.message for n in converted.notes if n.where == where]


def secret_values(document: ApiDocument) -> str:
    """The document as JSON with every secret masked, as it would be shown or logged."""
    return document.model_dump_json()


# Real collections


def test_postman_folders_become_requests() -> None:
    converted = read_file("conduit.postman_collection.json")
    document = only(converted)
    assert document.name == "Conduit"
    assert document.description.startswith("Collection for testing the Conduit API")
    assert len(document.requests) == 32
    assert [r.name for r in document.requests[:3]] == [
        "Auth / Register",
        "Auth / Login",
        "Auth / Login and Remember Token",
    ]
    # {{APIURL}} comes from an environment: a stand-in, and a note saying so
    assert document.base_url == "https://example.invalid"
    assert notes_at(converted, "item[0].item[0].request.url") == [
        "the base URL {{APIURL}} has no http(s) value in the collection (an environment may "
        "give it): the API's base URL is https://example.invalid until you set it"
    ]
    # headers every request sends alike are the API's
    assert [(h.name, h.value) for h in document.headers] == [
        ("Content-Type", "application/json"),
        ("X-Requested-With", "XMLHttpRequest"),
    ]
    register = named(document, "Auth / Register")
    assert (register.method, register.endpoint_path, register.content_type) == (
        "POST",
        "users",
        "json",
    )
    assert json.loads(register.body or "") == {
        "user": {"email": "${EMAIL}", "password": "${PASSWORD}", "username": "${USERNAME}"}
    }
    assert parameters(register) == {
        "EMAIL": ("string", None, True, False),
        "PASSWORD": ("string", None, True, True),  # its name says it is a secret
        "USERNAME": ("string", None, True, False),
    }
    current = named(document, "Auth / Current User")
    [authorization] = current.headers
    # The credential comes with each call (a secret parameter): the header stores none.
    assert (authorization.name, authorization.value, authorization.secret) == (
        "Authorization",
        "Token ${token}",
        False,
    )
    assert parameters(current) == {"token": ("string", None, True, True)}
    assert current.body is None  # an empty raw body is no body
    favorited = named(document, "Articles / Articles Favorited by Username")
    assert [(q.name, q.value) for q in favorited.query] == [("favorited", "${USERNAME}")]
    profile = named(document, "Profiles / Profile")
    assert profile.endpoint_path == "profiles/celeb_${USERNAME}"
    # scripts are noted where they are; the folder's are empty, and nothing to note
    assert notes_at(converted, "item[0].item[0].event[0]") == [
        "the test script is not carried: Callout runs no scripts"
    ]
    assert notes_at(converted, "item[2].event[0]") == []
    scripts = [n for n in converted.notes if "script" in n.message]
    assert len(scripts) == 30  # the requests' tests; two requests have none
    assert {n.source for n in converted.notes} == {"conduit.postman_collection.json"}


def test_postman_auth_is_inherited_as_postman_does() -> None:
    converted = read_file("nested-entities.postman_collection.json")
    document = only(converted)
    # the collection's basic auth is the API's; its password is {{token}}, given nowhere
    auth = document.authorization
    assert auth.type == "basic"
    assert auth.username == "{{username}}"
    assert auth.password is None
    assert document.missing_secrets == ["authorization.password"]
    assert notes_at(converted, "auth") == [
        "the username {{username}} has no value in the collection: kept as written; change "
        "it in the API window",
        "the password uses {{token}}, which has no value in the collection: enter it in the "
        "API window",
    ]
    assert [r.name for r in document.requests] == ["F1 / Basic", "OAuth1"]
    # F1 and its request set the same basic auth again: nothing to say about them
    assert notes_at(converted, "item[0].auth") == []
    assert notes_at(converted, "item[0].item[0].request.auth") == []
    # a request's own OAuth 1.0 cannot join the API's basic: noted, not half-carried
    assert notes_at(converted, "item[1].request.auth") == [
        "the request's own oauth1 authorization differs: not carried (the API has one "
        "authorization)"
    ]
    assert named(document, "OAuth1").headers == []
    assert "D+EdQ-gs$-%@2Nu7" not in json.dumps([n.model_dump() for n in converted.notes])
    # scripts at every level
    for where in ("event[0]", "event[1]", "item[0].event[1]", "item[0].item[0].event[0]"):
        assert notes_at(converted, where), where
    assert notes_at(converted, "event[1]") == [
        "the pre-request script is not carried: Callout runs no scripts"
    ]


def test_postman_request_auths_become_headers_when_the_api_has_none() -> None:
    converted = read_file("postman-echo.postman_collection.json")
    document = only(converted)
    assert document.name == "Postman Echo (V2)"
    assert document.base_url == "https://postman-echo.com"
    # digest, basic and OAuth 1.0 on different requests: none of them is the API's
    assert document.authorization.type == "none"
    assert len(document.requests) == 22
    basic = named(document, "Auth: Others / Basic Auth")
    [header] = basic.headers
    assert (header.name, header.secret) == ("Authorization", True)
    assert header.value == "Basic " + base64.b64encode(b"postman:password").decode()
    assert basic.model_dump(mode="json")["headers"][0]["value"] == MASK
    assert notes_at(converted, "item[0].item[1].request.auth") == [
        "the request's own digest authorization is not supported by Callout: not carried "
        "(the API has one authorization)"
    ]
    assert notes_at(converted, "item[1].item[1].request.auth") == [
        "the request's own oauth1 authorization differs: not carried (the API has one "
        "authorization)"
    ]
    # v2.0 form data: multipart, and a literal under a secret's name is not kept
    get = named(document, "Request Methods / GET Request")
    assert [(q.name, q.value) for q in get.query] == [("test", "123")]
    assert get.content_type == "multipart"
    assert [(f.name, f.value) for f in get.form][3:] == [
        ("client_id", "abc123"),
        ("client_secret", "${client_secret}"),
    ]
    assert parameters(get) == {"client_secret": ("string", None, True, True)}
    assert notes_at(converted, "item[4].item[0].request.body.formdata[4]") == [
        "client_secret looks secret: it becomes a secret parameter, and its value in the "
        "collection is not kept"
    ]
    post = named(document, "Request Methods / POST Request")
    assert (post.method, post.content_type, post.body) == (
        "POST",
        "text",
        "Duis posuere augue vel cursus pharetra. In luctus a ex nec pretium. Praesent neque "
        "quam, tincidunt nec leo eget, rutrum vehicula magna.\nMaecenas consequat elementum "
        "elit, id semper sem tristique et. Integer pulvinar enim quis consectetur interdum "
        "volutpat.",
    )
    # saved responses are samples
    assert [(s.name, s.status) for s in basic.samples] == [("401", 401), ("200", 200)]


def test_postman_path_variables_and_request_settings() -> None:
    converted = read_file("complete-request.postman_collection.json")
    document = only(converted)
    assert document.base_url == "https://postman-echo.com"  # the port said is the default
    [sample] = document.requests
    assert sample.endpoint_path == "alpha/${beta}/${gamma}"
    assert parameters(sample) == {
        "beta": ("string", None, True, False),
        "gamma": ("string", "radiation", False, False),  # the path variable's value
    }
    assert [(q.name, q.value) for q in sample.query] == [("foo", "bar")]
    assert sample.content_type == "multipart"
    assert [f.name for f in sample.form] == [
        "id",
        "user_id",
        "name",
        "collection",
        "environment",
        "target_type",
        "count",
    ]
    assert [(s.name, s.status) for s in sample.samples] == [("404", 404), ("err", 404)]
    assert [(n.where, n.message) for n in converted.notes] == [
        ("item[0].request.url.hash", "a URL fragment (#...) is not carried"),
        ("item[0].request.proxy", "a proxy setting is not carried"),
        ("item[0].request.certificate", "a client certificate setting is not carried"),
    ]


def test_postman_only_auth_used_is_the_apis() -> None:
    converted = read_file("twitter.postman_collection.json")
    document = only(converted)
    assert document.base_url == "https://api.twitter.com/1.1"
    assert len(document.requests) == 18
    # every request but one uses the same OAuth 1.0, whose consumer key is left empty
    assert document.authorization.type == "none"
    assert notes_at(converted, "item[0].item[0].request.auth") == [
        "oauth1 authorization is not carried: consumer_key: String should have at least 1 character"
    ]
    destroy = named(document, "User Specific / Destroy tweet")
    assert destroy.endpoint_path == "statuses/destroy/${id_json}"
    assert parameters(destroy) == {"id_json": ("string", None, True, False)}
    assert notes_at(converted, "item[0].item[3].request.url") == [
        "path variable :id.json becomes parameter id_json (a parameter's name is an identifier)"
    ]
    search = named(document, "Search Demo / Search")
    assert [(q.name, q.value) for q in search.query] == [
        ("q", "postman"),
        ("count", "${count}"),
        ("since_id", "${since_id}"),
    ]
    # the same name in a folder and at the top: numbered
    assert "Search" in {r.name for r in document.requests}


# Variables, bodies and secrets, in collections made for the case


def test_postman_variables_become_parameters() -> None:
    variables = [
        {"key": "baseUrl", "value": "https://api.example.com/v2/"},
        {"key": "customerId", "value": "42", "description": "Whose orders"},
        {"key": "user-id", "value": "u1"},
        {"key": "count", "value": "5"},
        {"key": "unused", "value": "x"},
        {"key": "off", "value": "y", "disabled": True},
    ]
    items = [
        {
            "name": "Customers",
            "item": [
                request(
                    "Orders",
                    {
                        "raw": "{{baseUrl}}/customers/{{customerId}}/orders",
                        "host": ["{{baseUrl}}"],
                        "path": ["customers", "{{customerId}}", "orders"],
                        "query": [
                            {"key": "by", "value": "{{user-id}}"},
                            {"key": "trace", "value": "{{$guid}}", "disabled": True},
                            {"key": "q", "value": "a%20b+c"},
                        ],
                    },
                    header=[{"key": "X-Agent", "value": "{{loginData.agentId}}"}],
                ),
                request(
                    "Add order",
                    "{{baseUrl}}/orders",
                    method="POST",
                    body={
                        "mode": "raw",
                        "raw": '{"count": {{count}}, "off": "{{off}}", "note": "${not one}"}',
                        "options": {"raw": {"language": "json"}},
                    },
                ),
            ],
        }
    ]
    converted = postman.read(collection(items, variable=variables), "shop.json")
    document = only(converted)
    assert document.base_url == "https://api.example.com/v2"
    orders = named(document, "Customers / Orders")
    assert orders.endpoint_path == "customers/${customerId}/orders"
    assert [(q.name, q.value, q.enabled) for q in orders.query] == [
        ("by", "${user_id}", True),
        ("trace", "${guid}", False),
        ("q", "a b c", True),
    ]
    assert [(h.name, h.value) for h in orders.headers] == [("X-Agent", "${loginData.agentId}")]
    assert parameters(orders) == {
        "customerId": ("string", "42", False, False),
        "user_id": ("string", "u1", False, False),
        "guid": ("string", None, True, False),
    }
    assert orders.parameters[0].description == "Whose orders"
    add = named(document, "Customers / Add order")
    # a variable placed as a whole JSON value takes its value's type
    assert json.loads(add.body or "") == {
        "count": "${count}",
        "off": "${off}",
        "note": "$${not one}",
    }
    assert parameters(add) == {
        "count": ("number", 5, False, False),
        "off": ("string", None, True, False),  # turned off in Postman: no value here
    }
    assert notes_at(converted, "item[0].item[0].request") == [
        "{{user-id}} becomes parameter user_id (a parameter's name is an identifier)",
        "{{$guid}} becomes parameter guid (a parameter's name is an identifier)",
    ]


def test_postman_bodies_by_mode() -> None:
    def body(**fields: Any) -> dict[str, Any]:
        return {"method": "POST", "body": fields}

    items = [
        request(
            "Form",
            "https://api.example.com/f",
            **body(
                mode="urlencoded",
                urlencoded=[
                    {"key": "a", "value": "1"},
                    {"key": "b", "value": "{{b}}", "disabled": True},
                ],
            ),
        ),
        request(
            "Upload",
            "https://api.example.com/u",
            **body(
                mode="formdata",
                formdata=[
                    {"key": "title", "value": "x", "type": "text"},
                    {"key": "file", "type": "file", "src": "/home/me/a.pdf"},
                ],
            ),
        ),
        request(
            "Xml",
            "https://api.example.com/x",
            **body(mode="raw", raw="<a>{{b}}</a>", options={"raw": {"language": "xml"}}),
        ),
        request(
            "Text",
            "https://api.example.com/t",
            **body(mode="raw", raw="hello {{b}}", options={"raw": {"language": "text"}}),
        ),
        request(
            "Broken",
            "https://api.example.com/j",
            **body(mode="raw", raw="{not json", options={"raw": {"language": "json"}}),
        ),
        request(
            "Query",
            "https://api.example.com/g",
            **body(
                mode="graphql", graphql={"query": "{ me(id: {{b}}) }", "variables": '{"n": {{n}}}'}
            ),
        ),
        request(
            "File",
            "https://api.example.com/file",
            **body(mode="file", file={"src": "/home/me/a.bin"}),
        ),
    ]
    converted = postman.read(collection(items), "bodies.json")
    document = only(converted)
    form = named(document, "Form")
    assert form.content_type == "form"
    assert [(f.name, f.value, f.enabled) for f in form.form] == [
        ("a", "1", True),
        ("b", "${b}", False),
    ]
    upload = named(document, "Upload")
    assert (upload.content_type, [f.name for f in upload.form]) == ("multipart", ["title"])
    assert notes_at(converted, "item[1].request.body.formdata[1]") == [
        "the file field file is not carried (Callout sends no files)"
    ]
    assert (named(document, "Xml").content_type, named(document, "Xml").body) == (
        "xml",
        "<a>${b}</a>",
    )
    assert named(document, "Text").content_type == "text"
    broken = named(document, "Broken")
    assert (broken.content_type, broken.body) == ("text", "{not json")
    assert notes_at(converted, "item[4].request.body") == [
        "the body is not valid JSON: kept as text"
    ]
    graphql = named(document, "Query")
    assert graphql.content_type == "json"
    assert json.loads(graphql.body or "") == {
        "query": "{ me(id: ${b}) }",
        "variables": {"n": "${n}"},
    }
    file = named(document, "File")
    assert (file.content_type, file.body) == ("none", None)
    assert notes_at(converted, "item[6].request.body") == [
        "a file body is not carried (Callout sends no files)"
    ]


def test_postman_secrets_stay_in_secret_places() -> None:
    literal = "s3cr3t-literal-value"
    items = [
        request("Me", "https://api.example.com/me"),
        request(
            "Legacy",
            "https://api.example.com/legacy",
            auth={"type": "noauth"},
        ),
    ]
    token = {"key": "token", "value": "{{token}}"}
    bearer = {"type": "bearer", "bearer": [token]}
    # the collection holds the token: it goes into the authorization, nowhere else
    converted = postman.read(
        collection(items, auth=bearer, variable=[{"key": "token", "value": literal}]),
        "held.json",
    )
    document = only(converted)
    auth = document.authorization
    assert isinstance(auth, BearerAuth)
    assert auth.token is not None
    assert auth.token.get_secret_value() == literal
    assert document.missing_secrets == []
    assert literal not in secret_values(document)
    assert notes_at(converted, "item[1].request.auth") == [
        "the request sets no authorization, but the API's is sent with it (a Callout API "
        "has one authorization)"
    ]
    # an environment holds it: the user enters it; text around the variable is not quoted
    token["value"] = literal + "{{token}}"
    converted = postman.read(collection(items, auth=bearer), "env.json")
    assert notes_at(converted, "auth")[0] == (
        "the token uses {{token}}, which has no value in the collection: enter it in the API window"
    )
    assert literal not in str(converted.notes)
    document = only(converted)
    auth = document.authorization
    assert isinstance(auth, BearerAuth)
    assert auth.token is None
    assert document.missing_secrets == ["authorization.token"]
    # an API key in the query has no secret place: each call passes it, masked
    entries = [
        {"key": "key", "value": "api_key"},
        {"key": "value", "value": literal},
        {"key": "in", "value": "query"},
    ]
    apikey = {"type": "apikey", "apikey": entries}
    converted = postman.read(collection(items[:1], auth=apikey), "query.json")
    document = only(converted)
    me = named(document, "Me")
    assert [(q.name, q.value) for q in me.query] == [("api_key", "${api_key}")]
    assert parameters(me) == {"api_key": ("string", None, True, True)}
    assert literal not in json.dumps(document.model_dump(mode="json"))
    assert notes_at(converted, "auth") == [
        "the API key sent in the query as api_key is a secret parameter; its value in the "
        "collection is not kept (a query holds no secret)"
    ]
    # an API key in a header is the API's secret header
    entries[2]["value"] = "header"
    document = only(postman.read(collection(items[:1], auth=apikey), "header.json"))
    [header] = document.headers
    assert (header.name, header.value, header.secret) == ("api_key", literal, True)
    assert literal not in secret_values(document)


def test_postman_request_auths_that_differ() -> None:
    def auth(kind: str, **params: str) -> dict[str, Any]:
        return {"type": kind, kind: [{"key": k, "value": v} for k, v in params.items()]}

    items = [
        request("Token", "https://api.example.com/a", auth=auth("bearer", token="{{t}}")),
        request(
            "Basic", "https://api.example.com/b", auth=auth("basic", username="u", password="p")
        ),
        request("Key", "https://api.example.com/c", auth=auth("apikey", key="X-Key", value="k1")),
        request("Digest", "https://api.example.com/d", auth=auth("digest", username="u")),
    ]
    converted = postman.read(collection(items), "differ.json")
    document = only(converted)
    assert document.authorization.type == "none"  # several in use, none the collection's
    token = named(document, "Token")
    assert [(h.name, h.value, h.secret) for h in token.headers] == [("Authorization", "", True)]
    assert token.missing_secrets == ["headers.authorization"]
    assert notes_at(converted, "item[0].request.auth") == [
        "the token uses {{t}}, which has no value in the collection: enter it in the API window",
        "enter the request's Authorization header (bearer) in the API window",
    ]
    [basic] = named(document, "Basic").headers
    assert basic.value == "Basic " + base64.b64encode(b"u:p").decode()
    [key] = named(document, "Key").headers
    assert (key.name, key.value, key.secret) == ("X-Key", "k1", True)
    assert named(document, "Digest").headers == []
    # the API's basic sets the Authorization header: a request's bearer cannot join it
    converted = postman.read(
        collection(items[:2], auth=auth("basic", username="u", password="p")), "api.json"
    )
    assert notes_at(converted, "item[0].request.auth") == [
        "the request's own bearer authorization differs from the API's, which sets the "
        "Authorization header: not carried"
    ]
    assert named(only(converted), "Token").headers == []


def test_postman_oauth2_becomes_the_apis_authorization() -> None:
    oauth2 = {
        "type": "oauth2",
        "oauth2": [
            {"key": "grant_type", "value": "client_credentials"},
            {"key": "accessTokenUrl", "value": "{{auth}}/oauth/token"},
            {"key": "clientId", "value": "shop-app"},
            {"key": "clientSecret", "value": "{{clientSecret}}"},
            {"key": "scope", "value": "orders:read"},
            {"key": "client_authentication", "value": "body"},
            {"key": "accessToken", "value": "eyJhbGciOi.obtained"},
            {"key": "addTokenTo", "value": "header"},
        ],
    }
    variables = [{"key": "auth", "value": "https://login.example.com"}]
    converted = postman.read(
        collection([request("Me", "https://api.example.com/me")], auth=oauth2, variable=variables),
        "oauth2.json",
    )
    document = only(converted)
    auth = document.authorization
    assert auth.type == "oauth2"
    assert (auth.grant, auth.token_url, auth.client_id, auth.scope, auth.client_auth) == (
        "client_credentials",
        "https://login.example.com/oauth/token",
        "shop-app",
        "orders:read",
        "post",
    )
    assert auth.client_secret is None
    assert document.missing_secrets == ["authorization.client_secret"]
    assert notes_at(converted, "auth") == [
        "the access token Postman obtained is not kept: Callout obtains its own",
        "the client secret uses {{clientSecret}}, which has no value in the collection: enter "
        "it in the API window",
    ]
    assert "eyJhbGciOi" not in json.dumps([n.model_dump() for n in converted.notes])


def test_postman_requests_callout_cannot_send_are_noted() -> None:
    items = [
        request("Ok", "https://api.example.com/a"),
        request("Ok", "https://api.example.com/b"),  # numbered
        {"name": "Purge", "request": {"method": "PURGE", "url": "https://api.example.com/c"}},
        request("Elsewhere", "https://other.example.com/d"),
        request("Loop", "https://api.example.com/{{x}}/../e"),
        {"name": "Empty folder", "item": []},
        {"name": "Neither"},
        request("No URL", ""),
    ]
    converted = postman.read(collection(items), "odd.json")
    document = only(converted)
    assert [r.name for r in document.requests] == ["Ok", "Ok (2)"]
    assert notes_at(converted, "item[2].request.method") == [
        "method PURGE is not one Callout sends: request not carried"
    ]
    assert notes_at(converted, "item[3].request.url") == [
        "starts with https://other.example.com, not the API's base URL "
        "https://api.example.com: a Callout API has one base URL; request not carried"
    ]
    assert notes_at(converted, "item[4].request") == [
        "endpoint_path: Value error, must not hold '.' or '..' segments, encoded or not: "
        "request not carried"
    ]
    assert notes_at(converted, "item[6]") == ["is neither a request nor a folder: not carried"]
    assert notes_at(converted, "item[7].request.url") == ["names no URL: request not carried"]


# Files that are not collections Callout reads


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "is not a Postman collection: expected an object with `info` and `item`"),
        ({"openapi": "3.1.0"}, "is not a Postman collection"),
        ({"info": {"name": "x"}, "item": []}, "names no schema"),
        (
            {
                "info": {"schema": "https://schema.getpostman.com/json/collection/v3.0.0/"},
                "item": [],
            },
            "is a Postman collection of v3; only v2.0 and v2.1 are read",
        ),
    ],
)
def test_postman_refuses_what_is_not_a_collection(data: Any, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        postman.read(data, "thing.json")
    assert refused.value.detail.startswith("thing.json")
    assert message in refused.value.detail


def test_postman_refuses_a_v1_collection() -> None:
    with pytest.raises(Invalid) as refused:
        read_file("v1.postman_collection.json")
    assert refused.value.detail == (
        "v1.postman_collection.json: is a Postman collection v1; only v2.0 and v2.1 are "
        "read: export it again from Postman as Collection v2.1"
    )


def test_postman_refuses_folders_nested_too_deep() -> None:
    deepest: dict[str, Any] = request("Bottom", "https://api.example.com/")
    for _ in range(10_000):
        deepest = {"name": "F", "item": [deepest]}
    with pytest.raises(Invalid) as refused:
        postman.read(collection([deepest]), "deep.json")
    assert refused.value.detail.startswith("deep.json: item[0]" + ".item[0]" * 50)
    assert refused.value.detail.endswith(": folders nest deeper than 50 levels")
    # as a file, the reader refuses it first
    text = '{"name": "F", "item": [' * 10_000 + "{}" + "]}" * 10_000
    with pytest.raises(Invalid, match="nests deeper than 100 levels"):
        loading.parse(json.dumps(collection([])).replace("[]", text).encode(), "deep.json")


def test_postman_refuses_truncated_json() -> None:
    text = (DATA / "conduit.postman_collection.json").read_bytes()
    with pytest.raises(Invalid) as refused:
        loading.parse(text[: len(text) // 2], "conduit.json")
    assert refused.value.detail.startswith("conduit.json: ")
    assert "is neither JSON nor YAML" in refused.value.detail


# Hostile text anywhere: a document that validates, notes, or a clear refusal


TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["{{x}}", "${{x}}", "${", "{{a-b}}", ":id", "..", "%2e%2e", "\r\n", "\x00"]),
)


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(TEXT, min_size=1, max_size=4),
    urls=st.lists(st.one_of(TEXT, TEXT.map(lambda t: "https://api.example.com/" + t)), max_size=4),
    headers=st.lists(st.tuples(TEXT, TEXT), max_size=3),
    raw=TEXT,
)
def test_postman_hostile_values_never_break_the_reader(
    names: list[str], urls: list[str], headers: list[tuple[str, str]], raw: str
) -> None:
    items = [
        request(
            name,
            url,
            header=[{"key": k, "value": v} for k, v in headers],
            body={"mode": "raw", "raw": raw},
        )
        for name, url in zip(names, urls, strict=False)
    ]
    try:
        converted = postman.read(collection(items, variable=[{"key": "x", "value": raw}]), "h.json")
    except Invalid:
        return
    document = only(converted)
    ApiDocument.model_validate(document.model_dump())
    assert all(isinstance(n, Note) for n in converted.notes)


# Writing


def catalog_documents() -> list[ApiDocument]:
    documents = []
    for item in sorted(resources.files(catalog).iterdir(), key=lambda i: i.name):
        if item.name.endswith(".yaml"):
            entry = catalog.parse(item.name.removesuffix(".yaml"), item.read_text("utf-8"))
            documents.append(
                ApiDocument.model_validate(
                    {
                        "callout": 1,
                        **entry.api.model_dump(exclude={"service_id"}),
                        "requests": [r.model_dump() for r in entry.requests],
                    }
                )
            )
    return documents


def made_documents() -> list[ApiDocument]:
    """Documents with what the catalogue lacks: each authorization, every body, disabled
    entries, secret headers, samples."""
    request_fields = [
        {
            "name": "Find customer",
            "description": "By phone",
            "url_path": "v1",
            "endpoint_path": "customers/${customerId}/",
            "query": [
                {"name": "expand", "value": "orders&notes", "enabled": True},
                {"name": "debug", "value": "1+1=2", "enabled": False},
            ],
            "headers": [
                {"name": "X-Trace", "value": "${call.id}"},
                {"name": "X-Api-Key", "value": "k-123", "secret": True},
            ],
            "parameters": [
                {"name": "customerId", "required": True, "description": "The CRM's id"},
                {"name": "limit", "type": "number", "default": 10},
            ],
            "samples": [
                {
                    "name": "Found",
                    "status": 200,
                    "headers": [{"name": "X-A", "value": "$${x}"}],
                    "body": "{}",
                }
            ],
        },
        {
            "name": "Add note",
            "method": "POST",
            "endpoint_path": "notes",
            "content_type": "json",
            "body": '{"text": "${text}", "pinned": "${pinned}", "by": "${loginData.agent}"}',
            "parameters": [
                {"name": "text", "required": True},
                {"name": "pinned", "type": "boolean", "default": False},
            ],
        },
        {
            "name": "Login",
            "method": "POST",
            "endpoint_path": "login",
            "content_type": "form",
            "form": [
                {"name": "user", "value": "${user}"},
                {"name": "password", "value": "${password}", "enabled": False},
            ],
            "parameters": [
                {"name": "user", "required": True},
                {"name": "password", "required": True, "secret": True},
            ],
        },
        {
            "name": "Upload",
            "method": "PUT",
            "content_type": "multipart",
            "form": [{"name": "a", "value": "b"}],
        },
        {
            "name": "Echo xml",
            "method": "POST",
            "content_type": "xml",
            "body": "<a>${text}</a>",
            "parameters": [{"name": "text", "required": True, "description": "Other"}],
        },
        {"name": "Echo text", "method": "POST", "content_type": "text", "body": "hi $${there}"},
    ]
    authorizations: list[dict[str, Any]] = [
        {"type": "basic", "username": "crm", "password": "pw"},
        {"type": "bearer", "token": "${loginData.crmToken}"},
        {"type": "bearer", "token": "tok"},
        {
            "type": "oauth1",
            "consumer_key": "ck",
            "consumer_secret": "cs",
            "realm": "r",
            "placement": "header",
        },
        {
            "type": "oauth2",
            "grant": "client_credentials",
            "token_url": "https://id.example.com/token",
            "client_id": "app",
            "client_secret": "x",
            "scope": "a b",
            "audience": "crm",
            "extra_token_params": [{"name": "resource", "value": "crm"}],
        },
        {
            "type": "oauth2",
            "grant": "password",
            "token_url": "https://id.example.com/token",
            "client_id": "app",
            "username": "me",
            "client_auth": "post",
            "placement": "query",
            "header_prefix": "Token",
        },
        {
            "type": "oauth2",
            "grant": "authorization_code",
            "token_url": "https://id.example.com/token",
            "authorization_url": "https://id.example.com/authorize",
            "client_id": "app",
            "pkce": False,
        },
        {
            "type": "oauth2",
            "grant": "refresh_token",
            "token_url": "https://id.example.com/token",
            "client_id": "app",
            "refresh_token": "r",
        },
    ]
    return [
        ApiDocument.model_validate(
            {
                "callout": 1,
                "name": f"CRM {index}",
                "description": "The CRM",
                "base_url": "https://crm.example.com/api",
                "headers": [{"name": "Accept", "value": "application/json"}],
                "authorization": authorization,
                "requests": request_fields,
                "missing_secrets": [],
            }
        )
        for index, authorization in enumerate(authorizations)
    ]


DOCUMENTS = catalog_documents() + made_documents()


def effective_headers(
    document: ApiDocument, request: RequestDocument
) -> dict[str, tuple[str, bool, bool]]:
    """What a call sends: the API's headers and the request's over them; a secret's value
    is not written, so it is compared as missing."""
    merged = {}
    for header in [*document.headers, *request.headers]:
        value = "" if header.secret else header.value
        merged[name_key(header.name)] = (value, header.enabled, header.secret)
    return merged


def only_in_secrets(request: RequestDocument) -> set[str]:
    """Parameters placed in secret headers' values and nowhere else."""
    texts = [request.endpoint_path, request.body or ""]
    texts += [e.value for e in [*request.query, *request.form]]
    texts += [h.value for h in request.headers if not h.secret]
    elsewhere = {p.root for text in texts for p in templates.placeholders(text)}
    secret = {p.root for h in request.headers if h.secret for p in templates.placeholders(h.value)}
    return secret - elsewhere


def assert_round_trip(document: ApiDocument, back: ApiDocument) -> None:
    assert (back.name, back.description, back.base_url) == (
        document.name,
        document.description,
        document.base_url,
    )
    auth, back_auth = document.authorization, back.authorization
    if auth.type == "livevox":  # Postman has no auth for LiveVox's sessions
        assert back_auth.type == "none"
    else:
        secrets = SCHEMES[auth.type].secret_fields()
        plain = set(type(auth).model_fields) - set(secrets)
        assert back_auth.model_dump(include=plain) == auth.model_dump(include=plain)
        for field in secrets:
            kept = field == "token" and auth.type == "bearer"  # a template of the context's
            assert getattr(back_auth, field) is None or kept
            if getattr(auth, field) is not None and getattr(back_auth, field) is None:
                assert f"authorization.{field}" in back.missing_secrets
    assert [r.name for r in back.requests] == [r.name for r in document.requests]
    for request, back_request in zip(document.requests, back.requests, strict=True):
        assert back_request.method == request.method
        assert join_url(back.base_url, back_request.url_path, back_request.endpoint_path) == (
            join_url(document.base_url, request.url_path, request.endpoint_path)
        )
        for field in ("description", "query", "body", "form", "samples"):
            assert getattr(back_request, field) == getattr(request, field), (request.name, field)
        # a form with no fields is no body, in Postman as in Callout
        empty = request.content_type in ("form", "multipart") and not request.form
        assert back_request.content_type == ("none" if empty else request.content_type)
        assert effective_headers(back, back_request) == effective_headers(document, request)
        for header in request.headers:
            if header.secret:
                assert f"headers.{name_key(header.name)}" in back_request.missing_secrets
        # in the order the collection declares them; a parameter with no default is
        # required; one placed only in a secret header goes with the header's value
        assert {
            p.name: (p.type, p.default, p.description, p.secret, p.required)
            for p in back_request.parameters
        } == {
            p.name: (p.type, p.default, p.description, p.secret, p.default is None)
            for p in request.parameters
            if p.name not in only_in_secrets(request)
        }


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.name)
def test_postman_round_trip_keeps_every_supported_field(document: ApiDocument) -> None:
    written = postman.write(document)
    assert list(SCHEMA.iter_errors(written)) == []
    assert written["info"]["schema"] == SCHEMA_URL
    back = only(postman.read(json.loads(json.dumps(written)), "written.json"))
    assert_round_trip(document, back)


def test_postman_round_trip_of_a_read_collection() -> None:
    document = only(read_file("conduit.postman_collection.json"))
    written = postman.write(document)
    assert list(SCHEMA.iter_errors(written)) == []
    # the folders the names say, in the order of the requests
    assert [(f["name"], len(f["item"])) for f in written["item"]] == [
        ("Auth", 5),
        ("Articles", 4),
        ("Articles, Favorite, Comments", 18),
        ("Profiles", 4),
        ("Tags", 1),
    ]
    assert written["item"][0]["item"][0]["name"] == "Register"
    back = only(postman.read(written, "written.json"))
    assert_round_trip(document, back)


def test_postman_export_leaves_secrets_out() -> None:
    document = made_documents()[0]  # basic, with a password and a secret API key header
    written = postman.write(document)
    text = json.dumps(written)
    assert "k-123" not in text
    assert '"pw"' not in text
    assert written["auth"] == {
        "type": "basic",
        "basic": [
            {"key": "username", "value": "crm", "type": "string"},
            {"key": "password", "value": "{{basicPassword}}", "type": "string"},
        ],
    }
    assert written["variable"][0] == {
        "key": "baseUrl",
        "value": "https://crm.example.com/api",
        "type": "string",
    }
    assert {"key": "basicPassword", "value": "", "type": "string"}.items() <= written["variable"][
        1
    ].items()
    find = written["item"][0]["request"]
    assert find["url"]["raw"] == "{{baseUrl}}/v1/customers/{{customerId}}/?expand=orders%26notes"
    assert find["url"]["query"][1] == {"key": "debug", "value": "1%2B1%3D2", "disabled": True}
    assert find["header"] == [
        {"key": "Accept", "value": "application/json", "type": "text"},
        {"key": "X-Trace", "value": "{{call.id}}", "type": "text"},
        {"key": "X-Api-Key", "value": "", "type": "text"},
    ]
    back = only(postman.read(written, "written.json"))
    assert back.missing_secrets == ["authorization.password"]
    assert named(back, "Find customer").missing_secrets == ["headers.x-api-key"]
    assert MASK not in text


# Values as hostile as a query, header or form holds them (but `{{`, which Postman reads as
# a variable whatever is around it, and has no way to escape).
VALUES = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("&=+%#?/ ${}"), max_size=30
).filter(lambda v: "{{" not in v and "}}" not in v and "${" not in v.replace("$${", ""))
NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    lambda n: n.strip() and "{{" not in n
)


@settings(max_examples=100, deadline=None)
@given(
    query=st.lists(st.tuples(NAMES, VALUES, st.booleans()), max_size=4),
    form=st.lists(st.tuples(NAMES, VALUES, st.booleans()), max_size=4),
    header=VALUES.filter(lambda v: v == v.strip() and "\t" not in v),
    name=NAMES,
)
def test_postman_round_trip_keeps_hostile_values(
    query: list[tuple[str, str, bool]], form: list[tuple[str, str, bool]], header: str, name: str
) -> None:
    def entries(found: list[tuple[str, str, bool]]) -> list[dict[str, Any]]:
        # a name that says it is a secret would take a secret parameter on the way back
        return [
            {"name": n.strip(), "value": v, "enabled": e}
            for n, v, e in found
            if not is_secret_name(n.strip())
        ]

    document = ApiDocument.model_validate(
        {
            "callout": 1,
            "name": "Hostile",
            "base_url": "https://api.example.com",
            "requests": [
                {
                    "name": name,
                    "method": "POST",
                    "query": entries(query),
                    "headers": [{"name": "X-Note", "value": header}],
                    "content_type": "form",
                    "form": entries(form),
                }
            ],
        }
    )
    written = postman.write(document)
    assert list(SCHEMA.iter_errors(written)) == []
    assert_round_trip(document, only(postman.read(json.loads(json.dumps(written)), "w.json")))
