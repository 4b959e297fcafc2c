"""Running requests against a real upstream on loopback: what arrives on the wire, how the
API proves who it is, parameters, outputs and alerts, the three outcomes, dry run and mock,
the trace, and secrets that never come back out."""

import asyncio
import base64
import dataclasses
import email
import email.policy
import json
import logging
import socket
from collections.abc import AsyncIterator
from time import perf_counter
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from defusedxml import ElementTree

from callout.runtime.executor import Executor, Outcome
from callout.runtime.plan import Plan
from callout.runtime.trace import PREVIEW_BYTES
from callout.schemas import MASK
from tests.factories import SENTINEL
from tests.runtime.conftest import PlanFactory, api_def, compile_from, request_def
from tests.upstream import Seen, Upstream

HOSTILE = {
    "dotdot-slash": "../",
    "dotdot-slash-admin": "../../admin",
    "encoded-dots": "%2e%2e",
    "encoded-slash": "%2F",
    "slash": "a/b",
    "crlf": "x\r\nX-Injected: 1",
    "nul": "a\x00b",
    "quotes": "\"'`",
    "close-braces": "}}",
    "open-placeholder": "${{",
    "query-and-fragment": "?admin=1#top",
    "unicode": "é☃😀",
    "long": "x" * 2000,
}
HOSTILE_PARAMS = [pytest.param(value, id=name) for name, value in HOSTILE.items()]
CUSTOMER = {"customerId": "7"}


def only(upstream: Upstream) -> Seen:
    """The one request the upstream received."""
    assert len(upstream.received) == 1, upstream.received
    return upstream.received[0]


def headers_named(seen: Seen, name: str) -> list[str]:
    return [v for n, v in seen.headers if n.lower() == name.lower()]


