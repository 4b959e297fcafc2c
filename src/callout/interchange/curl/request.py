"""The request curl would send for a command's options, worked out as curl does it, before
Callout makes a request of its own of it (`curl.read`).

    curl -G https://api.example/search -d q=phone -d 'page=2' -A probe
    -> GET https://api.example/search?q=phone&page=2, User-Agent: probe, no body

curl's rules, in order: `-d` pieces are joined with `&` and sent as a form
(application/x-www-form-urlencoded); `--data-urlencode` encodes the text after the first
`=`; `--json` pieces run together, sent as JSON with an Accept of JSON; `-F` makes a
multipart form; `-G` moves the data into the query; `-A`, `-e` and `-b` are headers a `-H`
of the same name replaces; the method is `-X`, else HEAD for `-I`, POST with data, GET.
Files (`@file`, `<file`) are never read: refused, or noted and left out.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

from callout.errors import Invalid
from callout.interchange.curl.options import Option, Options
from callout.interchange.loading import unreadable

GLOB = frozenset("[]{}")


@dataclass
class Pair:
    """A header's or a form field's name and value, and where the command gives it."""

    name: str
    value: str
    where: str


@dataclass
class CurlRequest:
    """What curl would send; `form` holds -F's fields (a multipart body) instead of `body`."""

    method: str
    url: str
    where: str  # where the URL stands in the command
    headers: list[Pair]
    body: str | None
    form: list[Pair] | None
    user: Option | None  # -u
    bearer: Option | None  # --oauth2-bearer
    timeout: Option | None  # --max-time


def request(options: Options) -> CurlRequest:
    """The request `options` describe, or a clear refusal."""
    return _Builder(options).request()


