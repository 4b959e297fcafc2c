"""curl's command-line options, read as curl reads them, into what one request is made of.

curl takes an option's value as the next word (`-H 'Accept: */*'`) or, for a short option,
glued to it (`-XPOST`); short flags group (`-sSL`); `--no-NAME` turns a flag off; there is
no `--name=value`. Each option is read into the request, noted as something Callout cannot
carry, ignored as changing only what curl prints or saves, or refused; an option missing
from these tables is an error that names it.
"""

from dataclasses import dataclass, field

from callout.interchange.loading import unreadable
from callout.interchange.schemas import Note

SHORT = {
    "X": "--request",
    "H": "--header",
    "d": "--data",
    "F": "--form",
    "u": "--user",
    "A": "--user-agent",
    "e": "--referer",
    "b": "--cookie",
    "m": "--max-time",
    "G": "--get",
    "I": "--head",
    "g": "--globoff",
    "k": "--insecure",
    "L": "--location",
    "x": "--proxy",
    "U": "--proxy-user",
    "E": "--cert",
    "T": "--upload-file",
    "r": "--range",
    "c": "--cookie-jar",
    "K": "--config",
    "o": "--output",
    "O": "--remote-name",
    "J": "--remote-header-name",
    "w": "--write-out",
    "D": "--dump-header",
    "s": "--silent",
    "S": "--show-error",
    "v": "--verbose",
    "i": "--include",
    "f": "--fail",
    "N": "--no-buffer",
    "#": "--progress-bar",
    "4": "--ipv4",
    "6": "--ipv6",
    "0": "--http1.0",
    ":": "--next",
    "q": "--disable",
    "Z": "--parallel",
}
# Read into the request.
READ_VALUES = frozenset(
    {
        "--request",
        "--header",
        "--data",
        "--data-ascii",
        "--data-binary",
        "--data-raw",
        "--data-urlencode",
        "--json",
        "--form",
        "--form-string",
        "--user",
        "--oauth2-bearer",
        "--url",
        "--user-agent",
        "--referer",
        "--cookie",
        "--url-query",
        "--max-time",
    }
)
READ_FLAGS = frozenset({"--get", "--head", "--globoff"})
# Change how curl connects or authenticates, which a Callout request does not carry.
NOTED = {
    "--insecure": "skips checking the server's certificate; Callout always checks it",
    "--proxy": "goes through a proxy; Callout connects directly",
    "--proxy-user": "authenticates to a proxy; Callout connects directly",
    "--proxy-insecure": "skips checking a proxy's certificate; Callout uses no proxy",
    "--preproxy": "goes through a proxy; Callout connects directly",
    "--socks5": "goes through a SOCKS proxy; Callout connects directly",
    "--socks5-hostname": "goes through a SOCKS proxy; Callout connects directly",
    "--cert": "presents a client certificate, which Callout does not carry",
    "--cert-type": "presents a client certificate, which Callout does not carry",
    "--key": "presents a client certificate's key, which Callout does not carry",
    "--key-type": "presents a client certificate's key, which Callout does not carry",
    "--pass": "unlocks a client certificate's key, which Callout does not carry",
    "--cacert": "trusts its own CA file; Callout trusts the CA file it is configured with",
    "--capath": "trusts its own CA folder; Callout trusts the CA file it is configured with",
    "--resolve": "pins a host to an address; Callout resolves and checks every host itself",
    "--connect-to": "connects to another host; Callout connects to the URL's host",
    "--interface": "sends from a chosen interface; Callout does not choose one",
    "--unix-socket": "connects through a Unix socket; Callout connects to the URL's host",
    "--ipv4": "uses IPv4 only; Callout uses what the host resolves to",
    "--ipv6": "uses IPv6 only; Callout uses what the host resolves to",
    "--digest": "authenticates with Digest; Callout sends Basic for -u",
    "--ntlm": "authenticates with NTLM; Callout sends Basic for -u",
    "--negotiate": "authenticates with Negotiate; Callout sends Basic for -u",
    "--anyauth": "lets the server pick the scheme; Callout sends Basic for -u",
    "--aws-sigv4": "signs the request for AWS, which Callout does not do",
    "--location-trusted": "sends credentials on to other hosts; Callout never does",
    "--path-as-is": "keeps /../ in the path; Callout refuses such a path",
    "--connect-timeout": "limits the connection time; Callout's timeout covers the whole call",
    "--range": "asks for part of the response; add a Range header if the API needs one",
    "--cookie-jar": "saves cookies to a file; Callout keeps none",
}
NOTED_VALUES = frozenset(
    {
        "--proxy",
        "--proxy-user",
        "--preproxy",
        "--socks5",
        "--socks5-hostname",
        "--cert",
        "--cert-type",
        "--key",
        "--key-type",
        "--pass",
        "--cacert",
        "--capath",
        "--resolve",
        "--connect-to",
        "--interface",
        "--unix-socket",
        "--aws-sigv4",
        "--connect-timeout",
        "--range",
        "--cookie-jar",
    }
)
REFUSED = {
    "--upload-file": "sends a file as the body, which an import cannot read",
    "--config": "reads more options from a file, which an import cannot read",
    "--next": "starts another request; import one request at a time",
}
# Change only what curl prints, saves or retries: nothing a request is made of. -L is here:
# Callout follows redirects unless a 3xx status is declared a success.
IGNORED_VALUES = frozenset(
    {
        "--output",
        "--output-dir",
        "--write-out",
        "--dump-header",
        "--trace",
        "--trace-ascii",
        "--stderr",
        "--retry",
        "--retry-delay",
        "--retry-max-time",
        "--max-redirs",
        "--max-filesize",
        "--limit-rate",
        "--keepalive-time",
        "--expect100-timeout",
        "--speed-limit",
        "--speed-time",
    }
)
IGNORED_FLAGS = frozenset(
    {
        "--silent",
        "--show-error",
        "--verbose",
        "--include",
        "--compressed",
        "--fail",
        "--fail-with-body",
        "--fail-early",
        "--no-buffer",
        "--no-progress-meter",
        "--progress-bar",
        "--remote-name",
        "--remote-header-name",
        "--remote-time",
        "--create-dirs",
        "--location",
        "--basic",
        "--http1.0",
        "--http1.1",
        "--http2",
        "--http2-prior-knowledge",
        "--http3",
        "--tlsv1",
        "--tlsv1.2",
        "--tlsv1.3",
        "--ssl-no-revoke",
        "--raw",
        "--tr-encoding",
        "--no-keepalive",
        "--tcp-nodelay",
        "--retry-all-errors",
        "--retry-connrefused",
        "--disable",
        "--parallel",
        "--styled-output",
        "--xattr",
    }
)
TAKES_VALUE = READ_VALUES | NOTED_VALUES | IGNORED_VALUES | (frozenset(REFUSED) - {"--next"})
FLAGS = READ_FLAGS | IGNORED_FLAGS | (frozenset(NOTED) - NOTED_VALUES) | {"--next"}


