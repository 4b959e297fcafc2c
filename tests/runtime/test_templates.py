"""Placeholders: parsing, looking values up, and placing hostile values in every place a
value can land (path segment, query value, header value, JSON body, XML body, text body,
form field) without changing the shape of what they land in."""

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from defusedxml import ElementTree
from hypothesis import example, given, settings
from hypothesis import strategies as st

from callout.runtime import templates
from callout.runtime.errors import ParameterError
from callout.runtime.plan import Plan
from callout.runtime.render import bind, render
from callout.runtime.templates import (
    MAX_VALUE_CHARS,
    Members,
    Mixed,
    Placeholder,
    TemplateError,
    Whole,
    compile_json,
    header_of,
    json_of,
    lookup,
    parse,
    path_of,
    text_of,
    to_text,
    xml_of,
)
from tests.runtime.conftest import BASE_URL, plan_of

LONG = "x" * 10_000
TOO_LONG = "x" * (MAX_VALUE_CHARS + 1)

# Values a caller may send to break out of where they land.
HOSTILE = {
    "dotdot-slash": "../",
    "dotdot-slash-admin": "../../admin",
    "encoded-dots": "%2e%2e",
    "encoded-dots-slash": "%2E%2E%2Fadmin",
    "encoded-slash": "%2F",
    "slash": "a/b",
    "backslash": "..\\..\\",
    "crlf-header": "x\r\nX-Injected: 1",
    "lf": "\n",
    "cr": "\r",
    "nul": "a\x00b",
    "double-quote": '"',
    "single-quote": "'",
    "quotes": "\"'`",
    "close-braces": "}}",
    "open-placeholder": "${{",
    "placeholder-text": "${customerId}",
    "escaped-placeholder": "$${x}",
    "query-and-fragment": "?admin=1#top",
    "ampersand": "&a=b",
    "percent": "%",
    "space-plus": "a b+c",
    "unicode": "é☃😀",
    "markup": "<x a='1'/>&amp;]]>",
    "long": LONG,
}
LINE_BREAKING = {"crlf-header", "lf", "cr", "nul"}
HOSTILE_PARAMS = [pytest.param(value, id=name) for name, value in HOSTILE.items()]
SAFE_FOR_HEADERS = [
    pytest.param(value, id=name) for name, value in HOSTILE.items() if name not in LINE_BREAKING
]
LINE_BREAKERS = [
    pytest.param(value, id=name) for name, value in HOSTILE.items() if name in LINE_BREAKING
]
# A percent-encoded segment: only unreserved characters and %XX escapes (RFC 3986 2.1, 2.3).
ENCODED_SEGMENT = re.compile(r"^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$")

# What hypothesis draws: any text, hostile pieces, and the two mixed.
hostile_text = st.one_of(
    st.text(),
    st.sampled_from(list(HOSTILE.values())),
    st.lists(st.sampled_from(["..", ".", "/", "%2e", "%2F", "\r", "\n", "\x00", "${", "}"])).map(
        "".join
    ),
    st.tuples(
        st.text(max_size=5), st.sampled_from(list(HOSTILE.values())), st.text(max_size=5)
    ).map("".join),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)


def scope_of(value: Any) -> dict[str, Any]:
    return {"v": value, "account": {"id": "A-1"}}


# Parsing


def test_parse_splits_literal_text_and_placeholders() -> None:
    assert parse("/customers/${account.id}/notes") == (
        "/customers/",
        Placeholder(("account", "id")),
        "/notes",
    )


def test_parse_reaches_earlier_responses_by_request_name_with_spaces() -> None:
    assert parse("${responses.Get Customer.email}") == (
        Placeholder(("responses", "Get Customer", "email")),
    )


def test_parse_of_plain_and_empty_text() -> None:
    assert parse("plain text") == ("plain text",)
    assert parse("") == ()


def test_doubled_dollar_writes_a_literal_placeholder_opening() -> None:
    assert parse("cost $${price}") == ("cost ${price}",)
    assert parse("$${a}${b}") == ("${a}", Placeholder(("b",)))


def test_braces_outside_a_placeholder_are_literal() -> None:
    assert parse("x}}y") == ("x}}y",)
    assert parse("${a}}") == (Placeholder(("a",)), "}")


