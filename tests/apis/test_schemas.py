"""Every rule of the API and request schemas, without a database.

Errors are read as the REST API and the CLI render them (`validation_problems`): a field path
such as `headers[0].name` and a message; each case checks the path and a telling part of the
message, so a rule that fires on the wrong field or for the wrong reason fails here.
"""

from itertools import pairwise
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from callout.apis.authorization import BasicAuth, BearerAuth, OAuth1Auth, OAuth2Auth
from callout.apis.fields import RESERVED_HEADERS, Header, NameValue
from callout.apis.schemas import (
    CONTEXT_ROOTS,
    ApiWrite,
    RequestParameter,
    RequestWrite,
    ResponseParameter,
)
from callout.errors import FieldProblem
from callout.runtime import templates
from callout.runtime.templates import Placeholder, TemplateError
from callout.schemas import MASK
from callout.validation import validation_problems
from tests.factories import api_body, request_body, rsa_private_key


def problems(model: type[BaseModel], data: dict[str, Any]) -> list[FieldProblem]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return validation_problems(caught.value.errors())


def assert_refused(model: type[BaseModel], data: dict[str, Any], field: str, message: str) -> None:
    """The input is refused with exactly one problem, on `field`, saying `message`."""
    found = problems(model, data)
    assert [p.field for p in found] == [field], found
    assert message in found[0].message, found


def api(**changes: Any) -> dict[str, Any]:
    return api_body(**changes)


def request(**changes: Any) -> dict[str, Any]:
    return request_body(**changes)


def with_auth(authorization: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return api_body(authorization=authorization, **changes)


def test_factory_bodies_are_valid() -> None:
    ApiWrite.model_validate(api())
    RequestWrite.model_validate(request())


# Names


BAD_NAMES = [
    pytest.param("", "at least 1 character", id="empty"),
    pytest.param("   ", "at least 1 character", id="only-spaces"),
    pytest.param("x" * 101, "at most 100 characters", id="too-long"),
    pytest.param("CRM\x00", "control characters", id="nul"),
    pytest.param("C\nRM", "control characters", id="line-feed"),
    pytest.param("C\rRM", "control characters", id="carriage-return"),
    pytest.param("CR\x1bM", "control characters", id="escape"),
    pytest.param("CR\x7fM", "control characters", id="delete"),
]


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
@pytest.mark.parametrize("model", [ApiWrite, RequestWrite])
def test_bad_name_is_refused(model: type[BaseModel], name: str, message: str) -> None:
    body = api(name=name) if model is ApiWrite else request(name=name)
    assert_refused(model, body, "name", message)


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("  CRM  ", "CRM"),
        ("\tCRM\n", "CRM"),
        ("x" * 100, "x" * 100),
        ("  " + "x" * 100 + "  ", "x" * 100),
        ("Café Ünïcode", "Café Ünïcode"),
    ],
)
def test_name_is_trimmed_and_may_be_100_characters(name: str, stored: str) -> None:
    assert ApiWrite.model_validate(api(name=name)).name == stored
    assert RequestWrite.model_validate(request(name=name)).name == stored


# Base URL


BAD_BASE_URLS = [
    pytest.param("crm.example.com/api", "absolute http:// or https://", id="no-scheme"),
    pytest.param("//crm.example.com/api", "absolute http:// or https://", id="scheme-relative"),
    pytest.param("/api", "absolute http:// or https://", id="path-only"),
    pytest.param("ftp://crm.example.com/api", "absolute http:// or https://", id="ftp"),
    pytest.param("file:///etc/passwd", "absolute http:// or https://", id="file"),
    pytest.param("javascript:alert(1)", "absolute http:// or https://", id="javascript"),
    pytest.param("https://", "must name a host", id="no-host"),
    pytest.param("https:///api", "must name a host", id="empty-host"),
    pytest.param("https://:443/api", "must name a host", id="port-only"),
    pytest.param("https://alice:pw@crm.example.com/api", "must not hold credentials", id="user-pw"),
    pytest.param("https://token@crm.example.com/api", "must not hold credentials", id="user"),
    pytest.param("https://crm.example.com/api#top", "#fragment", id="fragment"),
    pytest.param("https://crm.example.com/api#", "#fragment", id="empty-fragment"),
    pytest.param("https://crm.example.com/api?key=1", "must not have a query", id="query"),
    pytest.param("https://crm.example.com/api?", "must not have a query", id="empty-query"),
    pytest.param("https://crm.example.com/${tenant}", "must be fixed", id="placeholder-path"),
    pytest.param("https://${host}/api", "must be fixed", id="placeholder-host"),
    pytest.param("https://crm.example.com:99999/api", "invalid port", id="port-out-of-range"),
    pytest.param("https://crm.example.com:https/api", "invalid port", id="port-not-number"),
    pytest.param("https://crm example.com/api", "spaces or control characters", id="space"),
    pytest.param("https://crm.example.com/a\r\nX: y", "spaces or control", id="crlf"),
    pytest.param("https://crm.example.com/\x00", "spaces or control characters", id="nul"),
    pytest.param("https://[::1/api", "IPv6", id="broken-ipv6"),
    pytest.param("https://crm.example.com/" + "a" * 2048, "at most 2048", id="too-long"),
]


@pytest.mark.parametrize(("base_url", "message"), BAD_BASE_URLS)
def test_bad_base_url_is_refused(base_url: str, message: str) -> None:
    assert_refused(ApiWrite, api(base_url=base_url), "base_url", message)


