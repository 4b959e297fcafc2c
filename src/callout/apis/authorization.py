"""How an API proves who it is: one schema per scheme, joined in a discriminated union.

Secret fields are `SecretStr`: they print as a mask and read back as the mask plus
`has_<field>: true`, as the OpenAPI document's read schemas say. Writing the mask back keeps
the stored value. Adding a scheme is one class here and one member of `Authorization`.
"""

from typing import Annotated, Any, Literal

import jsonpath_rfc9535
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    SecretStr,
    StringConstraints,
    WithJsonSchema,
    computed_field,
    model_validator,
)

from callout.apis.fields import TOKEN, LineTemplate, NameValue, Writable, check_http_url
from callout.runtime import templates
from callout.schemas import CONTROL, MASK, field_error, no_control

Text = Annotated[str, StringConstraints(max_length=500), AfterValidator(no_control)]
RequiredText = Annotated[
    str, StringConstraints(min_length=1, max_length=500), AfterValidator(no_control)
]


def _one_line(value: SecretStr | None) -> SecretStr | None:
    """A token, session or password goes into a header line (or beside one): a control
    character would end the line, so it is refused when saved, not when a call is sent."""
    if value is not None and CONTROL.search(value.get_secret_value()):
        raise ValueError("must be one line, without control characters (CR, LF, NUL, ...)")
    return value


# A read gives the mask, or null when none is stored; the mask written back keeps the
# stored value.
_READ_AS_MASK = WithJsonSchema(
    {"anyOf": [{"type": "string", "const": MASK}, {"type": "null"}]}, mode="serialization"
)
# A stored secret: masked when printed, one line of at most 16 KiB.
Secret = Annotated[
    SecretStr | None, Field(max_length=16_384), AfterValidator(_one_line), _READ_AS_MASK
]
# An RSA private key is the one secret of several lines (PEM).
PemSecret = Annotated[SecretStr | None, Field(max_length=16_384), _READ_AS_MASK]


HttpUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(check_http_url)]


class Scheme(Writable):
    """Base of every scheme: lists its secret fields and which ones a call cannot do without."""

    type: str

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        return tuple(
            name
            for name, info in cls.model_fields.items()
            if info.annotation in (SecretStr, SecretStr | None)
        )

    def required_secrets(self) -> tuple[str, ...]:
        """Secret fields that must be given or already stored for this configuration."""
        return ()


def _has(field: str) -> Any:
    """A read's `has_<field>` flag: whether the secret `field` is stored. (Assigned without
    an annotation, which the pydantic mypy plugin takes for an untyped field: hence the
    ignore beside each one.)"""

    def stored(self: Scheme) -> bool:
        return getattr(self, field) is not None

    return computed_field(property(stored))


class NoAuth(Scheme):
    type: Literal["none"] = "none"


class LiveVoxAuth(Scheme):
    """The platform's own session: relayed from the agent's login, or obtained by logging in."""

    type: Literal["livevox"] = "livevox"
    access_token: Secret = None
    client_name: Text = ""
    user_name: Text = ""
    password: Secret = None
    agent: bool = False

    has_access_token = _has("access_token")  # type: ignore[pydantic-field]
    has_password = _has("password")  # type: ignore[pydantic-field]


class BasicAuth(Scheme):
    """RFC 7617 Basic; credentials are sent as UTF-8."""

    type: Literal["basic"] = "basic"
    username: RequiredText
    password: Secret = None

    has_password = _has("password")  # type: ignore[pydantic-field]

    @model_validator(mode="after")
    def _no_colon(self) -> "BasicAuth":
        if ":" in self.username:
            raise field_error("username", "must not contain ':' (RFC 7617 section 2)")
        return self


class BearerAuth(Scheme):
    """RFC 6750 bearer token; the token may itself be a `${...}` placeholder."""

    type: Literal["bearer"] = "bearer"
    token: Secret = None

    has_token = _has("token")  # type: ignore[pydantic-field]

    def required_secrets(self) -> tuple[str, ...]:
        return ("token",)

    @model_validator(mode="after")
    def _token_is_a_template(self) -> "BearerAuth":
        if self.token is not None:
            try:
                templates.parse(self.token.get_secret_value())
            except templates.TemplateError as error:  # says where, never what
                raise field_error("token", str(error)) from None
        return self


SignatureMethod = Literal["HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT"]