def multipart_fields(seen: Seen) -> list[tuple[str, bytes]]:
    """The parts of a multipart/form-data body, as (name, bytes)."""
    content_type = seen.header("Content-Type") or ""
    message = email.message_from_bytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + seen.body,
        policy=email.policy.HTTP,
    )
    assert isinstance(message, email.message.EmailMessage)
    fields = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        fields.append((str(part.get_param("name", header="content-disposition")), payload))
    return fields


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
async def hangs_up() -> AsyncIterator[str]:
    """A server that reads the request and closes the connection without answering."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


# What arrives on the wire


@pytest.mark.parametrize("value", HOSTILE_PARAMS)
async def test_a_path_value_arrives_percent_encoded_in_its_own_segment(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory, value: str
) -> None:
    upstream.answer(200, {})

    outcome = await executor.run(on_upstream(), {"customerId": value}, {})

    assert outcome.outcome == "success", outcome.message
    path, _, query = only(upstream).raw_path.partition("?")
    segments = path.split("/")
    assert segments[:4] == ["", "api", "v1", "customers"]
    assert len(segments) == 5
    assert unquote(segments[4]) == value
    assert query == ""


async def test_path_traversal_values_stay_under_the_base_path_on_the_wire(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(200, {})

    await executor.run(on_upstream(), {"customerId": "../../admin"}, {})
    await executor.run(on_upstream(), {"customerId": "%2e%2e"}, {})

    assert [seen.raw_path for seen in upstream.received] == [
        "/api/v1/customers/..%2F..%2Fadmin",
        "/api/v1/customers/%252e%252e",
    ]


@pytest.mark.parametrize("value", [".", "..", ""])
async def test_a_value_that_would_make_a_dot_or_empty_segment_is_refused(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory, value: str
) -> None:
    outcome = await executor.run(on_upstream(), {"customerId": value}, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "invalid_parameters")
    assert upstream.received == []


async def test_query_values_arrive_form_encoded_in_order(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        endpoint_path="customers",
        query=[
            {"name": "q", "value": "${customerId}"},
            {"name": "page size", "value": "10"},
            {"name": "off", "value": "x", "enabled": False},
            {"name": "agent", "value": "${loginData.agent}"},
        ],
    )
    upstream.answer(200, {})

    await executor.run(plan, {"customerId": "a b&c=d+é"}, {"loginData": {"agent": "7"}})

    assert only(upstream).raw_path == (
        "/api/v1/customers?q=a+b%26c%3Dd%2B%C3%A9&page+size=10&agent=7"
    )


@pytest.mark.parametrize("value", HOSTILE_PARAMS)
async def test_a_query_value_arrives_confined_to_its_field(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory, value: str
) -> None:
    plan = on_upstream(
        endpoint_path="customers",
        query=[{"name": "q", "value": "${customerId}"}, {"name": "page", "value": "1"}],
    )
    upstream.answer(200, {})

    await executor.run(plan, {"customerId": value}, {})

    path, _, query = only(upstream).raw_path.partition("?")
    assert path == "/api/v1/customers"
    assert parse_qsl(query, keep_blank_values=True) == [("q", value), ("page", "1")]


async def test_headers_arrive_with_request_headers_overriding_api_headers_ignoring_case(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        api={
            "headers": [
                {"name": "Accept", "value": "application/json"},
                {"name": "X-Tenant", "value": "acme"},
                {"name": "X-Old", "value": "gone", "enabled": False},
            ]
        },
        headers=[
            {"name": "accept", "value": "text/csv"},
            {"name": "X-Customer", "value": "id ${customerId} for ${account.id}"},
            {"name": "X-Off", "value": "no", "enabled": False},
        ],
    )
    upstream.answer(200, {})

    await executor.run(plan, {"customerId": '7 "q" }}'}, {"account": {"id": "A-42"}})

    seen = only(upstream)
    assert headers_named(seen, "Accept") == ["text/csv"]
    assert headers_named(seen, "X-Tenant") == ["acme"]
    assert headers_named(seen, "X-Customer") == ['id 7 "q" }} for A-42']
    assert headers_named(seen, "X-Old") == []
    assert headers_named(seen, "X-Off") == []
    assert headers_named(seen, "User-Agent") == ["Callout/1"]


async def test_a_disabled_request_header_leaves_the_api_header_in_place(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        api={"headers": [{"name": "X-Tenant", "value": "acme"}]},
        headers=[{"name": "x-tenant", "value": "other", "enabled": False}],
    )
    upstream.answer(200, {})

    await executor.run(plan, CUSTOMER, {})

    assert headers_named(only(upstream), "X-Tenant") == ["acme"]


async def test_a_header_value_with_a_control_character_is_refused_before_sending(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    # RFC 9110 section 5.5 allows no control character but tab in a field value;
    # aiohttp refuses them too, and the call must end in an outcome, not an exception.
    plan = on_upstream(headers=[{"name": "X-Customer", "value": "${customerId}"}])

    outcome = await executor.run(plan, {"customerId": "a\x01b\x7f"}, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "invalid_parameters")
    assert upstream.received == []


async def test_a_lone_surrogate_in_a_body_is_a_failure_not_an_exception(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        method="POST", endpoint_path="c", content_type="json", body='{"id": "${customerId}"}'
    )

    outcome = await executor.run(plan, {"customerId": "a\ud800b"}, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "invalid_parameters")
    assert upstream.received == []


JSON_PARAMETERS = [
    {"name": "customerId", "type": "string", "required": True},
    {"name": "count", "type": "number"},
    {"name": "vip", "type": "boolean"},
    {"name": "tags", "type": "object"},
]


async def test_a_json_body_arrives_with_typed_values_and_its_content_type(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    body = {
        "id": "${customerId}",
        "count": "${count}",
        "vip": "${vip}",
        "tags": "${tags}",
        "note": 'Customer "${customerId}" (${count})',
        "agent": "${loginData.agent}",
        "fixed": [1, "$${literal}"],
    }
    plan = on_upstream(
        method="POST",
        endpoint_path="customers",
        parameters=JSON_PARAMETERS,
        content_type="json",
        body=json.dumps(body),
    )
    upstream.answer(201, {})
    parameters = {"customerId": '"}, "admin": true', "count": 3, "vip": True, "tags": ["a"]}

    outcome = await executor.run(plan, parameters, {"loginData": {"agent": {"id": 9}}})

    seen = only(upstream)
    assert outcome.outcome == "success"
    assert seen.method == "POST"
    assert seen.header("Content-Type") == "application/json"
    assert json.loads(seen.body) == {
        "id": '"}, "admin": true',
        "count": 3,
        "vip": True,
        "tags": ["a"],
        "note": 'Customer ""}, "admin": true" (3)',
        "agent": {"id": 9},
        "fixed": [1, "${literal}"],
    }


async def test_an_xml_body_arrives_escaped_with_its_content_type(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        method="POST",
        endpoint_path="customers",
        content_type="xml",
        body='<customer id="${customerId}"><name>${customerId}</name></customer>',
    )
    upstream.answer(200, {})
    value = "</name><admin>1</admin><name x=\"'"

    await executor.run(plan, {"customerId": value}, {})

    seen = only(upstream)
    assert seen.header("Content-Type") == "application/xml; charset=utf-8"
    root = ElementTree.fromstring(seen.body)
    assert root.get("id") == value
    assert root.find("name").text == value
    assert root.find("admin") is None


async def test_a_text_body_arrives_verbatim_with_its_content_type(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        method="PUT", endpoint_path="notes", content_type="text", body="Note: ${customerId}\n"
    )
    upstream.answer(204, b"")

    outcome = await executor.run(plan, {"customerId": "é ${x} \r\n}}"}, {})

    seen = only(upstream)
    assert outcome.outcome == "success"
    assert seen.method == "PUT"
    assert seen.header("Content-Type") == "text/plain; charset=utf-8"
    assert seen.body == "Note: é ${x} \r\n}}\n".encode()


async def test_form_fields_arrive_url_encoded(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        method="POST",
        endpoint_path="notes",
        content_type="form",
        form=[
            {"name": "id", "value": "${customerId}"},
            {"name": "kind", "value": "call note"},
            {"name": "skipped", "value": "x", "enabled": False},
        ],
    )
    upstream.answer(200, {})

    await executor.run(plan, {"customerId": "a&b=c+d é"}, {})

    seen = only(upstream)
    assert seen.header("Content-Type") == "application/x-www-form-urlencoded"
    assert seen.body == b"id=a%26b%3Dc%2Bd+%C3%A9&kind=call+note"
    assert parse_qsl(seen.body.decode()) == [("id", "a&b=c+d é"), ("kind", "call note")]


async def test_multipart_fields_arrive_as_parts(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        method="POST",
        endpoint_path="uploads",
        content_type="multipart",
        form=[{"name": "id", "value": "${customerId}"}, {"name": "kind", "value": "note"}],
    )
    upstream.answer(200, {})
    value = 'line 1\r\n--boundary\r\n"quoted" é'

    await executor.run(plan, {"customerId": value}, {})

    seen = only(upstream)
    assert (seen.header("Content-Type") or "").startswith("multipart/form-data; boundary=")
    assert multipart_fields(seen) == [("id", value.encode()), ("kind", b"note")]


async def test_a_content_type_header_replaces_the_default(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        method="POST",
        endpoint_path="customers",
        content_type="json",
        body="{}",
        headers=[{"name": "content-type", "value": "application/vnd.api+json"}],
    )
    upstream.answer(200, {})

    await executor.run(plan, CUSTOMER, {})

    assert headers_named(only(upstream), "Content-Type") == ["application/vnd.api+json"]


# Authorization


async def test_basic_sends_utf8_credentials(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    password = "pä:ss é:"
    plan = on_upstream(
        api={"authorization": {"type": "basic", "username": "agént", "password": password}}
    )
    upstream.answer(200, {})

    outcome = await executor.run(plan, CUSTOMER, {})

    assert outcome.outcome == "success"
    scheme, _, credentials = (only(upstream).header("Authorization") or "").partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode("utf-8") == f"agént:{password}"


async def test_bearer_sends_the_stored_token(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(api={"authorization": {"type": "bearer", "token": "tok-123"}})
    upstream.answer(200, {})

    await executor.run(plan, CUSTOMER, {})

    assert headers_named(only(upstream), "Authorization") == ["Bearer tok-123"]


async def test_bearer_replaces_an_authorization_header_of_the_api(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        api={
            "authorization": {"type": "bearer", "token": "tok-123"},
            "headers": [{"name": "authorization", "value": "Basic old", "secret": True}],
        }
    )
    upstream.answer(200, {})

    await executor.run(plan, CUSTOMER, {})

    assert headers_named(only(upstream), "Authorization") == ["Bearer tok-123"]


async def test_a_bearer_token_placeholder_is_filled_from_the_context(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(api={"authorization": {"type": "bearer", "token": "${loginData.token}"}})
    upstream.answer(200, {})

    await executor.run(plan, CUSTOMER, {"loginData": {"token": "crm-session-9"}})

    assert headers_named(only(upstream), "Authorization") == ["Bearer crm-session-9"]


@pytest.mark.parametrize("token", ["abc\r\nX-Injected: 1", "abc\n", "abc\x00"])
async def test_a_bearer_token_from_the_context_that_breaks_the_line_is_refused(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory, token: str
) -> None:
    plan = on_upstream(api={"authorization": {"type": "bearer", "token": "${loginData.token}"}})

    outcome = await executor.run(plan, CUSTOMER, {"loginData": {"token": token}})

    assert outcome.outcome == "failure"
    assert outcome.reason in ("invalid_parameters", "authorization")
    assert "Injected" not in repr(outcome)
    assert upstream.received == []


async def test_a_bearer_token_placeholder_without_a_context_value_fails_before_sending(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(api={"authorization": {"type": "bearer", "token": "${loginData.token}"}})

    outcome = await executor.run(plan, CUSTOMER, {"loginData": {}})

    assert outcome.outcome == "failure"
    assert outcome.reason in ("invalid_parameters", "authorization")
    assert upstream.received == []


# Parameters


async def test_a_missing_required_parameter_fails_before_sending(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    for parameters in ({}, {"customerId": None}):
        outcome = await executor.run(on_upstream(), parameters, {})

        assert (outcome.outcome, outcome.reason) == ("failure", "invalid_parameters")
        assert outcome.message == "parameter customerId is required"
    assert upstream.received == []


async def test_an_unknown_parameter_fails_naming_it_and_the_declared_ones(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outcome = await executor.run(on_upstream(), {"customerId": "7", "customerID": "8"}, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "invalid_parameters")
    assert outcome.message is not None
    assert "unknown parameter customerID" in outcome.message
    assert "customerId" in outcome.message.split(";")[1]
    assert upstream.received == []


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("string", True),
        ("string", {"secret": "v4lue-x"}),
        ("string", ["v4lue-x"]),
        ("number", "v4lue-x"),
        ("number", True),
        ("number", "NaN"),
        ("number", "-inf"),
        ("number", {"n": 1}),
        ("boolean", "v4lue-x"),
        ("boolean", 1),
        ("boolean", "1"),
        ("boolean", "yes"),
        ("object", "v4lue-x"),
        ("object", '{"a": 1}'),
        ("object", 5),
    ],
)
async def test_a_mistyped_parameter_fails_without_quoting_the_value(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory, kind: str, value: Any
) -> None:
    plan = on_upstream(
        endpoint_path="customers",
        parameters=[{"name": "p", "type": kind}],
        method="POST",
        content_type="json",
        body='{"p": "${p}"}',
    )

    outcome = await executor.run(plan, {"p": value}, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "invalid_parameters")
    article = "an" if kind == "object" else "a"
    assert outcome.message == f"parameter p must be {article} {kind}"
    assert "v4lue" not in repr(outcome)
    assert upstream.received == []


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity"])
async def test_a_number_parameter_refuses_nan_and_infinity_in_any_spelling(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory, value: Any
) -> None:
    plan = on_upstream(endpoint_path="customers/${p}", parameters=[{"name": "p", "type": "number"}])

    outcome = await executor.run(plan, {"p": value}, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "invalid_parameters")
    assert outcome.message == "parameter p must be a number"
    assert upstream.received == []


@pytest.mark.parametrize(
    ("kind", "given", "sent"),
    [
        ("number", "42", 42),
        ("number", "-1.5", -1.5),
        ("number", " 7 ", 7),
        ("number", 2.5, 2.5),
        ("boolean", "true", True),
        ("boolean", "FALSE", False),
        ("string", 7, "7"),
        ("string", 1.5, "1.5"),
        ("object", {"a": [1]}, {"a": [1]}),
        ("object", [], []),
    ],
)
async def test_a_parameter_given_in_a_spelling_of_its_type_is_accepted(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    kind: str,
    given: Any,
    sent: Any,
) -> None:
    plan = on_upstream(
        endpoint_path="customers",
        parameters=[{"name": "p", "type": kind}],
        method="POST",
        content_type="json",
        body='{"p": "${p}"}',
    )
    upstream.answer(200, {})

    outcome = await executor.run(plan, {"p": given}, {})

    assert outcome.outcome == "success", outcome.message
    assert json.loads(only(upstream).body) == {"p": sent}


async def test_an_optional_parameter_left_out_renders_empty_in_text_and_null_in_json(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        method="POST",
        endpoint_path="notes",
        parameters=[{"name": "note"}, {"name": "count", "type": "number"}],
        query=[{"name": "note", "value": "${note}"}],
        headers=[{"name": "X-Note", "value": "n=${note}"}],
        content_type="json",
        body='{"note": "${note}", "count": "${count}", "text": "n=${note}"}',
    )
    upstream.answer(200, {})

    outcome = await executor.run(plan, {}, {})

    seen = only(upstream)
    assert outcome.outcome == "success"
    assert seen.raw_path == "/api/v1/notes?note="
    assert seen.header("X-Note") == "n="
    assert json.loads(seen.body) == {"note": None, "count": None, "text": "n="}


async def test_a_parameter_left_out_takes_its_default(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        endpoint_path="customers",
        parameters=[
            {"name": "page", "type": "number", "default": 1},
            {"name": "status", "default": "open", "required": True},
        ],
        query=[{"name": "page", "value": "${page}"}, {"name": "status", "value": "${status}"}],
    )
    upstream.answer(200, {})

    outcome = await executor.run(plan, {"page": "3"}, {})

    assert outcome.outcome == "success"
    assert only(upstream).raw_path == "/api/v1/customers?page=3&status=open"


# Outputs


async def run_outputs(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    outputs: list[Any],
    answer: Any,
    *,
    headers: dict[str, str] | None = None,
    status: int = 200,
    context: dict[str, Any] | None = None,
) -> Outcome:
    """Answer with `answer` and run a request declaring `outputs`."""
    upstream.answer(status, answer, headers=headers)
    return await executor.run(on_upstream(outputs=outputs), CUSTOMER, context or {})


async def test_body_outputs_take_their_declared_types(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    answer = {
        "name": "Ann",
        "balance": 12.5,
        "vip": True,
        "address": {"city": "Oslo"},
        "visits": "3",
        "active": "TRUE",
        "code": 7,
        "ratio": "0.25",
    }
    outputs = [
        {"name": "name", "path": "$.name"},
        {"name": "balance", "path": "$.balance", "type": "number"},
        {"name": "vip", "path": "$.vip", "type": "boolean"},
        {"name": "address", "path": "$.address", "type": "object"},
        {"name": "visits", "path": "$.visits", "type": "number"},
        {"name": "active", "path": "$.active", "type": "boolean"},
        {"name": "code", "path": "$.code", "type": "string"},
        {"name": "ratio", "path": "$['ratio']", "type": "number"},
        {"name": "city", "path": "$.address.city", "field": "customerCity"},
    ]

    outcome = await run_outputs(executor, upstream, on_upstream, outputs, answer)

    assert outcome.outcome == "success"
    assert outcome.outputs == {
        "name": "Ann",
        "balance": 12.5,
        "vip": True,
        "address": {"city": "Oslo"},
        "visits": 3,
        "active": True,
        "code": "7",
        "ratio": 0.25,
        "customerCity": "Oslo",
    }
    assert outcome.warnings == []


async def test_array_outputs_gather_every_match_or_take_one_list(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    answer = {
        "items": [{"id": 1, "tag": "a"}, {"id": "2", "tag": "b"}, {"id": 3, "tag": "c"}],
        "ids": [10, 20],
        "one": [{"id": 5}],
    }
    outputs = [
        {"name": "itemIds", "path": "$.items[*].id", "type": "number", "array": True},
        {"name": "ids", "path": "$.ids", "type": "number", "array": True},
        {"name": "tags", "path": "$.items[*].tag", "array": True},
        {"name": "idTexts", "path": "$.ids[*]", "type": "string", "array": True},
        {"name": "oneId", "path": "$.one[*].id", "type": "number", "array": True},
        {"name": "items", "path": "$.items", "type": "object", "array": True},
    ]

    outcome = await run_outputs(executor, upstream, on_upstream, outputs, answer)

    assert outcome.outputs == {
        "itemIds": [1, 2, 3],
        "ids": [10, 20],
        "tags": ["a", "b", "c"],
        "idTexts": ["10", "20"],
        "oneId": [5],
        "items": answer["items"],
    }
    assert outcome.warnings == []


async def test_an_array_output_with_no_match_takes_its_default_list(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [
        {"name": "ids", "path": "$.missing[*]", "type": "number", "array": True, "default": [0]},
        {"name": "none", "path": "$.missing[*]", "array": True},
    ]

    outcome = await run_outputs(executor, upstream, on_upstream, outputs, {"a": 1})

    assert outcome.outputs == {"ids": [0], "none": None}
    assert outcome.warnings == ["none: $.missing[*] matched nothing"]


async def test_an_array_item_that_cannot_take_the_type_is_null_with_a_warning(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [{"name": "ids", "path": "$.ids", "type": "number", "array": True}]

    outcome = await run_outputs(executor, upstream, on_upstream, outputs, {"ids": [1, "x", 3]})

    assert outcome.outcome == "success"
    assert outcome.outputs == {"ids": [1, None, 3]}
    assert outcome.warnings == ["ids: $.ids gave a value that is not a number"]


async def test_a_header_output_reads_the_response_header_ignoring_case(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [
        {"name": "requestId", "source": "header", "path": "x-request-id"},
        {
            "name": "remaining",
            "source": "header",
            "path": "X-RateLimit-Remaining",
            "type": "number",
        },
        {"name": "absent", "source": "header", "path": "X-Absent"},
    ]

    outcome = await run_outputs(
        executor,
        upstream,
        on_upstream,
        outputs,
        {},
        headers={"X-Request-Id": "req-1", "X-RateLimit-Remaining": "99"},
    )

    assert outcome.outputs == {"requestId": "req-1", "remaining": 99, "absent": None}
    assert outcome.warnings == ["absent: header X-Absent matched nothing"]


async def test_a_status_output_reads_the_status(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [
        {"name": "status", "source": "status", "type": "number"},
        {"name": "statusText", "source": "status"},
    ]

    outcome = await run_outputs(executor, upstream, on_upstream, outputs, {}, status=201)

    assert outcome.outputs == {"status": 201, "statusText": "201"}


async def test_an_output_without_a_path_reads_the_whole_body_in_its_charset(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [{"name": "page", "path": ""}]

    outcome = await run_outputs(
        executor,
        upstream,
        on_upstream,
        outputs,
        "café au lait".encode("latin-1"),
        headers={"Content-Type": "text/plain; charset=iso-8859-1"},
    )

    assert outcome.outputs == {"page": "café au lait"}


async def test_xpath_outputs_read_an_xml_response(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    xml = (
        '<customer id="c7"><name>Ann <b>Example</b></name><age>42</age>'
        "<tags><t>a</t><t>b</t></tags><vip>true</vip></customer>"
    )
    outputs = [
        {"name": "name", "path": "/customer/name"},
        {"name": "age", "path": "/customer/age", "type": "number"},
        {"name": "tags", "path": "/customer/tags/t", "array": True},
        {"name": "id", "path": "/customer/@id"},
        {"name": "vip", "path": "/customer/vip/text()", "type": "boolean"},
    ]

    outcome = await run_outputs(
        executor, upstream, on_upstream, outputs, xml, headers={"Content-Type": "application/xml"}
    )

    assert outcome.outcome == "success", outcome.message
    assert outcome.outputs == {
        "name": "Ann Example",
        "age": 42,
        "tags": ["a", "b"],
        "id": "c7",
        "vip": True,
    }


async def test_an_xml_response_with_entities_is_refused_as_a_mapping_failure(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    xml = '<!DOCTYPE x [<!ENTITY e "boom">]><customer><name>&e;</name></customer>'
    outputs = [{"name": "name", "path": "/customer/name"}]

    outcome = await run_outputs(executor, upstream, on_upstream, outputs, xml)

    assert (outcome.outcome, outcome.reason) == ("failure", "mapping")
    assert outcome.message == "name: the response body is not safe XML"


async def test_an_output_that_matches_nothing_takes_its_default(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [
        {"name": "name", "path": "$.name", "default": "unknown"},
        {"name": "balance", "path": "$.balance", "type": "number", "default": 0},
        {"name": "vip", "path": "$.vip", "type": "boolean", "default": False},
    ]

    outcome = await run_outputs(executor, upstream, on_upstream, outputs, {"other": 1})

    assert outcome.outputs == {"name": "unknown", "balance": 0, "vip": False}
    assert outcome.warnings == []


async def test_an_output_that_matches_nothing_is_null_with_a_warning(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [{"name": "name", "path": "$.customer.name"}]

    outcome = await run_outputs(executor, upstream, on_upstream, outputs, {"customer": {}})

    assert outcome.outcome == "success"
    assert outcome.outputs == {"name": None}
    assert outcome.warnings == ["name: $.customer.name matched nothing"]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("number", "v4lue"),
        ("number", True),
        ("number", {"n": 1}),
        ("boolean", "maybe"),
        ("boolean", 2),
        ("boolean", "v4lue"),
        ("object", "v4lue"),
        ("object", 5),
    ],
)
async def test_a_value_that_cannot_take_the_type_is_null_with_a_warning(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory, kind: str, value: Any
) -> None:
    outputs = [{"name": "out", "path": "$.value", "type": kind}]

    outcome = await run_outputs(executor, upstream, on_upstream, outputs, {"value": value})

    assert outcome.outcome == "success"
    assert outcome.outputs == {"out": None}
    article = "an" if kind == "object" else "a"
    assert outcome.warnings == [f"out: $.value gave a value that is not {article} {kind}"]
    assert "v4lue" not in repr(outcome.warnings)


async def test_several_matches_for_a_single_output_take_the_first_with_a_warning(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [{"name": "id", "path": "$.items[*].id", "type": "number"}]

    outcome = await run_outputs(
        executor, upstream, on_upstream, outputs, {"items": [{"id": 1}, {"id": 2}]}
    )

    assert outcome.outputs == {"id": 1}
    assert outcome.warnings == ["id: $.items[*].id matched 2; took the first"]


def alert(kind: str) -> dict[str, Any]:
    return {
        "name": "overdue",
        "path": "$.overdue",
        "type": kind,
        "target": "alert",
        "message": "Account ${account.id} (${fullName}): ${overdue}",
    }


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("boolean", True, "true"),
        ("string", "90 days", "90 days"),
        ("number", 5, "5"),
        ("object", ["late"], '["late"]'),
        ("object", {"days": 90}, '{"days":90}'),
    ],
)
async def test_an_alert_is_raised_when_its_value_is_truthy(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    kind: str,
    value: Any,
    shown: str,
) -> None:
    outputs: list[dict[str, Any]] = [{"name": "fullName", "path": "$.name"}, alert(kind)]

    outcome = await run_outputs(
        executor,
        upstream,
        on_upstream,
        outputs,
        {"name": "Ann", "overdue": value},
        context={"account": {"id": "A-42"}},
    )

    assert outcome.outcome == "success"
    assert outcome.alerts == [f"Account A-42 (Ann): {shown}"]
    assert outcome.outputs == {"fullName": "Ann"}


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        pytest.param("boolean", False, id="false"),
        pytest.param("string", "", id="empty-string"),
        pytest.param("string", None, id="null"),
        pytest.param("object", [], id="empty-list"),
        pytest.param("object", {}, id="empty-object"),
        pytest.param("number", 0, id="zero"),
    ],
)
async def test_an_alert_is_not_raised_when_its_value_is_falsy(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory, kind: str, value: Any
) -> None:
    outputs: list[dict[str, Any]] = [{"name": "fullName", "path": "$.name"}, alert(kind)]

    outcome = await run_outputs(
        executor,
        upstream,
        on_upstream,
        outputs,
        {"name": "Ann", "overdue": value},
        context={"account": {"id": "A-42"}},
    )

    assert outcome.outcome == "success"
    assert outcome.alerts == []
    assert outcome.outputs == {"fullName": "Ann"}


async def test_an_alert_whose_path_matches_nothing_is_not_raised(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [alert("boolean")]

    outcome = await run_outputs(executor, upstream, on_upstream, outputs, {"name": "Ann"})

    assert outcome.alerts == []
    assert outcome.warnings == ["overdue: $.overdue matched nothing"]


# Outcomes


async def test_a_2xx_answer_is_a_success(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(200, {"name": "Ann"})

    outcome = await executor.run(
        on_upstream(outputs=[{"name": "name", "path": "$.name"}]), CUSTOMER, {}
    )

    assert outcome.outcome == "success"
    assert (outcome.reason, outcome.message, outcome.status) == (None, None, 200)
    assert outcome.outputs == {"name": "Ann"}
    assert len(outcome.invocation_id) == 16
    assert outcome.duration_ms > 0


async def test_a_404_is_a_failure_with_reason_status(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(404, {"error": "no such customer"})
    plan = on_upstream(outputs=[{"name": "error", "path": "$.error"}])

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.reason, outcome.status) == ("failure", "status", 404)
    assert outcome.message == "the upstream answered 404"
    assert outcome.outputs == {"error": "no such customer"}


@pytest.mark.parametrize(
    ("success_statuses", "status", "outcome"),
    [
        ([200, 404], 404, "success"),
        ([201], 200, "failure"),
        ([], 204, "success"),
        ([302], 302, "success"),
    ],
)
async def test_success_statuses_decide_what_succeeds(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    success_statuses: list[int],
    status: int,
    outcome: str,
) -> None:
    upstream.answer(status, b"", headers={"Location": f"{upstream.url}/elsewhere"})

    result = await executor.run(on_upstream(success_statuses=success_statuses), CUSTOMER, {})

    assert (result.outcome, result.status) == (outcome, status)
    assert result.reason == (None if outcome == "success" else "status")
    assert len(upstream.received) == 1  # a redirect declared a success is not followed


async def test_an_unreadable_error_page_is_a_status_failure_with_a_warning(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(500, "<html>Internal error</html>", headers={"Content-Type": "text/html"})
    plan = on_upstream(outputs=[{"name": "name", "path": "$.name"}])

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.reason, outcome.status) == ("failure", "status", 500)
    assert outcome.warnings == ["name: the response body is not JSON"]


async def test_a_closed_port_is_an_upstream_error(executor: Executor) -> None:
    port = free_port()
    plan = compile_from(api_def(base_url=f"http://127.0.0.1:{port}/api"), request_def())

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "upstream_error")
    assert outcome.message == f"could not connect to 127.0.0.1:{port}"
    assert outcome.status is None


async def test_a_server_that_closes_the_connection_is_an_upstream_error(
    executor: Executor, hangs_up: str
) -> None:
    plan = compile_from(api_def(base_url=f"{hangs_up}/api"), request_def())

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.reason) == ("failure", "upstream_error")
    assert outcome.message is not None
    assert hangs_up.removeprefix("http://") in outcome.message
    assert "/api" not in outcome.message


async def test_an_upstream_slower_than_the_timeout_is_a_timeout(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(200, {"name": "late"}, delay=0.8)
    plan = on_upstream(timeout=0.3, outputs=[{"name": "name", "path": "$.name"}])
    started = perf_counter()

    outcome = await executor.run(plan, CUSTOMER, {})

    elapsed = perf_counter() - started
    assert (outcome.outcome, outcome.reason) == ("timeout", "timeout")
    assert outcome.message == "no complete answer within 0.3 s"
    assert outcome.status is None
    assert outcome.outputs == {}
    assert 250 <= outcome.duration_ms < 1000
    assert elapsed < 1.0


async def test_a_success_with_a_body_that_is_not_json_is_a_mapping_failure(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(200, "<html>maintenance</html>", headers={"Content-Type": "text/html"})
    plan = on_upstream(outputs=[{"name": "name", "path": "$.name"}])

    outcome = await executor.run(plan, CUSTOMER, {})

    assert (outcome.outcome, outcome.reason, outcome.status) == ("failure", "mapping", 200)
    assert outcome.message == "name: the response body is not JSON"
    assert outcome.outputs == {}


async def test_each_call_logs_one_line_with_its_outcome(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream.answer(404, {})
    caplog.set_level(logging.INFO, logger="callout.runtime")

    outcome = await executor.run(on_upstream(), CUSTOMER, {})

    [record] = [r for r in caplog.records if r.name == "callout.runtime"]
    line = record.getMessage()
    assert f"invocation={outcome.invocation_id}" in line
    assert "api='CRM' request='Get customer' mode=live outcome=failure reason=status" in line
    assert "status=404" in line


async def test_a_success_logs_at_debug_only(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream.answer(200, {"name": "Ann"})
    caplog.set_level(logging.INFO, logger="callout.runtime")
    await executor.run(on_upstream(), CUSTOMER, {})
    assert not [r for r in caplog.records if r.name == "callout.runtime"]

    caplog.set_level(logging.DEBUG, logger="callout.runtime")
    outcome = await executor.run(on_upstream(), CUSTOMER, {})

    [record] = [r for r in caplog.records if r.name == "callout.runtime"]
    assert record.levelno == logging.DEBUG
    assert f"invocation={outcome.invocation_id}" in record.getMessage()
    assert "outcome=success" in record.getMessage()


# Dry run and mock


async def test_dry_run_sends_nothing_and_returns_the_rendered_request(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        api={"authorization": {"type": "bearer", "token": "tok-123"}},
        method="POST",
        endpoint_path="customers/${customerId}/notes",
        query=[{"name": "q", "value": "${customerId}"}],
        headers=[{"name": "X-Customer", "value": "${customerId}"}],
        content_type="json",
        body='{"id": "${customerId}"}',
    )

    outcome = await executor.run(plan, {"customerId": "a b"}, {}, mode="dry_run")

    assert upstream.received == []
    assert outcome.outcome == "success"
    assert outcome.status is None
    assert outcome.request is not None
    assert outcome.request.method == "POST"
    assert outcome.request.url == f"{upstream.url}/api/v1/customers/a%20b/notes?q=a+b"
    assert ("X-Customer", "a b") in outcome.request.headers
    assert ("Content-Type", "application/json") in outcome.request.headers
    assert outcome.request.body == '{"id": "a b"}'
    assert "tok-123" not in repr(outcome)


async def test_dry_run_still_checks_parameters(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outcome = await executor.run(on_upstream(), {}, {}, mode="dry_run")

    assert (outcome.outcome, outcome.reason) == ("failure", "invalid_parameters")
    assert upstream.received == []


SAMPLES = [
    {"name": "Found", "status": 200, "body": '{"name": "Ann", "overdue": true}'},
    {
        "name": "Missing",
        "status": 404,
        "headers": [{"name": "X-Reason", "value": "gone"}],
        "body": '{"error": "no such customer"}',
    },
]
SAMPLE_OUTPUTS = [
    {"name": "name", "path": "$.name"},
    {"name": "error", "path": "$.error", "default": ""},
    {"name": "reason", "source": "header", "path": "X-Reason", "default": ""},
    {"name": "overdue", "path": "$.overdue", "type": "boolean", "default": False},
]


async def test_mock_maps_the_named_sample_and_sends_nothing(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(samples=SAMPLES, outputs=SAMPLE_OUTPUTS)

    outcome = await executor.run(plan, CUSTOMER, {}, mode="mock", sample="Missing")

    assert upstream.received == []
    assert (outcome.outcome, outcome.reason, outcome.status) == ("failure", "status", 404)
    assert outcome.outputs == {
        "name": None,
        "error": "no such customer",
        "reason": "gone",
        "overdue": False,
    }


async def test_mock_without_a_name_maps_the_first_sample(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(samples=SAMPLES, outputs=SAMPLE_OUTPUTS)

    outcome = await executor.run(plan, CUSTOMER, {}, mode="mock")

    assert upstream.received == []
    assert (outcome.outcome, outcome.status) == ("success", 200)
    assert outcome.outputs == {"name": "Ann", "error": "", "reason": "", "overdue": True}


async def test_mock_still_checks_parameters(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(samples=SAMPLES)

    outcome = await executor.run(plan, {"customerId": {"x": 1}}, {}, mode="mock")

    assert (outcome.outcome, outcome.reason) == ("failure", "invalid_parameters")


async def test_mock_without_samples_fails_clearly(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outcome = await executor.run(on_upstream(), CUSTOMER, {}, mode="mock")

    assert outcome.outcome == "failure"
    assert outcome.message == "mode mock needs a sample response, and this request has none"
    assert upstream.received == []


async def test_mock_with_an_unknown_sample_name_fails_naming_it(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(samples=SAMPLES)

    outcome = await executor.run(plan, CUSTOMER, {}, mode="mock", sample="Nope")

    assert outcome.outcome == "failure"
    assert outcome.message == "this request has no sample response named 'Nope'"
    assert upstream.received == []


# The trace


def traced_plan(on_upstream: PlanFactory, **changes: Any) -> Plan:
    """A POST with a bearer token, a secret header and a plain one."""
    return on_upstream(
        api={
            "authorization": {"type": "bearer", "token": "tok-stored-123"},
            "headers": [
                {"name": "X-Api-Key", "value": "key-stored-456", "secret": True},
                {"name": "X-Tenant", "value": "acme"},
            ],
        },
        method="POST",
        content_type="json",
        body='{"id": "${customerId}"}',
        outputs=[{"name": "method", "path": "$.method"}],
        **changes,
    )


async def test_the_trace_names_and_times_each_step(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(200, {"method": "POST"})

    outcome = await executor.run(traced_plan(on_upstream), CUSTOMER, {}, trace=True)

    assert [step.name for step in outcome.steps] == ["bind", "render", "authorize", "send", "map"]
    assert all(step.duration_ms >= 0 for step in outcome.steps)
    assert sum(step.duration_ms for step in outcome.steps) <= outcome.duration_ms + 1
    assert outcome.steps[3].detail == "status 200"


async def test_the_trace_shows_the_request_as_sent_with_secrets_masked(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(200, {"method": "POST"})

    outcome = await executor.run(traced_plan(on_upstream), CUSTOMER, {}, trace=True)

    request = outcome.request
    assert request is not None
    assert request.method == "POST"
    assert request.url == f"{upstream.url}/api/v1/customers/7"
    headers = dict(request.headers)
    assert headers["Authorization"] == MASK
    assert headers["X-Api-Key"] == MASK
    assert headers["X-Tenant"] == "acme"
    assert headers["Content-Type"] == "application/json"
    assert request.body == '{"id": "7"}'
    assert "tok-stored-123" not in repr(outcome)
    assert "key-stored-456" not in repr(outcome)
    # ...while the upstream got the real values.
    seen = only(upstream)
    assert seen.header("Authorization") == "Bearer tok-stored-123"
    assert seen.header("X-Api-Key") == "key-stored-456"


async def test_the_trace_shows_a_preview_of_the_response(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    big = "é" * PREVIEW_BYTES
    upstream.answer(
        200, {"method": "POST", "big": big}, headers={"X-Request-Id": "r-1", "Set-Cookie": "s=1"}
    )

    outcome = await executor.run(traced_plan(on_upstream), CUSTOMER, {}, trace=True)

    response = outcome.response
    assert response is not None
    assert response.status == 200
    headers = {name.lower(): value for name, value in response.headers}
    assert headers["x-request-id"] == "r-1"
    assert headers["set-cookie"] == MASK
    assert response.truncated is True
    assert response.body.startswith('{"method": "POST"')
    assert len(response.body.encode()) <= PREVIEW_BYTES + 3  # a cut character is replaced


async def test_a_short_response_is_previewed_whole(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(200, {"method": "POST"})

    outcome = await executor.run(traced_plan(on_upstream), CUSTOMER, {}, trace=True)

    assert outcome.response is not None
    assert outcome.response.body == '{"method": "POST"}'
    assert outcome.response.truncated is False


async def test_without_trace_there_are_no_steps_request_or_response(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(200, {"method": "POST"})

    outcome = await executor.run(traced_plan(on_upstream), CUSTOMER, {})

    assert outcome.outcome == "success"
    assert (outcome.steps, outcome.request, outcome.response) == ([], None, None)


async def test_a_mock_trace_shows_the_sample_step(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = traced_plan(on_upstream, samples=SAMPLES)

    outcome = await executor.run(plan, CUSTOMER, {}, mode="mock", sample="Missing", trace=True)

    assert [step.name for step in outcome.steps] == ["bind", "render", "sample", "map"]
    assert outcome.steps[2].detail == "status 404"
    assert outcome.request is not None
    assert outcome.response is not None
    assert outcome.response.status == 404
    assert upstream.received == []


async def test_a_dry_run_trace_stops_after_render(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outcome = await executor.run(traced_plan(on_upstream), CUSTOMER, {}, mode="dry_run", trace=True)

    assert [step.name for step in outcome.steps] == ["bind", "render"]
    assert outcome.request is not None
    assert outcome.response is None


async def test_a_timed_out_call_traces_the_request_it_sent(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    upstream.answer(200, {}, delay=0.6)

    outcome = await executor.run(traced_plan(on_upstream, timeout=0.2), CUSTOMER, {}, trace=True)

    assert outcome.outcome == "timeout"
    assert [step.name for step in outcome.steps] == ["bind", "render", "authorize", "timeout"]
    assert outcome.request is not None
    assert dict(outcome.request.headers)["Authorization"] == MASK
    assert outcome.response is None


# Secrets


def sentinel_plan(on_upstream: PlanFactory, authorization: dict[str, Any], **changes: Any) -> Plan:
    """The sentinel as the authorization's secret, an API secret header and a request one."""
    request: dict[str, Any] = {
        "headers": [{"name": "X-Request-Key", "value": f"rk-{SENTINEL}", "secret": True}],
        "method": "POST",
        "content_type": "json",
        "body": '{"id": "${customerId}"}',
        "outputs": [{"name": "method", "path": "$.method"}],
    }
    return on_upstream(
        api={
            "authorization": authorization,
            "headers": [{"name": "X-Api-Key", "value": SENTINEL, "secret": True}],
        },
        **(request | changes),
    )


