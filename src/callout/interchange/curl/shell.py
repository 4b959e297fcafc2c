"""One shell command line split into the words a POSIX shell would give the program, with
whatever a shell would run or expand refused rather than guessed.

A cURL command copied from documentation or a browser is shell text: its quotes,
backslashes and line continuations decide what curl receives. The rules are POSIX's (Shell
Command Language, 2.2 Quoting and 2.3 Token Recognition), the ones `shlex.split` applies to
single-quoted text; nothing is ever run. Refused, each with its line and column:

- operators outside quotes, `;` `|` `&` `<` `>` `(` `)`, and a line break followed by more
  words: each starts, joins or redirects another command;
- expansions: `$NAME`, `${...}`, `$(...)` and backquotes, unquoted or in double quotes, a
  word starting with `~`, and bash's `{a,b}`: a shell would put there what this text does
  not hold (an environment variable, a command's output, a home folder), and Callout does
  not guess it;
- `$"..."` (bash's locale translation); an unclosed quote; a final backslash.

Inside single quotes every character is itself, `${name}` included: that is how a Callout
placeholder is written in a command. Unquoted `*`, `?` and `[` stay as written, as bash
leaves them when no file matches. A `#` starting a word comments out the rest of its line.

`$'...'` is bash's ANSI-C quoting (bash manual, 3.1.2.4), which POSIX leaves unspecified but
Chrome's and Firefox's Copy as cURL (bash) write for any text holding `'` or `!` (Firefox
also for text beyond ASCII): its escapes are read as bash reads them. Callout holds text,
not bytes, so three cases are read as the browsers mean them: bytes from `\\xHH` and
`\\nnn` in a row are UTF-8, as curl would send them, or else Latin-1, one character a byte
(Firefox writes é as `\\xe9`); the two `\\u` halves of a UTF-16 pair are one character
(Firefox writes 😀 as `\\ud83d\\ude00`, as JavaScript holds it); a NUL is refused (bash ends
the text there).
"""

import re
import sys
from dataclasses import dataclass

from callout.interchange.loading import unreadable

OPERATORS = frozenset(";|&<>()")
BLANKS = frozenset(" \t")
# What makes `$` the start of an expansion: a name, a digit, a special parameter, `{`, `(`.
EXPANDS = re.compile(r"[A-Za-z0-9_{(@*#?!$-]")
BRACE_EXPANSION = re.compile(r"\{[^{}]*,[^{}]*\}")
# Escapes a backslash makes inside double quotes; before anything else it stays itself.
DOUBLE_QUOTED_ESCAPES = frozenset('$`"\\\n')
# A $'...' quote's text up to its closing quote, which \' does not close.
ANSI_C_QUOTED = re.compile(r"((?:[^'\\]|\\.)*)'", re.DOTALL)
# One escape in it, as bash reads them: \nnn octal, \xHH, \uHHHH, \UHHHHHHHH (each with
# fewer digits too), \cx, a one-letter escape; or a run of plain text.
ANSI_C_PART = re.compile(
    r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|u([0-9A-Fa-f]{1,4})|U([0-9A-Fa-f]{1,8})"
    r"|c(\\\\|[\x01-\x7f])|(.))|[^\\]+",
    re.DOTALL,
)
# bash's one-letter escapes; after any other character the backslash stays.
ANSI_C_LETTERS = dict(zip("abeEfnrtv\\'\"?", "\a\b\x1b\x1b\f\n\r\t\v\\'\"?", strict=True))


def where(text: str, at: int) -> str:
    """A position as an editor shows it: `line 2, column 14`."""
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return f"line {line}, column {column}"