class OAuth1Auth(Scheme):
    """OAuth 1.0a request signing (RFC 5849)."""

    type: Literal["oauth1"] = "oauth1"
    consumer_key: RequiredText
    consumer_secret: Secret = None
    token: Secret = None
    token_secret: Secret = None
    signature_method: SignatureMethod = "HMAC-SHA1"
    rsa_private_key: PemSecret = None
    realm: Annotated[Text, StringConstraints(pattern=r'^[^"\\]*$')] = ""
    placement: Literal["header", "query"] = "header"

    has_consumer_secret = _has("consumer_secret")  # type: ignore[pydantic-field]
    has_token = _has("token")  # type: ignore[pydantic-field]
    has_token_secret = _has("token_secret")  # type: ignore[pydantic-field]
    has_rsa_private_key = _has("rsa_private_key")  # type: ignore[pydantic-field]

    @model_validator(mode="after")
    def _key_matches_method(self) -> "OAuth1Auth":
        if self.rsa_private_key is None:
            return self
        if self.signature_method != "RSA-SHA1":
            raise field_error("rsa_private_key", "is used only with signature_method RSA-SHA1")
        pem = self.rsa_private_key.get_secret_value()
        if pem != MASK:
            try:
                key = load_pem_private_key(pem.encode(), password=None)
            except (ValueError, TypeError):
                key = None
            if not isinstance(key, RSAPrivateKey):
                raise field_error("rsa_private_key", "must be an unencrypted PEM RSA private key")
        return self

    def required_secrets(self) -> tuple[str, ...]:
        if self.signature_method == "RSA-SHA1":
            return ("rsa_private_key",)
        return ("consumer_secret",)


Grant = Literal["client_credentials", "password", "authorization_code", "refresh_token"]


class OAuth2Auth(Scheme):
    """OAuth 2.0 (RFC 6749) access tokens, obtained and refreshed by Callout."""

    type: Literal["oauth2"] = "oauth2"
    grant: Grant = "client_credentials"
    token_url: HttpUrl
    authorization_url: HttpUrl | None = None
    client_id: RequiredText
    client_secret: Secret = None
    client_auth: Literal["basic", "post"] = Field(
        default="basic", description="client_secret_basic or client_secret_post (RFC 6749 2.3.1)"
    )
    scope: Text = ""
    audience: Text = ""
    extra_token_params: Annotated[list[NameValue], Field(max_length=50)] = []
    username: Text = ""
    password: Secret = None
    refresh_token: Secret = None
    placement: Literal["header", "query"] = "header"
    header_prefix: Annotated[LineTemplate, StringConstraints(max_length=50)] = "Bearer"
    query_parameter: Annotated[str, StringConstraints(pattern=TOKEN.pattern, max_length=100)] = (
        "access_token"
    )
    pkce: bool = Field(default=True, description="authorization_code: send a PKCE challenge.")
    expiry_signal_path: Annotated[str, StringConstraints(max_length=500)] = Field(
        default="",
        description="A JSONPath into a 200 body that says the token has expired (some APIs "
        "answer 200 with an error body), e.g. `$.error.code`; empty: only a 401 says so.",
    )
    expiry_signal_value: Text = Field(
        default="", description="The value at `expiry_signal_path` that means expired."
    )

    has_client_secret = _has("client_secret")  # type: ignore[pydantic-field]
    has_password = _has("password")  # type: ignore[pydantic-field]
    has_refresh_token = _has("refresh_token")  # type: ignore[pydantic-field]

    @model_validator(mode="after")
    def _grant_needs(self) -> "OAuth2Auth":
        if self.expiry_signal_path:
            try:
                jsonpath_rfc9535.compile(self.expiry_signal_path)
            except jsonpath_rfc9535.JSONPathError as error:
                raise field_error("expiry_signal_path", f"is not valid JSONPath: {error}") from None
        if self.grant == "password" and not self.username:
            raise field_error("username", "the password grant needs a username")
        if self.grant == "authorization_code" and not self.authorization_url:
            raise field_error("authorization_url", "the authorization_code grant needs one")
        return self

    def required_secrets(self) -> tuple[str, ...]:
        # RFC 6749 section 4.4: client credentials are nothing without the client's secret.
        return {
            "client_credentials": ("client_secret",),
            "password": ("password",),
            "refresh_token": ("refresh_token",),
        }.get(self.grant, ())


Authorization = Annotated[
    NoAuth | LiveVoxAuth | BasicAuth | BearerAuth | OAuth1Auth | OAuth2Auth,
    Discriminator("type"),
]
SCHEMES: dict[str, type[Scheme]] = {
    scheme.model_fields["type"].default: scheme
    for scheme in (NoAuth, LiveVoxAuth, BasicAuth, BearerAuth, OAuth1Auth, OAuth2Auth)
}
AuthorizationType = Literal["none", "livevox", "basic", "bearer", "oauth1", "oauth2"]
