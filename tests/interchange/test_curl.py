"""cURL import and "copy as cURL": real command lines from public API documentation and from
the browsers' Copy as cURL, curl's options, hostile shell text, and round trips through the
runtime's own plan and render."""

import base64
import contextlib
import json
import re
import shlex
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from callout.apis.authorization import BasicAuth, BearerAuth, NoAuth, OAuth2Auth
from callout.apis.fields import RESERVED_HEADERS, Header, NameValue
from callout.apis.schemas import ApiFields, RequestParameter
from callout.errors import Invalid
from callout.interchange import curl, native
from callout.interchange.curl import shell
from callout.interchange.schemas import ApiDocument, Converted, RequestDocument
from callout.invocations.compile import compile_plan
from callout.runtime import templates
from callout.runtime.http import Outgoing
from callout.runtime.plan import PlanKey
from callout.runtime.render import render
from callout.schemas import MASK, MAX_NAME, name_key

SOURCE = "command.sh"


def read(text: str) -> Converted:
    return curl.read(text, SOURCE)


def request_of(text: str) -> tuple[ApiDocument, RequestDocument]:
    document = read(text).documents[0]
    return document, document.requests[0]


def refusal(text: str) -> str:
    with pytest.raises(Invalid) as caught:
        read(text)
    return caught.value.detail


def headers_of(request: RequestDocument) -> dict[str, tuple[str, bool]]:
    return {h.name: (h.value, h.secret) for h in request.headers}


def notes_of(converted: Converted) -> list[str]:
    return [f"{note.where}: {note.message}" for note in converted.notes]


def sent(document: ApiDocument) -> Outgoing:
    """The request Callout would send for the document's first request, built by the
    runtime's own plan and render."""
    api = ApiFields(
        name=document.name,
        base_url=document.base_url,
        type=document.type,
        headers=document.headers,
        authorization=document.authorization,
    )
    plan = compile_plan(PlanKey(1, 1, 1, 1, 1), api, document.requests[0])
    return render(plan, {})


def secret(value: Any) -> str:
    return value.get_secret_value()  # type: ignore[no-any-return]


# Real command lines from public API documentation.


def test_stripe_charge_keeps_its_key_as_a_secret_header_and_sends_form_fields() -> None:
    # https://stripe.com/docs/api/charges/create (the documentation's own test key)
    converted = read(
        """curl https://api.stripe.com/v1/charges \\
  -u sk_test_4eC39HqLyjWDarjtT1zdp7dc: \\
  -d amount=2000 \\
  -d currency=usd \\
  -d source=tok_visa \\
  -d description="My First Test Charge (created for API docs at https://www.stripe.com/docs/api)"
"""
    )
    document = converted.documents[0]
    request = document.requests[0]
    assert (document.name, document.base_url) == ("api.stripe.com", "https://api.stripe.com")
    # The key is Basic's user name, which Callout keeps in clear: it goes as a secret
    # header with the same value curl sends.
    assert isinstance(document.authorization, NoAuth)
    [header] = request.headers
    assert (header.name, header.secret) == ("Authorization", True)
    assert (
        header.value == "Basic " + base64.b64encode(b"sk_test_4eC39HqLyjWDarjtT1zdp7dc:").decode()
    )
    assert "sk_test" not in native.dump(document)
    assert (request.name, request.method, request.endpoint_path) == (
        "POST /v1/charges",
        "POST",
        "/v1/charges",
    )
    assert request.content_type == "form"
    assert [(f.name, f.value) for f in request.form] == [
        ("amount", "2000"),
        ("currency", "usd"),
        ("source", "tok_visa"),
        (
            "description",
            "My First Test Charge (created for API docs at https://www.stripe.com/docs/api)",
        ),
    ]
    assert notes_of(converted) == [
        "word 3 (-u): the user name is the credential (the password is empty): kept as a "
        "secret Authorization header"
    ]


def test_stripe_quotes_around_part_of_a_word_join_it() -> None:
    # https://stripe.com/docs/api/payment_intents/create
    _, request = request_of(
        """curl https://api.stripe.com/v1/payment_intents \\
  -u sk_test_4eC39HqLyjWDarjtT1zdp7dc: \\
  -d amount=2000 \\
  -d currency=usd \\
  -d "payment_method_types[]"=card"""
    )
    assert [(f.name, f.value) for f in request.form] == [
        ("amount", "2000"),
        ("currency", "usd"),
        ("payment_method_types[]", "card"),
    ]


def test_github_create_issue_has_bearer_authorization_and_its_json_sent_as_curl_sends_it() -> None:
    # https://docs.github.com/en/rest/issues/issues#create-an-issue
    converted = read(
        """curl -L \\
  -X POST \\
  -H "Accept: application/vnd.github+json" \\
  -H "Authorization: Bearer <YOUR-TOKEN>" \\
  -H "X-GitHub-Api-Version: 2022-11-28" \\
  https://api.github.com/repos/OWNER/REPO/issues \\
  -d '{"title":"Found a bug","body":"I'\\''m having a problem with this.","assignees":["octocat"],"milestone":1,"labels":["bug"]}'"""  # noqa: E501 - as the page has it
    )
    document = converted.documents[0]
    request = document.requests[0]
    assert isinstance(document.authorization, BearerAuth)
    assert secret(document.authorization.token) == "<YOUR-TOKEN>"
    assert request.name == "POST /repos/OWNER/REPO/issues"
    # Without a Content-Type, curl sends -d as a form: the body goes as it would.
    assert request.content_type == "text"
    assert json.loads(request.body or "")["body"] == "I'm having a problem with this."
    assert headers_of(request) == {
        "Accept": ("application/vnd.github+json", False),
        "X-GitHub-Api-Version": ("2022-11-28", False),
        "Content-Type": ("application/x-www-form-urlencoded", False),
    }
    assert notes_of(converted) == [
        "data: the data is sent as application/x-www-form-urlencoded but is not name=value "
        "pairs: kept as text with that Content-Type (the content type json or text may suit "
        "the API)"
    ]