@dataclass
class Option:
    """One option with its value, and where it stands: `word 4 (-H)`."""

    name: str
    value: str
    where: str


@dataclass
class Options:
    """What a command's options say, in order; `notes` holds what cannot be carried."""

    source: str
    read: list[Option] = field(default_factory=list)
    urls: list[Option] = field(default_factory=list)
    flags: dict[str, bool] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)

    def note(self, where: str, message: str) -> None:
        self.notes.append(Note(source=self.source, where=where, message=message))

    def values(self, *names: str) -> list[Option]:
        return [option for option in self.read if option.name in names]

    def last(self, name: str) -> Option | None:
        """The option's last value: curl keeps the last of a repeated single-value option."""
        found = self.values(name)
        return found[-1] if found else None


def parse(words: list[str], source: str) -> Options:
    """The options of `curl ...` (`words` as the shell gives them, `curl` first)."""
    if not words or words[0] != "curl":
        raise unreadable(source, "must be a curl command: its first word is curl")
    options = Options(source)
    position = 1
    while position < len(words):
        word = words[position]
        position += 1
        where = f"word {position}"
        if word.startswith("--") and len(word) > 2:
            name = _known(word, source, where)
            if name in TAKES_VALUE:
                if position == len(words):
                    raise unreadable(source, f"{word} needs a value", where)
                position += 1
                _take(options, name, words[position - 1], f"{where} ({word})")
            else:
                _flag(options, name, f"{where} ({word})", on=not _negated(word))
        elif word.startswith("-") and len(word) > 1:
            position = _cluster(options, words, position, where)
        else:
            options.urls.append(Option("--url", word, where))
    return options


def _negated(word: str) -> bool:
    return word.startswith("--no-") and word not in FLAGS


def _known(word: str, source: str, where: str) -> str:
    """The option's name, or an error naming it (cut at `=`: what follows may be secret)."""
    if word in TAKES_VALUE or word in FLAGS:
        return word
    if _negated(word) and "--" + word[5:] in FLAGS:
        return "--" + word[5:]
    shown, equals, _ = word.partition("=")
    hint = "; curl takes an option's value as the next word, not after =" if equals else ""
    raise unreadable(
        source, f"{shown}{'=…' if equals else ''} is not a curl option Callout reads{hint}", where
    )


def _cluster(options: Options, words: list[str], position: int, where: str) -> int:
    """Short options grouped in one word: `-sSL`, `-XPOST`, `-sX POST`."""
    word = words[position - 1]
    for index, letter in enumerate(word[1:], start=1):
        name = SHORT.get(letter)
        if name is None:
            raise unreadable(options.source, f"-{letter} is not a curl option Callout reads", where)
        if name not in TAKES_VALUE:
            _flag(options, name, f"{where} (-{letter})", on=True)
            continue
        value = word[index + 1 :]
        if not value:
            if position == len(words):
                raise unreadable(options.source, f"-{letter} needs a value", where)
            value = words[position]
            position += 1
        _take(options, name, value, f"{where} (-{letter})")
        break
    return position


def _take(options: Options, name: str, value: str, where: str) -> None:
    if name in READ_VALUES:
        (options.urls if name == "--url" else options.read).append(Option(name, value, where))
    elif name in REFUSED:
        raise unreadable(options.source, REFUSED[name], where)
    elif name in NOTED:
        options.note(where, NOTED[name])


def _flag(options: Options, name: str, where: str, *, on: bool) -> None:
    if name in READ_FLAGS:
        options.flags[name] = on
    elif name in REFUSED:
        raise unreadable(options.source, REFUSED[name], where)
    elif name in NOTED and on:
        options.note(where, NOTED[name])