class _Builder:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.source = options.source

    def fail(self, message: str, where: str) -> Invalid:
        return unreadable(self.source, message, where)

    def request(self) -> CurlRequest:
        options = self.options
        target = self._url()
        url = target.value if options.flags.get("--globoff") else self._unglob(target)
        headers = self._headers()
        forms = options.values("--form", "--form-string")
        body = self._body(headers, has_form=bool(forms))
        query = [self._urlencoded(o, plain="+") for o in options.values("--url-query")]
        if options.flags.get("--get"):
            if forms:
                raise self.fail("-G and -F together: curl refuses them too", forms[0].where)
            if body is not None:
                query.insert(0, body)
                headers = [h for h in headers if h.where != "data"]
            body = None
        if query := [piece for piece in query if piece]:
            url, hash_, fragment = url.partition("#")
            url += ("&" if "?" in url else "?") + "&".join(query) + hash_ + fragment
        form = self._form_fields(forms) if forms else None
        return CurlRequest(
            method=self._method(has_body=body is not None or form is not None),
            url=url,
            where=target.where,
            headers=headers,
            body=body,
            form=form,
            user=options.last("--user"),
            bearer=options.last("--oauth2-bearer"),
            timeout=options.last("--max-time"),
        )

    def _url(self) -> Option:
        urls = self.options.urls
        if not urls:
            raise unreadable(self.source, "names no URL")
        if len(urls) > 1:
            raise self.fail("names several URLs; Callout imports one request", urls[1].where)
        return urls[0]

    def _unglob(self, target: Option) -> str:
        r"""The URL as curl sends it without -g: `\[` is `[`; an unescaped `[`, `]`, `{`
        or `}` is a glob (several URLs), except the brackets of an IPv6 host."""
        url, text, i = target.value, [], 0
        while i < len(url):
            char = url[i]
            if char == "\\" and i + 1 < len(url) and url[i + 1] in GLOB:
                text.append(url[i + 1])
                i += 2
                continue
            if char == "[" and (url.endswith("://", 0, i) or url[i - 1 : i] == "@"):
                close = url.find("]", i)
                if close > 0:
                    text.append(url[i : close + 1])
                    i = close + 1
                    continue
            if char in GLOB:
                raise self.fail(
                    "curl reads [ ] { } in a URL as a glob of several URLs; add -g (--globoff) "
                    "to send them as written",
                    target.where,
                )
            text.append(char)
            i += 1
        return "".join(text)

    def _headers(self) -> list[Pair]:
        """-A, -e and -b as curl adds them, unless a -H of the same name replaces them, then
        each -H in order."""
        options, added = self.options, []
        for name, option in (
            ("User-Agent", options.last("--user-agent")),
            ("Referer", options.last("--referer")),
        ):
            value = option.value.removesuffix(";auto") if option else ""
            if option is not None and value:
                added.append(Pair(name, value, option.where))
        cookies = []
        for option in options.values("--cookie"):
            if "=" in option.value:
                cookies.append(option)
            else:
                options.note(option.where, "reads cookies from a file, which an import cannot read")
        if cookies:
            added.append(Pair("Cookie", "; ".join(o.value for o in cookies), cookies[0].where))
        given = [h for h in map(self._header, options.values("--header")) if h is not None]
        names = {header.name.lower() for header in given}
        return [h for h in added if h.name.lower() not in names] + given

    def _header(self, option: Option) -> Pair | None:
        """`Name: value`, or `Name;` for an empty value; `Name:` only stops curl sending a
        header of its own, so nothing is sent."""
        value = option.value
        if value.startswith("@"):
            raise self.fail("reads headers from a file, which an import cannot read", option.where)
        name, colon, rest = value.partition(":")
        if colon and not rest.strip():
            self.options.note(option.where, f"{name.strip()}: with no value sends no header")
            return None
        if not colon:
            if not value.endswith(";"):
                raise self.fail("a header is 'Name: value', or 'Name;' for no value", option.where)
            name, rest = value[:-1], ""
        name = name.strip()
        if not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name):
            raise self.fail(
                "the header's name is not an RFC 9110 token (letters, digits and !#$%&'*+-.^_`|~)",
                option.where,
            )
        return Pair(name, rest.strip(), option.where)

    def _body(self, headers: list[Pair], *, has_form: bool) -> str | None:
        """The data: -d pieces joined with &, --json pieces run together; the Content-Type
        (and for --json the Accept) curl adds unless a -H gives it, marked `data`."""
        options = self.options
        data = options.values(
            "--data", "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode"
        )
        json_data = options.values("--json")
        if has_form and (data or json_data):
            raise self.fail("-F and -d (or --json) together: curl refuses them too", "-F")
        if data and json_data:
            raise self.fail("--json and -d together: give the body one way", json_data[0].where)
        for option in [*data, *json_data]:
            if option.name not in ("--data-raw", "--data-urlencode") and option.value[:1] == "@":
                raise self.fail(
                    "reads the body from a file (@...), which an import cannot read; paste the "
                    "body in with --data-raw",
                    option.where,
                )
        if not (data or json_data):
            return None
        given = {header.name.lower() for header in headers}
        if json_data:
            implied = [("Content-Type", "application/json"), ("Accept", "application/json")]
            body = "".join(option.value for option in json_data)
        else:
            implied = [("Content-Type", "application/x-www-form-urlencoded")]
            body = "&".join(
                self._urlencoded(o) if o.name == "--data-urlencode" else o.value for o in data
            )
        headers += [Pair(n, v, "data") for n, v in implied if n.lower() not in given]
        return body

    def _urlencoded(self, option: Option, plain: str = "") -> str:
        """--data-urlencode (and --url-query): `text` and `=text` encode the text,
        `name=text` the text after `=`; `@file` and `name@file` read a file, refused.
        Encoded as curl does, all but letters, digits and `-._~` (RFC 3986 unreserved)."""
        value = option.value
        if plain and value.startswith(plain):
            return value[len(plain) :]
        found = re.search(r"[=@]", value)
        if found is None:
            return _escape(value)
        if found.group() == "@":
            raise self.fail("reads a file (@...), which an import cannot read", option.where)
        name, text = value[: found.start()], value[found.end() :]
        return f"{name}={_escape(text)}" if name else _escape(text)

    def _form_fields(self, forms: list[Option]) -> list[Pair]:
        """-F name=text, a `;type=` or the like after the text dropped, and --form-string
        name=text as it is; a field sending a file is noted and left out."""
        fields = []
        for option in forms:
            name, equals, content = option.value.partition("=")
            if not equals or not name:
                raise self.fail("a form field is name=content", option.where)
            if option.name == "--form":
                if content.startswith(("@", "<")):
                    self.options.note(
                        option.where,
                        f"the field {name} sends a file, which an import cannot read; left out",
                    )
                    continue
                content, semicolon, _ = content.partition(";")
                if semicolon:
                    self.options.note(
                        option.where, f"the field {name}'s ;type= or other settings are left out"
                    )
            fields.append(Pair(name, content, option.where))
        return fields

    def _method(self, *, has_body: bool) -> str:
        chosen = self.options.last("--request")
        if chosen is not None:
            return chosen.value
        if self.options.flags.get("--head"):
            if has_body:
                raise self.fail("-I and data together: curl refuses them too", "-I")
            return "HEAD"
        return "POST" if has_body else "GET"


def _escape(text: str) -> str:
    """Percent-encoding as curl_easy_escape does: all but RFC 3986's unreserved characters."""
    return quote(text, safe="")