def test_github_quickstart_long_options() -> None:
    # https://docs.github.com/en/rest/quickstart?tool=curl
    document, request = request_of(
        """curl --request GET \\
--url "https://api.github.com/repos/octocat/Spoon-Knife/issues" \\
--header "Accept: application/vnd.github+json" \\
--header "Authorization: Bearer YOUR-TOKEN\""""
    )
    assert isinstance(document.authorization, BearerAuth)
    assert (request.method, request.endpoint_path) == ("GET", "/repos/octocat/Spoon-Knife/issues")
    assert headers_of(request) == {"Accept": ("application/vnd.github+json", False)}


def test_slack_webhook_posts_json() -> None:
    # https://api.slack.com/messaging/webhooks
    document, request = request_of(
        """curl -X POST -H 'Content-type: application/json' --data '{"text":"Hello, World!"}' https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"""
    )
    assert document.base_url == "https://hooks.slack.com"
    assert request.endpoint_path == "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
    assert (request.content_type, request.body) == ("json", '{"text":"Hello, World!"}')
    assert request.headers == []  # application/json is what content type json sends
    assert sent(document).header("Content-Type") == "application/json"


# The browsers' Copy as cURL.


def test_chrome_copy_as_curl_keeps_its_headers_and_makes_cookies_and_tokens_secret() -> None:
    # The shape of Chrome DevTools' Copy as cURL (bash): the URL first, one -H per header,
    # cookies with -b, the body with --data-raw, --compressed
    # (devtools-frontend, front_end/panels/network/NetworkLogView.ts).
    converted = read(
        """curl 'https://app.example.com/api/v2/tickets?include=requester&page=2' \\
  -H 'accept: application/json, text/plain, */*' \\
  -H 'accept-language: en-US,en;q=0.9' \\
  -H 'content-type: application/json' \\
  -b 'session_id=3f2a9c; theme=dark' \\
  -H 'origin: https://app.example.com' \\
  -H 'priority: u=1, i' \\
  -H 'referer: https://app.example.com/tickets' \\
  -H 'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"' \\
  -H 'sec-ch-ua-mobile: ?0' \\
  -H 'sec-ch-ua-platform: "Linux"' \\
  -H 'sec-fetch-dest: empty' \\
  -H 'sec-fetch-mode: cors' \\
  -H 'sec-fetch-site: same-origin' \\
  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36' \\
  -H 'x-csrf-token: 9d8c7b' \\
  --data-raw '{"subject":"Card declined","priority":"high","tags":["billing"]}' \\
  --compressed"""  # noqa: E501 - as the browser writes it
    )
    document = converted.documents[0]
    request = document.requests[0]
    assert document.name == "app.example.com"
    assert (request.method, request.name) == ("POST", "POST /api/v2/tickets")
    assert [(q.name, q.value) for q in request.query] == [("include", "requester"), ("page", "2")]
    assert (request.content_type, json.loads(request.body or "")["tags"]) == ("json", ["billing"])
    headers = headers_of(request)
    assert headers["Cookie"] == ("session_id=3f2a9c; theme=dark", True)
    assert headers["x-csrf-token"] == ("9d8c7b", True)
    assert headers["sec-ch-ua"] == (
        '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
        False,
    )
    assert "content-type" not in {name.lower() for name in headers}
    assert len(headers) == 14
    assert converted.notes == []


def test_firefox_copy_as_curl_leaves_out_what_the_http_client_sets() -> None:
    # The shape of Firefox DevTools' Copy as cURL (POSIX): --compressed and -X after the
    # URL, every header the browser sent, --data-raw (devtools/client/shared/curl.js).
    converted = read(
        """curl 'https://app.example.com/login' \\
  --compressed \\
  -X POST \\
  -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0' \\
  -H 'Accept: */*' \\
  -H 'Accept-Language: en-US,en;q=0.5' \\
  -H 'Accept-Encoding: gzip, deflate, br, zstd' \\
  -H 'Content-Type: application/x-www-form-urlencoded; charset=UTF-8' \\
  -H 'Origin: https://app.example.com' \\
  -H 'Connection: keep-alive' \\
  -H 'Referer: https://app.example.com/' \\
  -H 'TE: trailers' \\
  --data-raw 'user=agent7&remember=1&next=%2Fqueue'"""
    )
    request = converted.documents[0].requests[0]
    assert request.content_type == "form"
    assert [(f.name, f.value) for f in request.form] == [
        ("user", "agent7"),
        ("remember", "1"),
        ("next", "/queue"),
    ]
    assert headers_of(request)["Content-Type"] == (
        "application/x-www-form-urlencoded; charset=UTF-8",
        False,
    )
    assert notes_of(converted) == [
        "word 12 (-H): Accept-Encoding is set by Callout's HTTP client; left out",
        "word 18 (-H): Connection is set by Callout's HTTP client; left out",
        "word 22 (-H): TE is set by Callout's HTTP client; left out",
    ]


# A body or header holding ' or ! (and, in Firefox, text beyond ASCII) is written in bash's
# ANSI-C quotes, $'...'. The two browsers escape differently; both encoders are written out
# below from their escapeStringPosix.
NOTE = {"subject": "Can't log in", "note": 'Zoë says "Access denied!" after paying 20 € 😀'}


