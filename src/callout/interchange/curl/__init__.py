"""cURL command lines: one read into an API with one request, and requests written as them.

Reading goes in three steps: the words a POSIX shell would give curl (`shell.split`),
curl's options (`curl_options.parse`), and the request curl would send for them
(`curl_request.request`). This module makes that request Callout's: the API is named after
the host, with scheme://host[:port] as its base URL; the request holds the path, the query
(decoded: Callout encodes each item when it calls), the headers and the body. `-u`,
`--oauth2-bearer` and an Authorization header of Basic or Bearer become the API's
authorization. Nothing is run and no file is read.

Text from the command is literal, except that a well-formed `${name}` (in single quotes,
which a shell leaves alone) is a Callout placeholder: `name` becomes a required request
parameter, secret when it fills a secret. A `${` that is no placeholder stays text (`$${`).
A secret shown as Callout's mask (`**********`, as `write` shows secrets) is left out and
named in `missing_secrets`, to be entered before calling.
"""

import base64
import binascii
import json
import re
import shlex
from typing import Any, get_args
from urllib.parse import SplitResult, unquote, unquote_plus, urlsplit

from defusedxml import DefusedXmlException, ElementTree
from pydantic import ValidationError

from callout.apis.authorization import BasicAuth, BearerAuth, NoAuth
from callout.apis.fields import IDENTIFIER, RESERVED_HEADERS
from callout.apis.names import COPY_NUMBERING, cut, unique_name
from callout.apis.schemas import CONTEXT_ROOTS, MAX_TIMEOUT_SECONDS, Method, RequestFields
from callout.apis.secret_fields import header_field
from callout.errors import Invalid
from callout.interchange.curl import options as curl_options
from callout.interchange.curl import request as curl_request
from callout.interchange.curl import shell
from callout.interchange.curl.request import GLOB, CurlRequest, Pair
from callout.interchange.loading import unreadable
from callout.interchange.schemas import ApiDocument, Converted, Note, RequestDocument
from callout.invocations.compile import CONTENT_TYPES
from callout.runtime import templates
from callout.runtime.credential_headers import CREDENTIAL_HEADERS
from callout.runtime.plan import join_url
from callout.schemas import MASK, MAX_NAME, name_key
from callout.validation import validation_problems

# Linux refuses one argument longer than 128 KiB (MAX_ARG_STRLEN), so no longer command ran
# as typed; a larger body is sent from a file, which an import cannot read anyway.
MAX_CHARS = 256 * 1024
METHODS: tuple[str, ...] = get_args(Method)
# A header whose name holds one of these carries a credential in most APIs (X-API-Key,
# X-Auth-Token, PRIVATE-TOKEN, Ocp-Apim-Subscription-Key): its value is kept secret.
CREDENTIAL_WORDS = ("key", "token", "secret", "password", "passwd", "auth", "session", "cookie")


def read(text: str, source: str) -> Converted:
    """A curl command line as an API (format `curl`) with one request; a script of several,
    one after another (as `callout export --format curl` writes them), as one API per base
    URL with a request for each. A comment line `# API: Request` before a command names
    them; else the API is named after its host and the request after its method and path.
    """
    if len(text) > MAX_CHARS:
        raise unreadable(
            source, f"is {len(text):,} characters; a cURL command takes at most {MAX_CHARS:,}"
        )
    commands = shell.commands(text, source)
    if not commands:
        raise unreadable(source, "holds no curl command")
    read: list[tuple[ApiDocument, str]] = []
    notes: list[Note] = []
    for number, command in enumerate(commands, 1):
        if command.words[0] != "curl" and number > 1:  # a line meant to continue the last
            raise unreadable(
                source,
                "one curl command per line: a line break outside quotes ends it, and what "
                "follows is no curl command (join a command's lines with a backslash at the "
                "end of each)",
                shell.where(text, command.at),
            )
        # Which command an error or a note is about, when there are several.
        where = source if len(commands) == 1 else f"{source}: command {number}"
        options = curl_options.parse(command.words, where)
        one = _Reader(curl_request.request(options), options.notes, where).converted()
        read.append((one.documents[0], command.comment))
        notes += one.notes
    return Converted(format="curl", documents=_by_base_url(read, source), notes=notes)