@pytest.mark.parametrize(
    ("base_url", "stored"),
    [
        ("https://crm.example.com/api", "https://crm.example.com/api"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("HTTPS://CRM.EXAMPLE.COM/api/", "HTTPS://CRM.EXAMPLE.COM/api/"),
        ("https://[2001:db8::1]:8443/v2", "https://[2001:db8::1]:8443/v2"),
        ("  https://crm.example.com/api  ", "https://crm.example.com/api"),
        ("https://crm.example.com/a%20b", "https://crm.example.com/a%20b"),
    ],
)
def test_good_base_url_is_kept(base_url: str, stored: str) -> None:
    assert ApiWrite.model_validate(api(base_url=base_url)).base_url == stored


@pytest.mark.parametrize("kind", ["api", "slack", "teams"])
def test_api_type_is_one_of_three(kind: str) -> None:
    assert ApiWrite.model_validate(api(type=kind)).type == kind


@pytest.mark.parametrize("kind", ["soap", "API", "", "webhook"])
def test_unknown_api_type_is_refused(kind: str) -> None:
    assert_refused(ApiWrite, api(type=kind), "type", "'api', 'slack' or 'teams'")


def test_base_url_is_required() -> None:
    body = api()
    del body["base_url"]
    assert_refused(ApiWrite, body, "base_url", "is required")


# Headers


BAD_HEADER_NAMES = [
    pytest.param("", "at least 1 character", id="empty"),
    pytest.param("X Api Key", "is not an RFC 9110 token", id="space"),
    pytest.param("X-Api-Key:", "is not an RFC 9110 token", id="colon"),
    pytest.param("X-Api\r\nEvil: 1", "is not an RFC 9110 token", id="crlf"),
    pytest.param("X-Api\nKey", "is not an RFC 9110 token", id="lf"),
    pytest.param("X-Api\rKey", "is not an RFC 9110 token", id="cr"),
    pytest.param("X-Api\x00Key", "must not contain NUL characters", id="nul"),
    pytest.param("X-Schlüssel", "is not an RFC 9110 token", id="non-ascii"),
    pytest.param("(comment)", "is not an RFC 9110 token", id="parentheses"),
    pytest.param('X-"quoted"', "is not an RFC 9110 token", id="quote"),
    pytest.param("X/Key", "is not an RFC 9110 token", id="slash"),
    pytest.param("x" * 201, "at most 200 characters", id="too-long"),
]


@pytest.mark.parametrize(("name", "message"), BAD_HEADER_NAMES)
def test_header_name_must_be_a_token(name: str, message: str) -> None:
    assert_refused(Header, {"name": name, "value": "v"}, "name", message)
    body = api(headers=[{"name": "Accept", "value": "*/*"}, {"name": name, "value": "v"}])
    assert_refused(ApiWrite, body, "headers[1].name", message)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("abc\r\nX-Evil: 1", id="crlf"),
        pytest.param("abc\nX-Evil: 1", id="lf"),
        pytest.param("abc\rX-Evil: 1", id="cr"),
        pytest.param("abc\x00", id="nul"),
        pytest.param("abc\x7f", id="delete"),
    ],
)
def test_header_value_must_not_hold_cr_lf_or_nul(value: str) -> None:
    message = "must not contain control characters"
    assert_refused(Header, {"name": "X-Api-Key", "value": value}, "value", message)
    body = request(headers=[{"name": "X-Api-Key", "value": value}])
    assert_refused(RequestWrite, body, "headers[0].value", message)


@pytest.mark.parametrize("name", sorted(RESERVED_HEADERS))
def test_reserved_header_is_refused(name: str) -> None:
    message = "is set by Callout's HTTP client"
    for spelling in (name, name.upper(), name.title()):
        assert_refused(Header, {"name": spelling, "value": "x"}, "name", message)
    assert_refused(
        ApiWrite, api(headers=[{"name": name, "value": "x"}]), "headers[0].name", message
    )


def test_header_names_cover_the_framing_headers() -> None:
    framing = {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te"}
    assert framing <= RESERVED_HEADERS


@pytest.mark.parametrize("model", [ApiWrite, RequestWrite])
def test_duplicate_header_ignoring_case_is_refused(model: type[BaseModel]) -> None:
    headers = [
        {"name": "X-Api-Key", "value": "a"},
        {"name": "Accept", "value": "*/*"},
        {"name": "x-api-KEY", "value": "b", "enabled": False},
    ]
    body = api(headers=headers) if model is ApiWrite else request(headers=headers)
    assert_refused(model, body, "headers", "[2] has the name of [0]; names ignore case")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Api-Key", "abc123"),
        ("!#$%&'*+-.^_`|~09azAZ", "v"),
        ("Accept", "application/json; q=0.9, */*"),
        ("X-Agent", "${loginData.agentId}"),
        ("X-Literal", "$${not a placeholder}"),
        ("X-Empty", ""),
    ],
)
def test_good_header_is_kept(name: str, value: str) -> None:
    header = Header.model_validate({"name": f"  {name} ", "value": value})
    assert (header.name, header.value) == (name, value)


def test_secret_header_value_reads_as_the_mask() -> None:
    header = Header(name="X-Api-Key", value="s3cret", secret=True)
    assert header.model_dump()["value"] == MASK
    assert "s3cret" not in repr(header)


def test_header_value_placeholder_must_be_well_formed() -> None:
    assert_refused(Header, {"name": "X-Agent", "value": "${loginData"}, "value", "never closed")