def test_chrome_copy_as_curl_in_ansi_c_quotes_reads_as_sent() -> None:
    # Chrome escapes \ ' and line breaks, and controls and ! as \uHHHH; other text stays.
    converted = read(
        """curl 'https://app.example.com/api/v2/tickets/4711/notes' \\
  -H 'accept: application/json, text/plain, */*' \\
  -H 'content-type: application/json' \\
  -H $'x-note: Ready\\u0021' \\
  --data-raw $'{"subject":"Can\\'t log in","note":"Zoë says \\\\"Access denied\\u0021\\\\" after paying 20 € 😀"}' \\
  --compressed"""  # noqa: E501 - as the browser writes it
    )
    request = converted.documents[0].requests[0]
    assert (request.method, request.content_type) == ("POST", "json")
    assert json.loads(request.body or "") == NOTE
    assert headers_of(request)["x-note"] == ("Ready!", False)
    assert converted.notes == []


def test_firefox_copy_as_curl_in_ansi_c_quotes_reads_as_sent() -> None:
    # Firefox escapes ! as \041 and what is not printable ASCII per UTF-16 code unit: up to
    # U+00FF as \xHH, beyond as \uHHHH, so 😀 is two of them.
    converted = read(
        """curl 'https://app.example.com/api/v2/tickets/4711/notes' \\
  --compressed \\
  -X POST \\
  -H 'Accept: application/json, text/plain, */*' \\
  -H 'Content-Type: application/json' \\
  -H $'X-Note: Ready\\041' \\
  --data-raw $'{"subject":"Can\\'t log in","note":"Zo\\xeb says \\\\"Access denied\\041\\\\" after paying 20 \\u20ac \\ud83d\\ude00"}'"""  # noqa: E501 - as the browser writes it
    )
    request = converted.documents[0].requests[0]
    assert (request.method, request.content_type) == ("POST", "json")
    assert json.loads(request.body or "") == NOTE
    assert headers_of(request)["X-Note"] == ("Ready!", False)
    assert converted.notes == []


@pytest.mark.parametrize(
    ("quoted", "word"),
    [
        (r"$'\a\b\e\E\f\n\r\t\v'", "\a\b\x1b\x1b\f\n\r\t\v"),
        (r"""$'\\ \' \" \?'""", "\\ ' \" ?"),
        (r"$'\101\61\1010\777'", "A1A0\xff"),
        (r"$'\x41\x4\x414'", "A\x04A4"),
        (r"$'\u00e9\u20ac\U0001F600\u41x'", "é€😀Ax"),
        (r"$'\ca\cZ\c?\c[\c\\'", "\x01\x1a\x7f\x1b\x1c"),
        (r"$'\q \x \u \c'", r"\q \x \u \c"),
        ("$'a\\\nb'", "a\\\nb"),
        (r"$'\xc3\xa9 \303\251'", "é é"),
        (r"$'caf\xe9 \xe9\u20ac'", "café é€"),
        (r"$'\ud83d\ude00'", "😀"),
        (r"""a$'b'"c"'d'""", "abcd"),
        ("$'$HOME `id` ${x}'", "$HOME `id` ${x}"),
    ],
    ids=[
        "letters",
        "quotes",
        "octal",
        "hex",
        "unicode",
        "control",
        "unknown",
        "backslash-newline",
        "utf-8-bytes",
        "latin-1-bytes",
        "utf-16-pair",
        "joined",
        "nothing-expanded",
    ],
)
def test_ansi_c_escapes_are_read_as_bash_reads_them(quoted: str, word: str) -> None:
    # Each as bash 5.2 gives it (printf '%s' $'...' in a UTF-8 locale), but latin-1-bytes
    # (Firefox's é) and utf-16-pair (its 😀), which bash passes as bytes that are no UTF-8.
    assert shell.split(f"curl {quoted}", SOURCE) == ["curl", word]


@pytest.mark.parametrize(
    ("quoted", "message"),
    [
        (
            r"$'a\0b'",
            r"column 9: \0 makes a NUL character, which no command line can pass to curl "
            "(bash would end the text there)",
        ),
        (r"$'\x00'", r"column 8: \x00 makes a NUL character"),
        (r"$'\u0000'", r"column 8: \u0000 makes a NUL character"),
        (r"$'\c@'", r"column 8: \c@ makes a NUL character"),
        (
            r"$'\ud83d'",
            r"column 6: a \u escape of half a UTF-16 pair without its other half (a character "
            "beyond U+FFFF is written as a pair of them)",
        ),
        (r"$'\U00110000'", r"column 8: \U00110000 is beyond Unicode's last character"),
        (r"$'it\'s", "column 6: a $'...' quote is never closed"),
    ],
    ids=["octal-nul", "hex-nul", "unicode-nul", "control-nul", "half-pair", "beyond", "open"],
)
def test_ansi_c_quotes_that_make_no_text_are_refused(quoted: str, message: str) -> None:
    assert refusal(f"curl {quoted}").startswith(f"{SOURCE}: line 1, {message}")


def chrome_quoted(text: str) -> str:
    """Chrome DevTools' escapeStringPosix (front_end/panels/network/NetworkLogView.ts)."""
    if not re.search(r"[\x00-\x1f\x7f-\x9f!']", text):
        return f"'{text}'"
    text = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    return "$'" + re.sub(r"[\x00-\x1f\x7f-\x9f!]", lambda m: f"\\u{ord(m[0]):04x}", text) + "'"


def firefox_quoted(text: str) -> str:
    """Firefox DevTools' escapeStringPosix (devtools/client/shared/curl.js), over UTF-16
    code units as JavaScript strings hold them."""
    if not re.search(r"[^\x20-\x7e]|!|'", text):
        return f"'{text}'"
    text = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    units = memoryview(text.replace("!", "\\041").encode("utf-16-le")).cast("H")
    return (
        "$'"
        + "".join(
            chr(u) if 0x20 <= u <= 0x7E else f"\\x{u:02x}" if u <= 0xFF else f"\\u{u:04x}"
            for u in units
        )
        + "'"
    )


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")))
def test_text_as_the_browsers_quote_it_reads_back_unchanged(text: str) -> None:
    assert shell.split(f"curl {chrome_quoted(text)}", SOURCE) == ["curl", text]
    # Two of U+0080-U+00FF side by side may spell UTF-8 as Firefox's \xHH bytes (Ã© is
    # \xc3\xa9): those read as é, which curl would send.
    assume(not re.search("[\x80-\xff]{2}", text))
    assert shell.split(f"curl {firefox_quoted(text)}", SOURCE) == ["curl", text]


