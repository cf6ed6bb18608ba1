"""The raw-bytes fast paths answer as the full evaluation on envelopes shaped like Evolution API's, written every
way JSON allows: compact, spaced, indented, non-ASCII escaped, names spelled with escapes, duplicate members; and
on what is not an envelope: cut JSON, text, binary, nothing, values of several MB.

The full evaluation is :meth:`RecordFilter.matches` on :func:`~tui.envelope.decode` (jsonpath-ng for a JSONPath,
the casefolded text for free text); the fast one is :meth:`RecordFilter.matches_record`, what a pane runs.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tui.envelope import decode
from tui.filters import FilterSpec, RecordFilter
from tui.records import Record

PANE_PARSE_LIMIT = 1024 * 1024
"""What a pane passes as ``max_parse`` (the rows' parse limit)."""

# Text near the free-text needle: its cases, its pieces, characters that casefold into it (long s, the sharp s,
# the "st" ligature), accents, quotes and backslashes that JSON escapes.
_PIECES = ["souza", "Souza", "SOUZA", "sou", "za", "\u017fouza", "\u00df", "\ufb06", "Jo\u00e3o", " ", '"', "\\", "\n", "\u212a"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=4).map("".join)
_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.just(1.0), _TEXT)
_KEY = st.fixed_dictionaries(
    {},
    optional={
        "remoteJid": _TEXT,
        "fromMe": st.one_of(st.booleans(), _SCALAR, st.lists(st.booleans(), max_size=2)),
        "id": _TEXT,
    },
)
_DATA = st.fixed_dictionaries(
    {},
    optional={
        "key": st.one_of(_KEY, _SCALAR, st.lists(_KEY, max_size=2)),
        "fromMe": st.booleans(),
        "pushName": st.one_of(_TEXT, _SCALAR),
        "message": st.fixed_dictionaries({}, optional={"conversation": _TEXT, "key": _KEY}),
    },
)
_BODY = st.fixed_dictionaries(
    {"event": st.sampled_from(["messages.upsert", "messages.update", "send.message"]), "instance": _TEXT},
    optional={"data": st.one_of(_DATA, st.one_of(_SCALAR, st.lists(_DATA, max_size=2))), "sender": _TEXT},
)


def _escape_names(raw: bytes) -> bytes:
    # The member names as another producer may spell them: "\u0066romMe" is "fromMe" to a JSON reader.
    return raw.replace(b'"fromMe"', b'"\\u0066romMe"').replace(b'"key"', b'"k\\u0065y"')


def _duplicate(raw: bytes) -> bytes:
    # A later member of the same name: the parsers keep the last one.
    if raw.endswith(b"}") and len(raw) > 2:
        return raw[:-1] + b',"data":{"key":{"fromMe":false}}}'
    return raw


def _spaced_members(raw: bytes) -> bytes:
    # Whitespace around every colon outside strings' reach is not needed: JSON allows it between any tokens.
    return raw.replace(b'":', b'"\t :\r\n ')


_WRITINGS = [
    orjson.dumps,
    lambda body: json.dumps(body).encode(),
    lambda body: json.dumps(body, indent=2).encode(),
    lambda body: json.dumps(body, ensure_ascii=True).encode(),
    lambda body: _escape_names(orjson.dumps(body)),
    lambda body: _duplicate(orjson.dumps(body)),
    lambda body: _spaced_members(json.dumps(body, ensure_ascii=False).encode()),
]
_ENVELOPES = st.tuples(_BODY, st.sampled_from(_WRITINGS)).map(lambda pair: pair[1](pair[0]))
_VALUES = st.one_of(
    _ENVELOPES,
    _ENVELOPES,  # twice: most records are envelopes
    st.tuples(_BODY.map(orjson.dumps), st.integers(0, 200)).map(lambda pair: pair[0][: pair[1]]),  # cut
    _TEXT.map(str.encode),
    st.binary(max_size=40),
    st.binary(max_size=40).map(lambda junk: b'{"data":{"key":{"fromMe":true}}}' + junk),
    st.none(),
)
_LABELS = st.one_of(st.none(), _TEXT.map(str.encode), st.just(b"\xffSOUZA"), st.just("Souza".encode("utf-16")))

FILTERS = [
    FilterSpec(text="souza"),  # the bench's free-text filter
    FilterSpec(jsonpath="$[?(@.data.key.fromMe == true)]"),  # the bench's JSONPath filter
    FilterSpec(text="sou"),
    FilterSpec(text="st"),
    FilterSpec(text="jo\u00e3o"),
    FilterSpec(jsonpath="$.data.key.fromMe"),
    FilterSpec(jsonpath="$[?(@.data.key.fromMe == false)]"),
    FilterSpec(jsonpath="$[?(@.data.key.fromMe != true)]"),
    FilterSpec(jsonpath="$[?(@.data.key.fromMe <= true)]"),
    FilterSpec(jsonpath="$[?(@.data.key.fromMe > 0)]"),
    FilterSpec(jsonpath="$[?(@.data.key.fromMe < 0)]"),
    FilterSpec(jsonpath="$[?(@.data.pushName == 'Souza')]"),
    FilterSpec(jsonpath="$[?(@.data.pushName == 'Jo\u00e3o')]"),
    FilterSpec(jsonpath="$[?(@.data.pushName >= 'S')]"),
    FilterSpec(jsonpath="$[?(@.data.pushName == null)]"),
    FilterSpec(jsonpath="$[?(@.data.key.fromMe == true && @.data.pushName)]"),
    FilterSpec(jsonpath="$[?(@.data.key.fromMe == true)]", text="souza"),
]