class _Splitter:
    """The words of `text`, read once from left to right."""

    def __init__(self, text: str, source: str, several: bool = False) -> None:
        self.text = text
        self.source = source
        self.several = several  # a line break after words starts the next command
        self.commands: list[Command] = []
        self.comment = ""  # the first comment line before the command's first word
        self.command_at = 0  # where the command's first word starts
        self.words: list[str] = []
        self.word: list[str] | None = None  # None between words
        self.unquoted: list[str] = []  # the word's unquoted characters, for `{a,b}`
        self.started = 0  # where the word began
        self.ended_at: int | None = None  # a line break after words ends the command

    def fail(self, message: str, at: int) -> Exception:
        return unreadable(self.source, message, where(self.text, at))

    def start(self, at: int) -> list[str]:
        if self.word is None:
            self._next_command()
            if not self.words:
                self.command_at = at
            if self.ended_at is not None:
                raise self.fail(
                    "one curl command: a line break outside quotes ends it, and more follows "
                    "(join its lines with a backslash at the end of each)",
                    at,
                )
            self.word, self.unquoted, self.started = [], [], at
        return self.word

    def _next_command(self) -> None:
        """In a script of several commands, end the one a line break ended."""
        if self.several and self.ended_at is not None:
            self.commands.append(Command(self.words, self.comment, self.command_at))
            self.words, self.comment, self.ended_at = [], "", None

    def end(self) -> None:
        if self.word is None:
            return
        if BRACE_EXPANSION.search("".join(self.unquoted)):
            raise self.fail(
                "a shell would expand {a,b} into several words; quote it to keep it as text",
                self.started,
            )
        self.words.append("".join(self.word))
        self.word = None

    def split(self) -> list[str]:
        text, i = self.text, 0
        while i < len(text):
            char = text[i]
            if char in BLANKS:
                self.end()
                i += 1
            elif char == "\n" or text.startswith("\r\n", i):
                self.end()
                if self.words and self.ended_at is None:
                    self.ended_at = i
                i += 1 if char == "\n" else 2
            elif char == "\\":
                i = self._backslash(i)
            elif char == "'":
                close = text.find("'", i + 1)
                if close < 0:
                    raise self.fail("a single quote is never closed", i)
                self.start(i).append(text[i + 1 : close])
                i = close + 1
            elif char == '"':
                i = self._double_quoted(i)
            elif text.startswith("$'", i):
                i = self._ansi_c_quoted(i)
            elif char == "$":
                self._dollar(i, quoted=False)
                self.start(i).append(char)
                self.unquoted.append(char)
                i += 1
            elif char == "`":
                raise self.fail("a shell would run the command in backquotes; nothing is run", i)
            elif char in OPERATORS:
                raise self.fail(
                    f"one curl command, no shell operators: {char} outside quotes "
                    "(quote it to send it as text)",
                    i,
                )
            elif char == "#" and self.word is None:
                newline = text.find("\n", i)
                end = len(text) if newline < 0 else newline
                self._next_command()
                if not self.words and not self.comment:  # before a command: its name
                    self.comment = text[i + 1 : end].strip()
                i = end
            elif char == "~" and self.word is None:
                raise self.fail("a shell would expand ~ to a home folder; quote it", i)
            else:
                self.start(i).append(char)
                self.unquoted.append(char)
                i += 1
        self.end()
        if self.words:
            self.commands.append(Command(self.words, self.comment, self.command_at))
        return self.words

    def _backslash(self, i: int) -> int:
        text = self.text
        if i + 1 == len(text):
            raise self.fail("ends with a backslash, which would continue on a next line", i)
        if text[i + 1] == "\n":
            return i + 2  # a line continuation: removed, as if never typed
        if text.startswith("\r\n", i + 1):
            return i + 3
        self.start(i).append(text[i + 1])  # the character, quoted
        return i + 2

    def _double_quoted(self, i: int) -> int:
        text, word, j = self.text, self.start(i), i + 1
        while True:
            if j >= len(text):
                raise self.fail("a double quote is never closed", i)
            char = text[j]
            if char == '"':
                return j + 1
            following = text[j + 1 : j + 2]
            if char == "\\" and following and following in DOUBLE_QUOTED_ESCAPES:
                if following != "\n":
                    word.append(following)
                j += 2
                continue
            if char == "`":
                raise self.fail("a shell would run the command in backquotes; nothing is run", j)
            if char == "$":
                self._dollar(j, quoted=True)
            word.append(char)
            j += 1

    def _ansi_c_quoted(self, i: int) -> int:
        """`$'...'` as bash reads it, but where the module's docstring says otherwise."""
        quoted = ANSI_C_QUOTED.match(self.text, i + 2)
        if quoted is None:
            raise self.fail("a $'...' quote is never closed", i)
        pieces: list[str] = []
        run = bytearray()  # what \xHH and \nnn escapes in a row make: bytes, not characters
        for part in ANSI_C_PART.finditer(quoted[1]):
            at = quoted.start(1) + part.start()
            octal, hexadecimal, short, long, control, letter = part.groups()
            if octal or hexadecimal:
                run.append(int(octal, 8) & 0xFF if octal else int(hexadecimal, 16))
                made = chr(run[-1])
            else:
                pieces.append(_bytes_text(run))
                run.clear()
                if short or long:
                    if int(short or long, 16) > sys.maxunicode:
                        raise self.fail(f"{part[0]} is beyond Unicode's last character", at)
                    made = chr(int(short or long, 16))
                elif control:  # bash's \cx: x's control character, \c? is DEL
                    made = chr(0x7F if control == "?" else ord(control[0].upper()) & 0x1F)
                elif letter:
                    made = ANSI_C_LETTERS.get(letter, "\\" + letter)
                else:
                    made = part[0]
                pieces.append(made)
            if made == "\x00":
                raise self.fail(
                    f"{part[0]} makes a NUL character, which no command line can pass to curl "
                    "(bash would end the text there)",
                    at,
                )
        pieces.append(_bytes_text(run))
        try:  # a UTF-16 pair of \u escapes becomes its one character
            text = "".join(pieces).encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise self.fail(
                "a \\u escape of half a UTF-16 pair without its other half (a character beyond "
                "U+FFFF is written as a pair of them)",
                i,
            ) from None
        self.start(i).append(text)
        return quoted.end()

    def _dollar(self, i: int, *, quoted: bool) -> None:
        """Refuse `$` where a shell would expand it; elsewhere it is a plain `$`."""
        following = self.text[i + 1 : i + 2]
        if not quoted and following == '"':
            raise self.fail('$"..." (locale translation) is not read; use plain quotes', i)
        if following == "(":
            raise self.fail("a shell would run the command in $(...); nothing is run", i)
        if following and EXPANDS.match(following):
            # Not quoted back: what follows the $ may be a password a shell would mangle.
            raise self.fail(
                "a shell would replace the $ and the name after it with a value this command "
                "does not hold; put the value in, or write a Callout placeholder such as "
                "'${name}' in single quotes",
                i,
            )


def _bytes_text(run: bytearray) -> str:
    """Bytes that \\xHH and \\nnn escapes make in a row, as text: UTF-8, as curl would send
    them, or else Latin-1, as Firefox writes U+0080 to U+00FF (é as \\xe9)."""
    try:
        return run.decode()
    except UnicodeDecodeError:
        return run.decode("latin-1")


@dataclass(frozen=True)
class Command:
    """One command's words, and the comment on the line before it (as `callout export
    --format curl` names each request: `# Customer CRM: Get customer`)."""

    words: list[str]
    comment: str
    at: int  # where in the text it starts


def split(text: str, source: str) -> list[str]:
    """The words a POSIX shell would pass to the program `text` runs, or a clear refusal."""
    _refuse_nul(text, source)
    return _Splitter(text, source).split()


def commands(text: str, source: str) -> list[Command]:
    """Each command of a script of several, one after another on lines of their own."""
    _refuse_nul(text, source)
    splitter = _Splitter(text, source, several=True)
    splitter.split()
    return splitter.commands


def _refuse_nul(text: str, source: str) -> None:
    nul = text.find("\x00")
    if nul >= 0:
        raise unreadable(source, "holds a NUL character", where(text, nul))
