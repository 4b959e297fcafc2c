"""What designers call in the API library, kept true from both sides.

At a save, every FUNCTION CALL names an API the client may call (its own or a system API;
another client's API reads as missing, exactly like one that never was), a request of that
API, only parameters the request declares, and every required parameter that has no default.

Afterwards the library refuses to delete an API or a request a designer calls, to drop a
parameter a designer maps, or to make required one it does not map, with the uses listed
(409). When a save and a delete race, the
database's foreign keys refuse the delete (`DesignerCall`), and `used_meanwhile` says why.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from callout.apis.repository import ApiRepository, RequestRepository
from callout.apis.schemas import RequestParameter
from callout.db.models import Api, Client, DesignerCall, Request
from callout.designers import mappers
from callout.designers.repository import CallRepository, Use, every_call_of_system_apis
from callout.designers.schemas import DesignerFields, FunctionCall, Loc
from callout.errors import Conflict, FieldProblem, Invalid, field_path

USAGES_LISTED = 50  # a refusal lists this many uses at most; its detail counts them all
DESIGNERS_NAMED = 5


def check_calls(session: Session, client: Client, data: DesignerFields) -> None:
    """Every FUNCTION CALL of `data` can be made by this client; otherwise 422 naming each
    broken one, e.g. `events[0].conditions[1].actions[0].api_id`."""
    calls: list[tuple[Loc, FunctionCall]] = [
        (("events", e, *loc), action)
        for e, event in enumerate(data.events)
        for loc, action in event.actions()
        if isinstance(action, FunctionCall)
    ]
    if not calls:
        return
    apis = ApiRepository(session, client).among({call.api_id for _, call in calls})
    requests = RequestRepository(session, client).among({call.request_id for _, call in calls})
    problems: list[FieldProblem] = []
    for at, call in calls:
        problems += _call_problems(client, at, call, apis, requests)
    if problems:
        raise Invalid.of(problems)


def _call_problems(
    client: Client, at: Loc, call: FunctionCall, apis: dict[int, Api], requests: dict[int, Request]
) -> list[FieldProblem]:
    api = apis.get(call.api_id)
    if api is None:
        message = f"no API {call.api_id} in client {client.code!r}"
        return [FieldProblem(field_path((*at, "api_id")), message)]
    request = requests.get(call.request_id)
    if request is None or request.api_id != api.id:
        message = f"API {api.name!r} has no request {call.request_id}"
        return [FieldProblem(field_path((*at, "request_id")), message)]
    declared: dict[str, dict[str, Any]] = {p["name"]: p for p in request.parameters}
    problems = []
    for i, mapping in enumerate(call.parameters):
        parameter = declared.get(mapping.name)
        if parameter is None:
            message = f"request {request.name!r} has no parameter {mapping.name!r}"
            problems.append(FieldProblem(field_path((*at, "parameters", i, "name")), message))
        elif parameter.get("secret") and mapping.path is None:
            # A literal would sit in clear in the designer, and be read back with it.
            message = f"{mapping.name!r} is secret: give a context path, not a value"
            problems.append(FieldProblem(field_path((*at, "parameters", i, "value")), message))
    mapped = {mapping.name for mapping in call.parameters}
    for name, parameter in declared.items():
        if parameter.get("required") and parameter.get("default") is None and name not in mapped:
            message = f"request {request.name!r} needs parameter {name!r}: map it"
            problems.append(FieldProblem(field_path((*at, "parameters")), message))
    return problems


def refuse_api_use(session: Session, client: Client, api: Api) -> None:
    """409 if a designer calls any request of the API."""
    uses = CallRepository(session, client).of_api(api.id)
    if uses:
        raise _in_use(f"API {api.name!r} is called by {named(_labels(uses))}", uses)


def refuse_request_use(session: Session, client: Client, request: Request) -> None:
    """409 if a designer calls the request."""
    uses = CallRepository(session, client).of_request(request.id)
    if uses:
        raise _in_use(f"request {request.name!r} is called by {named(_labels(uses))}", uses)


def refuse_broken_calls(
    session: Session, client: Client, request: Request, parameters: Sequence[RequestParameter]
) -> None:
    """409 if the request's new `parameters` would break a designer's call of it: a
    parameter it maps is gone, or one it does not map is now required with no default."""
    declared = {p.name for p in parameters}
    required = {p.name for p in parameters if p.required and p.default is None}
    uses = CallRepository(session, client).of_request(request.id)
    breaking = [
        use
        for use in uses
        if set(use[0].parameters) - declared or required - set(use[0].parameters)
    ]
    problems = []
    for lost in sorted({p for use in breaking for p in use[0].parameters} - declared):
        who = named(_labels(use for use in breaking if lost in use[0].parameters))
        problems.append(FieldProblem("parameters", f"{lost!r} is mapped by {who}"))
    for needed in sorted(required):
        unmapped = _labels(use for use in breaking if needed not in use[0].parameters)
        if unmapped:
            why = f"{needed!r} would be required, and {named(unmapped)} does not map it"
            problems.append(FieldProblem("parameters", why))
    if problems:
        detail = f"request {request.name!r} would break the designers that call it: "
        raise _in_use(detail + "; ".join(p.message for p in problems), breaking, problems)


def _labels(uses: Iterable[Use]) -> list[tuple[str, str]]:
    return [(f"designer {name!r}", call.event) for call, name in uses]


def named(uses: Sequence[tuple[str, str]]) -> str:
    """Who uses something, as a sentence names them: `designer 'Inbound' (events 'Login',
    'In Call') and designer 'Outbound' (event 'Ready')`, from (designer, event) pairs."""
    events: dict[str, list[str]] = {}
    for designer, event in uses:
        found = events.setdefault(designer, [])
        if event not in found:
            found.append(event)
    parts = [
        f"{designer} ({'events' if len(found) > 1 else 'event'} {', '.join(map(repr, found))})"
        for designer, found in list(events.items())[:DESIGNERS_NAMED]
    ]
    if len(events) > DESIGNERS_NAMED:
        parts.append(f"{len(events) - DESIGNERS_NAMED} more designer(s)")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _in_use(
    detail: str, uses: Sequence[Use], problems: list[FieldProblem] | None = None
) -> Conflict:
    listed = [mappers.usage(use).model_dump(mode="json") for use in uses[:USAGES_LISTED]]
    return Conflict(
        f"{detail}; change those designers first", problems, extensions={"usages": listed}
    )


def used_meanwhile(what: str) -> Conflict:
    """The refusal when the database's foreign key caught a designer saved meanwhile."""
    return Conflict(
        f"{what} is called by a designer saved just now; its usages list which, and it "
        "can be deleted once no designer calls it"
    )


