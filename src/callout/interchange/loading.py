"""Reading a file someone else wrote into plain JSON values, with limits on what it may cost.

Every importer starts here. A file is refused, with a clear error, when it is larger than
MAX_BYTES, is empty, is not text (gzip-compressed, or binary), is not UTF-8, is neither JSON
nor YAML, nests deeper than MAX_DEPTH or expands to more than MAX_VALUES values. The last
catches YAML's "billion laughs": ten aliases of ten aliases of ... cost nothing to load (an
alias is the same object again) and a billion values to walk: each use of an alias counts,
while a shared value is measured only once.
"""

import json
from typing import Any

import yaml

from callout.errors import FieldProblem, Invalid

MAX_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 100
MAX_VALUES = 5_000_000
# How much of a file's start is looked at to tell a binary file from text.
SNIFF_BYTES = 1024
GZIP = b"\x1f\x8b"
# Byte-order marks of the text encodings that are not UTF-8: UTF-32's first, as UTF-32 LE's
# mark starts with UTF-16 LE's.
BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
# Control bytes no text file holds (tab, line feed, form feed and carriage return are text;
# escape, for terminal colours, too).
CONTROL = frozenset(range(32)) - {9, 10, 12, 13, 27} | {127}


def unreadable(source: str, message: str, where: str = "") -> Invalid:
    """The error for a file that cannot be imported: names the file, the place and the rule."""
    field = f"{source}: {where}" if where else source
    return Invalid(f"{field}: {message}", [FieldProblem(field, message)])


def text_of(data: bytes, source: str) -> str:
    """The file's text: at most MAX_BYTES of UTF-8 (a byte-order mark is dropped), not
    empty. A file that is not text says what it is instead: compressed, or binary."""
    if len(data) > MAX_BYTES:
        raise unreadable(
            source, f"is {len(data):,} bytes; an import takes at most {MAX_BYTES:,} bytes"
        )
    if data.startswith(GZIP):
        raise unreadable(source, "is gzip-compressed: decompress it first")
    for mark, encoding in BOMS.items():
        if data.startswith(mark):
            raise unreadable(source, f"is {encoding} text: save it as UTF-8")
    if _binary(data[:SNIFF_BYTES]):
        raise unreadable(source, "is not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise unreadable(source, f"is not UTF-8 text (byte {error.start})") from None
    if not text.strip():
        raise unreadable(source, "is empty")
    return text


def _binary(head: bytes) -> bool:
    """Whether a file's first bytes are not text: a control byte no text holds, or more
    bytes that are not UTF-8 than a text in another encoding (Latin-1's é) would have."""
    if not CONTROL.isdisjoint(head):
        return True
    # A character cut at the end of the sample is not counted.
    undecodable = head.decode("utf-8", "replace")[:-1].count("\ufffd")
    return undecodable * 8 > len(head)


def parse(data: bytes, source: str) -> Any:
    """A JSON or YAML file's values; JSON is tried first, as it is the faster to read."""
    text = text_of(data, source)
    stripped = text.lstrip()
    try:
        if stripped[:1] in ("{", "["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = _yaml(text, source)  # YAML's flow style starts the same way
        else:
            value = _yaml(text, source)
    except RecursionError:
        raise unreadable(source, f"nests deeper than {MAX_DEPTH} levels") from None
    check_shape(value, source)
    return value


def _yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader, see below
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise unreadable(source, f"is neither JSON nor YAML: {error.problem}", where) from None
    except yaml.YAMLError as error:
        raise unreadable(source, f"is neither JSON nor YAML: {error}") from None


class _Loader(yaml.CSafeLoader):
    """YAML's safe subset, read by libyaml, giving what JSON would: dates and times stay
    text (an OpenAPI example `2024-01-01` is a string, not a `datetime`), and every key is
    text as written (OpenAPI's `200:` is "200", not the number)."""

    def construct_mapping(  # type: ignore[override] # keys are text here
        self, node: yaml.MappingNode, deep: bool = False
    ) -> dict[str, Any]:
        self.flatten_mapping(node)  # merge keys (<<) first
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key is a list or a mapping", key_node.start_mark
                )
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    _Loader.construct_yaml_str,  # type: ignore[type-var]
)


def check_shape(value: Any, source: str) -> None:
    """Refuse a tree deeper than MAX_DEPTH or of more than MAX_VALUES values.

    Each use of a shared, aliased value counts, as every importer after this one walks it
    again; but a shared value is measured once and remembered by identity, so checking a
    billion laughs costs what its few hundred bytes hold, not the billion.
    """
    measured: dict[int, tuple[int, int]] = {}  # id -> (values, levels of containers)

    def measure(node: dict[str, Any] | list[Any], depth: int) -> tuple[int, int]:
        known = measured.get(id(node))
        if known is None:
            if depth >= MAX_DEPTH:  # also where a value that holds itself ends
                raise unreadable(source, f"nests deeper than {MAX_DEPTH} levels")
            values, levels = 1, 0
            for child in node.values() if isinstance(node, dict) else node:
                if isinstance(child, dict | list):
                    child_values, child_levels = measure(child, depth + 1)
                    values += child_values
                    levels = max(levels, child_levels)
                else:
                    values += 1
            if values > MAX_VALUES:
                raise unreadable(
                    source, f"expands to more than {MAX_VALUES:,} values (YAML aliases?)"
                )
            known = measured[id(node)] = (values, levels + 1)
        elif depth + known[1] - 1 >= MAX_DEPTH:
            raise unreadable(source, f"nests deeper than {MAX_DEPTH} levels")
        return known

    if isinstance(value, dict | list):
        measure(value, 1)
