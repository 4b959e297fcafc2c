"""Field types shared by APIs and requests: names, URLs, headers, name/value lists, templates."""

import ipaddress
import re
import socket
import unicodedata
from typing import Annotated, Any, ClassVar
from urllib.parse import unquote, urlsplit

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from callout.runtime import templates
from callout.runtime.credential_headers import CREDENTIAL_HEADERS
from callout.runtime.guard import HOST_NAME
from callout.schemas import CONTROL, MASK, Model, field_error, name_key, no_control

# RFC 9110 section 5.5: a field value may hold spaces and tabs, no other control character.
FIELD_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 9110 section 5.6.2: token = 1*tchar
TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# An IPv6 address as a URL's host gives it, brackets off (an IPv4 one is a host name's shape).
IPV6_HOST = re.compile(r"[0-9a-f.]*:[0-9a-f:.]*")
# Headers the HTTP client owns: letting a client set them would let it frame or re-target
# the request behind the guard's back.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "expect",
        "proxy-connection",
    }
)


def _template(value: str) -> str:
    try:
        templates.parse(value)
    except templates.TemplateError as error:
        raise ValueError(str(error)) from None
    return value


Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=IDENTIFIER.pattern, max_length=64)
]
Template = Annotated[str, StringConstraints(max_length=8192), AfterValidator(_template)]
BodyTemplate = Annotated[str, StringConstraints(max_length=1_000_000), AfterValidator(_template)]


def _field_value(value: str) -> str:
    if FIELD_CONTROL.search(value):
        raise ValueError("must not contain control characters (CR, LF, NUL, ...)")
    return value


LineTemplate = Annotated[
    str, StringConstraints(max_length=8192), AfterValidator(_field_value), AfterValidator(_template)
]


def check_http_url(value: str, *, query: bool = True) -> str:
    """An absolute http(s) URL with a host and no credentials, spaces or control characters."""
    value = value.strip()
    if CONTROL.search(value) or " " in value:
        raise ValueError("must not contain spaces or control characters")
    if "\\" in value:  # parsers disagree on where a host ends at a backslash
        raise ValueError("must not contain backslashes")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an absolute http:// or https:// URL")
    host = parts.hostname
    if not host or not (HOST_NAME.fullmatch(host) or IPV6_HOST.fullmatch(host)):
        raise ValueError("must name a host: a domain name or an IP address")
    if _looks_like_ip(host) and not _is_ip(host):
        raise ValueError(
            "must name its IP address plainly: four decimal numbers (203.0.113.7) or IPv6 "
            "in brackets, not a decimal, octal or hex spelling"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold credentials; use the authorization instead")
    if parts.fragment or value.endswith("#"):
        raise ValueError("must not have a #fragment")
    if not query and (parts.query or value.endswith("?")):
        raise ValueError("must not have a query; put query parameters on the request")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ValueError("has an invalid port") from None
    return value


def _looks_like_ip(host: str) -> bool:
    """Whether resolvers read `host` as an address: 1.2.3.4, but also 0x7f.1, 017700000001,
    and their fullwidth forms, which IDNA maps to these before resolving."""
    host = unicodedata.normalize("NFKC", host)
    if ":" in host or host.replace(".", "").isdigit():
        return True
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_base_url(value: str) -> str:
    """The fixed start of every request's URL: no placeholders, no query."""
    if "${" in value:
        raise ValueError("must be fixed: put placeholders in the request's paths")
    return check_http_url(value, query=False)


BaseUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(check_base_url)]