def assert_no_sentinel(secret: str, outcome: Outcome, plan: Plan, caplog: Any) -> None:
    for item in dataclasses.fields(outcome):
        assert secret not in repr(getattr(outcome, item.name)), item.name
    assert secret not in repr(outcome)
    for record in caplog.records:
        assert secret not in record.getMessage(), record.name
        assert secret not in repr(record.args), record.name
        assert secret not in (record.exc_text or ""), record.name
    assert secret not in repr(plan)
    assert secret not in str(plan)


AUTHORIZATIONS = [
    pytest.param({"type": "bearer", "token": SENTINEL}, id="bearer"),
    pytest.param({"type": "basic", "username": "alice", "password": SENTINEL}, id="basic"),
]


@pytest.mark.parametrize("authorization", AUTHORIZATIONS)
@pytest.mark.parametrize(
    "scenario", ["echo", "error-page", "unreadable", "timeout", "dry_run", "mock", "bad-parameter"]
)
async def test_secrets_appear_in_no_outcome_log_or_plan(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    caplog: pytest.LogCaptureFixture,
    authorization: dict[str, Any],
    scenario: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    samples = [
        {
            "name": "Leaky",
            "status": 500,
            "headers": [{"name": "X-Echo", "value": SENTINEL}],
            "body": f'{{"key": "{SENTINEL}"}}',
        }
    ]
    plan = sentinel_plan(on_upstream, authorization, samples=samples, timeout=0.2)
    mode: Any = scenario if scenario in ("dry_run", "mock") else "live"
    parameters: dict[str, Any] = dict(CUSTOMER)
    if scenario == "echo":
        upstream.echo()
    elif scenario == "error-page":
        upstream.answer(500, f"bad key {SENTINEL}", headers={"X-Echo": SENTINEL})
    elif scenario == "unreadable":
        upstream.answer(200, f"key={SENTINEL}")
    elif scenario == "timeout":
        upstream.answer(200, {}, delay=0.5)
    elif scenario == "bad-parameter":
        parameters = {"customerId": {"k": SENTINEL}}

    outcome = await executor.run(plan, parameters, {}, mode=mode, trace=True)

    assert outcome.steps or scenario == "bad-parameter"
    if scenario == "echo":
        assert outcome.outcome == "success"
        echoed = json.loads(only(upstream).body)
        assert echoed == {"id": "7"}
    assert_no_sentinel(SENTINEL, outcome, plan, caplog)


async def test_echoed_basic_credentials_are_masked_in_the_trace(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # `Basic base64(user:password)` is the password in another spelling.
    caplog.set_level(logging.DEBUG)
    plan = sentinel_plan(on_upstream, {"type": "basic", "username": "alice", "password": SENTINEL})
    upstream.echo()

    outcome = await executor.run(plan, CUSTOMER, {}, trace=True)

    credentials = base64.b64encode(f"alice:{SENTINEL}".encode()).decode()
    assert only(upstream).header("Authorization") == f"Basic {credentials}"
    assert_no_sentinel(credentials, outcome, plan, caplog)


async def test_a_context_token_sent_as_bearer_is_masked_in_the_trace(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    plan = sentinel_plan(on_upstream, {"type": "bearer", "token": "${loginData.token}"})
    upstream.echo()
    token = "ctx-session-5e2a91"  # not among the plan's stored secrets

    outcome = await executor.run(plan, CUSTOMER, {"loginData": {"token": token}}, trace=True)

    assert only(upstream).header("Authorization") == f"Bearer {token}"
    assert_no_sentinel(token, outcome, plan, caplog)


async def test_stored_secrets_echoed_into_outputs_and_alerts_are_masked(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    plan = sentinel_plan(
        on_upstream,
        {"type": "bearer", "token": SENTINEL},
        outputs=[
            {"name": "key", "path": "$.headers['X-Api-Key']"},
            {"name": "page", "path": ""},
            {
                "name": "auth",
                "path": "$.headers.Authorization",
                "target": "alert",
                "message": "sent ${auth}",
            },
        ],
    )
    upstream.echo()

    outcome = await executor.run(plan, CUSTOMER, {})

    assert outcome.outcome == "success"
    assert set(outcome.outputs) == {"key", "page"}
    assert len(outcome.alerts) == 1
    assert_no_sentinel(SENTINEL, outcome, plan, caplog)


# Secret request parameters: the caller's value masked in each spelling it is sent in

SECRET_VALUE = "s3/cr+t &x=1"  # reserved characters: each placement spells it differently
SECRET_SPELLINGS = [
    "s3/cr+t &x=1",
    "s3%2Fcr%2Bt%20%26x%3D1",  # a path segment
    "s3%2Fcr%2Bt+%26x%3D1",  # a query or form value
    "s3/cr+t &amp;x=1",  # XML
]
SECRET_PLACEMENTS = [
    pytest.param({"endpoint_path": "customers/${customerId}/${pin}"}, id="path"),
    pytest.param({"query": [{"name": "pin", "value": "${pin}"}]}, id="query"),
    pytest.param({"headers": [{"name": "X-Pin", "value": "pin ${pin}"}]}, id="header"),
    pytest.param(
        {"method": "POST", "content_type": "json", "body": '{"pin": "${pin}", "n": "#${pin}"}'},
        id="json",
    ),
    pytest.param(
        {
            "method": "POST",
            "content_type": "form",
            "form": [{"name": "pin", "value": "${pin}"}],
        },
        id="form",
    ),
    pytest.param({"method": "POST", "content_type": "xml", "body": "<pin>${pin}</pin>"}, id="xml"),
]


@pytest.mark.parametrize("placement", SECRET_PLACEMENTS)
@pytest.mark.parametrize("mode", ["live", "dry_run"])
async def test_a_secret_parameter_is_masked_wherever_it_is_placed(
    executor: Executor,
    upstream: Upstream,
    on_upstream: PlanFactory,
    caplog: pytest.LogCaptureFixture,
    placement: dict[str, Any],
    mode: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    parameters = [
        {"name": "customerId", "required": True},
        {"name": "pin", "required": True, "secret": True},
    ]
    plan = on_upstream(parameters=parameters, **placement)
    upstream.echo()  # everything sent comes back in the body

    outcome = await executor.run(plan, CUSTOMER | {"pin": SECRET_VALUE}, {}, mode=mode, trace=True)

    if mode == "live":
        assert outcome.outcome == "success", outcome.message
        seen = only(upstream)
        sent = f"{seen.raw_path} {seen.headers} {seen.body.decode()}"
        assert any(spelling in sent for spelling in SECRET_SPELLINGS)  # it went out
    assert outcome.request is not None
    assert MASK in repr(outcome.request)
    for spelling in SECRET_SPELLINGS:
        assert_no_sentinel(spelling, outcome, plan, caplog)


async def test_a_short_secret_parameter_is_masked_in_the_trace_but_not_in_outputs(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    plan = on_upstream(
        parameters=[{"name": "pin", "required": True, "secret": True}],
        query=[{"name": "pin", "value": "${pin}"}],
        endpoint_path="orders/12345",
        outputs=[{"name": "path", "path": "$.raw_path"}],
    )
    upstream.echo()

    outcome = await executor.run(plan, {"pin": "123"}, {}, trace=True)

    assert outcome.request is not None
    assert outcome.request.url.endswith(f"/orders/{MASK}45?pin={MASK}")
    # What goes back to the caller is the caller's own: "12345" is not cut up.
    assert outcome.outputs == {"path": "/api/v1/orders/12345?pin=123"}