def _by_base_url(read: list[tuple[ApiDocument, str]], source: str) -> list[ApiDocument]:
    """One API per base URL, holding the requests of the commands that call it."""
    groups: dict[str, list[tuple[ApiDocument, str]]] = {}
    for document, comment in read:
        groups.setdefault(document.base_url, []).append((document, comment))
    apis = []
    for base_url, group in groups.items():
        first = group[0][0]
        if any(d.authorization != first.authorization for d, _ in group):
            raise unreadable(
                source,
                f"the commands calling {base_url} differ in their authorization: import them "
                "one at a time",
            )
        named = [_named(comment) for _, comment in group]
        api_names = {found[0] for found in named if found}
        requests: list[RequestDocument] = []
        for (document, _), found in zip(group, named, strict=True):
            request = document.requests[0]
            name = found[1] if found else request.name
            taken = {name_key(r.name) for r in requests}
            name = unique_name(name, taken, COPY_NUMBERING)  # "GET /a (2)"
            requests.append(request.model_copy(update={"name": name}))
        changes: dict[str, Any] = {
            "requests": requests,
            "missing_secrets": sorted({m for d, _ in group for m in d.missing_secrets}),
        }
        if len(api_names) == 1:
            changes["name"] = cut(api_names.pop(), MAX_NAME)
        apis.append(first.model_copy(update=changes))
    return apis


def _named(comment: str) -> tuple[str, str] | None:
    """The API and request a command's comment names, as `write` puts them: `API: Request`,
    the API's name in JSON quotes when it holds `: ` itself (`"CRM: EU": Get customer`)."""
    try:
        api, end = json.JSONDecoder().raw_decode(comment) if comment[:1] == '"' else (None, 0)
    except ValueError:
        api, end = None, 0
    if isinstance(api, str):
        colon, request = comment[end : end + 2], comment[end + 2 :]
    else:
        api, colon, request = comment.partition(": ")
    api, request = api.strip(), request.strip()
    return (api, request) if colon == ": " and api and request else None


def _comment_name(name: str) -> str:
    """An API's name as a command's comment gives it (see `_named`)."""
    return json.dumps(name, ensure_ascii=False) if ": " in name or name[:1] == '"' else name


def carries_credentials(name: str) -> bool:
    """Whether a header's value is a credential, to be kept secret."""
    key = name.lower()
    return key in CREDENTIAL_HEADERS or any(word in key for word in CREDENTIAL_WORDS)