# curl's options.


def test_get_moves_the_data_into_the_query() -> None:
    _, request = request_of(
        "curl -G https://api.example.com/search?lang=en -d q=phone "
        "--data-urlencode 'who=Ann Lee&co'"
    )
    assert (request.method, request.content_type, request.body) == ("GET", "none", None)
    assert [(q.name, q.value) for q in request.query] == [
        ("lang", "en"),
        ("q", "phone"),
        ("who", "Ann Lee&co"),
    ]
    assert request.headers == []


def test_data_urlencode_follows_curls_rules() -> None:
    _, request = request_of(
        "curl https://api.example.com/f --data-urlencode 'a=x y' --data-urlencode '=b=c' "
        "--data-urlencode 'd&e'"
    )
    # `name=text` encodes the text; `=text` and `text` encode all of it (here b=c and d&e).
    assert request.content_type == "text"
    assert request.body == "a=x%20y&b%3Dc&d%26e"
    assert refusal("curl https://x.example/ --data-urlencode name@notes.txt").endswith(
        "reads a file (@...), which an import cannot read"
    )


def test_data_from_a_file_is_refused() -> None:
    assert refusal("curl https://x.example/ -d @body.json") == (
        f"{SOURCE}: word 3 (-d): reads the body from a file (@...), which an import cannot "
        "read; paste the body in with --data-raw"
    )
    _, request = request_of("curl https://x.example/ --data-raw @handle")
    assert request.body == "@handle"


def test_json_option_sends_json_and_asks_for_it() -> None:
    document, request = request_of('curl --json \'{"name": "Ann"}\' https://api.example.com/c')
    assert (request.method, request.content_type, request.body) == (
        "POST",
        "json",
        '{"name": "Ann"}',
    )
    assert headers_of(request) == {"Accept": ("application/json", False)}
    assert sent(document).header("Content-Type") == "application/json"


def test_head_option_sends_head() -> None:
    _, request = request_of("curl -I https://x.example/health")
    assert request.method == "HEAD"
    assert refusal("curl -I -d a=1 https://x.example/") == (
        f"{SOURCE}: -I: -I and data together: curl refuses them too"
    )


def test_form_fields_become_multipart_and_files_are_noted() -> None:
    converted = read(
        "curl https://x.example/up -F name=Ann -F 'photo=@me.jpg' -F 'note=hi;type=text/plain' "
        "--form-string 'raw=@not-a-file'"
    )
    request = converted.documents[0].requests[0]
    assert request.content_type == "multipart"
    assert [(f.name, f.value) for f in request.form] == [
        ("name", "Ann"),
        ("note", "hi"),
        ("raw", "@not-a-file"),
    ]
    assert notes_of(converted) == [
        "word 5 (-F): the field photo sends a file, which an import cannot read; left out",
        "word 7 (-F): the field note's ;type= or other settings are left out",
    ]


def test_user_without_password_leaves_the_password_to_enter() -> None:
    document, _ = request_of("curl -u alice https://x.example/")
    assert isinstance(document.authorization, BasicAuth)
    assert (document.authorization.username, document.authorization.password) == ("alice", None)
    assert document.missing_secrets == ["authorization.password"]


def test_user_with_password_is_basic_with_the_password_secret() -> None:
    document, _ = request_of("curl --user 'alice:s3cr:et' https://x.example/")
    assert isinstance(document.authorization, BasicAuth)
    assert secret(document.authorization.password) == "s3cr:et"
    assert "s3cr" not in document.model_dump_json()
    assert sent(document).header("Authorization") == "Basic YWxpY2U6czNjcjpldA=="


def test_url_credentials_become_basic_authorization() -> None:
    document, _ = request_of("curl https://bob:pa%40ss@x.example/v1")
    assert isinstance(document.authorization, BasicAuth)
    assert (document.authorization.username, secret(document.authorization.password)) == (
        "bob",
        "pa@ss",
    )
    assert document.base_url == "https://x.example"


def test_oauth2_bearer_becomes_bearer_authorization() -> None:
    document, _ = request_of("curl --oauth2-bearer mF_9.B5f-4.1JqM https://x.example/")
    assert isinstance(document.authorization, BearerAuth)
    assert sent(document).header("Authorization") == "Bearer mF_9.B5f-4.1JqM"


def test_basic_authorization_header_becomes_basic() -> None:
    document, request = request_of(
        "curl -H 'Authorization: Basic YWxpY2U6c2VjcmV0' https://x.example/"
    )
    assert isinstance(document.authorization, BasicAuth)
    assert (document.authorization.username, secret(document.authorization.password)) == (
        "alice",
        "secret",
    )
    assert request.headers == []


def test_another_authorization_scheme_stays_a_secret_header() -> None:
    converted = read(
        "curl -u alice:pw -H 'Authorization: token ghp_16C7e42F292c6912E7710c838347Ae178B4a' "
        "https://api.github.com/user"
    )
    document = converted.documents[0]
    assert isinstance(document.authorization, NoAuth)
    assert headers_of(document.requests[0])["Authorization"] == (
        "token ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        True,
    )
    assert notes_of(converted) == ["word 2 (-u): the Authorization header replaces it, as in curl"]


