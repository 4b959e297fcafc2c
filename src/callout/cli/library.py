"""A client's library from the terminal: its APIs and their requests, listed, shown, created
and deleted through the services the REST API uses, as the operator."""

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import typer

from callout.apis.api_types import ApiType
from callout.cli.common import Summed, app, err, fail, installed, out

if TYPE_CHECKING:
    from pydantic import TypeAdapter
    from sqlalchemy.orm import Session

    from callout.db.models import Client
    from callout.schemas import Page

T = TypeVar("T")

apis_app = typer.Typer(
    cls=Summed, no_args_is_help=True, help="A client's APIs: list, show, create, delete."
)
requests_app = typer.Typer(
    cls=Summed, no_args_is_help=True, help="The requests of an API: list, show."
)
app.add_typer(apis_app, name="apis")
app.add_typer(requests_app, name="requests")

ClientArg = Annotated[str, typer.Argument(help="The client's code.")]
ApiArg = Annotated[str, typer.Argument(help="The API's id or name (ignoring case).")]
RequestArg = Annotated[str, typer.Argument(help="The request's id or name (ignoring case).")]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print JSON, as the REST API answers, and nothing else.")
]

# Rows read per query while listing everything: the REST API's largest page.
PAGE = 200


def _every(page: Callable[[int, int], "Page[T]"]) -> list[T]:
    """Every item of a paged list, page after page: a terminal lists them all."""
    items: list[T] = []
    while True:
        read = page(PAGE, len(items))
        items += read.items
        if not read.items or len(items) >= read.total:
            return items


def _client(session: "Session", code: str) -> "Client":
    from callout.clients import service as clients
    from callout.clients.access import OPERATOR

    return clients.visible_client(session, OPERATOR, code)


def _print_json(items: list[T], adapter: "TypeAdapter[list[T]]") -> None:
    out.print_json(adapter.dump_json(items).decode())


@apis_app.command("list")
def apis_list(
    client: ClientArg,
    kind: Annotated[
        Literal["all", "client", "system"],
        typer.Option(help="The client's own APIs, the system APIs, or both."),
    ] = "all",
    search: Annotated[str | None, typer.Option(help="Part of the name.")] = None,
    as_json: AsJson = False,
) -> None:
    """List the APIs a client can call: its own first, then the system APIs, each by name.

    Examples:
      callout apis list demo
      callout apis list demo --kind client --search crm --json
    """
    from pydantic import TypeAdapter

    from callout.apis import service as apis
    from callout.apis.repository import ApiFilter
    from callout.apis.schemas import ApiSummary
    from callout.show import show_apis

    where = ApiFilter(kind=kind, search=search)
    with installed().transaction(reads_only=True) as session:
        owner = _client(session, client)
        found = _every(lambda limit, offset: apis.list_apis(session, owner, where, limit, offset))
    if as_json:
        _print_json(found, TypeAdapter(list[ApiSummary]))
    else:
        show_apis(out, found)


@apis_app.command("show")
def apis_show(client: ClientArg, api: ApiArg, as_json: AsJson = False) -> None:
    """Show an API: its settings, headers (secrets masked), authorization and requests.

    Examples:
      callout apis show demo "Customer CRM"
    """
    from callout.apis import definitions
    from callout.apis import service as apis
    from callout.clients import service as clients
    from callout.show import show_api

    with installed().transaction(reads_only=True) as session:
        owner = _client(session, client)
        found = apis.get_api(session, owner, definitions.resolve_api(session, owner, api))
        service = None
        if found.service_id is not None:
            service = clients.get_service(session, owner, found.service_id).name
    if as_json:
        out.print_json(found.model_dump_json())
    else:
        show_api(out, found, service)