def test_spaces_around_path_segments_are_trimmed() -> None:
    assert parse("${ account . id }") == (Placeholder(("account", "id")),)


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("/customers/${id", "never closed"),
        ("${{id}}", "holds '{'"),
        ("${a$b}", "holds '{'"),
        ("${}", "empty name"),
        ("${a..b}", "empty name"),
        ("${a.}", "empty name"),
        ("${" + ".".join("abcdefghi") + "}", "deeper than 8"),
    ],
)
def test_malformed_placeholders_are_refused_saying_where(template: str, says: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse(template)
    assert "position 1" in str(caught.value)
    assert says in str(caught.value)


def test_placeholders_lists_only_the_placeholders() -> None:
    assert templates.placeholders("a ${x} b ${y.z}") == [
        Placeholder(("x",)),
        Placeholder(("y", "z")),
    ]


# Looking values up


def test_lookup_walks_mappings_by_key_and_lists_by_index() -> None:
    scope = {"account": {"phones": [{"number": "555"}, {"number": "556"}]}}
    assert lookup(Placeholder(("account", "phones", "1", "number")), scope) == "556"
    assert lookup(Placeholder(("account",)), scope) == scope["account"]


def test_lookup_prefers_a_key_that_looks_like_an_index() -> None:
    assert lookup(Placeholder(("fields", "0")), {"fields": {"0": "zero"}}) == "zero"


@pytest.mark.parametrize(
    ("path", "missing"),
    [
        (("account", "name"), "account.name"),
        (("account", "phones", "5"), "account.phones.5"),
        (("account", "phones", "-1"), "account.phones.-1"),
        (("account", "phones", "\u00b2"), "account.phones.\u00b2"),  # a digit int() refuses
        (("account", "phones", "9" * 5000), "account.phones." + "9" * 5000),  # past int()'s limit
        (("account", "id", "length"), "account.id.length"),
        (("call",), "call"),
    ],
)
def test_lookup_of_a_missing_value_names_the_path_not_the_values(
    path: tuple[str, ...], missing: str
) -> None:
    scope = {"account": {"id": "s3cr3t-id", "phones": ["555"]}}
    with pytest.raises(ParameterError) as caught:
        lookup(Placeholder(path), scope)
    assert f"{missing} is missing" in caught.value.message
    assert "s3cr3t-id" not in caught.value.message
    assert "555" not in caught.value.message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("as is", "as is"),
        (None, ""),
        (42, "42"),
        (-1.5, "-1.5"),
        (True, "true"),
        (False, "false"),
        ({"a": [1, "é"]}, '{"a":[1,"é"]}'),
        ([], "[]"),
    ],
)
def test_to_text_spells_values_as_json_and_null_as_empty(value: Any, text: str) -> None:
    assert to_text(value) == text


# Text: text bodies and alert messages, unencoded


@pytest.mark.parametrize("value", HOSTILE_PARAMS)
def test_text_places_hostile_values_verbatim(value: str) -> None:
    assert text_of(parse("before ${v} after"), scope_of(value)) == f"before {value} after"


def test_a_value_that_spells_a_placeholder_is_not_expanded_again() -> None:
    scope = {"v": "${account.id}", "account": {"id": "A-1"}}
    assert text_of(parse("${v}"), scope) == "${account.id}"
    assert header_of("X", parse("${v}"), scope) == "${account.id}"
    assert path_of(parse("/c/${v}"), scope) == "/c/%24%7Baccount.id%7D"


def test_a_value_of_exactly_the_limit_is_placed() -> None:
    value = "x" * MAX_VALUE_CHARS
    assert text_of(parse("${v}"), scope_of(value)) == value


@pytest.mark.parametrize(
    "render_with",
    [
        pytest.param(lambda p, s: text_of(p, s), id="text"),
        pytest.param(lambda p, s: path_of(p, s), id="path"),
        pytest.param(lambda p, s: header_of("X-Note", p, s), id="header"),
        pytest.param(lambda p, s: xml_of(p, s), id="xml"),
        pytest.param(lambda p, s: json_of(Mixed(p), s), id="json-in-string"),
    ],
)
def test_a_value_longer_than_the_limit_is_refused_everywhere(render_with: Any) -> None:
    with pytest.raises(ParameterError, match=f"longer than {MAX_VALUE_CHARS}"):
        render_with(parse("/n-${v}"), scope_of(TOO_LONG))


# Path segments