def test_credential_headers_become_secret() -> None:
    _, request = request_of(
        "curl https://x.example/ -H 'X-API-Key: k1' -H 'PRIVATE-TOKEN: t2' "
        "-H 'Ocp-Apim-Subscription-Key: k3' -H 'X-Request-Id: r4'"
    )
    assert headers_of(request) == {
        "X-API-Key": ("k1", True),
        "PRIVATE-TOKEN": ("t2", True),
        "Ocp-Apim-Subscription-Key": ("k3", True),
        "X-Request-Id": ("r4", False),
    }


def test_user_agent_referer_and_cookies_are_headers_a_header_option_replaces() -> None:
    _, request = request_of(
        "curl https://x.example/ -A probe/1 -e 'https://from.example/;auto' -b a=1 -b b=2 "
        "-H 'User-Agent: agent/2'"
    )
    assert headers_of(request) == {
        "Referer": ("https://from.example/", False),
        "Cookie": ("a=1; b=2", True),
        "User-Agent": ("agent/2", False),
    }


def test_transport_options_are_noted_and_harmless_ones_ignored() -> None:
    converted = read(
        "curl -sSLvi --compressed -o out.json -w '%{http_code}' --retry 3 -k --proxy "
        "http://proxy:3128 --cert client.pem --resolve x.example:443:10.0.0.1 "
        "https://x.example/"
    )
    assert notes_of(converted) == [
        "word 10 (-k): skips checking the server's certificate; Callout always checks it",
        "word 11 (--proxy): goes through a proxy; Callout connects directly",
        "word 13 (--cert): presents a client certificate, which Callout does not carry",
        "word 15 (--resolve): pins a host to an address; Callout resolves and checks every "
        "host itself",
    ]


def test_short_options_group_and_take_glued_values() -> None:
    _, request = request_of("curl -sSXPUT -HAccept:text/csv -dname=Ann https://x.example/a")
    assert request.method == "PUT"
    assert headers_of(request) == {"Accept": ("text/csv", False)}
    assert [(f.name, f.value) for f in request.form] == [("name", "Ann")]


def test_unknown_options_are_named() -> None:
    assert refusal("curl --frobnicate https://x.example/") == (
        f"{SOURCE}: word 2: --frobnicate is not a curl option Callout reads"
    )
    assert refusal("curl -sz https://x.example/") == (
        f"{SOURCE}: word 2: -z is not a curl option Callout reads"
    )
    message = refusal("curl --header='X-Api-Key: s3cret' https://x.example/")
    assert "s3cret" not in message
    assert message.endswith(
        "--header=… is not a curl option Callout reads; curl takes an "
        "option's value as the next word, not after ="
    )


def test_max_time_becomes_the_timeout() -> None:
    assert request_of("curl -m 2.5 https://x.example/")[1].timeout == 2.5
    converted = read("curl --max-time 600 https://x.example/")
    assert converted.documents[0].requests[0].timeout is None
    assert notes_of(converted) == [
        "word 2 (--max-time): a request's timeout is at most 60 seconds: 10 is kept"
    ]


def test_globs_need_globoff_and_escaped_brackets_are_literal() -> None:
    assert refusal("curl 'https://x.example/{a,b}'") == (
        f"{SOURCE}: word 2: curl reads [ ] {{ }} in a URL as a glob of several URLs; add -g "
        "(--globoff) to send them as written"
    )
    assert request_of("curl -g 'https://x.example/a[1]'")[1].endpoint_path == "/a[1]"
    assert request_of("curl 'https://x.example/a\\[1\\]'")[1].endpoint_path == "/a[1]"
    document, _ = request_of("curl 'http://[2001:db8::7]:8080/status'")
    assert document.base_url == "http://[2001:db8::7]:8080"


def test_reserved_headers_are_left_out_and_repeated_ones_joined() -> None:
    converted = read(
        "curl https://x.example/ -H 'Host: other.example' -H 'Accept: text/html' "
        "-H 'accept: application/json' -H 'Expect:'"
    )
    assert headers_of(converted.documents[0].requests[0]) == {
        "Accept": ("text/html, application/json", False)
    }
    assert notes_of(converted) == [
        "word 3 (-H): Host is set by Callout's HTTP client; left out",
        "word 7 (-H): accept is given twice; its values are joined",
        "word 9 (-H): Expect: with no value sends no header",
    ]


def test_empty_header_is_written_with_a_semicolon() -> None:
    _, request = request_of("curl https://x.example/ -H 'X-Empty;'")
    assert headers_of(request) == {"X-Empty": ("", False)}


def test_request_name_is_cut_to_fit() -> None:
    path = "/" + "/".join(["segment"] * 30)
    document, request = request_of(f"curl https://x.example{path}")
    assert len(name_key(request.name)) == MAX_NAME
    assert request.name.endswith("…")
    assert request.endpoint_path == path
    assert document.name == "x.example"


# Placeholders and masked secrets.


def test_single_quoted_placeholders_become_parameters() -> None:
    _, request = request_of(
        "curl -g 'https://crm.example/customers/${customerId}?view=${view}' "
        "-H 'X-Api-Key: ${apiKey}' -H 'X-Agent: ${loginData.agentId}' "
        "-H 'Content-Type: application/json' -d '{\"note\": \"${note}\"}'"
    )
    assert request.endpoint_path == "/customers/${customerId}"
    assert [(q.name, q.value) for q in request.query] == [("view", "${view}")]
    assert [(p.name, p.required, p.secret) for p in request.parameters] == [
        ("customerId", True, False),
        ("view", True, False),
        ("note", True, False),
        ("apiKey", True, True),
    ]
    assert (request.content_type, request.body) == ("json", '{"note": "${note}"}')


