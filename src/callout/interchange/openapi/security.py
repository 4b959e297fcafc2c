"""An OpenAPI document's security schemes as the API's authorization and secret headers.

A Callout API authorizes one way for all its requests, while OpenAPI lets each operation
list alternatives (`security: [{apiKey: []}, {oauth: [read]}]`). Of the requirements
Callout can carry, the one most operations accept wins (the first on a tie: the
document's own `security`, then the operations' in order; when nothing asks for any, the
schemes as defined). Each other scheme gets a note saying why it was not taken, and each
operation that does not accept the one chosen, a note saying what it asks for.

    http basic            -> basic, username a placeholder   authorization.password
    http bearer           -> bearer                          authorization.token
    oauth2 clientCredentials / authorizationCode / password  authorization.client_secret
                          -> oauth2, that grant, its URLs and the scopes asked for
    apiKey in a header    -> a secret header of the API      headers.<name>
    apiKey in the query or a cookie, openIdConnect, mutualTLS, other http schemes: notes

An OpenAPI file holds no secrets: each one the authorization needs is named in the
document's `missing_secrets`, as `apis/secret_fields.py` names them.
"""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from pydantic import ValidationError

from callout.apis.authorization import SCHEMES
from callout.apis.fields import Header
from callout.apis.secret_fields import header_field
from callout.interchange.openapi.document import (
    Document,
    SecurityScheme,
    Unusable,
    entries,
    first_problem,
)

# What an import puts where a scheme needs a value the document cannot give.
PLACEHOLDER = "change-me"
MAX_SCOPE = 500
# oauth2 flows in the order they are preferred: Callout calls on its own, so a grant that
# needs no user comes first.
FLOWS = (
    ("clientCredentials", "client_credentials"),
    ("authorizationCode", "authorization_code"),
    ("password", "password"),
)

Requirement = dict[str, list[str]]


@dataclass
class Carried:
    """One scheme as Callout holds it: an authorization or a secret header."""

    authorization: dict[str, Any] | None = None
    header: dict[str, Any] | None = None
    secrets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Security:
    """What the import sets on the API, and its notes as (where, message)."""

    authorization: dict[str, Any] = field(default_factory=lambda: {"type": "none"})
    headers: list[dict[str, Any]] = field(default_factory=list)
    missing_secrets: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


def security_of(
    document: Document,
    base_url: str,
    top: list[Requirement] | None,
    operations: list[tuple[str, list[Requirement] | None]],
) -> Security:
    """The API's authorization, from the document's requirements (`top`) and each
    operation's ((where, requirements), None where it has none of its own)."""
    asked = [(where, top if own is None else own) for where, own in operations]
    order = [*(top or []), *(r for _, requirements in asked for r in requirements or [])]
    components = document.data.get("components")
    defined = dict(
        entries(components.get("securitySchemes") if isinstance(components, dict) else None)
    )
    if not any(order):
        order = [{name: []} for name in defined]
    scopes: dict[str, list[str]] = {}
    for requirement in order:
        for name, wanted in requirement.items():
            known = scopes.setdefault(name, [])
            known += [scope for scope in wanted if scope not in known]

    carried: dict[str, Carried | str] = {}
    for name in scopes:
        where = f"components.securitySchemes.{name}"
        if name not in defined:
            carried[name] = "is used but not defined in components.securitySchemes"
            continue
        try:
            scheme = document.part(defined[name], document.models.security_scheme, where)
        except Unusable as unusable:
            carried[name] = f"{unusable.where}: {unusable.message}"
            continue
        carried[name] = _carry(scheme, scopes[name], base_url)

    security = Security()
    chosen = _choose(order, asked, carried)
    for name, outcome in carried.items():
        where = f"components.securitySchemes.{name}"
        if isinstance(outcome, str):
            security.notes.append((where, f"not carried: {outcome}"))
        elif name not in chosen:
            security.notes.append(
                (where, f"not carried: the API authorizes with {' and '.join(chosen) or 'none'}")
            )
        else:
            if outcome.authorization is not None:
                security.authorization = outcome.authorization
            if outcome.header is not None:
                security.headers.append(outcome.header)
            security.missing_secrets += outcome.secrets
            security.notes += [(where, note) for note in outcome.notes]
    if chosen:
        for where, requirements in asked:
            if requirements and not any(set(r) <= set(chosen) for r in requirements):
                alternatives = " or ".join(" and ".join(r) for r in requirements)
                security.notes.append(
                    (
                        where,
                        f"asks for {alternatives}; the API authorizes with {' and '.join(chosen)}",
                    )
                )
    return security


