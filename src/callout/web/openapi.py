"""The OpenAPI document, made to say what the server really answers.

FastAPI's own document knows only each route's success and its `HTTPValidationError` 422.
This adds, per operation, every error status the route can send, read off what the route
depends on: an API key (401, 403), a client or object named in the path (404), a body (400,
413), If-Match (412, 428), a write to the library (409, 503). Each error is `Problem`, as
application/problem+json. A route declares only what is its own (invoke's 502 and 504).
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from callout.web import deps
from callout.web.problems import MEDIA_TYPE, Problem

SCHEME = "apiKey"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "callout_...",
    "description": "An API key, `callout_<prefix>_<secret>`; `callout init` prints the first.",
}
DESCRIPTIONS = {
    400: "The body cannot be read at all, e.g. it is not UTF-8.",
    401: "No API key, or an unknown or revoked one.",
    403: "The key's role may not do this, or the API is a read-only system API.",
    404: "No such client, or no such object for this client.",
    409: "The change clashes with what is stored, e.g. a name already taken, or an API, "
    "request or parameter a designer uses (`usages` lists the uses).",
    412: "If-Match is not the current version: reload and apply the change again.",
    413: "The request body is larger than Callout accepts.",
    422: "Invalid input: `errors` names each field and the rule it broke.",
    428: "If-Match is missing: send the ETag of your last read.",
    500: "An unexpected error (logged), or a stored secret that cannot be decrypted.",
    503: "Too busy to take this now: try again after `Retry-After` seconds.",
}
# `*`, or a list of ETags such as `"3"` (a weak one, `W/"3"`, is accepted and never matches).
IF_MATCH = r'^\s*(\*|(W/)?"[0-9]+"(\s*,\s*(W/)?"[0-9]+")*)\s*$'
HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    503: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
}


def _dependency(alias: Any) -> Callable[..., Any]:
    """The function behind an `Annotated[..., Depends(f)]` alias of `web.deps`."""
    call: Callable[..., Any] = alias.__metadata__[0].dependency
    return call


def _all(dependant: Dependant) -> list[Dependant]:
    """A route's dependant and every dependency under it."""
    found = [dependant]
    for sub in dependant.dependencies:
        found += _all(sub)
    return found


# What `Caller` resolves within itself, in place of these dependencies.
CALLER = (deps.PrincipalDep, deps.AdmissionDep, deps.RuntimeDep)


def _standing_for(calls: set[Any]) -> set[Any]:
    """The dependencies `calls` resolve, with those `Caller` resolves within itself."""
    if _dependency(deps.CallerDep) in calls:
        return calls | {_dependency(alias) for alias in CALLER}
    return calls


def statuses(route: RouteContext) -> set[int]:
    """The error statuses a route can answer, from what it depends on."""
    dependant: Dependant = route.dependant
    every = _all(dependant)
    calls = _standing_for({d.call for d in every})
    direct = _standing_for({d.call for d in dependant.dependencies})
    in_path = any(d.path_params for d in every)
    body = any(d.body_params for d in every)
    methods = route.methods or set()
    found = {500}
    if in_path or body or any(d.query_params or d.header_params for d in every):
        found.add(422)
    if _dependency(deps.PrincipalDep) in calls:
        found.add(401)
    if _dependency(deps.PrincipalDep) in direct:
        found.add(403)  # the route checks the key's role itself
    if in_path:
        found.add(404)
    if body:
        found |= {400, 413}
    if _dependency(deps.IfMatchDep) in calls:
        found |= {412, 428}
    if _dependency(deps.AdmissionDep) in calls:
        found.add(503)  # the database had more queued than it could start in time
    # A write to the library needs a unit of work; routes that run calls take the runtime
    # and change nothing the library stores, and a check (a condition's) opens none.
    writes = _dependency(deps.SessionDep) in calls and _dependency(deps.RuntimeDep) not in calls
    if methods - {"GET", "HEAD"} and writes:
        found.add(409)
    return found


def describe(app: FastAPI, document: dict[str, Any]) -> None:
    """Complete FastAPI's document in place: errors, the bearer scheme, If-Match required."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    document["components"]["securitySchemes"] = {SCHEME: SECURITY_SCHEME}
    content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for route in iter_route_contexts(app.routes):
        if not (isinstance(route.original_route, APIRoute) and route.include_in_schema):
            continue
        codes = statuses(route)
        authenticated = 401 in codes
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            responses = operation["responses"]
            for code in sorted(codes):
                if str(code) not in responses:  # a route's own description comes first
                    responses[str(code)] = {"description": DESCRIPTIONS[code]}
                    if code in HEADERS:
                        responses[str(code)]["headers"] = HEADERS[code]
            for code, response in responses.items():
                if int(code) >= 400:
                    response["content"] = content
                    if code == "422" and response["description"] == "Validation Error":
                        response["description"] = DESCRIPTIONS[422]
            _parameters(operation)
            if authenticated:
                operation["security"] = [{SCHEME: []}]


def _parameters(operation: dict[str, Any]) -> None:
    """If-Match is required, as the server answers 428 without it (RFC 6585 section 3)."""
    kept = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "title": "If-Match", "pattern": IF_MATCH}
        kept.append(parameter)
    if kept:
        operation["parameters"] = kept
    else:
        operation.pop("parameters", None)


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json and to the docs."""
    described: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = FastAPI.openapi(app)
        if not described or described[0] is not document:
            describe(app, document)
            described[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