@pytest.mark.parametrize("value", HOSTILE_PARAMS)
def test_path_confines_a_hostile_value_to_its_segment(value: str) -> None:
    path = path_of(parse("/api/customers/${v}/notes"), scope_of(value))

    segments = path.split("/")
    assert segments[:3] == ["", "api", "customers"]
    assert segments[4:] == ["notes"]
    assert ENCODED_SEGMENT.match(segments[3])
    assert unquote(segments[3]) == value


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("../", "..%2F"),
        ("../../admin", "..%2F..%2Fadmin"),
        ("%2e%2e", "%252e%252e"),
        ("%2F", "%252F"),
        ("x\r\nX-Injected: 1", "x%0D%0AX-Injected%3A%201"),
        ("a\x00b", "a%00b"),
        ("\"'`", "%22%27%60"),
        ("}}", "%7D%7D"),
        ("${{", "%24%7B%7B"),
        ("?admin=1#top", "%3Fadmin%3D1%23top"),
        ("é", "%C3%A9"),
    ],
)
def test_path_percent_encodes_every_reserved_character(value: str, segment: str) -> None:
    assert path_of(parse("/c/${v}"), scope_of(value)) == f"/c/{segment}"


def test_path_places_values_inside_a_segment_with_literal_text() -> None:
    assert path_of(parse("/c/v${v}.json"), scope_of("..")) == "/c/v...json"
    assert path_of(parse("/c/${v}-${v}"), scope_of(".")) == "/c/.-."
    assert path_of(parse("/c/${account.id}"), scope_of("")) == "/c/A-1"


@pytest.mark.parametrize("value", [".", "..", ""])
def test_path_refuses_a_value_that_would_make_a_dot_or_empty_segment(value: str) -> None:
    with pytest.raises(ParameterError):
        path_of(parse("/api/customers/${v}/notes"), scope_of(value))


def test_path_refuses_a_dot_segment_made_of_two_values() -> None:
    with pytest.raises(ParameterError, match=re.escape("'.' or '..'")):
        path_of(parse("/c/${v}${v}"), scope_of("."))


def test_path_spells_numbers_and_booleans_as_json() -> None:
    assert path_of(parse("/c/${v}"), scope_of(7)) == "/c/7"
    assert path_of(parse("/c/${v}"), scope_of(True)) == "/c/true"


SURROGATE_PLANS = {
    "path": plan_of(),
    "query": plan_of(endpoint_path="c", query=[{"name": "q", "value": "${customerId}"}]),
    "header": plan_of(endpoint_path="c", headers=[{"name": "X-Id", "value": "${customerId}"}]),
    "json": plan_of(
        method="POST", endpoint_path="c", content_type="json", body='{"id": "${customerId}"}'
    ),
    "text": plan_of(method="POST", endpoint_path="c", content_type="text", body="${customerId}"),
    "form": plan_of(
        method="POST",
        endpoint_path="c",
        content_type="form",
        form=[{"name": "id", "value": "${customerId}"}],
    ),
}


@pytest.mark.parametrize("place", list(SURROGATE_PLANS))
def test_a_lone_surrogate_is_refused_as_a_parameter_error_not_a_crash(place: str) -> None:
    # JSON allows "\ud800", so a caller can send one; UTF-8 cannot carry it.
    plan = SURROGATE_PLANS[place]
    with pytest.raises(ParameterError):
        render(plan, bind(plan, {"customerId": "a\ud800b"}, {}))


# Header values


@pytest.mark.parametrize("value", SAFE_FOR_HEADERS)
def test_header_keeps_a_hostile_value_on_one_line(value: str) -> None:
    assert header_of("X-Note", parse("note ${v}"), scope_of(value)) == f"note {value}"


@pytest.mark.parametrize("value", [*LINE_BREAKERS, "\r\n", "a\rb", "a\nb", "\x00"])
def test_header_refuses_a_value_with_cr_lf_or_nul_without_quoting_it(value: str) -> None:
    with pytest.raises(ParameterError, match="control character") as caught:
        header_of("X-Note", parse("note ${v}"), scope_of(value))
    assert "X-Note" in caught.value.message
    assert "Injected" not in caught.value.message


# JSON bodies


def test_compile_json_marks_whole_and_mixed_strings() -> None:
    compiled = compile_json({"id": "${id}", "note": "call ${call.id}", "tags": ["a"], "n": 1})
    assert compiled == Members(
        (
            ("id", Whole(Placeholder(("id",)))),
            ("note", Mixed(("call ", Placeholder(("call", "id"))))),
            ("tags", ("a",)),
            ("n", 1),
        )
    )


def test_compile_json_unescapes_literal_placeholder_openings() -> None:
    assert compile_json("$${x}") == "${x}"


