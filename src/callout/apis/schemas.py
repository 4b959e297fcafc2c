"""APIs and requests as the REST API, the CLI and the catalogue write and read them."""

import json
from datetime import datetime
from typing import Annotated, Any, Literal

import jsonpath_rfc9535
from defusedxml import DefusedXmlException, ElementTree
from pydantic import Field, StringConstraints, field_validator, model_validator

from callout.apis.api_types import ApiType
from callout.apis.authorization import Authorization, AuthorizationType, NoAuth
from callout.apis.fields import (
    IDENTIFIER,
    TOKEN,
    BaseUrl,
    BodyTemplate,
    Headers,
    Identifier,
    NameValue,
    PathTemplate,
    Template,
    Writable,
)
from callout.runtime import templates
from callout.schemas import Description, Id, Model, Name, field_error, name_key

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
ContentType = Literal["none", "json", "form", "multipart", "text", "xml"]
ValueType = Literal["string", "number", "boolean", "object"]

# Fields only a read gives; a write ignores them, so a read body can be saved as it is.
# Requests are written through their own routes, never through their API.
API_READ_ONLY = frozenset({"id", "system", "version", "created_at", "updated_at", "requests"})
REQUEST_READ_ONLY = frozenset({"id", "api_id", "url", "version", "created_at", "updated_at"})

# What a placeholder may start with besides a declared request parameter.
CONTEXT_ROOTS = frozenset({"loginData", "call", "account", "fields", "responses"})
MAX_TIMEOUT_SECONDS = 60.0

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict, list),
}


def _matches(value: Any, kind: str) -> bool:
    if kind == "number" and isinstance(value, bool):
        return False
    return isinstance(value, _PYTHON_TYPES[kind])


class RequestParameter(Model):
    """A declared input of a request, filled by the caller and placed through `${name}`."""

    name: Identifier
    type: ValueType = "string"
    required: bool = False
    default: Any = None
    description: Description = ""
    secret: bool = Field(
        default=False,
        description=(
            "The value is masked in traces, dry runs, alerts and errors (a webhook token); "
            "a string or a number."
        ),
    )

    @model_validator(mode="after")
    def _default_has_type(self) -> "RequestParameter":
        if self.name in CONTEXT_ROOTS:
            raise field_error("name", f"{self.name} is a context value; choose another name")
        if self.secret and self.type not in ("string", "number"):
            raise field_error(
                "secret", f"a secret parameter is a string or a number, not {self.type}"
            )
        if self.secret and self.default is not None:
            raise field_error(
                "default", "a secret parameter has no default: its value is stored in clear"
            )
        if self.default is not None and not _matches(self.default, self.type):
            raise field_error("default", f"is not {templates.a_kind(self.type)}")
        return self


class ResponseParameter(Model):
    """A declared output: read from the response into a data field or an alert.

    `path` is a JSONPath (RFC 9535, starting `$`) or an XPath (starting `/`) for the body,
    empty for the whole body, a header name for `header`, and empty for `status`.
    """

    name: Identifier
    source: Literal["body", "header", "status"] = "body"
    path: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""
    type: ValueType = "string"
    array: bool = Field(default=False, description="A list of `type` values.")
    default: Any = None
    target: Literal["field", "alert"] = "field"
    field: Annotated[
        str, StringConstraints(pattern=r"^$|" + IDENTIFIER.pattern, max_length=100)
    ] = Field(default="", description="Data field to fill; empty means the output's name.")
    message: Template = Field(default="", description="Alert text; `${...}` reads outputs.")
    description: Description = ""

    @model_validator(mode="after")
    def _rules(self) -> "ResponseParameter":
        if self.source == "body" and self.path:
            if self.path.startswith("$"):
                try:
                    jsonpath_rfc9535.compile(self.path)
                except jsonpath_rfc9535.JSONPathError as error:
                    raise field_error("path", f"is not valid JSONPath: {error}") from None
            elif not self.path.startswith("/"):
                raise field_error("path", "must be a JSONPath ($...) or an XPath (/...)")
        if self.source == "header" and not TOKEN.match(self.path):
            raise field_error("path", "must be the name of the header to read")
        if self.source == "status" and self.path:
            raise field_error("path", "must be empty: the status needs no path")
        if self.target == "alert" and not self.message:
            raise field_error("message", "an alert needs a message")
        if self.default is not None:
            values = self.default if self.array else [self.default]
            if not isinstance(values, list) or not all(_matches(v, self.type) for v in values):
                kind = f"list of {self.type}" if self.array else self.type
                raise field_error("default", f"is not {templates.a_kind(kind)}")
        return self


class SampleResponse(Model):
    """A response kept with the request, to try it without calling out (`mode=mock`)."""

    name: Name
    status: Annotated[int, Field(ge=100, le=599)] = 200
    headers: Annotated[list[NameValue], Field(max_length=50)] = []
    body: Annotated[str, StringConstraints(max_length=1_000_000)] = ""


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def unique_names(items: list[Any], what: str) -> list[Any]:
    seen: set[str] = set()
    for item in items:
        key = name_key(item.name)
        if key in seen:
            raise ValueError(f"{what} {item.name} is declared twice")
        seen.add(key)
    return items