def _choose(
    order: list[Requirement],
    asked: list[tuple[str, list[Requirement] | None]],
    carried: dict[str, Carried | str],
) -> list[str]:
    """The schemes of the requirement that most operations accept, among those Callout
    can carry whole (every scheme in it, at most one authorization); the first such
    requirement on a tie."""
    best: list[str] = []
    best_count = -1
    for requirement in order:
        outcomes = [carried[name] for name in requirement]
        if not outcomes or any(isinstance(o, str) for o in outcomes):
            continue
        if sum(1 for o in outcomes if isinstance(o, Carried) and o.authorization) > 1:
            continue
        count = sum(
            1
            for _, requirements in asked
            if any(set(r) == set(requirement) for r in requirements or [])
        )
        if count > best_count:
            best, best_count = list(requirement), count
    return best


def _carry(scheme: SecurityScheme, scopes: list[str], base_url: str) -> Carried | str:
    """One scheme as Callout holds it, or why it cannot be."""
    kind = scheme.type
    if kind == "http":
        return _http(scheme)
    if kind == "apiKey":
        return _api_key(scheme)
    if kind == "oauth2":
        return _oauth2(scheme, scopes, base_url)
    if kind == "openIdConnect":
        return (
            "OpenID Connect discovery is not read; set up oauth2 with the token URL that "
            f"{scheme.openIdConnectUrl or 'its discovery document'} gives"
        )
    if kind == "mutualTLS":
        return "mutual TLS (a client certificate) is not an authorization Callout sends"
    return f"type {kind} is not an OpenAPI security scheme type"


def _http(scheme: SecurityScheme) -> Carried | str:
    name = (scheme.scheme or "").lower()
    if name == "basic":
        return Carried(
            authorization={"type": "basic", "username": PLACEHOLDER},
            secrets=["authorization.password"],
            notes=[
                f"basic authorization: the username is a placeholder ({PLACEHOLDER}); enter "
                "the username and the password in the API window"
            ],
        )
    if name == "bearer":
        return Carried(authorization={"type": "bearer"}, secrets=["authorization.token"])
    return (
        f"HTTP {scheme.scheme or 'without a scheme'} is not sent by Callout (basic and bearer are)"
    )


def _api_key(scheme: SecurityScheme) -> Carried | str:
    where, name = scheme.security_scheme_in, scheme.name or ""
    if where == "header":
        try:
            Header.model_validate({"name": name, "value": "", "secret": True})
        except ValidationError as error:
            _, message = first_problem(error, "")
            return f"the API key header {name!r}: {message}"
        return Carried(
            header={"name": name, "value": "", "secret": True},
            secrets=[header_field(name)],
        )
    if where == "query":
        return (
            f"the API key goes in the query parameter {name}, and Callout keeps no secret "
            "query values; if the API also takes it in a header, add that as a secret header"
        )
    if where == "cookie":
        return f"the API key goes in the cookie {name}, which Callout does not send"
    return "an API key goes in a header, the query or a cookie; `in` says none of these"


def _oauth2(scheme: SecurityScheme, scopes: list[str], base_url: str) -> Carried | str:
    flows = scheme.flows
    offered = [key for key, _ in FLOWS if flows and getattr(flows, key) is not None]
    if flows and flows.implicit is not None:
        offered.append("implicit")
    problems = []
    for key, grant in FLOWS:
        flow = getattr(flows, key, None) if flows else None
        if flow is None:
            continue
        auth: dict[str, Any] = {
            "type": "oauth2",
            "grant": grant,
            "token_url": urljoin(base_url + "/", flow.tokenUrl or ""),
            "client_id": PLACEHOLDER,
            "scope": _scope(scopes),
        }
        if grant == "authorization_code":
            auth["authorization_url"] = urljoin(base_url + "/", flow.authorizationUrl or "")
        if grant == "password":
            auth["username"] = PLACEHOLDER
        try:
            SCHEMES["oauth2"].model_validate(auth)
        except ValidationError as error:
            where, message = first_problem(error, "")
            problems.append(f"{key}: {where} {message}")
            continue
        secrets = ["authorization.client_secret"]
        placeholders = f"the client id is a placeholder ({PLACEHOLDER}); enter it"
        if grant == "password":
            secrets.append("authorization.password")
            placeholders = (
                f"the client id and the username are placeholders ({PLACEHOLDER}); enter them"
            )
        notes = [f"oauth2 {grant}: {placeholders} in the API window"]
        others = [other for other in offered if other != key]
        if others:
            notes.append(f"oauth2 uses the {key} flow; not carried: {', '.join(others)}")
        if len(" ".join(scopes)) > MAX_SCOPE:
            notes.append(f"oauth2 scope cut to {MAX_SCOPE} characters: {auth['scope']}")
        return Carried(authorization=auth, secrets=secrets, notes=notes)
    if problems:
        return "; ".join(problems)
    if offered:
        return "only the implicit flow is offered, which Callout does not use"
    return "no flow is given"


def _scope(scopes: list[str]) -> str:
    """The scopes asked for, space-separated (RFC 6749 section 3.3), whole ones within
    MAX_SCOPE characters."""
    kept: list[str] = []
    for scope in scopes:
        if len(" ".join([*kept, scope])) > MAX_SCOPE:
            break
        kept.append(scope)
    return " ".join(kept)