def test_text_that_is_no_placeholder_stays_text() -> None:
    document, request = request_of(
        "curl https://x.example/ -H 'X-Price: ${ 1 2 }' -H 'X-Open: ${x' -H 'X-Cost: $5'"
    )
    assert headers_of(request) == {
        "X-Price": ("$${ 1 2 }", False),
        "X-Open": ("$${x", False),
        "X-Cost": ("$5", False),
    }
    assert request.parameters == []
    assert [value for _, value in sent(document).headers if "$" in value] == [
        "${ 1 2 }",
        "${x",
        "$5",
    ]


def test_masked_secrets_are_left_to_enter() -> None:
    document, request = request_of(
        f"curl https://x.example/ -u 'bob:{MASK}' -H 'X-Api-Key: {MASK}'"
    )
    assert document.missing_secrets == ["authorization.password"]
    assert request.missing_secrets == ["headers.x-api-key"]
    assert headers_of(request) == {"X-Api-Key": ("", True)}


# Hostile input: refused clearly, nothing run.


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "curl https://x.example/; rm -rf ~",
            "line 1, column 24: one curl command, no shell "
            "operators: ; outside quotes (quote it to send it as text)",
        ),
        (
            "curl https://x.example/ | sh",
            "line 1, column 25: one curl command, no shell "
            "operators: | outside quotes (quote it to send it as text)",
        ),
        (
            "curl https://x.example/ && reboot",
            "line 1, column 25: one curl command, no shell "
            "operators: & outside quotes (quote it to send it as text)",
        ),
        (
            "curl https://x.example/ > /etc/passwd",
            "line 1, column 25: one curl command, no "
            "shell operators: > outside quotes (quote it to send it as text)",
        ),
        (
            "curl -d a=1 https://x.example/ < /etc/shadow",
            "line 1, column 32: one curl command, "
            "no shell operators: < outside quotes (quote it to send it as text)",
        ),
        (
            "curl https://x.example/`id`",
            "line 1, column 24: a shell would run the command in backquotes; nothing is run",
        ),
        (
            'curl "https://x.example/$(id)"',
            "line 1, column 25: a shell would run the command in $(...); nothing is run",
        ),
        (
            "curl https://x.example/\n  -H 'X-Note: 1'",
            "line 2, column 3: one curl command per line: a line break outside quotes ends it, "
            "and what follows is no curl command (join a command's lines with a backslash at "
            "the end of each)",
        ),
    ],
    ids=[
        "semicolon",
        "pipe",
        "and",
        "redirect-out",
        "redirect-in",
        "backquotes",
        "subshell",
        "second-line",
    ],
)
def test_shell_operators_are_refused(text: str, message: str) -> None:
    assert refusal(text) == f"{SOURCE}: {message}"


def test_operators_inside_quotes_are_text() -> None:
    text = "a;b|c&&d>e<f`g`$(h)${i"
    _, request = request_of(f"curl https://x.example/ -H 'Content-Type: text/plain' -d '{text}'")
    assert request.body == text.replace("${", "$${")
    _, request = request_of('curl https://x.example/ -H "X-Note: a;b|c&d>e<f \\$HOME"')
    assert headers_of(request) == {"X-Note": ("a;b|c&d>e<f $HOME", False)}


@pytest.mark.parametrize(
    "text",
    [
        "curl -H 'Authorization: Bearer '$TOKEN https://x.example/",
        'curl -H "Authorization: Bearer $TOKEN" https://x.example/',
        'curl -H "Authorization: Bearer ${TOKEN}" https://x.example/',
    ],
    ids=["unquoted", "double-quoted", "braced"],
)
def test_shell_variables_are_refused_not_guessed(text: str) -> None:
    message = refusal(text)
    assert message.endswith(
        ": a shell would replace the $ and the name after it with a value this command does not "
        "hold; put the value in, or write a Callout placeholder such as '${name}' in single "
        "quotes"
    )


def test_single_quotes_keep_dollars_as_text() -> None:
    document, request = request_of(
        "curl -H 'X-Api-Key: $KEY' -H 'Authorization: Bearer ${TOKEN}' https://x.example/"
    )
    assert headers_of(request) == {"X-Api-Key": ("$KEY", True)}
    assert isinstance(document.authorization, BearerAuth)
    assert secret(document.authorization.token) == "${TOKEN}"
    assert [(p.name, p.secret) for p in request.parameters] == [("TOKEN", True)]


def test_nothing_is_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for text in (
        f'curl https://x.example/ -d "$(touch {marker})"',
        f"curl https://x.example/`touch {marker}`",
        f"curl https://x.example/; touch {marker}",
        f"curl https://x.example/ -o {marker}",
    ):
        with contextlib.suppress(Invalid):
            read(text)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("curl ftp://files.example/a.txt", "word 2: Callout calls http:// and https:// URLs only"),
        ("curl file:///etc/passwd", "word 2: Callout calls http:// and https:// URLs only"),
        (
            "curl api.example.com/v1",
            "word 2: the URL has no scheme: write it with https:// or http://",
        ),
        (
            "curl https://a.example/ https://b.example/",
            "word 3: names several URLs; Callout imports one request",
        ),
        ("curl -s", "names no URL"),
        ("wget https://x.example/", "must be a curl command: its first word is curl"),
        ("TOKEN=1 curl https://x.example/", "must be a curl command: its first word is curl"),
        ("curl 'https://x.example/", "line 1, column 6: a single quote is never closed"),
        (
            "curl https://x.example/ \\",
            "line 1, column 25: ends with a backslash, which would continue on a next line",
        ),
        (
            "curl https://x.example/{a,b}",
            "line 1, column 6: a shell would expand {a,b} into "
            "several words; quote it to keep it as text",
        ),
        ("curl ~/x", "line 1, column 6: a shell would expand ~ to a home folder; quote it"),
        (
            "curl -X TRACE https://x.example/",
            "-X: Callout sends GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, not this method",
        ),
    ],
    ids=[
        "ftp",
        "file",
        "no-scheme",
        "two-urls",
        "no-url",
        "not-curl",
        "assignment",
        "open-quote",
        "last-backslash",
        "brace-expansion",
        "tilde",
        "method",
    ],
)
def test_commands_callout_cannot_take_are_refused(text: str, message: str) -> None:
    assert refusal(text) == f"{SOURCE}: {message}"