class _Reader:
    """The request curl would send made into a document, noting what cannot be carried."""

    def __init__(self, sent: CurlRequest, notes: list[Note], source: str) -> None:
        self.sent = sent
        self.notes = notes
        self.source = source
        self.parameters: dict[str, bool] = {}  # placeholder name -> fills a secret
        self.missing: list[str] = []  # the API's secrets left out
        self.request_missing: list[str] = []

    def fail(self, message: str, where: str) -> Invalid:
        return unreadable(self.source, message, where)

    def note(self, where: str, message: str) -> None:
        self.notes.append(Note(source=self.source, where=where, message=message))

    def converted(self) -> Converted:
        parts = self._split()
        headers = self._headers()
        authorization = self._authorization(headers, parts)
        method = self._method()
        request: dict[str, Any] = {
            "name": _fit(f"{method} {parts.path or '/'}"),
            "method": method,
            "endpoint_path": self._text(parts.path),
            "query": self._query(parts.query),
            **self._content(headers),
            "timeout": self._timeout(),
        }
        request["headers"] = [self._header_row(header) for header in headers.values()]
        request["parameters"] = [
            {"name": name, "required": True, "secret": secret}
            for name, secret in self.parameters.items()
        ]
        request["missing_secrets"] = self.request_missing
        document = {
            "callout": 1,
            "name": parts.hostname,
            "base_url": f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}",
            "authorization": authorization,
            "requests": [request],
            "missing_secrets": self.missing,
        }
        try:
            api = ApiDocument.model_validate(document)
        except ValidationError as error:
            problem = validation_problems(error.errors())[0]
            raise self.fail(problem.message, problem.field) from None
        self.notes.sort(key=_position)  # in the command's order
        return Converted(format="curl", documents=[api], notes=self.notes)

    def _split(self) -> SplitResult:
        url, where = self.sent.url, self.sent.where
        if "://" not in url:
            raise self.fail("the URL has no scheme: write it with https:// or http://", where)
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a port out of range
        except ValueError:
            raise self.fail("is not a valid URL", where) from None
        if parts.scheme not in ("http", "https"):
            raise self.fail("Callout calls http:// and https:// URLs only", where)
        if not parts.hostname:
            raise self.fail("the URL names no host", where)
        if parts.fragment or url.endswith("#"):
            self.note(where, "the URL's #fragment is left out; curl does not send it")
        return parts

    def _query(self, query: str) -> list[dict[str, str]]:
        """Query items, decoded: Callout encodes each name and value when it calls."""
        entries, where = [], self.sent.where
        for item in query.split("&"):
            if not item:
                continue
            name, equals, value = item.partition("=")
            name = unquote_plus(name)
            if not name:
                self.note(where, "a query item without a name is left out")
                continue
            if not equals:
                self.note(where, f"the query item {name} has no =; Callout sends it as {name}=")
            if carries_credentials(name):
                self.note(
                    where,
                    f"the query item {name} looks like a credential, and a query is stored in "
                    "clear: a secret header or the authorization would keep it secret",
                )
            entries.append({"name": name, "value": self._text(unquote_plus(value))})
        return entries

    def _headers(self) -> dict[str, Pair]:
        """Headers by lowercase name, in order; a name given twice has its values joined
        (`, `, or `; ` for cookies), as one header says the same (RFC 9110 section 5.3)."""
        found: dict[str, Pair] = {}
        for header in self.sent.headers:
            key = header.name.lower()
            if key in RESERVED_HEADERS or key == "accept-encoding":
                # Accept-Encoding too: the client asks for the encodings it can decode.
                self.note(header.where, f"{header.name} is set by Callout's HTTP client; left out")
            elif key in found:
                earlier = found[key]
                joiner = "; " if key == "cookie" else ", "
                earlier.value = joiner.join(v for v in (earlier.value, header.value) if v)
                self.note(header.where, f"{header.name} is given twice; its values are joined")
            else:
                found[key] = Pair(header.name, header.value, header.where)
        return found

    def _header_row(self, header: Pair) -> dict[str, Any]:
        secret = carries_credentials(header.name)
        value = header.value
        if secret and value == MASK:
            self.request_missing.append(header_field(header.name))
            value = ""
        return {"name": header.name, "value": self._text(value, secret=secret), "secret": secret}

    def _authorization(self, headers: dict[str, Pair], parts: SplitResult) -> dict[str, Any]:
        """-u, --oauth2-bearer, or the URL's user:password@, unless an Authorization header
        replaces them as in curl; its Basic or Bearer credentials become the API's
        authorization, any other scheme stays a secret header."""
        user, bearer = self.sent.user, self.sent.bearer
        header = headers.get("authorization")
        if header is not None:
            for option in (user, bearer):
                if option is not None:
                    self.note(option.where, "the Authorization header replaces it, as in curl")
            scheme, _, credentials = header.value.partition(" ")
            credentials = credentials.strip()
            if scheme.lower() == "bearer" and credentials and len(credentials.split()) == 1:
                del headers["authorization"]
                return self._bearer(credentials)
            if scheme.lower() == "basic" and (decoded := _basic(credentials)) and decoded[1]:
                del headers["authorization"]
                return self._basic(*decoded, header.where)
            return {"type": NoAuth().type}  # the header stays, secret
        if bearer is not None:
            return self._bearer(bearer.value)
        if user is not None:
            name, colon, password = user.value.partition(":")
            if colon and not password and name:
                # The user name is the credential (an API key, as Stripe's), and Basic
                # authorization keeps its user name in clear: sent as a secret header instead.
                encoded = base64.b64encode(user.value.encode()).decode()
                headers["authorization"] = Pair("Authorization", f"Basic {encoded}", user.where)
                self.note(
                    user.where,
                    "the user name is the credential (the password is empty): kept as a "
                    "secret Authorization header",
                )
                return {"type": NoAuth().type}
            return self._basic(name, password if colon else None, user.where)
        if parts.username is not None:
            secret = unquote(parts.password) if parts.password is not None else None
            return self._basic(unquote(parts.username), secret, self.sent.where)
        return {"type": NoAuth().type}

    def _bearer(self, token: str) -> dict[str, Any]:
        if token == MASK:
            self.missing.append("authorization.token")
            return {"type": BearerAuth().type}
        return {"type": BearerAuth().type, "token": self._text(token, secret=True)}

    def _basic(self, name: str, password: str | None, where: str) -> dict[str, Any]:
        if not name:
            raise self.fail("the user name is empty; Basic authorization needs one", where)
        if password is None or password == MASK:
            self.missing.append("authorization.password")
            password = None
        return {"type": "basic", "username": name, "password": password}

    def _method(self) -> str:
        method = self.sent.method.upper()
        if method not in METHODS:
            raise self.fail(f"Callout sends {', '.join(METHODS)}, not this method", "-X")
        return method

    def _content(self, headers: dict[str, Pair]) -> dict[str, Any]:
        """Content type, body and form fields, as the Content-Type header says. The header
        stays only when it says more than the content type Callout sends."""
        sent = self.sent
        header = headers.pop("content-type", None)
        if sent.form is not None:
            if header is not None and _media(header.value) != "multipart/form-data":
                headers["content-type"] = header
            fields = [{"name": f.name, "value": self._text(f.value)} for f in sent.form]
            return {"content_type": "multipart", "form": fields}
        if sent.body is None:
            if header is not None:
                headers["content-type"] = header  # curl sends it, with no body
            return {}
        media = _media(header.value) if header else "application/octet-stream"
        where = header.where if header else "data"
        kind = _kind(media)
        result: dict[str, Any] = {"content_type": kind, "body": self._text(sent.body)}
        if kind == "form":
            pairs = _form_pairs(sent.body)
            if pairs is not None:
                fields = [{"name": n, "value": self._text(v)} for n, v in pairs]
                result = {"content_type": "form", "form": fields}
            else:
                result["content_type"] = "text"
                self.note(
                    where,
                    f"the data is sent as {media} but is not name=value pairs: kept as text "
                    "with that Content-Type (the content type json or text may suit the API)",
                )
        elif kind == "json" and not _is_json(result["body"]):
            result["content_type"] = "text"
            self.note(where, f"the body is not valid JSON: kept as text, sent as {media}")
        elif kind == "xml" and not _is_xml(result["body"]):
            result["content_type"] = "text"
            self.note(where, f"the body is not well-formed XML: kept as text, sent as {media}")
        default = CONTENT_TYPES.get(result["content_type"], "")
        if header is not None and _spaceless(header.value) != _spaceless(default):
            headers["content-type"] = header
        return result

    def _timeout(self) -> float | None:
        option = self.sent.timeout
        if option is None:
            return None
        try:
            seconds = float(option.value)
        except ValueError:
            raise self.fail("--max-time takes a number of seconds", option.where) from None
        if 0 < seconds <= MAX_TIMEOUT_SECONDS:
            return seconds
        self.note(
            option.where,
            f"a request's timeout is at most {MAX_TIMEOUT_SECONDS:g} seconds: 10 is kept",
        )
        return None

    def _text(self, text: str, *, secret: bool = False) -> str:
        """Text as a Callout template: well-formed `${name}` placeholders kept, each name
        declared; any other `${` made literal (`$${`)."""
        try:
            roots = [placeholder.root for placeholder in templates.placeholders(text)]
        except templates.TemplateError:
            return text.replace("${", "$${")
        declared = [root for root in roots if root not in CONTEXT_ROOTS]
        if not all(IDENTIFIER.fullmatch(root) and len(root) <= 64 for root in declared):
            return text.replace("${", "$${")
        for root in declared:
            self.parameters[root] = self.parameters.get(root, False) or secret
        return text