# Name/value lists (query, form, extra token parameters)


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ({"name": "", "value": "x"}, "name", "at least 1 character"),
        ({"name": "q\nx", "value": "x"}, "name", "control characters"),
        ({"name": "q\x00", "value": "x"}, "name", "control characters"),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"name": "q", "value": "${customerId"}, "value", "never closed"),
        ({"name": "q", "value": "${}"}, "value", "empty name or segment"),
        ({"name": "q", "enabled": "sometimes"}, "enabled", "valid boolean"),
        ({"value": "x"}, "name", "is required"),
        ({"name": "q", "secret": True}, "secret", "is not a field of this object"),
    ],
)
def test_bad_name_value_is_refused(entry: dict[str, Any], field: str, message: str) -> None:
    assert_refused(NameValue, entry, field, message)
    body = request(content_type="form", form=[entry])
    assert_refused(RequestWrite, body, f"form[0].{field}", message)


def test_name_value_keeps_order_and_escapes() -> None:
    body = request(
        query=[
            {"name": "b", "value": "2"},
            {"name": "a", "value": "$${literal}"},
            {"name": "id", "value": "${customerId}", "enabled": False},
        ]
    )
    query = RequestWrite.model_validate(body).query
    assert [(q.name, q.value, q.enabled) for q in query] == [
        ("b", "2", True),
        ("a", "$${literal}", True),
        ("id", "${customerId}", False),
    ]


def test_query_value_problem_names_the_query_entry() -> None:
    """A field called `query` is the request's own, not the HTTP query string."""
    body = request(query=[{"name": "q", "value": "${customerId"}])
    assert_refused(RequestWrite, body, "query[0].value", "never closed")


# Authorization


def test_livevox_needs_a_livevox_base_url() -> None:
    body = with_auth({"type": "livevox"}, base_url="https://crm.example.com/api")
    assert_refused(ApiWrite, body, "authorization.type", 'base URL contains "livevox"')


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.livevox.com/session",
        "https://API.LiveVox.COM/session",
        "https://proxy.example.com/livevox/v1",
    ],
)
def test_livevox_is_offered_on_a_livevox_base_url(base_url: str) -> None:
    data = ApiWrite.model_validate(with_auth({"type": "livevox"}, base_url=base_url))
    assert data.authorization.type == "livevox"


@pytest.mark.parametrize("kind", ["digest", "", "Basic", "apikey"])
def test_unknown_authorization_type_is_refused(kind: str) -> None:
    assert_refused(ApiWrite, with_auth({"type": kind}), "authorization", "does not match")


def test_authorization_without_type_is_refused() -> None:
    assert_refused(ApiWrite, with_auth({"username": "alice"}), "authorization", "type")


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("alice:admin", "must not contain ':'"),
        (":", "must not contain ':'"),
        ("", "at least 1 character"),
    ],
)
def test_basic_username_is_refused(username: str, message: str) -> None:
    auth = {"type": "basic", "username": username, "password": "pw"}
    assert_refused(ApiWrite, with_auth(auth), "authorization.username", message)


def test_basic_password_may_hold_a_colon() -> None:
    auth = BasicAuth.model_validate({"username": "alice", "password": "a:b:c"})
    assert auth.password is not None
    assert auth.password.get_secret_value() == "a:b:c"


def test_read_flags_are_dropped_when_written_back() -> None:
    auth = BearerAuth.model_validate({"type": "bearer", "token": MASK, "has_token": True})
    assert auth.has_token


def test_unknown_authorization_field_is_refused() -> None:
    auth = {"type": "bearer", "token": "t", "tokne": "t"}
    assert_refused(ApiWrite, with_auth(auth), "authorization.tokne", "is not a field")