def test_a_megabyte_line_is_refused() -> None:
    text = "curl https://x.example/ -d '" + "a" * 1_000_000 + "'"
    assert refusal(text) == (
        f"{SOURCE}: is 1,000,029 characters; a cURL command takes at most 262,144"
    )


def test_nul_is_refused() -> None:
    assert refusal("curl https://x.example/ -d 'a\x00b'") == (
        f"{SOURCE}: line 1, column 30: holds a NUL character"
    )


def test_errors_never_quote_a_secret() -> None:
    for text in (
        "curl -H 'Authorization: Bearer s3cr3t' https://x.example/ ; ls",
        'curl -H "X-Api-Key: s3cr3t\nX-Evil: 1" https://x.example/',
        "curl -u 's3cr3t' --frobnicate=s3cr3t https://x.example/",
        'curl -u "admin:$s3cr3t" https://x.example/',
    ):
        assert "s3cr3t" not in refusal(text)


# Writing, and round trips.


def test_command_quotes_every_argument() -> None:
    text = curl.command(
        "POST",
        "https://x.example/a?q=1&r=%24",
        [("X-Note", "it's $HOME; `id`"), ("X-Empty", ""), ("Authorization", MASK)],
        '{"a": "b"}',
    )
    assert text == (
        "curl 'https://x.example/a?q=1&r=%24' -X POST -H 'X-Note: it'\"'\"'s $HOME; `id`' "
        "-H 'X-Empty;' -H 'Authorization: **********' --data-raw '{\"a\": \"b\"}'"
    )
    assert shlex.split(text) == shell.split(text, SOURCE)
    assert curl.command("HEAD", "https://x.example/", [], None) == (
        "curl https://x.example/ --head"
    )


TCHAR = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
header_names = st.text(TCHAR, min_size=1, max_size=16).filter(
    lambda n: (
        n.lower() not in RESERVED_HEADERS | {"accept-encoding", "content-type", "authorization"}
    )
)
# No `{`: text with placeholders has tests of its own above.
line_text = st.text(
    st.characters(blacklist_categories=["Cc", "Cs"], blacklist_characters="{"), max_size=24
).map(str.strip)
body_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00{"))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | line_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(line_text, children, max_size=3)
    ),
    max_leaves=8,
)
segments = st.text(string.ascii_letters + string.digits + "-._~", min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..")
) | st.sampled_from(["%20", "%C3%A9", "a%2Cb"])


@st.composite
def rendered_requests(draw: st.DrawFn) -> tuple[str, str, list[tuple[str, str]], str | None]:
    origin = draw(
        st.sampled_from(
            ["https://api.example.com", "http://127.0.0.1:8080", "https://[2001:db8::1]"]
        )
    )
    path = "/" + "/".join(draw(st.lists(segments, max_size=4))) + draw(st.sampled_from(["", "/"]))
    query = draw(st.lists(st.tuples(line_text.filter(bool), line_text), max_size=3))
    url = origin + path.replace("//", "/")
    if query:
        url += "?" + "&".join(
            f"{templates.form_encoded(n)}={templates.form_encoded(v)}" for n, v in query
        )
    headers = draw(
        st.lists(st.tuples(header_names, line_text), max_size=5, unique_by=lambda h: h[0].lower())
    )
    body: str | None = None
    kind = draw(st.sampled_from(["none", "text", "json"]))
    if kind == "text":
        body = draw(body_text)
        headers.append(("Content-Type", "text/plain; charset=utf-8"))
    elif kind == "json":
        # An object or a list, as APIs take: a body of JSON null is not sent by the runtime.
        value = draw(json_values.filter(lambda v: isinstance(v, dict | list)))
        body = json.dumps(value, ensure_ascii=False)
        headers.append(("Content-Type", "application/json"))
    method = draw(st.sampled_from(curl.METHODS))
    return method, url, headers, body


@settings(max_examples=300, deadline=None)
@given(rendered_requests())
def test_a_command_reads_back_as_the_request_it_shows(
    drawn: tuple[str, str, list[tuple[str, str]], str | None],
) -> None:
    method, url, headers, body = drawn
    text = curl.command(method, url, headers, body)
    assert shell.split(text, SOURCE) == shlex.split(text)
    outgoing = sent(read(text).documents[0])
    assert (outgoing.method, outgoing.url) == (method, url)
    assert sorted((n.lower(), v) for n, v in outgoing.headers) == sorted(
        (n.lower(), v) for n, v in headers
    )
    assert (outgoing.body.decode() if outgoing.body is not None else None) == body


def test_authorization_reads_back_as_it_was_sent() -> None:
    for value in ("Bearer mF_9.B5f-4.1JqM", "Basic YWxpY2U6c2VjcmV0", "Digest username=a"):
        text = curl.command("GET", "https://x.example/", [("Authorization", value)], None)
        assert sent(read(text).documents[0]).header("Authorization") == value