class RequestFields(Model):
    """A request's settings and their rules: full URL = base URL + url_path + endpoint_path."""

    name: Name
    description: Description = ""
    method: Method = "GET"
    url_path: PathTemplate = ""
    endpoint_path: PathTemplate = ""
    query: Annotated[list[NameValue], Field(max_length=100)] = []
    headers: Headers = []
    content_type: ContentType = "none"
    body: BodyTemplate | None = None
    form: Annotated[list[NameValue], Field(max_length=200)] = []
    parameters: Annotated[list[RequestParameter], Field(max_length=100)] = []
    outputs: Annotated[list[ResponseParameter], Field(max_length=100)] = []
    timeout: Annotated[float, Field(gt=0, le=MAX_TIMEOUT_SECONDS)] | None = Field(
        default=None, description="Seconds for the whole call; empty means 10."
    )
    success_statuses: Annotated[
        list[Annotated[int, Field(ge=100, le=599)]], Field(max_length=50)
    ] = Field(default=[], description="Statuses that mean success; empty means any 2xx.")

    @field_validator("success_statuses")
    @classmethod
    def _unique_statuses(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("a status is listed twice")
        return value

    samples: Annotated[list[SampleResponse], Field(max_length=20)] = []

    @field_validator("parameters")
    @classmethod
    def _unique_parameters(cls, value: list[RequestParameter]) -> list[RequestParameter]:
        return unique_names(value, "parameter")

    @field_validator("outputs")
    @classmethod
    def _unique_outputs(cls, value: list[ResponseParameter]) -> list[ResponseParameter]:
        return unique_names(value, "output")

    @field_validator("samples")
    @classmethod
    def _unique_samples(cls, value: list[SampleResponse]) -> list[SampleResponse]:
        return unique_names(value, "sample")

    @model_validator(mode="after")
    def _body_fits_content_type(self) -> "RequestFields":
        uses_form = self.content_type in ("form", "multipart")
        if self.form and not uses_form:
            raise field_error("form", "form fields need content_type form or multipart")
        if self.body is None:
            return self
        if uses_form or self.content_type == "none":
            raise field_error(
                "body", f"needs content_type json, text or xml, not {self.content_type}"
            )
        if self.content_type == "json":
            try:
                json.loads(self.body, parse_constant=_refuse_constant)
            except ValueError as error:
                raise field_error("body", f"is not valid JSON: {error}") from None
        if self.content_type == "xml":
            try:
                ElementTree.fromstring(self.body)
            except DefusedXmlException:
                raise field_error("body", "must not declare a DTD or entities") from None
            except ElementTree.ParseError as error:
                raise field_error("body", f"is not well-formed XML: {error}") from None
        return self

    @model_validator(mode="after")
    def _placeholders_are_known(self) -> "RequestFields":
        known = CONTEXT_ROOTS | {p.name for p in self.parameters}
        roots = ", ".join(sorted(CONTEXT_ROOTS))
        for loc, text, secret in self._templates():
            for placeholder in templates.placeholders(text):
                if placeholder.root not in known:
                    # A secret header's value is never quoted back, not even in part.
                    what = "a placeholder" if secret else str(placeholder)
                    raise field_error(
                        loc, f"{what} is neither a declared parameter nor a context value ({roots})"
                    )
        return self

    def _templates(self) -> list[tuple[tuple[str | int, ...], str, bool]]:
        """Every template with where it is and whether it is secret."""
        found: list[tuple[tuple[str | int, ...], str, bool]] = [
            (("url_path",), self.url_path, False),
            (("endpoint_path",), self.endpoint_path, False),
        ]
        found += [(("query", i, "value"), q.value, False) for i, q in enumerate(self.query)]
        found += [(("headers", i, "value"), h.value, h.secret) for i, h in enumerate(self.headers)]
        found += [(("form", i, "value"), f.value, False) for i, f in enumerate(self.form)]
        if self.body:
            found.append((("body",), self.body, False))
        return found


class RequestWrite(RequestFields, Writable):
    read_only = REQUEST_READ_ONLY


class RequestRead(RequestFields):
    id: int
    api_id: int
    url: str = Field(description="The full URL template: base URL, url_path, endpoint_path.")
    version: int
    created_at: datetime
    updated_at: datetime


class ApiSettings(Model):
    """An API's settings and their rules, apart from its service: stored, an API names its
    service by id; in a file (interchange), by name."""

    name: Name
    description: Description = ""
    base_url: BaseUrl
    type: ApiType = "api"
    headers: Headers = []
    authorization: Authorization = Field(default_factory=NoAuth)

    @model_validator(mode="after")
    def _livevox_needs_livevox_url(self) -> "ApiSettings":
        if self.authorization.type == "livevox" and "livevox" not in self.base_url.lower():
            raise field_error(
                ("authorization", "type"),
                'LiveVox is offered only when the base URL contains "livevox"',
            )
        return self


class ApiFields(ApiSettings):
    """An API's settings as stored."""

    service_id: Id | None = None


class ApiWrite(ApiFields, Writable):
    read_only = API_READ_ONLY


class ApiSummary(Model):
    """One line of the API list."""

    id: int
    name: str
    description: str
    base_url: str
    type: ApiType
    service_id: int | None
    authorization_type: AuthorizationType
    system: bool = Field(description="Shipped with Callout: read-only, copyable.")
    version: int
    updated_at: datetime


class ApiRead(ApiFields):
    id: int
    system: bool
    version: int
    created_at: datetime
    updated_at: datetime
    requests: list[RequestRead]


class CopyApi(Model):
    name: Name | None = Field(default=None, description='Empty means "Copy of NAME", made unique.')

    @field_validator("name", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class Blank(Model):
    """The body of Add API and Add Request: empty, or none at all. Callout picks every
    value; a field sent is refused rather than silently ignored."""


class CopyName(Model):
    name: str