@apis_app.command("create")
def apis_create(
    client: ClientArg,
    name: Annotated[str, typer.Option(help="Unique in the client's library, ignoring case.")],
    base_url: Annotated[str, typer.Option(help="Where every request's URL starts.")],
    description: Annotated[str, typer.Option(help="What the API is for.")] = "",
    api_type: Annotated[
        ApiType, typer.Option("--type", help="api, or a Slack or Teams incoming webhook.")
    ] = "api",
    as_json: AsJson = False,
) -> None:
    """Create an API with no headers and no authorization (`callout import` reads a whole
    one from a file).

    Examples:
      callout apis create demo --name Billing --base-url https://billing.example.com/api
    """
    from callout.apis import service as apis
    from callout.apis.schemas import ApiWrite
    from callout.clients.access import OPERATOR
    from callout.settings import get_settings

    data = ApiWrite.model_validate(
        {"name": name, "base_url": base_url, "description": description, "type": api_type}
    )
    keyring = get_settings().key_source().keyring()
    with installed().transaction() as session:
        created = apis.create_api(session, keyring, OPERATOR, _client(session, client), data)
    if as_json:
        out.print_json(created.model_dump_json())
    else:
        out.print(f"Created API {created.name!r} (id {created.id}).", markup=False, highlight=False)


@apis_app.command("delete")
def apis_delete(
    client: ClientArg,
    api: ApiArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
) -> None:
    """Delete one of the client's APIs with its requests; asks first unless --yes.

    Refused while a designer calls it, or when it changed after it was read for the question.

    Examples:
      callout apis delete demo "Old CRM" --yes
    """
    from callout.apis import definitions
    from callout.apis import service as apis
    from callout.clients.access import OPERATOR
    from callout.schemas import IfMatch

    database = installed()
    with database.transaction(reads_only=True) as session:
        owner = _client(session, client)
        api_id = definitions.resolve_api(session, owner, api)
        found = apis.writable(apis.find_api(session, owner, api_id, with_requests=True))
        name, version, requests = found.name, found.version, len(found.requests)
    if not yes:
        if not sys.stdin.isatty():
            fail(f"deleting API {name!r} needs --yes when there is no terminal to ask on")
        question = f"Delete API {name!r} and its {requests} request(s)?"
        if not typer.confirm(question, err=True):
            err.print("Nothing deleted.")
            raise typer.Exit(1)
    # The version read above: a change made since the question was asked is not deleted unseen.
    with database.transaction() as session:
        apis.delete_api(
            session, OPERATOR, _client(session, client), api_id, IfMatch(frozenset({version}))
        )
    out.print(f"Deleted API {name!r}.", markup=False, highlight=False)


@requests_app.command("list")
def requests_list(client: ClientArg, api: ApiArg, as_json: AsJson = False) -> None:
    """List an API's requests, in the order they were made.

    Examples:
      callout requests list demo "Customer CRM"
    """
    from pydantic import TypeAdapter

    from callout.apis import definitions, request_service
    from callout.apis.schemas import RequestRead
    from callout.show import show_requests

    with installed().transaction(reads_only=True) as session:
        owner = _client(session, client)
        api_id = definitions.resolve_api(session, owner, api)
        found = _every(
            lambda limit, offset: request_service.list_requests(
                session, owner, api_id, limit, offset
            )
        )
    if as_json:
        _print_json(found, TypeAdapter(list[RequestRead]))
    else:
        show_requests(out, found)


@requests_app.command("show")
def requests_show(
    client: ClientArg, api: ApiArg, request: RequestArg, as_json: AsJson = False
) -> None:
    """Show a request: its URL template, parameters, outputs, headers (secrets masked) and
    body.

    Examples:
      callout requests show demo "Customer CRM" "Get customer" --json
    """
    from callout.apis import definitions, request_service
    from callout.show import show_request

    with installed().transaction(reads_only=True) as session:
        owner = _client(session, client)
        api_id, request_id = definitions.resolve(session, owner, api, request)
        found = request_service.get_request(session, owner, api_id, request_id)
    if as_json:
        out.print_json(found.model_dump_json())
    else:
        show_request(out, found)