def test_compile_json_refuses_what_is_not_json() -> None:
    with pytest.raises(TypeError):
        compile_json({"a": {1, 2}})


@pytest.mark.parametrize(
    ("value", "whole"),
    [
        ("text", "text"),
        (42, 42),
        (1.5, 1.5),
        (True, True),
        (None, None),
        ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}),
        ([], []),
    ],
)
def test_json_whole_placeholder_keeps_the_value_type(value: Any, whole: Any) -> None:
    body = {"v": "${v}", "in": "v=${v}", "list": ["${v}", "${account.id}"]}
    rendered = json.loads(json.dumps(json_of(compile_json(body), scope_of(value))))
    assert rendered == {"v": whole, "in": f"v={to_text(value)}", "list": [whole, "A-1"]}


def test_json_keys_render_as_text() -> None:
    body = {"${account.id}": "${v}", "k-${v}": 1}
    assert json_of(compile_json(body), scope_of(7)) == {"A-1": 7, "k-7": 1}


@pytest.mark.parametrize("value", HOSTILE_PARAMS)
def test_json_places_hostile_values_whole_and_inside_strings(value: str) -> None:
    body = {"whole": "${v}", "inside": 'say "${v}" now', "key ${v}": ["${v}"]}
    sent = json.dumps(json_of(compile_json(body), scope_of(value)), ensure_ascii=False)
    assert json.loads(sent) == {
        "whole": value,
        "inside": f'say "{value}" now',
        f"key {value}": [value],
    }


# XML bodies


def parse_xml(text: str) -> Any:
    return ElementTree.fromstring(text.encode())


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(value, id=name)
        for name, value in HOSTILE.items()
        if name not in {"crlf-header", "cr", "nul", "lf"}
    ],
)
def test_xml_places_hostile_values_as_text_and_attributes(value: str) -> None:
    template = parse("<customer note=\"${v}\" alt='${v}'><name>${v}</name>${v}</customer>")
    root = parse_xml(xml_of(template, scope_of(value)))
    assert root.get("note") == value
    assert root.get("alt") == value
    assert root.find("name").text == value
    assert (root.find("name").tail or "") == value
    assert len(root) == 1


def test_xml_escapes_markup_and_both_quotes() -> None:
    assert xml_of(parse("<a>${v}</a>"), scope_of("<b x=\"1\" y='2'>&</b>")) == (
        "<a>&lt;b x=&quot;1&quot; y=&apos;2&apos;&gt;&amp;&lt;/b&gt;</a>"
    )


@pytest.mark.parametrize("value", ["a\x00b", "\x01", "\x0b", "\x1f", "\ufffe", "\uffff"])
def test_xml_refuses_a_character_xml_cannot_carry(value: str) -> None:
    with pytest.raises(ParameterError, match=r"XML 1\.0"):
        xml_of(parse("<a>${v}</a>"), scope_of(value))


def test_xml_keeps_line_breaks_and_tabs_in_text_and_attributes() -> None:
    # XML parsers turn a literal CR into LF in text, and CR, LF, tab into spaces in
    # attributes (XML 1.0 sections 2.11 and 3.3.3); only character references survive.
    value = "line 1\r\nline 2\tend\r"
    root = parse_xml(xml_of(parse('<a note="${v}">${v}</a>'), scope_of(value)))
    assert root.text == value
    assert root.get("note") == value


# Properties, through the executor's own render


URL_PLAN = plan_of(
    endpoint_path="customers/${customerId}/notes/n-${customerId}.json",
    query=[{"name": "q", "value": "${customerId}"}, {"name": "fixed", "value": "a b"}],
)


@settings(max_examples=300, deadline=None)
@given(value=hostile_text)
@example(value="..")
@example(value=".")
@example(value="")
@example(value="../../admin")
@example(value="%2e%2e%2f")
@example(value="//evil.example/")
@example(value="@evil.example")
def test_rendered_url_keeps_origin_base_path_and_segments(value: str) -> None:
    plan = URL_PLAN
    refused = None
    try:
        outgoing = render(plan, bind(plan, {"customerId": value}, {}))
    except ParameterError as error:
        refused = error.message
    if refused is not None:
        assert value in ("", ".", "..") or "longer than" in refused
        return
    url = outgoing.url
    split = urlsplit(url)
    assert url.startswith(plan.origin + plan.base_path + "/")
    assert f"{split.scheme}://{split.netloc}" == plan.origin == "https://crm.example.com"
    assert split.fragment == ""
    segments = split.path.split("/")
    assert segments[:4] == ["", "api", "v1", "customers"]
    assert segments[5] == "notes"
    assert len(segments) == 7
    assert all(ENCODED_SEGMENT.match(segment) for segment in segments)
    assert [unquote(s, errors="strict") for s in segments[4::2]] == [value, f"n-{value}.json"]
    assert parse_qsl(split.query, keep_blank_values=True) == [("q", value), ("fixed", "a b")]


