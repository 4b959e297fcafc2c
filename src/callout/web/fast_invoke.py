"""`POST .../invoke` served as a plain Starlette route whenever its input is well formed.

Invoke is the route a waiting customer pays for, and FastAPI's handling of a request
(solving the dependencies, validating the path ids and the body) cost 180-190 us of CPU per
mock invoke where the same work done here costs 76-81 us (measured in-process, 3 x 3,000
calls). This route does exactly what `invocations/router.py`'s `invoke` does, with the same
functions, for a request whose ids are plain in-range digits, whose body is JSON and reads as
an `InvokeBody`. Anything else goes on to that FastAPI route, which answers it as it always
has (its 422s, its 405s): so every answer is FastAPI's own or the same work done faster, and
the OpenAPI document is still written from the FastAPI route.
"""

import re
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from callout.invocations import service
from callout.invocations.schemas import InvokeBody
from callout.schemas import MAX_ID
from callout.web import deps

PATH = "/clients/{client}/apis/{api_id}/requests/{request_id}/invoke"
ID = re.compile(r"[1-9][0-9]{0,9}")
MAX_CODE = 40  # deps.ClientCode's max_length
PASSED_ON = "callout.invoke_passed_on"  # in the scope: this route has declined the request


def _id(text: str) -> int | None:
    """An id exactly as `IdPath` accepts it, or None for FastAPI to refuse as it does."""
    if not ID.fullmatch(text):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


class FastInvoke(Route):
    def __init__(self, prefix: str) -> None:
        super().__init__(prefix + PATH, _Serve(), methods=["POST"])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Only a POST this route has not passed on already: anything else is left to the
        routes after it (a GET answers FastAPI's 405 with its Allow)."""
        if scope.get(PASSED_ON) or scope.get("method") != "POST":
            return Match.NONE, {}
        return super().matches(scope)


class _Serve:
    """The route's ASGI app: an instance, so Starlette hands it the raw scope."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        response = await _invoke(request, raw)
        if response is not None:
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        again: dict[str, Any] = {
            k: v for k, v in scope.items() if k not in ("endpoint", "route", "path_params")
        }
        again[PASSED_ON] = True
        await scope["app"].router(again, replay, send)


async def _invoke(request: Request, raw: bytes) -> Response | None:
    """The invoke's answer, or None when the input is not plainly well formed."""
    params = request.path_params
    api_id, request_id = _id(params["api_id"]), _id(params["request_id"])
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if (
        api_id is None
        or request_id is None
        or len(params["client"]) > MAX_CODE
        or media_type != "application/json"
    ):
        return None
    try:
        body = InvokeBody.model_validate_json(raw)
    except ValidationError:
        return None
    state = request.app.state
    principal = await deps.principal_of(request, state.admission)
    client = await deps.client_of(request, state.admission, principal, params["client"])
    outcome = await service.invoke(
        state.runtime, state.admission, state.keys, principal, client, api_id, request_id, body
    )
    return Response(service.result(outcome).model_dump_json(), media_type="application/json")