def check_path(value: str) -> str:
    """A relative path template: no query, fragment, dot segments or backslashes."""
    no_control(value)
    for char, where in (("?", "a query (use query parameters)"), ("#", "a fragment")):
        if char in value:
            raise ValueError(f"must not hold {where}")
    if "\\" in value:
        raise ValueError("must not hold backslashes")
    if "://" in value or value.startswith("//"):
        raise ValueError("must be relative to the API's base URL")
    # Decoded first: HTTP clients and servers normalise `%2e%2e` to `..` as well.
    decoded = unquote(value)
    if "\\" in decoded:
        raise ValueError("must not hold backslashes, encoded or not")
    if any(segment in (".", "..") for segment in decoded.split("/")):
        raise ValueError("must not hold '.' or '..' segments, encoded or not")
    return _template(value)


PathTemplate = Annotated[str, StringConstraints(max_length=2048), AfterValidator(check_path)]


class NameValue(Model):
    """One entry of an ordered list: a query parameter, form field or extra token parameter."""

    name: Annotated[
        str, StringConstraints(min_length=1, max_length=200), AfterValidator(no_control)
    ]
    value: Template = ""
    enabled: bool = True


class Header(Model):
    """A header sent with every request (API) or one request; `secret` values are encrypted.

    A credential header (the runtime's table) must be secret unless its value is placeholders
    only, after a scheme (`credential_free`). Stored rows are read with the context
    `{"stored": True}`: one written before a name joined the table still loads, and a write
    must then mark it secret.
    """

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    value: Annotated[LineTemplate, Field(repr=False)] = ""
    enabled: bool = True
    secret: bool = False

    @field_validator("name", mode="before")
    @classmethod
    def _trim(cls, value: Any) -> Any:
        """Spaces around a name are trimmed; a CR or LF is not, so the token rule refuses it."""
        return value.strip(" \t") if isinstance(value, str) else value

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> "Header":
        if not TOKEN.match(self.name):
            raise field_error(  # not quoted: inputs are never echoed
                "name", "is not an RFC 9110 token (letters, digits and !#$%&'*+-.^_`|~)"
            )
        if name_key(self.name) in RESERVED_HEADERS:
            raise field_error("name", f"{self.name} is set by Callout's HTTP client, not by hand")
        if name_key(self.name) in CREDENTIAL_HEADERS and not self.secret:
            stored = isinstance(info.context, dict) and info.context.get("stored")
            if not stored and not credential_free(self.value):
                raise field_error(
                    "secret", f"the {self.name} header carries credentials: mark it secret"
                )
        return self

    @field_serializer("value")
    def _mask(self, value: str) -> str:
        """A secret value shows as the mask; none stored, as nothing."""
        return MASK if self.secret and value else value


# Authentication schemes (RFC 9110 section 11.1) a credential may start with: words, never
# secrets. Registered ones and the common unregistered ones APIs document.
AUTH_SCHEMES = re.compile(
    r"^(basic|bearer|digest|dpop|negotiate|oauth|token|apikey|api-key|key|ssws) +",
    re.IGNORECASE,
)


def credential_free(value: str) -> bool:
    """Whether a credential header's value stores no credential: nothing but placeholders,
    after an authentication scheme (`${accessToken}`, `Bearer ${loginData.token}`). The
    credential then comes with each call, and nothing secret is stored."""
    parts = templates.parse(AUTH_SCHEMES.sub("", value, count=1))
    return bool(parts) and all(isinstance(part, templates.Placeholder) for part in parts)


def check_unique_headers(headers: list[Header]) -> list[Header]:
    """Each name once, ignoring case; a repeat is named by where it is, not quoted."""
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        first = seen.setdefault(name_key(header.name), index)
        if first != index:
            raise ValueError(f"[{index}] has the name of [{first}]; names ignore case")
    return headers


Headers = Annotated[list[Header], Field(max_length=100), AfterValidator(check_unique_headers)]


class Writable(Model):
    """Base of a schema that takes a read body written back as it is: the fields only a
    read gives (`read_only`: ids, versions, timestamps; and computed `has_*` flags) are
    dropped first, since a write does not set them."""

    read_only: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            dropped = cls.read_only | cls.model_computed_fields.keys()
            return {k: v for k, v in data.items() if k not in dropped}
        return data