def ec_private_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def encrypted_rsa_private_key() -> str:
    key = serialization.load_pem_private_key(rsa_private_key().encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()


def oauth1(**changes: Any) -> dict[str, Any]:
    return {"type": "oauth1", "consumer_key": "ck", "consumer_secret": "cs"} | changes


@pytest.mark.parametrize("method", ["HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT"])
def test_oauth1_rsa_key_only_with_rsa_sha1(method: str) -> None:
    auth = oauth1(signature_method=method, rsa_private_key=rsa_private_key())
    assert_refused(ApiWrite, with_auth(auth), "authorization.rsa_private_key", "RSA-SHA1")


@pytest.mark.parametrize(
    "pem",
    [
        pytest.param("not a key", id="text"),
        pytest.param("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", id="junk"),
        pytest.param(ec_private_key(), id="ec-key"),
        pytest.param(encrypted_rsa_private_key(), id="encrypted"),
        pytest.param(rsa_private_key().replace("PRIVATE", "PUBLIC"), id="relabelled"),
    ],
)
def test_oauth1_rsa_key_must_be_a_pem_rsa_private_key(pem: str) -> None:
    auth = oauth1(signature_method="RSA-SHA1", rsa_private_key=pem)
    assert_refused(
        ApiWrite, with_auth(auth), "authorization.rsa_private_key", "PEM RSA private key"
    )


@pytest.mark.parametrize("pem", [rsa_private_key(), MASK])
def test_oauth1_rsa_sha1_takes_a_pem_rsa_key_or_the_mask(pem: str) -> None:
    auth = OAuth1Auth.model_validate(oauth1(signature_method="RSA-SHA1", rsa_private_key=pem))
    assert auth.has_rsa_private_key


def test_oauth1_unknown_signature_method_is_refused() -> None:
    auth = oauth1(signature_method="RSA-SHA256")
    assert_refused(ApiWrite, with_auth(auth), "authorization.signature_method", "'RSA-SHA1'")


def test_oauth1_consumer_key_is_required() -> None:
    auth = {"type": "oauth1", "consumer_secret": "cs"}
    assert_refused(ApiWrite, with_auth(auth), "authorization.consumer_key", "is required")


def oauth2(**changes: Any) -> dict[str, Any]:
    return {
        "type": "oauth2",
        "token_url": "https://auth.example.com/token",
        "client_id": "cid",
        "client_secret": "cs",
    } | changes


BAD_OAUTH2 = [
    pytest.param(
        {"grant": "password"},
        "authorization.username",
        "password grant needs a username",
        id="password-grant-without-username",
    ),
    pytest.param(
        {"grant": "authorization_code"},
        "authorization.authorization_url",
        "authorization_code grant needs one",
        id="code-grant-without-authorization-url",
    ),
    pytest.param(
        {"token_url": "ftp://auth.example.com/token"},
        "authorization.token_url",
        "absolute http:// or https://",
        id="token-url-ftp",
    ),
    pytest.param(
        {"token_url": "auth.example.com/token"},
        "authorization.token_url",
        "absolute http:// or https://",
        id="token-url-relative",
    ),
    pytest.param(
        {"token_url": "https:///token"},
        "authorization.token_url",
        "must name a host",
        id="token-url-no-host",
    ),
    pytest.param(
        {"token_url": "https://alice:pw@auth.example.com/token"},
        "authorization.token_url",
        "must not hold credentials",
        id="token-url-credentials",
    ),
    pytest.param(
        {"token_url": "https://auth.example.com/to\r\nken"},
        "authorization.token_url",
        "control characters",
        id="token-url-crlf",
    ),
    pytest.param(
        {"grant": "authorization_code", "authorization_url": "javascript:alert(1)"},
        "authorization.authorization_url",
        "absolute http:// or https://",
        id="authorization-url-javascript",
    ),
    pytest.param(
        {"grant": "implicit"},
        "authorization.grant",
        "'client_credentials'",
        id="implicit-grant",
    ),
    pytest.param(
        {"client_id": ""},
        "authorization.client_id",
        "at least 1 character",
        id="empty-client-id",
    ),
    pytest.param(
        {"client_auth": "jwt"},
        "authorization.client_auth",
        "'basic' or 'post'",
        id="unknown-client-auth",
    ),
    pytest.param(
        {"header_prefix": "Bearer\r\nX-Evil: 1"},
        "authorization.header_prefix",
        "control characters",
        id="header-prefix-crlf",
    ),
    pytest.param(
        {"extra_token_params": [{"name": "", "value": "x"}]},
        "authorization.extra_token_params[0].name",
        "at least 1 character",
        id="extra-param-without-name",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_OAUTH2)
def test_bad_oauth2_is_refused(changes: dict[str, Any], field: str, message: str) -> None:
    assert_refused(ApiWrite, with_auth(oauth2(**changes)), field, message)


@pytest.mark.parametrize(
    "changes",
    [
        {"grant": "client_credentials"},
        {"grant": "password", "username": "alice", "password": "pw"},
        {"grant": "authorization_code", "authorization_url": "https://auth.example.com/authorize"},
        {"grant": "refresh_token", "refresh_token": "rt"},
        {"token_url": "http://localhost:9000/oauth/token?tenant=acme"},
    ],
)
def test_good_oauth2_is_kept(changes: dict[str, Any]) -> None:
    auth = OAuth2Auth.model_validate(oauth2(**changes))
    assert auth.type == "oauth2"


def test_every_scheme_is_accepted_in_its_minimal_form() -> None:
    for auth in (
        {"type": "none"},
        {"type": "basic", "username": "alice"},
        {"type": "bearer"},
        oauth1(),
        oauth2(),
    ):
        assert ApiWrite.model_validate(with_auth(auth)).authorization.type == auth["type"]


# Request: method and paths


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_request_method_is_kept(method: str) -> None:
    assert RequestWrite.model_validate(request(method=method)).method == method


@pytest.mark.parametrize("method", ["get", "TRACE", "CONNECT", "", "FETCH"])
def test_unknown_request_method_is_refused(method: str) -> None:
    assert_refused(RequestWrite, request(method=method), "method", "'GET'")


BAD_PATHS = [
    pytest.param("customers?id=1", "must not hold a query", id="query"),
    pytest.param("customers?", "must not hold a query", id="empty-query"),
    pytest.param("customers#top", "must not hold a fragment", id="fragment"),
    pytest.param("customers\\1", "must not hold backslashes", id="backslash"),
    pytest.param("https://evil.example/x", "relative to the API's base URL", id="absolute"),
    pytest.param("v1/http://evil.example", "relative to the API's base URL", id="scheme-inside"),
    pytest.param("//evil.example/x", "relative to the API's base URL", id="scheme-relative"),
    pytest.param("..", "'.' or '..' segments", id="dot-dot"),
    pytest.param("../admin", "'.' or '..' segments", id="leading-dot-dot"),
    pytest.param("v1/../admin", "'.' or '..' segments", id="inner-dot-dot"),
    pytest.param("v1/..", "'.' or '..' segments", id="trailing-dot-dot"),
    pytest.param("/../admin", "'.' or '..' segments", id="rooted-dot-dot"),
    pytest.param(".", "'.' or '..' segments", id="dot"),
    pytest.param("./v1", "'.' or '..' segments", id="leading-dot"),
    pytest.param("v1/./customers", "'.' or '..' segments", id="inner-dot"),
    pytest.param("%2e%2e/admin", "'.' or '..' segments", id="encoded-dot-dot"),
    pytest.param("v1/.%2E/admin", "'.' or '..' segments", id="half-encoded-dot-dot"),
    pytest.param("v1\r\n/x", "control characters", id="crlf"),
    pytest.param("v1\x00", "control characters", id="nul"),
    pytest.param("v1/${customerId", "never closed", id="unclosed-placeholder"),
    pytest.param("x" * 2049, "at most 2048", id="too-long"),
]


@pytest.mark.parametrize(("path", "message"), BAD_PATHS)
@pytest.mark.parametrize("field", ["url_path", "endpoint_path"])
def test_bad_path_is_refused(field: str, path: str, message: str) -> None:
    assert_refused(RequestWrite, request(**{field: path}), field, message)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/",
        "v1",
        "/v1/",
        "customers/${customerId}/notes",
        "files/report.json",
        ".well-known/openid-configuration",
        "a.../b..c/...",
        "search/caf%C3%A9",
        "${customerId}",
        "$${literal}",
    ],
)
@pytest.mark.parametrize("field", ["url_path", "endpoint_path"])
def test_good_path_is_kept(field: str, path: str) -> None:
    assert getattr(RequestWrite.model_validate(request(**{field: path})), field) == path


