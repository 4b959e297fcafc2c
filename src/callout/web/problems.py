"""Every error the REST API returns, as RFC 9457 problem+json.

    {"type": "/problems/invalid", "title": "Invalid input", "status": 422,
     "detail": "base_url: must be an absolute http:// or https:// URL",
     "errors": [{"field": "base_url", "message": "must be an absolute http:// or https:// URL"}]}

Inputs are never echoed: an input may hold a secret.
"""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import Field
from starlette.exceptions import HTTPException

from callout.designers.schemas import Usage
from callout.errors import CalloutError, FieldProblem, detail_of, problem_body
from callout.invocations.schemas import OutcomeName
from callout.schemas import MAX_DEPTH, Model
from callout.validation import validation_problems

log = logging.getLogger("callout.web")
MEDIA_TYPE = "application/problem+json"


class FieldError(Model):
    field: str = Field(description="Where: a dotted path such as `authorization.token_url`.")
    message: str = Field(description="Which rule the input broke; the input is never quoted.")


class Problem(Model):
    """An error, as RFC 9457 problem details. A failed invoke adds what a script needs to take
    its branch: `outcome`, `reason`, `upstream_status` and what the call did produce. A delete
    refused because designers use the object adds `usages`."""

    type: str = Field(description="`/problems/<kind>`, e.g. `/problems/invalid`.")
    title: str
    status: int
    detail: str
    errors: list[FieldError] = Field(default=[], description="Each broken rule, by field.")
    invocation_id: str | None = None
    outcome: OutcomeName | None = None
    reason: str | None = Field(
        default=None, description="Why the call failed, e.g. `timeout`, `too_many_calls`."
    )
    upstream_status: int | None = Field(default=None, description="The upstream's HTTP status.")
    outputs: dict[str, Any] | None = None
    alerts: list[str] | None = None
    warnings: list[str] | None = None
    duration_ms: float | None = None
    usages: list[Usage] | None = Field(
        default=None, description="The designers' FUNCTION CALLs that use what was to change."
    )


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str,
    problems: Sequence[FieldProblem] = (),
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    content = problem_body(status, kind, title, detail, problems, extensions)
    return JSONResponse(content, status_code=status, media_type=MEDIA_TYPE, headers=headers)


async def _callout_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, CalloutError)
    return problem(
        error.status,
        error.type,
        error.title,
        error.detail,
        error.problems,
        error.headers,
        error.extensions,
    )


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    found = validation_problems(error.errors(), located=True)
    return problem(422, "invalid", "Invalid input", detail_of(found), found)


def _unreadable_body(error: HTTPException) -> str | None:
    """Why a JSON body could not be parsed, where FastAPI only answers 400 "There was an
    error parsing the body"."""
    if isinstance(error.__cause__, RecursionError):
        return f"nests deeper than {MAX_DEPTH} levels"
    if isinstance(error.__cause__, UnicodeDecodeError):
        return "is not valid JSON: it is not UTF-8 text"
    return None


def _allowed(request: Request) -> str:
    """Every method the path has: Starlette's own Allow names only the first route that
    matches the path, and a path such as `/clients` has one route per method."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(request.url.path):
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own refusals: no such route, or a method the path lacks, whose `Allow`
    says which it has (RFC 9110 section 15.5.6); and a JSON body FastAPI could not parse."""
    assert isinstance(error, HTTPException)
    unreadable = _unreadable_body(error)
    if unreadable is not None:
        why = FieldProblem("body", unreadable)
        return problem(422, "invalid", "Invalid input", f"body: {unreadable}", [why])
    titles = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}
    title = titles.get(error.status_code, "Error")
    kind = title.lower().replace(" ", "-")
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = _allowed(request) or headers.get("Allow", "")
    return problem(error.status_code, kind, title, str(error.detail), headers=headers)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "internal", "Internal error", "an unexpected error; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(CalloutError, _callout_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
