"""Conditions: the guard of a designer's event, an expression over the context.

    ${call.ani} starts with '+44' and (${account.balance} > 100 or not ${fields.vip} is empty)

The grammar (GRAMMAR below) is parsed by lark's LALR(1) parser: the grammar is a text a
reviewer reads in one screen, LALR parses in linear time on a stack of its own (no Python
recursion however deeply the input nests), every error carries the line and column where
parsing stopped, and nothing runs: parsing builds plain frozen objects, with no `eval` and no
hand-written descent. A path is a `${...}` placeholder read as request templates read it
(`callout.runtime.templates`): split at `.`, each segment stripped, so a request name may hold
spaces, `${responses.Get customer.balance}`, and a list is indexed by number, `${call.tags.0}`.

Values are JSON: null, boolean, number, string, list, object. Evaluation never raises:

| expression                 | holds when                                                          |
|----------------------------|---------------------------------------------------------------------|
| `${path}`                  | (an operand, not a condition) the value there; missing is null      |
| `a == b`                   | a and b are of one kind and equal: 1 == 1.0, lists and objects      |
|                            | member by member; `true == 1`, `'1' == 1`, `null == ''` are false   |
| `a != b`                   | not `a == b`                                                        |
| `a < b`, `<=`, `>`, `>=`   | both are numbers, or both strings (compared by code point); any     |
|                            | other pair (`'a' < 1`, `null < 0`, `true > false`) is false         |
| `a contains b`             | a is a string and b a substring of it, or a is a list with an item  |
|                            | equal to b                                                          |
| `a starts with b`          | a and b are strings and a begins with b                             |
| `a is empty`               | a is null (or missing), "", [] or {}; 0 and false are not empty     |
| `not c`, `c and d`, `c or d` | as in logic; `not` binds tighter than `and`, `and` than `or`;     |
|                            | parentheses group                                                   |
| empty or blank text        | always                                                              |

Literals: strings in 'single' or "double" quotes with JSON's backslash escapes and `\\'`
(a `\\uXXXX` surrogate pair makes one character); numbers with an optional sign, fraction and
exponent (`-1`, `+2.5`, `1e3`); `true`, `false`, `null`. Keywords and literals ignore case
(`AND`, `Starts With`, `NULL`).

Limits: at most MAX_LENGTH characters, and at most MAX_DEPTH levels of parentheses and `not`
(the bound on nested values everywhere in Callout), counted as the parser reduces, so a long
or deep input is refused after one linear pass.
"""

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from callout.runtime import templates
from callout.runtime.errors import ParameterError
from callout.schemas import MAX_DEPTH

MAX_LENGTH = 10_000

GRAMMAR = r"""
?condition: any_of
?any_of: all_of (_OR all_of)*
?all_of: negated (_AND negated)*
?negated: negation | comparison | emptiness | group
negation: NOT negated
comparison: operand COMPARATOR operand
emptiness: operand _IS _EMPTY
group: LPAR any_of _RPAR
operand: PATH | STRING | NUMBER | TRUE | FALSE | NULL

_OR: /or\b/i
_AND: /and\b/i
NOT: /not\b/i
_IS: /is\b/i
_EMPTY: /empty\b/i
COMPARATOR: /==|!=|<=|>=|<|>|contains\b|starts\s+with\b/i
LPAR: "("
_RPAR: ")"
PATH: /\$\{[^{}$]*\}/
STRING: /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/s
NUMBER: /[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/
TRUE: /true\b/i
FALSE: /false\b/i
NULL: /null\b/i
%ignore /\s+/
"""

# How an error message names each terminal of the grammar, in the order it lists them.
TERMINALS = {
    "PATH": "a ${path}",
    "STRING": "a string",
    "NUMBER": "a number",
    "TRUE": "'true'",
    "FALSE": "'false'",
    "NULL": "'null'",
    "NOT": "'not'",
    "LPAR": "'('",
    "COMPARATOR": "a comparison (==, !=, <, <=, >, >=, contains, starts with)",
    "_IS": "'is empty'",
    "_EMPTY": "'empty'",
    "_AND": "'and'",
    "_OR": "'or'",
    "_RPAR": "')'",
    "$END": "the end",
}
ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
ESCAPES = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