def _position(note: Note) -> int:
    """Where a note stands: `word 7 (-H)` -> 7; notes about the data come last."""
    found = re.match(r"word (\d+)", note.where)
    return int(found.group(1)) if found else MAX_CHARS


def _spaceless(content_type: str) -> str:
    return content_type.replace(" ", "").lower()


def _media(content_type: str) -> str:
    """The media type alone: `application/json; charset=utf-8` -> `application/json`."""
    return content_type.partition(";")[0].strip().lower()


def _kind(media: str) -> str:
    if media == "application/json" or media.endswith("+json"):
        return "json"
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media in ("application/xml", "text/xml") or media.endswith("+xml"):
        return "xml"
    return "text"


def _form_pairs(body: str) -> list[tuple[str, str]] | None:
    """`a=1&b=x+y` as decoded pairs, or None when it is not name=value pairs."""
    pairs = []
    for item in body.split("&"):
        name, equals, value = item.partition("=")
        if not equals or not name:
            return None
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def _is_json(text: str) -> bool:
    try:
        json.loads(text, parse_constant=_refuse)
    except ValueError:
        return False
    return True


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _is_xml(text: str) -> bool:
    try:
        ElementTree.fromstring(text)
    except (DefusedXmlException, ElementTree.ParseError):
        return False
    return True