# Placeholders


MALFORMED_PLACEHOLDERS = [
    pytest.param("${customerId", "never closed", id="unclosed"),
    pytest.param("a/${", "never closed", id="open-at-end"),
    pytest.param("${}", "empty name or segment", id="empty"),
    pytest.param("${  }", "empty name or segment", id="blank"),
    pytest.param("${account..id}", "empty name or segment", id="empty-middle-segment"),
    pytest.param("${account.}", "empty name or segment", id="empty-last-segment"),
    pytest.param("${.id}", "empty name or segment", id="empty-first-segment"),
    pytest.param("${account. .id}", "empty name or segment", id="blank-segment"),
    pytest.param("${acc$ount}", "holds '{', '}' or '$'", id="dollar-inside"),
    pytest.param("${acc{ount}", "holds '{', '}' or '$'", id="brace-inside"),
    pytest.param("${${customerId}}", "holds '{', '}' or '$'", id="nested"),
    pytest.param("${" + ".".join("abcdefghi") + "}", "deeper than 8", id="too-deep"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED_PLACEHOLDERS)
def test_malformed_placeholder_is_refused(text: str, message: str) -> None:
    assert_refused(RequestWrite, request(endpoint_path=f"x/{text}"), "endpoint_path", message)
    where = len("x/") + text.index("${") + 1
    with pytest.raises(TemplateError, match=f"position {where} "):
        templates.parse(f"x/{text}")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url_path": "${nope}"}, "url_path"),
        ({"endpoint_path": "customers/${nope.id}"}, "endpoint_path"),
        ({"query": [{"name": "q", "value": "${nope}"}]}, "query[0].value"),
        (
            {"headers": [{"name": "Accept", "value": "*/*"}, {"name": "X-Id", "value": "${nope}"}]},
            "headers[1].value",
        ),
        (
            {"content_type": "form", "form": [{"name": "id", "value": "${nope}"}]},
            "form[0].value",
        ),
        ({"content_type": "json", "body": '{"id": "${nope}"}'}, "body"),
        ({"content_type": "text", "body": "hello ${nope}"}, "body"),
        ({"content_type": "xml", "body": "<id>${nope}</id>"}, "body"),
        ({"endpoint_path": "${LoginData.agentId}"}, "endpoint_path"),
        ({"endpoint_path": "${customerid}"}, "endpoint_path"),
    ],
)
def test_placeholder_must_name_a_parameter_or_a_context_root(
    changes: dict[str, Any], field: str
) -> None:
    found = problems(RequestWrite, request(**changes))
    assert [p.field for p in found] == [field], found
    assert "is neither a declared parameter nor a context value" in found[0].message
    assert "loginData" in found[0].message  # the roots one may use are listed


@pytest.mark.parametrize("root", sorted(CONTEXT_ROOTS))
def test_placeholder_may_read_a_context_root(root: str) -> None:
    body = request(
        endpoint_path=f"x/${{{root}.a}}",
        query=[{"name": "q", "value": f"${{{root}}}"}],
        content_type="json",
        body=f'{{"v": "${{{root}.a.b}}"}}',
    )
    RequestWrite.model_validate(body)


def test_placeholder_may_read_an_earlier_response_by_request_name() -> None:
    body = request(endpoint_path="x/${responses.Get Customer.email}")
    RequestWrite.model_validate(body)


def test_placeholder_may_name_a_declared_parameter_with_spaces_around() -> None:
    RequestWrite.model_validate(request(endpoint_path="customers/${ customerId }"))


@pytest.mark.parametrize(
    "text",
    ["$${nope}", "$${", "price: $${amount", "$${}", "$${a..b}", "$${${customerId}"],
)
def test_escaped_placeholder_is_literal_text(text: str) -> None:
    data = RequestWrite.model_validate(request(content_type="text", body=text))
    assert data.body == text