class ConditionError(ValueError):
    """A condition cannot be parsed: what was expected and found, and where (1-based)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.message = message
        self.line = line
        self.column = column


# What a value is, for the rules above; bool is checked before number, as bool is an int.
def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return "other"  # not JSON: equal to nothing, contained in nothing


def equal(left: Any, right: Any) -> bool:
    """JSON equality, walked with a stack of its own so that no depth of value exhausts
    Python's (as `==` on nested lists would): `[1, {"a": true}] == [1.0, {"a": true}]`."""
    pending = [(left, right)]
    while pending:
        a, b = pending.pop()
        kind = kind_of(a)
        if kind != kind_of(b) or kind == "other":
            return False
        if kind == "list":
            if len(a) != len(b):
                return False
            pending.extend(zip(a, b, strict=True))
        elif kind == "object":
            if len(a) != len(b) or any(key not in b for key in a):
                return False
            pending.extend((a[key], b[key]) for key in a)
        elif a != b:
            return False
    return True


def ordering(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """An order between numbers, or between strings; any other pair is false."""

    def compare(left: Any, right: Any) -> bool:
        kind = kind_of(left)
        return kind in ("number", "string") and kind == kind_of(right) and test(left, right)

    return compare


def contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    return kind_of(container) == "list" and any(equal(member, item) for member in container)


def starts_with(text: Any, prefix: Any) -> bool:
    return isinstance(text, str) and isinstance(prefix, str) and text.startswith(prefix)


def is_empty(value: Any) -> bool:
    kind = kind_of(value)
    return kind == "null" or (kind in ("string", "list", "object") and len(value) == 0)


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": equal,
    "!=": lambda left, right: not equal(left, right),
    "<": ordering(operator.lt),
    "<=": ordering(operator.le),
    ">": ordering(operator.gt),
    ">=": ordering(operator.ge),
    "contains": contains,
    "starts with": starts_with,
}


@dataclass(frozen=True, slots=True)
class Path:
    placeholder: templates.Placeholder

    def value(self, context: Mapping[str, Any]) -> Any:
        try:
            return templates.lookup(self.placeholder, context)
        except (ParameterError, ValueError):  # missing; or an index int() cannot read
            return None


@dataclass(frozen=True, slots=True)
class Literal:
    literal: str | int | float | bool | None

    def value(self, context: Mapping[str, Any]) -> Any:
        return self.literal


Operand = Path | Literal


@dataclass(frozen=True, slots=True)
class Comparison:
    left: Operand
    operator: str  # a key of COMPARISONS
    right: Operand

    def holds(self, context: Mapping[str, Any]) -> bool:
        return COMPARISONS[self.operator](self.left.value(context), self.right.value(context))

    def operands(self) -> Iterator[Operand]:
        yield self.left
        yield self.right


@dataclass(frozen=True, slots=True)
class Emptiness:
    operand: Operand

    def holds(self, context: Mapping[str, Any]) -> bool:
        return is_empty(self.operand.value(context))

    def operands(self) -> Iterator[Operand]:
        yield self.operand


@dataclass(frozen=True, slots=True)
class Negation:
    term: "Term"

    def holds(self, context: Mapping[str, Any]) -> bool:
        return not self.term.holds(context)

    def operands(self) -> Iterator[Operand]:
        return self.term.operands()


@dataclass(frozen=True, slots=True)
class Terms:
    """Terms joined by `and` or `or`, however many: a chain is flat, not nested."""

    terms: tuple["Term", ...]

    def operands(self) -> Iterator[Operand]:
        for term in self.terms:
            yield from term.operands()


@dataclass(frozen=True, slots=True)
class AllOf(Terms):
    def holds(self, context: Mapping[str, Any]) -> bool:
        return all(term.holds(context) for term in self.terms)


@dataclass(frozen=True, slots=True)
class AnyOf(Terms):
    def holds(self, context: Mapping[str, Any]) -> bool:
        return any(term.holds(context) for term in self.terms)


