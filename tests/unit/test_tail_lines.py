"""``evokafka tail``'s lines, a batch at a time: the usual record's own way and ``to_json``'s write the same bytes,
whatever the record."""

from __future__ import annotations

import json

import orjson
from hypothesis import given
from hypothesis import strategies as st

from tui.envelope import MAX_DEPTH
from tui.records import Record, safe_json_bytes, to_json
from tui.tail_lines import json_lines

SECRET = "s3cr3t-KEY"


def _reference(records: list[Record], reveal: bool) -> bytes:
    return b"".join(safe_json_bytes(to_json(record, reveal)) + b"\n" for record in records)


_TEXT = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("aApPiIkKeEyY-_\\\"\u212a\u0130\u202e\x1b"),
                max_size=12)
_KEYS = st.sampled_from(["event", "instance", "data", "apikey", "apiKey", "API_KEY", "api-key", "key", "x"]) | _TEXT
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | _TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=12,
)
_ENVELOPES = st.fixed_dictionaries(
    {"event": _TEXT, "instance": _TEXT},
    optional={"data": _JSON, "apikey": st.none() | st.just(SECRET) | _TEXT, "apiKey": _TEXT, "extra": _JSON},
)


@st.composite
def _values(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["envelope", "envelope-ascii", "json", "bytes", "none"]))
    if kind == "envelope":
        # Compact UTF-8 as Evolution writes it; json, not orjson: integers beyond 64 bits are JSON too.
        return json.dumps(draw(_ENVELOPES), ensure_ascii=False, separators=(",", ":")).encode()
    if kind == "envelope-ascii":
        return json.dumps(draw(_ENVELOPES), ensure_ascii=True, indent=draw(st.none() | st.just(1))).encode()
    if kind == "json":
        return json.dumps(draw(_JSON)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=40))
    return None


_HEADERS = st.lists(
    st.tuples(st.sampled_from(["event", "instance", "origin", "apikey", "ApiKey", "meta"]) | _TEXT,
              st.none() | st.binary(max_size=12) | _TEXT.map(str.encode)),
    max_size=4,
)
_RECORDS = st.builds(
    Record,
    topic=st.just("evolution.acme.messages.upsert"),
    partition=st.integers(0, 3),
    offset=st.integers(0, 2**40),
    timestamp=st.integers(0, 2**42),
    timestamp_type=st.integers(0, 1),
    key=st.none() | st.binary(max_size=8) | _TEXT.map(str.encode),
    value=_values(),
    headers=_HEADERS,
)


@given(records=st.lists(_RECORDS, max_size=6), reveal=st.booleans())
def test_lines_are_to_json_lines_byte_for_byte(records: list[Record], reveal: bool) -> None:
    assert json_lines(records, reveal) == _reference(records, reveal)


def test_the_usual_envelope_and_what_leaves_its_way() -> None:
    envelope = {"event": "messages.upsert", "instance": "acme", "data": {"text": "olá \u202e"}, "apikey": SECRET}
    value = orjson.dumps(envelope)
    records = [
        Record("t", 0, 1, 2, 0, b"acme", value, [("event", b"messages.upsert"), ("instance", b"acme")]),
        Record("t", 0, 2, 2, 1, b"\xff", value, ()),  # key not UTF-8
        Record("t", 0, 3, 2, 0, None, value, [("ApiKey", SECRET.encode())]),  # a secret header
        Record("t", 0, 4, 2, 0, None, value, [("meta", f'{{"apikey":"{SECRET}"}}'.encode())]),
        Record("t", 0, 5, 2, 0, None, value, [("event", None)]),
        Record("t", 0, 6, 2, 0, None, b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), ()),
        Record("t", 0, 7, 2, 0, None, b'{"event": "x", "instance": "i", "data": {"api_key": "' + SECRET.encode()
               + b'"}}', ()),
        Record("t", 0, 8, 2, 0, None, None, ()),
    ]
    for reveal in (False, True):
        lines = json_lines(records, reveal)
        assert lines == _reference(records, reveal)
        assert (SECRET.encode() in lines) is reveal
        assert b"\x1b" not in lines and "\u202e".encode() not in lines
    assert json_lines([]) == b""
    first = orjson.loads(json_lines(records[:1]))
    assert first["value"]["apikey"] == "********" and first["key"] == "acme" and first["size"] == len(value)


def test_depth_near_the_limit_whatever_the_length() -> None:
    """The shortest envelope nested deeper than MAX_DEPTH is written as to_json writes it (as text, with its
    problem); one just within, and a short one whose brackets are in a string, take the usual way."""
    head = b'{"event":"e","instance":"i","d":'

    def nested(levels: int) -> bytes:  # the envelope is one level, ``levels`` lists inside it
        return head + b"[" * levels + b"]" * levels + b"}"

    deep, within = nested(MAX_DEPTH), nested(MAX_DEPTH - 1)
    in_text = b'{"event":"' + b"[{" * MAX_DEPTH + b'","instance":"i"}'
    assert len(deep) - (2 * MAX_DEPTH + 1) < 40  # close to the bound tail_lines counts from
    records = [Record("t", 0, n, 2, 0, None, value, ()) for n, value in enumerate((deep, within, in_text))]
    lines = json_lines(records)
    assert lines == _reference(records, False)
    deep_line, within_line, in_text_line = (orjson.loads(line) for line in lines.splitlines())
    assert "value_text" in deep_line and deep_line["problems"]
    assert "value" in within_line and "problems" not in within_line
    assert in_text_line["value"]["event"] == "[{" * MAX_DEPTH