def _record(value: bytes | None, key: bytes | None, header: bytes | None) -> Record:
    return Record("t", 0, 0, 0, 0, key, value, [("event", b"messages.upsert"), ("h", header)])


def _full(flt: RecordFilter, record: Record, max_parse: int) -> bool:
    return flt.matches(decode(record.value, record.headers, record.key, max_parse=max_parse))


@pytest.mark.parametrize("spec", FILTERS, ids=lambda spec: spec.describe())
@settings(max_examples=250, suppress_health_check=[HealthCheck.too_slow])
@given(value=_VALUES, key=_LABELS, header=_LABELS)
@example(value=b'{"data":{"key":{"\\u0066romMe":true}}}', key=None, header=None)
@example(value=b'{"data":{"k\\u0065y":{"fromMe":true}}}', key=None, header=None)
@example(value=b'{"data":{"key":{"fromMe":tru\\u0065}}}', key=None, header=None)  # not JSON
@example(value=b'{"data" : {"key" :\n{"fromMe"\t:  true}}}', key=None, header=None)
@example(value=b'{"data":{"key":{"fromMe":true}},"data":{"key":{"fromMe":false}}}', key=None, header=None)
@example(value=b'{"data":{"key":{"fromMe":false}},"data":{"key":{"fromMe":true}}}', key=None, header=None)
@example(value="{\"pushName\": \"\u017fouza\"}".encode(), key=None, header=None)
@example(value=b"\xff\xfe souza", key=None, header=None)
@example(value=b'{"data":{"pushName":"Souza","key":{"fromMe":-1}}}', key=None, header=None)
@example(value=None, key=b"SOUZA", header=None)
@example(value=b"{}", key=None, header="x \u017fOUZA".encode())
def test_the_fast_path_answers_as_the_full_evaluation(
    spec: FilterSpec, value: bytes | None, key: bytes | None, header: bytes | None
) -> None:
    flt = spec.compile()
    record = _record(value, key, header)
    assert flt.matches_record(record, max_parse=PANE_PARSE_LIMIT) == _full(flt, record, PANE_PARSE_LIMIT)


def _large(body: dict[str, Any], size: int, tail: str) -> bytes:
    # An envelope whose message text is ``size`` bytes of filler then ``tail``: the filter's answer lies at the end.
    body = {**body, "data": {**body.get("data", {}), "message": {"conversation": "x" * size + tail}}}
    return orjson.dumps(body)


@pytest.mark.parametrize("spec", FILTERS[:3] + FILTERS[-2:], ids=lambda spec: spec.describe())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    body=st.sampled_from(
        [
            {"event": "messages.upsert", "data": {"key": {"fromMe": True}, "pushName": "Souza"}},
            {"event": "messages.upsert", "data": {"key": {"fromMe": False}}},
            {"event": "messages.update", "data": {"fromMe": True}},
        ]
    ),
    megabytes=st.sampled_from([0.9, 1.1, 3.9, 4.1, 6.0]),
    tail=st.sampled_from(["", "souza", "\u017fouza", "\\u0073ouza"]),
)
def test_values_of_several_megabytes_answer_as_the_full_evaluation(
    spec: FilterSpec, body: dict[str, Any], megabytes: float, tail: str
) -> None:
    flt = spec.compile()
    record = _record(_large(body, int(megabytes * 1024 * 1024), tail), b"k", b"h")
    assert flt.matches_record(record, max_parse=PANE_PARSE_LIMIT) == _full(flt, record, PANE_PARSE_LIMIT)
    # With a parse limit beyond the value (the detail view, or a larger setting), the JSONPath is evaluated too.
    assert flt.matches_record(record, max_parse=8 * 1024 * 1024) == _full(flt, record, 8 * 1024 * 1024)


def test_the_bench_filters_read_the_raw_bytes_only_as_far_as_they_must() -> None:
    # What the fast JSONPath path looks for before parsing: the names of the member's parents, then the member
    # compared with its literal (whitespace allowed around the colon).
    simple = FilterSpec(jsonpath="$[?(@.data.key.fromMe == true)]").compile()._simple
    assert simple is not None
    assert simple.names == (b'"key"', b'"data"')
    assert simple.patterns == (rb'"fromMe"[ \t\n\r]*:[ \t\n\r]*true',)