def test_escape_renders_a_literal_open() -> None:
    assert templates.parse("cost $${x} for ${customerId}") == (
        "cost ${x} for ",
        Placeholder(("customerId",)),
    )


def test_parse_splits_literals_and_placeholders() -> None:
    assert templates.parse("/customers/${account.id}/notes") == (
        "/customers/",
        Placeholder(("account", "id")),
        "/notes",
    )
    assert templates.parse("${responses.Get Customer.email}") == (
        Placeholder(("responses", "Get Customer", "email")),
    )
    assert templates.parse("") == ()


# Request: body and form


BAD_BODIES = [
    pytest.param("none", "x", "body", "needs content_type json, text or xml", id="body-none"),
    pytest.param("form", "a=1", "body", "not form", id="body-form"),
    pytest.param("multipart", "a=1", "body", "not multipart", id="body-multipart"),
    pytest.param("json", '{"name": ', "body", "is not valid JSON", id="json-truncated"),
    pytest.param("json", "{'name': 1}", "body", "is not valid JSON", id="json-single-quotes"),
    pytest.param("json", '{"id": ${customerId}}', "body", "is not valid JSON", id="json-bare"),
    pytest.param("json", "", "body", "is not valid JSON", id="json-empty"),
    pytest.param("json", '{"ratio": NaN}', "body", "is not valid JSON", id="json-nan"),
    pytest.param("json", "[Infinity]", "body", "is not valid JSON", id="json-infinity"),
    pytest.param("xml", "<a>", "body", "is not well-formed XML", id="xml-unclosed"),
    pytest.param("xml", "<a></b>", "body", "is not well-formed XML", id="xml-mismatch"),
    pytest.param("xml", "not xml", "body", "is not well-formed XML", id="xml-text"),
    pytest.param("xml", "", "body", "is not well-formed XML", id="xml-empty"),
    pytest.param(
        "xml",
        '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
        "body",
        "must not declare a DTD or entities",
        id="xml-entity",
    ),
    pytest.param("json", '"${nope"', "body", "never closed", id="unclosed-placeholder"),
    pytest.param("html", "<p/>", "content_type", "'json'", id="unknown-content-type"),
]


@pytest.mark.parametrize(("content_type", "body", "field", "message"), BAD_BODIES)
def test_bad_body_is_refused(content_type: str, body: str, field: str, message: str) -> None:
    data = request(content_type=content_type, body=body)
    assert_refused(RequestWrite, data, field, message)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("json", '{"id": "${customerId}", "n": [1, 2.5, null, true]}'),
        ("json", "  [] "),
        ("text", "anything at all, even { or <"),
        ("text", ""),
        ("xml", '<?xml version="1.0"?><customer id="${customerId}"/>'),
        ("xml", "<a><b>${customerId}</b></a>"),
        ("json", None),
        ("none", None),
    ],
)
def test_good_body_is_kept(content_type: str, body: str | None) -> None:
    data = RequestWrite.model_validate(request(content_type=content_type, body=body))
    assert (data.content_type, data.body) == (content_type, body)


@pytest.mark.parametrize("content_type", ["none", "json", "text", "xml"])
def test_form_fields_need_form_or_multipart(content_type: str) -> None:
    data = request(content_type=content_type, form=[{"name": "a", "value": "1"}])
    assert_refused(RequestWrite, data, "form", "need content_type form or multipart")


@pytest.mark.parametrize("content_type", ["form", "multipart"])
def test_form_fields_are_kept_with_form_or_multipart(content_type: str) -> None:
    data = RequestWrite.model_validate(
        request(content_type=content_type, form=[{"name": "id", "value": "${customerId}"}])
    )
    assert [f.name for f in data.form] == ["id"]


# Parameters and outputs


@pytest.mark.parametrize(
    ("names", "duplicate"),
    [(["customerId", "customerid"], "customerid"), (["a", "b", "A"], "A")],
)
def test_parameters_are_unique_ignoring_case(names: list[str], duplicate: str) -> None:
    data = request(parameters=[{"name": n} for n in names], endpoint_path="")
    assert_refused(RequestWrite, data, "parameters", f"parameter {duplicate} is declared twice")


def test_outputs_are_unique_ignoring_case() -> None:
    data = request(outputs=[{"name": "fullName"}, {"name": "FULLNAME"}])
    assert_refused(RequestWrite, data, "outputs", "output FULLNAME is declared twice")


def test_samples_are_unique_as_names_are_compared() -> None:
    fullwidth = "\uff2f\uff56\uff45\uff52\uff44\uff55\uff45"  # "Overdue", fullwidth
    data = request(samples=[{"name": "overdue"}, {"name": fullwidth}])
    assert_refused(RequestWrite, data, "samples", f"sample {fullwidth} is declared twice")


@pytest.mark.parametrize("model", [RequestParameter, ResponseParameter])
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("customer-id", "should match pattern"),
        ("1st", "should match pattern"),
        ("full name", "should match pattern"),
        ("", "should match pattern"),
        ("nämé", "should match pattern"),
        ("x" * 65, "at most 64 characters"),
    ],
)
def test_parameter_and_output_names_are_identifiers(
    model: type[BaseModel], name: str, message: str
) -> None:
    assert_refused(model, {"name": name}, "name", message)


def test_parameter_name_is_trimmed() -> None:
    assert RequestParameter.model_validate({"name": " customerId "}).name == "customerId"


