"""Stored APIs and requests compiled into the runtime's plans.

The runtime knows nothing of the schemas an API is stored and edited in: it takes a plan of
its own frozen values. This is where one becomes the other, with the secrets in the clear,
once per request version (plans.py caches the result).
"""

import json
from typing import assert_never
from urllib.parse import urlsplit

from pydantic import SecretStr

from callout.apis.authorization import (
    BasicAuth,
    BearerAuth,
    LiveVoxAuth,
    NoAuth,
    OAuth1Auth,
    OAuth2Auth,
)
from callout.apis.authorization import Scheme as StoredScheme
from callout.apis.definitions import Unset
from callout.apis.schemas import ApiFields, RequestFields
from callout.runtime import templates
from callout.runtime.auth.base import Scheme
from callout.runtime.auth.basic import Basic
from callout.runtime.auth.bearer import Bearer
from callout.runtime.auth.livevox import LiveVox
from callout.runtime.auth.none import NoAuthorization
from callout.runtime.auth.oauth1 import OAuth1
from callout.runtime.auth.oauth2.authorization_code import AuthorizationCode
from callout.runtime.auth.oauth2.client_credentials import ClientCredentials
from callout.runtime.auth.oauth2.grant import Grant
from callout.runtime.auth.oauth2.password import Password
from callout.runtime.auth.oauth2.refresh_token import RefreshToken
from callout.runtime.auth.oauth2.scheme import OAuth2
from callout.runtime.auth.oauth2.token_endpoint import TokenEndpoint
from callout.runtime.plan import (
    HeaderTemplate,
    Output,
    Parameter,
    Plan,
    PlanKey,
    Sample,
    join_url,
)
from callout.runtime.templates import JsonTemplate, Part
from callout.runtime.trace import Redactor
from callout.schemas import name_key

DEFAULT_TIMEOUT = 10.0
CONTENT_TYPES = {
    "json": "application/json",
    "form": "application/x-www-form-urlencoded",
    "text": "text/plain; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
}


def compile_plan(
    key: PlanKey, api: ApiFields, request: RequestFields, *, unset: Unset = Unset()
) -> Plan:
    """Merge an API and its request, with their secrets in the clear, into a plan. `unset`
    names the secret headers with no value stored (none: every one has its value, as in a
    definition written out in full)."""
    url = join_url(api.base_url, request.url_path, request.endpoint_path)
    split = urlsplit(url)
    merged: dict[str, HeaderTemplate] = {}
    missing: dict[str, str] = {}  # secret headers sent with no value stored, by name key
    for headers, unset_here in ((api.headers, unset.api), (request.headers, unset.request)):
        for header in headers:  # a request's header overrides its API's
            if header.enabled:
                name = header.name.lower()
                merged[name] = HeaderTemplate.of(header.name, header.value, header.secret)
                if header.secret and name_key(header.name) in unset_here:
                    missing[name] = header.name
                else:
                    missing.pop(name, None)
    content_type = CONTENT_TYPES.get(request.content_type)
    if content_type and "content-type" not in merged:
        merged["content-type"] = HeaderTemplate.of("Content-Type", content_type, False)
    authorization = compile_authorization(api)
    fixed = authorization.fixed()
    if fixed is not None:  # the scheme's header wins over one set by hand
        merged["authorization"] = HeaderTemplate("Authorization", (fixed,), True, fixed)
        missing.pop("authorization", None)
    secrets = {h.value for h in [*api.headers, *request.headers] if h.secret and h.value}
    secrets.update(_stored_secrets(api.authorization))
    # What goes on the wire encoded (Basic's base64), where an upstream may echo it.
    secrets.update(authorization.encoded_secrets())
    return Plan(
        key=key,
        api_name=api.name,
        request_name=request.name,
        api_type=api.type,
        method=request.method,
        origin=f"{split.scheme}://{split.netloc}",
        base_path=urlsplit(api.base_url).path.rstrip("/"),
        path=templates.parse(split.path),
        query=tuple(
            (templates.form_encoded(q.name), templates.parse(q.value))
            for q in request.query
            if q.enabled
        ),
        headers=tuple(merged.values()),
        content_type=request.content_type,
        body=_body(request),
        form=tuple((f.name, templates.parse(f.value)) for f in request.form if f.enabled),
        parameters=tuple(
            Parameter(p.name, p.type, p.required, p.default, p.secret) for p in request.parameters
        ),
        declared=frozenset(p.name for p in request.parameters),
        secret_parameters=tuple(p.name for p in request.parameters if p.secret),
        secret_body=_secret_body(request),
        outputs=tuple(
            Output.of(
                o.name,
                o.source,
                o.path,
                o.type,
                o.array,
                o.default,
                (o.field or o.name) if o.target == "field" else None,
                o.message,
            )
            for o in request.outputs
        ),
        timeout=request.timeout or DEFAULT_TIMEOUT,
        success=frozenset(request.success_statuses) or None,
        follow_redirects=not any(300 <= s < 400 for s in request.success_statuses),
        authorization=authorization,
        authorized=fixed is not None or authorization.type == NoAuthorization.type,
        unset=_unset(list(missing.values())),
        redactor=Redactor(secrets, [h.name for h in merged.values() if h.secret]),
        samples=tuple(
            Sample(s.name, s.status, tuple((h.name, h.value) for h in s.headers), s.body.encode())
            for s in request.samples
        ),
    )


