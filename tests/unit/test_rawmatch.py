"""The raw-bytes filter tests answer exactly as decoding the record and testing it does (property tests)."""

from __future__ import annotations

import sys
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tui.envelope import decode
from tui.filters import FilterSpec, RecordFilter
from tui.rawmatch import ASCII_FOLDING, simple_path
from tui.records import Record

# Text that reaches the corner cases: ASCII letters in both cases, accents, the characters that casefold to
# ASCII (Kelvin sign, long s, sharp s, ligatures), quotes and backslashes that JSON escapes.
_ALPHABET = st.sampled_from(list("abkKsSfiJoãÃçé ") + list(ASCII_FOLDING) + ['"', "\\", "\n", "é", "ß"])
_TEXT = st.text(_ALPHABET, max_size=12)
_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.0, 1.0, 2.5]), _TEXT)
_NAMES = st.sampled_from(["data", "key", "fromMe", "pushName", "x", "\u017f"])
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_NAMES, inner, max_size=4)),
    max_leaves=12,
)


def _record(value: bytes | None, key: bytes | None = None, headers: list[tuple[str, bytes | None]] | None = None) -> Record:
    return Record("t", 0, 0, 0, 0, key, value, headers or [])


def _slow(flt: RecordFilter, record: Record) -> bool:
    return flt.matches(decode(record.value, record.headers, record.key, max_parse=1024))


def _escaped(value: Any) -> bytes:
    # The same JSON written with every non-ASCII character escaped (what another producer may send).
    import json

    return json.dumps(value, ensure_ascii=True).encode()


_VALUES = st.one_of(
    _JSON.map(orjson.dumps),
    _JSON.map(_escaped),
    _TEXT.map(lambda t: t.encode()),
    st.binary(max_size=20),
    st.just(b"\xff" + "kelvin \u212a".encode()),
    st.none(),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    needle=st.text(_ALPHABET, min_size=1, max_size=4),
    value=_VALUES,
    key=st.one_of(st.none(), _TEXT.map(lambda t: t.encode()), st.just(b"\xffK")),
    header=st.one_of(st.none(), _TEXT.map(lambda t: t.encode())),
)
@example(needle="k", value="\u212a".encode(), key=None, header=None)
@example(needle="ss", value="stra\u00dfe".encode(), key=None, header=None)
@example(needle="k", value=b"\xffk", key=None, header=None)
def test_text_filter_on_raw_bytes_answers_as_the_decoded_record(
    needle: str, value: bytes | None, key: bytes | None, header: bytes | None
) -> None:
    flt = FilterSpec(text=needle).compile()
    record = _record(value, key, [("h", header)])
    assert flt.matches_record(record, max_parse=1024) == _slow(flt, record)


_PATHS = [
    "$.data",
    "$.data.pushName",
    "$.data.key.fromMe",
    "$['\u017f']",
    "$[?(@.data.key.fromMe == true)]",
    "$[?(@.data.key.fromMe != true)]",
    "$[?(@.data.key.fromMe == false)]",
    "$[?(@.data.pushName == 'ab')]",
    "$[?(@.data.pushName == '\u017f')]",
    "$[?(@.data.pushName != 'ab')]",
    "$[?(@.data.x == null)]",
    "$[?(@.data.x != null)]",
    "$[?(@.data.x == 1)]",
    "$[?(@.data.x >= 1)]",
    "$[?(@.data.x < 2.5)]",
    "$[?(@.data.x > 'a')]",
    "$[?(@.data.key)]",
    "$[?(@.data.key.fromMe == true && @.x == 1)]",
    "$[?(@.data.pushName =~ 'a')]",
    "$.data[*]",
    "$..fromMe",
]


@pytest.mark.parametrize("expression", _PATHS)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(value=_VALUES)
def test_jsonpath_filter_on_raw_bytes_answers_as_jsonpath_ng(expression: str, value: bytes | None) -> None:
    flt = FilterSpec(jsonpath=expression).compile()
    record = _record(value)
    assert flt.matches_record(record, max_parse=1024) == _slow(flt, record)


@pytest.mark.parametrize(
    ("expression", "simple"),
    [
        ("$.data.pushName", True),
        ("$[?(@.data.key.fromMe == true)]", True),
        ("$[?(@.data.key.fromMe == true && @.x == 1)]", True),
        ("$[?(@.data.pushName =~ 'a')]", False),
        ("$.data[*]", False),
        ("$..fromMe", False),
    ],
)
def test_only_the_simple_shapes_skip_jsonpath_ng(expression: str, simple: bool) -> None:
    flt = FilterSpec(jsonpath=expression).compile()
    assert (simple_path(flt._path, flt._wrap) is not None) is simple


def test_a_match_needs_the_whole_value_parsed_when_it_is_escaped() -> None:
    flt = FilterSpec(jsonpath="$[?(@.data.pushName == 'João')]").compile()
    assert flt.matches_record(_record(b'{"data": {"pushName": "Jo\\u00e3o"}}'))
    assert flt.matches_record(_record('{"data": {"pushName": "João"}}'.encode()))
    assert not flt.matches_record(_record(b'{"data": {"pushName": "Joao"}}'))


def test_values_beyond_the_parse_limit_never_match_a_jsonpath() -> None:
    flt = FilterSpec(jsonpath="$.data").compile()
    assert not flt.matches_record(_record(b'{"data": 1}' + b" " * 100), max_parse=50)


def test_the_characters_that_casefold_to_ascii_are_all_listed() -> None:
    found = [
        chr(n)
        for n in range(0x80, sys.maxunicode + 1)
        if not 0xD800 <= n < 0xE000 and any(ord(c) < 128 for c in chr(n).casefold())
    ]
    assert "".join(found) == ASCII_FOLDING