Term = Comparison | Emptiness | Negation | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition: immutable, built once, evaluated for any number of contexts."""

    term: Term | None  # None: the empty condition, which always holds
    paths: tuple[templates.Placeholder, ...]  # each `${...}` it reads, once, in order

    def holds(self, context: Mapping[str, Any]) -> bool:
        return self.term is None or self.term.holds(context)


ALWAYS = Condition(None, ())

# A term and how many levels of parentheses and `not` it nests, as the parser builds it.
Built = tuple[Term, int]


class _Build(Transformer[Token, Any]):
    """Lark calls these as it reduces each rule, so no parse tree is ever built or walked."""

    def negation(self, children: list[Any]) -> Built:
        token, (term, depth) = children
        return Negation(term), _deeper(depth, token)

    def group(self, children: list[Any]) -> Built:
        token, (term, depth) = children
        return term, _deeper(depth, token)

    def all_of(self, children: list[Built]) -> Built:
        return AllOf(tuple(term for term, _ in children)), max(depth for _, depth in children)

    def any_of(self, children: list[Built]) -> Built:
        return AnyOf(tuple(term for term, _ in children)), max(depth for _, depth in children)

    def comparison(self, children: list[Any]) -> Built:
        left, token, right = children
        return Comparison(left, " ".join(token.lower().split()), right), 0

    def emptiness(self, children: list[Operand]) -> Built:
        return Emptiness(children[0]), 0

    def operand(self, children: list[Token]) -> Operand:
        token = children[0]
        if token.type == "PATH":
            return Path(_placeholder(token))
        if token.type == "STRING":
            return Literal(_string(token))
        if token.type == "NUMBER":
            return Literal(_number(token))
        return Literal({"TRUE": True, "FALSE": False, "NULL": None}[token.type])


PARSER = Lark(GRAMMAR, start="condition", parser="lalr", transformer=_Build())


def parse(text: str) -> Condition:
    """A condition from its text; blank text always holds. Raises ConditionError."""
    if len(text) > MAX_LENGTH:
        before = text[:MAX_LENGTH]
        line, column = before.count("\n") + 1, MAX_LENGTH - before.rfind("\n")
        raise ConditionError(f"is longer than {MAX_LENGTH} characters", line, column)
    if not text or text.isspace():
        return ALWAYS
    try:
        term, _ = cast(Built, PARSER.parse(text))
    except UnexpectedInput as error:
        raise _refusal(error) from None
    paths = (operand.placeholder for operand in term.operands() if isinstance(operand, Path))
    return Condition(term, tuple(dict.fromkeys(paths)))


def paths_at(text: str) -> Iterator[tuple[templates.Placeholder, int, int]]:
    """Each `${...}` of a condition that parses, with its line and column, in order: the
    lexer alone finds them (a `${...}` inside a string literal is text, not a path)."""
    for token in PARSER.lex(text):
        if token.type == "PATH":
            yield (_placeholder(token), *_at(token))


def _deeper(depth: int, token: Token) -> int:
    if depth == MAX_DEPTH:
        raise ConditionError(
            f"nests deeper than {MAX_DEPTH} levels of parentheses and not", *_at(token)
        )
    return depth + 1


def _placeholder(token: Token) -> templates.Placeholder:
    try:
        (placeholder,) = templates.placeholders(token.value)
    except templates.TemplateError as error:  # the template counts from the path's own `$`
        reason = str(error).removeprefix("placeholder at position 1 ")
        raise ConditionError(f"this ${{path}} {reason}", *_at(token)) from None
    return placeholder


def _string(token: Token) -> str:
    def unescape(match: re.Match[str]) -> str:
        code = match[1]
        if code in ESCAPES:
            return ESCAPES[code]
        if len(code) == 5:
            return chr(int(code[1:], 16))
        raise ConditionError(
            "a string holds a backslash escape other than "
            "\\\" \\' \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
            *_at(token),
        )

    text = ESCAPE.sub(unescape, token.value[1:-1])
    # `\ud83d\ude00` is one character, as in JSON; a lone surrogate stays as it is.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


def _number(token: Token) -> int | float:
    try:
        number = float(token) if any(char in token for char in ".eE") else int(token)
    except ValueError:  # more digits than Python converts
        raise ConditionError("a number has too many digits", *_at(token)) from None
    if number in (float("inf"), float("-inf")):
        raise ConditionError("a number is too large", *_at(token))
    return number


def _at(token: Token) -> tuple[int, int]:
    return cast(int, token.line), cast(int, token.column)


def _refusal(error: UnexpectedInput) -> ConditionError:
    """Lark's error as a message that names what was expected and what was found, never
    quoting the text's own strings, numbers or paths. What was expected is asked of the
    parser at the point it stopped (LALR's own lookahead set is wider: it lists what may
    follow a rule the parser had not finished)."""
    expected = error.interactive_parser.accepts()  # type: ignore[no-untyped-call]
    if isinstance(error, UnexpectedCharacters):
        found = {
            '"': "a string that is never closed",
            "'": "a string that is never closed",
            "$": "a ${ that is never closed, or holds {, } or $",
        }.get(error.char, repr(error.char))
        line, column = error.line, error.column
    else:
        token = cast(UnexpectedToken, error).token
        if token.type == "$END":
            found, line, column = "the end", token.end_line or 1, token.end_column or 1
        elif token.type == "_RPAR" and expected == {"$END"}:  # only the top level may end
            found, (line, column) = "a ')' that closes no '('", _at(token)
        else:
            found, (line, column) = _found(token), _at(token)
    names = [name for terminal, name in TERMINALS.items() if terminal in expected]
    wanted = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return ConditionError(f"expected {wanted}; found {found}", line, column)


def _found(token: Token) -> str:
    if token.type in ("PATH", "STRING", "NUMBER"):
        return TERMINALS[token.type]
    return repr(" ".join(token.lower().split()))  # a keyword, operator or parenthesis