def test_written_requests_read_back_with_their_placeholders_and_secrets_to_enter() -> None:
    api = ApiDocument(
        callout=1,
        name="CRM",
        base_url="https://crm.example/api",
        headers=[Header(name="X-Api-Key", value="k-123", secret=True)],
        authorization=BearerAuth(token="tok-456"),
        requests=[
            RequestDocument(
                name="Find customer",
                url_path="v2",
                endpoint_path="customers/${customerId}",
                query=[NameValue(name="fields", value="name,${extra}")],
                parameters=[
                    RequestParameter(name="customerId", required=True),
                    RequestParameter(name="extra", required=True),
                ],
                timeout=5,
            ),
            RequestDocument(
                name="Add note",
                method="POST",
                endpoint_path="notes",
                content_type="form",
                form=[NameValue(name="text", value="call ${call.id} & more")],
            ),
        ],
    )
    text = curl.write(api)
    assert "k-123" not in text
    assert "tok-456" not in text
    assert text.startswith(
        "# CRM: Find customer\n"
        "curl -g 'https://crm.example/api/v2/customers/${customerId}?fields=name%2C${extra}' \\\n"
        "  -H 'Authorization: Bearer **********' \\\n"
        "  -H 'X-Api-Key: **********' \\\n"
        "  --max-time 5\n"
    )
    first, second = text.split("\n\n")
    document, found = request_of(first)
    assert isinstance(document.authorization, BearerAuth)
    assert document.authorization.token is None
    assert document.missing_secrets == ["authorization.token"]
    assert found.missing_secrets == ["headers.x-api-key"]
    assert (found.endpoint_path, found.timeout) == ("/api/v2/customers/${customerId}", 5)
    assert [(q.name, q.value) for q in found.query] == [("fields", "name,${extra}")]
    assert [p.name for p in found.parameters] == ["customerId", "extra"]
    _, found = request_of(second)
    assert (found.method, found.content_type) == ("POST", "form")
    assert [(f.name, f.value) for f in found.form] == [("text", "call ${call.id} & more")]
    assert found.parameters == []


def test_other_authorization_schemes_are_written_as_a_comment() -> None:
    api = ApiDocument(
        callout=1,
        name="Billing",
        base_url="https://billing.example",
        authorization=OAuth2Auth(token_url="https://billing.example/token", client_id="cc"),
        requests=[RequestDocument(name="Ping", method="HEAD")],
    )
    assert curl.write(api) == (
        "# Billing: Ping\n"
        "# authorization oauth2 is added by Callout when it calls; not here\n"
        "curl https://billing.example/ \\\n  --head\n"
    )


PIECES = [
    "curl",
    " ",
    "\n",
    "\\\n",
    "\\",
    "'",
    '"',
    "$",
    "${x}",
    "${",
    "}",
    "{a,b}",
    "[",
    "]",
    "~",
    "#",
    ";",
    "|",
    "&",
    "`",
    "(",
    "-",
    "--",
    "-H",
    "-d",
    "-G",
    "-I",
    "-u",
    "-F",
    "-X",
    "-g",
    "--json",
    "--data-urlencode",
    "--url",
    "-sSL",
    "https://x.example/",
    "http://[::1]/",
    "ftp://x/",
    "a=1",
    "=",
    "@",
    ":",
    "X-Api-Key: k",
    "Authorization: Basic YTpi",
    "%",
    "?q=1",
    "#f",
    MASK,
    "\t",
    "é",
    "\x00",
    "$'",
    "\\x",
    "\\u",
    "\\c",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=16).map("".join) | st.text(max_size=60))
def test_any_text_is_read_or_refused_clearly(text: str) -> None:
    try:
        converted = read(text)
    except Invalid as error:
        refused = error.detail
    else:
        ApiDocument.model_validate(converted.documents[0].model_dump())
        return
    assert refused.startswith(f"{SOURCE}: ")


def test_a_script_of_commands_reads_as_an_api_per_base_url_named_by_its_comments() -> None:
    script = """# Customer CRM: Get customer
curl -g 'https://crm.example.com/api/v1/customers/${customerId}' \\
  -H 'Accept: application/json'
# Customer CRM: Note
curl https://crm.example.com/api/v1/notes -X POST -H 'Content-Type: application/json' \\
  --data-raw '{"text": "hi"}'
curl https://billing.example.com/invoices
"""
    converted = read(script)
    crm, billing = converted.documents
    assert (crm.name, crm.base_url) == ("Customer CRM", "https://crm.example.com")
    assert [(r.name, r.method, r.endpoint_path) for r in crm.requests] == [
        ("Get customer", "GET", "/api/v1/customers/${customerId}"),
        ("Note", "POST", "/api/v1/notes"),
    ]
    assert (billing.name, [r.name for r in billing.requests]) == (
        "billing.example.com",
        ["GET /invoices"],
    )


def test_a_script_whose_commands_to_one_host_differ_in_authorization_is_refused() -> None:
    script = "curl -u ann:pw https://crm.example.com/a\ncurl -u bob:pw https://crm.example.com/b\n"
    assert refusal(script) == (
        f"{SOURCE}: the commands calling https://crm.example.com differ in their "
        "authorization: import them one at a time"
    )


def test_an_error_in_a_script_names_the_command() -> None:
    assert refusal("curl https://a.example/\ncurl -H\n").startswith(f"{SOURCE}: command 2: ")


def test_an_apis_requests_written_as_curl_read_back() -> None:
    document = ApiDocument.model_validate(
        {
            "callout": 1,
            "name": "CRM: EU",
            "base_url": "https://crm.example.com/api",
            "headers": [{"name": "Accept", "value": "application/json"}],
            "requests": [
                {"name": "Get customer", "endpoint_path": "customers/${customerId}",
                 "parameters": [{"name": "customerId", "required": True}]},
                {"name": "Note: urgent", "method": "POST", "endpoint_path": "notes",
                 "content_type": "json", "body": '{"text": "${text}"}',
                 "parameters": [{"name": "text", "required": True}]},
            ],
        }
    )  # fmt: skip

    [api] = read(curl.write(document)).documents

    assert api.name == "CRM: EU"
    assert [(r.name, r.method, r.endpoint_path, r.body) for r in api.requests] == [
        ("Get customer", "GET", "/api/customers/${customerId}", None),
        ("Note: urgent", "POST", "/api/notes", '{"text": "${text}"}'),
    ]