HEADER_PLAN = plan_of(
    headers=[
        {"name": "X-Customer", "value": "id ${customerId}"},
        {"name": "X-Raw", "value": "${customerId}"},
    ],
    endpoint_path="customers",
)


@settings(max_examples=300, deadline=None)
@given(value=hostile_text)
@example(value="x\r\nX-Injected: 1")
@example(value="\n")
@example(value="\x00")
def test_no_rendered_header_gains_a_line(value: str) -> None:
    plan = HEADER_PLAN
    try:
        outgoing = render(plan, bind(plan, {"customerId": value}, {}))
    except ParameterError:
        # Refused only for what a header cannot carry: a control character other than tab
        # (RFC 9110 section 5.5), or a lone surrogate, which is not text.
        assert re.search(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]", value)
        return
    for _, header in outgoing.headers:
        assert not set(header) & {"\r", "\n", "\x00"}
    assert dict(outgoing.headers)["X-Customer"] == f"id {value}"
    assert dict(outgoing.headers)["X-Raw"] == value


JSON_PLAN = plan_of(
    method="POST",
    endpoint_path="customers",
    content_type="json",
    body=json.dumps(
        {
            "id": "${customerId}",
            "note": "called about ${customerId}",
            "account": "${account.value}",
            "both": ["${customerId}", {"${customerId}": "${account.value}"}],
        }
    ),
)


@settings(max_examples=200, deadline=None)
@given(value=hostile_text, context_value=json_values)
def test_json_body_parses_back_with_every_value_in_place(value: str, context_value: Any) -> None:
    plan = JSON_PLAN
    scope = bind(plan, {"customerId": value}, {"account": {"value": context_value}})
    outgoing = render(plan, scope)
    assert outgoing.body is not None
    assert json.loads(outgoing.body) == {
        "id": value,
        "note": f"called about {value}",
        "account": context_value,
        "both": [value, {value: context_value}],
    }


XML_PLAN = plan_of(
    method="POST",
    endpoint_path="customers",
    content_type="xml",
    body='<customer id="${customerId}"><note>${customerId}</note></customer>',
)
XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@settings(max_examples=300, deadline=None)
@given(value=hostile_text)
@example(value="a\r\nb")
@example(value="tab\there")
@example(value="]]><!--")
def test_xml_body_always_parses_with_the_text_intact(value: str) -> None:
    plan = XML_PLAN
    try:
        outgoing = render(plan, bind(plan, {"customerId": value}, {}))
    except ParameterError:
        assert XML_FORBIDDEN.search(value)
        return
    assert outgoing.body is not None
    root = ElementTree.fromstring(outgoing.body)
    assert (root.find("note").text or "") == value
    assert root.get("id") == value


@settings(max_examples=200, deadline=None)
@given(value=hostile_text)
def test_text_body_form_fields_and_multipart_fields_carry_values_verbatim(value: str) -> None:
    text = plan_of(
        method="POST", endpoint_path="notes", content_type="text", body="note: ${customerId}."
    )
    form_fields = [{"name": "id", "value": "${customerId}"}, {"name": "fixed", "value": "a&b=c"}]
    form = plan_of(method="POST", endpoint_path="notes", content_type="form", form=form_fields)
    multipart = plan_of(
        method="POST", endpoint_path="notes", content_type="multipart", form=form_fields
    )
    parameters = {"customerId": value}

    text_body = render(text, bind(text, parameters, {})).body
    form_body = render(form, bind(form, parameters, {})).body
    multipart_fields = render(multipart, bind(multipart, parameters, {})).form

    assert text_body == f"note: {value}.".encode()
    assert form_body is not None
    assert parse_qsl(form_body.decode(), keep_blank_values=True) == [
        ("id", value),
        ("fixed", "a&b=c"),
    ]
    assert multipart_fields == (("id", value), ("fixed", "a&b=c"))


def test_the_plan_knows_its_origin_and_base_path() -> None:
    plan: Plan = URL_PLAN
    assert BASE_URL.startswith(plan.origin)
    assert plan.base_path == "/api"