BAD_DEFAULTS = [
    ("string", 5, "is not a string"),
    ("string", ["a"], "is not a string"),
    ("number", "5", "is not a number"),
    ("number", True, "is not a number"),
    ("boolean", 1, "is not a boolean"),
    ("boolean", "true", "is not a boolean"),
    ("object", "x", "is not an object"),
    ("object", 1, "is not an object"),
]


@pytest.mark.parametrize(("kind", "default", "message"), BAD_DEFAULTS)
def test_parameter_default_must_match_its_type(kind: str, default: Any, message: str) -> None:
    entry = {"name": "customerId", "type": kind, "default": default}
    assert_refused(RequestParameter, entry, "default", message)
    assert_refused(RequestWrite, request(parameters=[entry]), "parameters[0].default", message)


@pytest.mark.parametrize(
    ("kind", "default"),
    [
        ("string", "x"),
        ("string", ""),
        ("number", 5),
        ("number", -2.5),
        ("boolean", False),
        ("object", {"a": 1}),
        ("object", []),
        ("number", None),
    ],
)
def test_parameter_default_of_its_type_is_kept(kind: str, default: Any) -> None:
    entry = {"name": "n", "type": kind, "default": default}
    assert RequestParameter.model_validate(entry).default == default


def test_unknown_parameter_type_is_refused() -> None:
    assert_refused(RequestParameter, {"name": "n", "type": "date"}, "type", "'string'")


BAD_OUTPUTS = [
    pytest.param({"path": "$.["}, "path", "is not valid JSONPath", id="jsonpath-broken"),
    pytest.param({"path": "$..[?("}, "path", "is not valid JSONPath", id="jsonpath-filter"),
    pytest.param({"path": "$.a b"}, "path", "is not valid JSONPath", id="jsonpath-space"),
    pytest.param({"path": "name"}, "path", "JSONPath ($...) or an XPath (/...)", id="bare-name"),
    pytest.param({"path": ".name"}, "path", "JSONPath ($...) or an XPath (/...)", id="dot-name"),
    pytest.param(
        {"source": "header"}, "path", "must be the name of the header", id="header-without-name"
    ),
    pytest.param(
        {"source": "header", "path": "X Rate"},
        "path",
        "must be the name of the header",
        id="header-name-with-space",
    ),
    pytest.param(
        {"source": "header", "path": "X-Rate:"},
        "path",
        "must be the name of the header",
        id="header-name-with-colon",
    ),
    pytest.param(
        {"source": "status", "path": "$.code"}, "path", "must be empty", id="status-with-path"
    ),
    pytest.param({"source": "cookie"}, "source", "'body'", id="unknown-source"),
    pytest.param({"target": "alert"}, "message", "an alert needs a message", id="alert-silent"),
    pytest.param(
        {"target": "alert", "message": "Balance ${balance"},
        "message",
        "never closed",
        id="alert-unclosed-placeholder",
    ),
    pytest.param({"target": "popup"}, "target", "'field' or 'alert'", id="unknown-target"),
    pytest.param({"field": "x" * 101}, "field", "at most 100", id="field-too-long"),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_OUTPUTS)
def test_bad_output_is_refused(changes: dict[str, Any], field: str, message: str) -> None:
    entry = {"name": "fullName"} | changes
    assert_refused(RequestWrite, request(outputs=[entry]), f"outputs[0].{field}", message)


def test_output_path_problem_names_the_path() -> None:
    """A field called `path` is the output's own, not the URL path of an HTTP request."""
    assert_refused(ResponseParameter, {"name": "a", "path": "name"}, "path", "JSONPath ($...)")


@pytest.mark.parametrize(
    "changes",
    [
        {"path": ""},
        {"path": "$"},
        {"path": "$.customer.name"},
        {"path": "$.items[0].id"},
        {"path": "$..email"},
        {"path": "$.items[?@.primary == true].id"},
        {"path": "  $.name  "},
        {"path": "/customer/name"},
        {"path": "//email/text()"},
        {"source": "header", "path": "X-RateLimit-Remaining"},
        {"source": "status", "type": "number"},
        {"target": "alert", "message": "Balance is ${balance}"},
        {"target": "field", "field": "customer_name"},
    ],
)
def test_good_output_is_kept(changes: dict[str, Any]) -> None:
    ResponseParameter.model_validate({"name": "fullName"} | changes)


BAD_OUTPUT_DEFAULTS = [
    ("string", False, 5, "is not a string"),
    ("string", False, ["a"], "is not a string"),
    ("number", False, "5", "is not a number"),
    ("number", False, True, "is not a number"),
    ("boolean", False, [True], "is not a boolean"),
    ("number", True, 5, "is not a list of number"),
    ("number", True, ["5"], "is not a list of number"),
    ("number", True, [1, True], "is not a list of number"),
    ("string", True, "a", "is not a list of string"),
    ("boolean", True, {"a": True}, "is not a list of boolean"),
]


@pytest.mark.parametrize(("kind", "array", "default", "message"), BAD_OUTPUT_DEFAULTS)
def test_output_default_must_match_its_type(
    kind: str, array: bool, default: Any, message: str
) -> None:
    entry = {"name": "n", "path": "$.n", "type": kind, "array": array, "default": default}
    assert_refused(ResponseParameter, entry, "default", message)