def _basic(credentials: str) -> tuple[str, str] | None:
    """`Basic dXNlcjpwYXNz` as (user, password), when it is canonical base64 of UTF-8
    `user:password`; anything else stays a header, sent as it is."""
    try:
        raw = base64.b64decode(credentials, validate=True)
        text = raw.decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, colon, password = text.partition(":")
    if not colon or not name or base64.b64encode(raw).decode() != credentials:
        return None
    return name, password


def _fit(name: str) -> str:
    """A name within MAX_NAME, cut with an ellipsis when longer."""
    if len(name_key(name)) <= MAX_NAME:
        return name
    while len(name_key(name + "…")) > MAX_NAME:
        name = name[:-1]
    return name + "…"


# Writing.


def command(method: str, url: str, headers: list[tuple[str, str]], body: str | None) -> str:
    """A request as rendered (a dry run's, secrets masked already) as one cURL command line
    a POSIX shell runs as it is: every argument quoted, -g where the URL holds [ ] { }, and
    `Name;` for an empty header (`Name:` would only stop curl sending its own)."""
    words = [["curl", *(["-g"] if GLOB.intersection(url) else []), url]]
    if method == "HEAD" and body is None:
        words.append(["--head"])
    elif method != "GET" or body is not None:
        words.append(["-X", method])
    words += [["-H", _header_line(name, value)] for name, value in headers]
    if body is not None:
        words.append(["--data-raw", body])
    return " ".join(shlex.quote(word) for group in words for word in group)


def write(document: ApiDocument) -> str:
    """Every request of an API as a cURL command, one after another, each under a comment
    naming it. Placeholders stay as they are (quoted, so a shell leaves them alone), secrets
    show as the mask, Basic and bearer authorization as -u and an Authorization header;
    another scheme, which Callout applies when it calls, is named in a comment."""
    return "\n".join(_written(document, request) for request in document.requests)


def _written(api: ApiDocument, request: RequestFields) -> str:
    lines = [f"# {_comment_name(api.name)}: {request.name}"]
    url = join_url(api.base_url, request.url_path, request.endpoint_path)
    query = [q for q in request.query if q.enabled]
    if query:
        url += "?" + "&".join(
            f"{templates.form_encoded(q.name)}={_query_value(q.value)}" for q in query
        )
    words = [["curl", *(["-g"] if GLOB.intersection(url) else []), url]]
    has_body = request.body is not None or request.content_type in ("form", "multipart")
    if request.method == "HEAD" and not has_body:
        words.append(["--head"])
    elif request.method != "GET" or has_body:
        words.append(["-X", request.method])
    headers = {h.name.lower(): h for h in [*api.headers, *request.headers] if h.enabled}
    auth = api.authorization
    if isinstance(auth, BasicAuth):
        words.append(["-u", f"{auth.username}:{MASK}"])
        headers.pop("authorization", None)
    elif isinstance(auth, BearerAuth):
        words.append(["-H", f"Authorization: Bearer {MASK}"])
        headers.pop("authorization", None)
    elif not isinstance(auth, NoAuth):
        lines.append(f"# authorization {auth.type} is added by Callout when it calls; not here")
    content_type = CONTENT_TYPES.get(request.content_type)  # curl says form for -d itself
    for header in headers.values():
        words.append(["-H", _header_line(header.name, MASK if header.secret else header.value)])
    if content_type and request.content_type != "form" and "content-type" not in headers:
        words.append(["-H", f"Content-Type: {content_type}"])
    if request.timeout is not None:
        words.append(["--max-time", f"{request.timeout:g}"])
    if request.content_type == "form":
        for f in request.form:
            if f.enabled:
                words.append(["--data-urlencode", f"{templates.form_encoded(f.name)}={f.value}"])
    elif request.content_type == "multipart":
        words += [["--form-string", f"{f.name}={f.value}"] for f in request.form if f.enabled]
    elif request.body is not None:
        words.append(["--data-raw", request.body])
    quoted = [" ".join(shlex.quote(word) for word in group) for group in words]
    return "\n".join(lines) + "\n" + " \\\n  ".join(quoted) + "\n"


def _header_line(name: str, value: str) -> str:
    return f"{name}: {value}" if value else f"{name};"


def _query_value(value: str) -> str:
    """A query value's literal text form-encoded, its placeholders kept as written."""
    return "".join(
        templates.form_encoded(part) if isinstance(part, str) else str(part)
        for part in templates.parse(value)
    )