class SystemUses:
    """Every client's calls of the system APIs, so the catalogue sync refuses, naming them,
    to remove what a designer calls."""

    def __init__(self, session: Session) -> None:
        self.rows = session.execute(every_call_of_system_apis()).all()

    def refuse_removal(
        self, what: str, *, api_id: int | None = None, request_id: int | None = None
    ) -> None:
        uses = [
            row for row in self.rows if row[0].api_id == api_id or row[0].request_id == request_id
        ]
        if uses:
            raise Conflict(
                f"the catalogue no longer has {what}, which {self._named(uses)} call(s); "
                "change those designers first"
            )

    def refuse_lost_parameters(self, what: str, request_id: int, declared: set[str]) -> None:
        uses = [
            row
            for row in self.rows
            if row[0].request_id == request_id and set(row[0].parameters) - declared
        ]
        if uses:
            lost = sorted({p for call, _, _ in uses for p in call.parameters} - declared)
            raise Conflict(
                f"the catalogue drops parameter(s) {', '.join(map(repr, lost))} of {what}, "
                f"which {self._named(uses)} map; change those designers first"
            )

    @staticmethod
    def _named(uses: Iterable[Row[DesignerCall, str, str]]) -> str:
        return named([(f"designer {name!r} of client {code!r}", c.event) for c, name, code in uses])
