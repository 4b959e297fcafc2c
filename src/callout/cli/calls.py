"""Calling out from the terminal: send a request, fire a designer's event, authorize an API."""

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from callout.cli.common import app, fail, installed, json_file, out, parse_parameter

if TYPE_CHECKING:
    from callout.invocations.schemas import AuthorizeDone


@app.command()
def send(
    client: Annotated[str, typer.Argument(help="The client's code.")],
    api: Annotated[str, typer.Argument(help="The API's id or name.")],
    request: Annotated[str, typer.Argument(help="The request's id or name.")],
    parameter: Annotated[
        list[str] | None,
        typer.Option("--parameter", "-p", help="name=value; a value starting { or [ is JSON."),
    ] = None,
    context: Annotated[
        Path | None, typer.Option(help="JSON file: loginData, call, account, fields, responses.")
    ] = None,
    mode: Annotated[str, typer.Option(help="live, dry_run or mock.")] = "live",
    sample: Annotated[str | None, typer.Option(help="Sample response for mock mode.")] = None,
    as_curl: Annotated[
        bool,
        typer.Option(
            "--curl",
            help="Send nothing: print the request as a cURL command, placeholders filled, "
            "secrets masked.",
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Also the request as sent, the response's status and headers, and the "
            "steps' timings; secrets masked.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The whole result and its trace as JSON.")
    ] = False,
) -> None:
    """Call a request and print its outcome, status, timing, outputs and body.

    Recorded in the invocation history as a test. Exits 0 on success, 1 on failure or timeout.

    Examples:
      callout send demo "Customer CRM" "Get customer" -p customerId=42
      callout send demo "Customer CRM" "Get customer" -p customerId=42 -v
      callout send demo "Customer CRM" "Get customer" -p customerId=42 --curl
    """
    from callout.clients.access import OPERATOR
    from callout.interchange import curl
    from callout.invocations import service as invocations
    from callout.invocations.schemas import InvokeBody, TracedResult
    from callout.settings import get_settings
    from callout.show import show_outcome

    body = InvokeBody.model_validate(
        {
            "parameters": dict(parse_parameter(p) for p in parameter or []),
            "context": json_file(context) if context else {},
            "mode": "dry_run" if as_curl else mode,
            "sample": sample,
        }
    )
    database = installed()
    keys = get_settings().key_source()
    keys.keyring()  # a missing key file fails before anything is read
    outcome = asyncio.run(
        invocations.send(get_settings(), database, keys, OPERATOR, client, api, request, body)
    )
    if as_curl and outcome.request is not None:
        view = outcome.request
        sys.stdout.write(curl.command(view.method, view.url, view.headers, view.body) + "\n")
        return
    if as_json:
        out.print_json(TracedResult.of(outcome).model_dump_json())
    else:
        show_outcome(out, outcome, verbose=verbose)
    if outcome.outcome != "success":
        raise typer.Exit(1)


@app.command()
def fire(
    client: Annotated[str, typer.Argument(help="The client's code.")],
    designer: Annotated[str, typer.Argument(help="The designer's id or name.")],
    event: Annotated[str, typer.Argument(help="Login, In Call, Wrap-Up... or a user event.")],
    context: Annotated[
        Path | None, typer.Option(help="JSON file: loginData, call, account, fields.")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="live, or mock: each call answered by its request's sample.")
    ] = "live",
    as_json: Annotated[bool, typer.Option("--json", help="The whole answer as JSON.")] = False,
) -> None:
    """Fire a designer's event: print the effects the desktop must apply, in order, and how
    each action went. Its calls are recorded in the invocation history.

    Exits 0 when the event ran to its end, 1 when a failed action stopped it or its deadline
    passed.

    Examples:
      callout fire demo "Agent desktop" "In Call" --context call.json --mode mock
    """
    from callout.clients.access import OPERATOR
    from callout.designers import engine
    from callout.designers.effects import FireBody
    from callout.settings import get_settings
    from callout.show import show_fire

    body = FireBody.model_validate({"context": json_file(context) if context else {}, "mode": mode})
    database = installed()
    settings = get_settings()
    keys = settings.key_source()
    keys.keyring()  # a missing key file fails before anything is read
    result = asyncio.run(
        engine.fire_named(settings, database, keys, OPERATOR, client, designer, event, body)
    )
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        show_fire(out, result)
    if result.outcome != "completed":
        raise typer.Exit(1)


@app.command()
def authorize(
    client: Annotated[str, typer.Argument(help="The client's code.")],
    api: Annotated[str, typer.Argument(help="The API's id or name.")],
    port: Annotated[int, typer.Option(help="Local port the browser comes back to.")] = 8765,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the browser.")] = 300.0,
) -> None:
    """Authorize an API that uses OAuth 2.0's authorization_code grant.

    Open the printed URL; the provider sends the browser back to
    http://127.0.0.1:PORT/callback (register it with the provider), and the refresh token
    is kept, sealed, with the API.

    Examples:
      callout authorize demo Calendar --port 8765
    """
    done = asyncio.run(_authorize(client, api, port, wait))
    out.print(done.message)


async def _authorize(client: str, api: str, port: int, wait: float) -> "AuthorizeDone":
    from callout.clients.access import OPERATOR
    from callout.invocations import authorize as authorize_flow
    from callout.invocations import service as invocations
    from callout.settings import get_settings

    settings = get_settings()
    database = installed()
    keys = settings.key_source()
    keys.keyring()  # a missing key file fails before the browser is sent anywhere
    async with await invocations.Runtime.start(settings, database, keys) as runtime:
        try:
            async with authorize_flow.on_loopback(
                runtime, database, keys, OPERATOR, client, api, port
            ) as flow:
                out.print("Open this address in a browser to authorize the API:")
                out.print(flow.start.authorization_url, highlight=False, soft_wrap=True)
                return await asyncio.wait_for(flow.done, wait)
        except TimeoutError:
            fail(f"no answer from the browser within {wait:g} s")
        except OSError as error:
            fail(f"cannot listen on 127.0.0.1:{port}: {error.strerror}")
