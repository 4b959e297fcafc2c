"""Reading a file someone else wrote: what it may cost is bounded, and each refusal names
the file and says which limit it broke."""

import gzip
from pathlib import Path

import pytest

from callout.errors import Invalid
from callout.interchange import loading


def refusal(data: bytes) -> str:
    with pytest.raises(Invalid) as caught:
        loading.parse(data, "shop.yaml")
    return caught.value.detail


def test_billion_laughs_yaml_is_refused() -> None:
    # Nine levels of ten aliases each: a billion values from 500 bytes.
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        aliases = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    assert refusal("\n".join(lines).encode()) == (
        "shop.yaml: expands to more than 5,000,000 values (YAML aliases?)"
    )


def test_aliases_are_measured_once_so_any_expansion_is_refused_at_once() -> None:
    # Thirty levels: 10**30 values, which a walk of each use would never finish.
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 30)]
    assert refusal("\n".join(lines).encode()) == (
        "shop.yaml: expands to more than 5,000,000 values (YAML aliases?)"
    )


def test_a_shared_value_counts_where_it_is_used() -> None:
    # 99 levels of nesting under the anchor are fine at the top; used one level down they
    # are 100.
    deep = "[" * 98 + "x" + "]" * 98
    assert loading.parse(f"a: &d {deep}\nb: *d\n".encode(), "x")["b"] == loading.parse(
        deep.encode(), "x"
    )
    assert refusal(f"a: &d {deep}\nb: [*d]\n".encode()) == (
        "shop.yaml: nests deeper than 100 levels"
    )
    assert loading.parse(b"a: &b [1]\nc: [*b, *b]\n", "x") == {"a": [1], "c": [[1], [1]]}


def test_a_value_that_holds_itself_is_refused() -> None:
    assert refusal(b"&a [*a]") == "shop.yaml: nests deeper than 100 levels"
    assert refusal(b"&a {x: *a}") == "shop.yaml: nests deeper than 100 levels"


def test_json_ten_thousand_deep_is_refused() -> None:
    assert refusal(b"[" * 10_000 + b"]" * 10_000) == "shop.yaml: nests deeper than 100 levels"
    deep_object = b'{"a": ' * 10_000 + b"1" + b"}" * 10_000
    assert refusal(deep_object) == "shop.yaml: nests deeper than 100 levels"


def test_yaml_ten_thousand_deep_is_refused() -> None:
    # libyaml stops at its own depth limit; a document within it but deeper than Callout's
    # limit is refused by the walk that counts.
    assert refusal(b"- " * 10_000 + b"x\n") == (
        "shop.yaml: line 1, column 1999: is neither JSON nor YAML: exceeded maximum nesting depth"
    )
    assert refusal(b"a: " + b"{b: " * 10_000 + b"c" + b"}" * 10_000) == (
        "shop.yaml: line 1, column 4000: is neither JSON nor YAML: exceeded maximum nesting depth"
    )
    assert refusal(b"- " * 150 + b"x\n") == "shop.yaml: nests deeper than 100 levels"


def test_fifty_megabyte_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b'{"openapi": "3.1.0", "padding": "' + b"x" * (50 * 1024 * 1024) + b'"}')
    assert refusal(big.read_bytes()) == (
        "shop.yaml: is 52,428,835 bytes; an import takes at most 33,554,432 bytes"
    )


def test_text_that_is_not_utf8_is_refused() -> None:
    latin1 = "openapi: 3.1.0\ninfo: {title: Café, version: '1'}\n".encode("latin-1")
    assert refusal(latin1) == "shop.yaml: is not UTF-8 text (byte 32)"
    late = b"openapi: 3.1.0\n" + b"# padding\n" * 200 + b"info: {title: Caf\xe9}\n"
    assert refusal(late) == f"shop.yaml: is not UTF-8 text (byte {len(late) - 3})"


def test_a_file_that_is_not_text_says_what_it_is() -> None:
    text = "openapi: 3.1.0\ninfo: {title: Shop, version: '1'}\n"
    assert refusal(gzip.compress(text.encode())) == (
        "shop.yaml: is gzip-compressed: decompress it first"
    )
    assert refusal(text.encode("utf-16")) == "shop.yaml: is UTF-16 text: save it as UTF-8"
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
    assert refusal(png) == "shop.yaml: is not a text file"
    assert refusal(b"\x00\x01\x02") == "shop.yaml: is not a text file"
    # Bytes that are not UTF-8 from the start, without a control byte: not text either.
    assert refusal(bytes(range(128, 256)) * 4) == "shop.yaml: is not a text file"


def test_an_empty_file_is_refused_as_empty() -> None:
    assert refusal(b"") == "shop.yaml: is empty"
    assert refusal(b"\xef\xbb\xbf \n\t\n") == "shop.yaml: is empty"


def test_yaml_dates_and_numeric_keys_stay_text() -> None:
    value = loading.parse(b"released: 2024-01-01\nresponses:\n  200: {description: OK}\n", "a")
    assert value == {"released": "2024-01-01", "responses": {"200": {"description": "OK"}}}