def _unset(names: list[str]) -> str | None:
    """Why a call cannot be sent while secret headers have no value stored."""
    if not names:
        return None
    if len(names) == 1:
        return f"the secret header {names[0]} has no value stored: enter it before calling"
    listed = f"{', '.join(names[:-1])} and {names[-1]}"
    return f"the secret headers {listed} have no value stored: enter them before calling"


def compile_authorization(api: ApiFields) -> Scheme:
    """The runtime's scheme for an API's stored authorization, secrets in the clear."""
    match api.authorization:
        case NoAuth():
            return NoAuthorization()
        case BasicAuth() as auth:
            return Basic(auth.username, _clear(auth.password))
        case BearerAuth() as auth:
            return Bearer(_clear(auth.token))
        case OAuth1Auth() as auth:
            return OAuth1(
                auth.consumer_key,
                consumer_secret=_clear(auth.consumer_secret),
                token=_clear(auth.token),
                token_secret=_clear(auth.token_secret),
                signature_method=auth.signature_method,
                rsa_private_key=_clear(auth.rsa_private_key),
                realm=auth.realm,
                placement=auth.placement,
            )
        case OAuth2Auth() as auth:
            return compile_oauth2(auth)
        case LiveVoxAuth() as auth:
            return LiveVox(
                api.base_url,
                access_token=_clear(auth.access_token),
                client_name=auth.client_name,
                user_name=auth.user_name,
                password=_clear(auth.password),
                agent=auth.agent,
            )
    assert_never(api.authorization)


def compile_oauth2(auth: OAuth2Auth) -> OAuth2:
    """OAuth 2.0's scheme: the token endpoint, the grant and how the token is sent."""
    endpoint = TokenEndpoint(
        auth.token_url,
        auth.client_id,
        client_secret=_clear(auth.client_secret),
        client_auth=auth.client_auth,
        scope=auth.scope,
        audience=auth.audience,
        extra_parameters=tuple((p.name, p.value) for p in auth.extra_token_params if p.enabled),
    )
    grant: Grant
    if auth.grant == "client_credentials":
        grant = ClientCredentials()
    elif auth.grant == "password":
        grant = Password(auth.username, _clear(auth.password))
    elif auth.grant == "authorization_code":
        grant = AuthorizationCode(auth.authorization_url)
    else:
        grant = RefreshToken()
    return OAuth2(
        endpoint,
        grant,
        refresh_token=_clear(auth.refresh_token),
        placement=auth.placement,
        header_prefix=auth.header_prefix,
        query_parameter=auth.query_parameter,
        expiry_signal_path=auth.expiry_signal_path,
        expiry_signal_value=auth.expiry_signal_value,
    )


def _stored_secrets(auth: StoredScheme) -> list[str]:
    """The authorization's stored secrets that hold a value."""
    values = [_clear(getattr(auth, name)) for name in auth.secret_fields()]
    return [value for value in values if value]


def _clear(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _body(request: RequestFields) -> JsonTemplate | tuple[Part, ...] | None:
    if request.body is None:
        return None
    if request.content_type == "json":
        return templates.compile_json(json.loads(request.body))
    return templates.parse(request.body)


def _secret_body(request: RequestFields) -> bool:
    """Whether the body or a form field places a secret parameter."""
    secret = {p.name for p in request.parameters if p.secret}
    texts = [request.body or "", *(f.value for f in request.form if f.enabled)]
    return any(p.root in secret for text in texts for p in templates.placeholders(text))