@pytest.mark.parametrize(
    ("kind", "array", "default"),
    [
        ("string", False, "unknown"),
        ("number", False, 0),
        ("boolean", False, False),
        ("object", False, {"a": 1}),
        ("object", False, [1]),
        ("number", True, [1, 2.5]),
        ("string", True, []),
        ("object", True, [{}, []]),
    ],
)
def test_output_default_of_its_type_is_kept(kind: str, array: bool, default: Any) -> None:
    entry = {"name": "n", "path": "$.n", "type": kind, "array": array, "default": default}
    assert ResponseParameter.model_validate(entry).default == default


# Timeout and success statuses


@pytest.mark.parametrize(
    ("timeout", "message"),
    [
        (0, "greater than 0"),
        (-1, "greater than 0"),
        (60.001, "less than or equal to 60"),
        (3600, "less than or equal to 60"),
        ("soon", "valid number"),
    ],
)
def test_timeout_is_more_than_0_and_at_most_60_seconds(timeout: Any, message: str) -> None:
    assert_refused(RequestWrite, request(timeout=timeout), "timeout", message)


@pytest.mark.parametrize("timeout", [0.001, 1, 10.5, 60, None])
def test_timeout_in_range_is_kept(timeout: float | None) -> None:
    assert RequestWrite.model_validate(request(timeout=timeout)).timeout == timeout


@pytest.mark.parametrize(
    ("statuses", "field", "message"),
    [
        ([99], "success_statuses[0]", "greater than or equal to 100"),
        ([200, 600], "success_statuses[1]", "less than or equal to 599"),
        ([0], "success_statuses[0]", "greater than or equal to 100"),
        (["ok"], "success_statuses[0]", "valid integer"),
        ([200] * 51, "success_statuses", "at most 50"),
    ],
)
def test_success_statuses_are_100_to_599(statuses: list[Any], field: str, message: str) -> None:
    assert_refused(RequestWrite, request(success_statuses=statuses), field, message)


def test_success_statuses_in_range_are_kept() -> None:
    data = RequestWrite.model_validate(request(success_statuses=[100, 204, 404, 599]))
    assert data.success_statuses == [100, 204, 404, 599]


# Unknown fields


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (ApiWrite, api(colour="red"), "colour"),
        (ApiWrite, api(baseURL="https://crm.example.com"), "baseURL"),
        (ApiWrite, api(headers=[{"name": "Accept", "valeu": "x"}]), "headers[0].valeu"),
        (ApiWrite, with_auth({"type": "none", "token": "t"}), "authorization.token"),
        (RequestWrite, request(colour="red"), "colour"),
        (RequestWrite, request(outputs=[{"name": "a", "jsonpath": "$.a"}]), "outputs[0].jsonpath"),
        (
            RequestWrite,
            request(parameters=[{"name": "customerId", "optional": True}]),
            "parameters[0].optional",
        ),
    ],
)
def test_unknown_field_is_refused(model: type[BaseModel], body: dict[str, Any], field: str) -> None:
    assert problems(model, body) == [FieldProblem(field, "is not a field of this object")]


# Placeholder parsing: hostile input


TEMPLATE_ALPHABET = st.sampled_from([*"${}.$ ab\\\n", "${", "$${", "}"])
hostile_text = st.one_of(st.text(), st.lists(TEMPLATE_ALPHABET).map("".join))

segment = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters=".{}$"),
        min_size=1,
        max_size=10,
    )
    .map(str.strip)
    .filter(bool)
)
placeholder = st.lists(segment, min_size=1, max_size=templates.MAX_PATH_DEPTH).map(
    lambda path: Placeholder(tuple(path))
)
literal = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="$"), min_size=1)


def render(parts: tuple[templates.Part, ...] | list[templates.Part]) -> str:
    """Write parts back as a template: literal `${` escaped, placeholders as `${a.b}`."""
    return "".join(
        str(part) if isinstance(part, Placeholder) else part.replace("${", "$${") for part in parts
    )


@given(hostile_text)
def test_any_text_parses_or_raises_template_error(text: str) -> None:
    try:
        parts = templates.parse(text)
    except TemplateError as error:
        refused = str(error)
    else:
        refused = ""
    if refused:
        assert "position" in refused  # the message says where
        return
    for part in parts:
        if isinstance(part, Placeholder):
            assert 1 <= len(part.path) <= templates.MAX_PATH_DEPTH
            assert all(seg and seg == seg.strip() for seg in part.path)
            assert not any(set(seg) & templates.FORBIDDEN_IN_PATH for seg in part.path)
        else:
            assert part
    # literals are merged: never two side by side
    assert not any(isinstance(a, str) and isinstance(b, str) for a, b in pairwise(parts))


@given(hostile_text)
def test_parsed_template_written_back_parses_the_same(text: str) -> None:
    try:
        parts = templates.parse(text)
    except TemplateError:
        return
    assert templates.parse(render(parts)) == parts


@given(hostile_text.filter(lambda text: "${" not in text))
def test_text_without_placeholders_is_one_literal(text: str) -> None:
    assert templates.parse(text) == ((text,) if text else ())
    assert templates.placeholders(text) == []


@given(hostile_text)
def test_escaped_text_is_literal(text: str) -> None:
    escaped = text.replace("${", "$${")
    assert templates.parse(escaped) == ((text,) if text else ())


@given(st.lists(st.one_of(literal, placeholder), max_size=8))
def test_built_template_parses_into_its_parts(parts: list[templates.Part]) -> None:
    expected: list[templates.Part] = []
    for part in parts:
        if isinstance(part, str) and expected and isinstance(expected[-1], str):
            expected[-1] += part
        else:
            expected.append(part)
    assert templates.parse(render(parts)) == tuple(expected)
