"""Record filters: each criterion alone, together, and the one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tui import catalog
from tui.envelope import Decoded, build, decode
from tui.filters import PARSE_LIMIT, FilterError, FilterSpec, identity, split_names
from tui.records import Record

NOW = datetime(2024, 3, 4, 10, 30, tzinfo=UTC)


def envelope(event: str, instance: str, data: object, key: str | None = None) -> Decoded:
    env = build(catalog.lookup(event), instance, data, apikey="secret", now=NOW)
    return decode(env.encode(), env.headers, (key or instance).encode())


UPSERT = envelope("messages.upsert", "alpha", {"pushName": "John", "message": {"conversation": "Hello there"}})
CONN = envelope("connection.update", "beta", {"state": "open"}, key="beta-connection.update")


def test_empty_filter_keeps_everything() -> None:
    spec = FilterSpec()
    assert spec.empty and spec.describe() == "all records"
    f = spec.compile()
    assert f.matches(UPSERT) and f.matches(decode(None)) and f.matches(decode(b"\xff"))


def test_key_exact_and_glob() -> None:
    assert FilterSpec(key="alpha").compile().matches(UPSERT)
    assert not FilterSpec(key="alph").compile().matches(UPSERT)
    assert FilterSpec(key="beta-*").compile().matches(CONN)
    assert not FilterSpec(key="beta-*").compile().matches(UPSERT)
    assert not FilterSpec(key="x").compile().matches(decode(b"{}"))


def test_instances_and_events_in_either_form() -> None:
    f = FilterSpec(instances=("alpha", "gamma"), events=("MESSAGES_UPSERT",)).compile()
    assert f.matches(UPSERT) and not f.matches(CONN)
    assert FilterSpec(events=("connection.update", "call")).compile().matches(CONN)


def test_unknown_event_is_one_line_with_suggestion() -> None:
    with pytest.raises(FilterError) as err:
        FilterSpec(events=("MESSAGE_UPSERT",)).compile()
    assert "unknown event 'MESSAGE_UPSERT'" in str(err.value) and "MESSAGES_UPSERT" in str(err.value)
    assert "\n" not in str(err.value)


def test_header_pairs() -> None:
    assert FilterSpec(headers=("origin=WhatsApp",)).compile().matches(UPSERT)
    assert FilterSpec(headers=("event=messages.*", "instance=alpha")).compile().matches(UPSERT)
    assert not FilterSpec(headers=("origin=Other",)).compile().matches(UPSERT)
    with pytest.raises(FilterError, match="expected name=value"):
        FilterSpec(headers=("origin",)).compile()


def test_free_text_in_value_key_or_headers_any_case() -> None:
    assert FilterSpec(text="hello THERE").compile().matches(UPSERT)
    assert FilterSpec(text="BETA-conn").compile().matches(CONN)
    assert not FilterSpec(text="nowhere").compile().matches(UPSERT)
    assert FilterSpec(text="ab").compile().matches(decode(b"xxab"))


def test_jsonpath_path_and_root_filter() -> None:
    assert FilterSpec(jsonpath="$.data.message.conversation").compile().matches(UPSERT)
    assert not FilterSpec(jsonpath="$.data.message.conversation").compile().matches(CONN)
    root = FilterSpec(jsonpath='$[?(@.data.pushName == "John")]').compile()
    assert root.matches(UPSERT) and not root.matches(CONN)
    assert FilterSpec(jsonpath='$[?(@.data.state == "open")]').compile().matches(CONN)
    # Not JSON: a JSONPath cannot match.
    assert not FilterSpec(jsonpath="$").compile().matches(decode(b"\xff"))


def test_bad_jsonpath_is_one_line() -> None:
    for bad in ("$..[", "$[?(@.a ==", "$.a b"):
        with pytest.raises(FilterError) as err:
            FilterSpec(jsonpath=bad).compile()
        message = str(err.value)
        assert message.startswith("bad JSONPath") and "\n" not in message


def test_all_criteria_must_hold() -> None:
    f = FilterSpec(key="alpha", events=("messages.upsert",), text="nothing-like-this").compile()
    assert not f.matches(UPSERT)


def test_hostile_bodies_never_raise() -> None:
    deep = b'{"event":"call","instance":"a","data":' + b"[" * 3000 + b"]" * 3000 + b"}"
    f = FilterSpec(jsonpath="$..x", text="q").compile()
    assert f.matches(decode(deep)) is False
    assert FilterSpec(jsonpath="$..data").compile().matches(decode(b'{"a":' * 900 + b"1" + b"}" * 900)) in (
        True,
        False,
    )


def test_round_trip_and_bad_shapes() -> None:
    spec = FilterSpec(key="k", instances=("a",), events=("call",), headers=("h=v",), text="t", jsonpath="$.x")
    assert FilterSpec.from_dict(spec.to_dict()) == spec
    assert "key=k" in spec.describe() and "jsonpath $.x" in spec.describe()
    with pytest.raises(FilterError):
        FilterSpec.from_dict({"key": 3})
    with pytest.raises(FilterError):
        FilterSpec.from_dict({"events": [1]})
    assert split_names(" a, b  c,") == ("a", "b", "c")


# -- raw records: matches_record reads only what the criteria need, with the same answers ------------------

def _record(value: bytes | None, headers: list[tuple[str, bytes | None]], key: bytes | None) -> Record:
    return Record("t", 0, 0, 0, 0, key, value, headers)


def _envelope_record(event: str, instance: str, key: str, *, headers_event: str | None = None) -> Record:
    env = build(catalog.lookup(event), instance, {"pushName": "John"}, apikey="secret", now=NOW)
    headers: list[tuple[str, bytes | None]] = list(env.headers)
    if headers_event is not None:
        headers = [(n, headers_event.encode() if n == "event" else v) for n, v in headers]
    return _record(env.encode(), headers, key.encode())


RECORDS = [
    _envelope_record("messages.upsert", "alpha", "alpha"),
    _envelope_record("connection.update", "beta", "beta-connection.update"),
    # The body decides, as the row shows it, when headers disagree with it.
    _envelope_record("call", "alpha", "alpha", headers_event="messages.upsert"),
    _record(b"not json", [("event", b"call"), ("instance", b"gamma")], b"k"),
    _record(b'{"event": 1, "instance": "x"}', [("event", b"messages.upsert"), ("instance", b"")], None),
    _record(None, [("event", None), ("instance", b"\xff")], b"\xfe"),
    _record(b"\xff\xfe", [], b"alpha"),
    _record(b'{"event": "call", "instance": "big", "data": "' + b"x" * 200 + b'"}', [("event", b"qrcode.updated")],
            b"k"),
]
SPECS = [
    FilterSpec(),
    FilterSpec(key="alpha"),
    FilterSpec(key="beta-*"),
    FilterSpec(key="\ufffd"),
    FilterSpec(instances=("alpha",)),
    FilterSpec(instances=("gamma", "\ufffd")),
    FilterSpec(events=("MESSAGES_UPSERT",)),
    FilterSpec(events=("call", "qrcode.updated")),
    FilterSpec(headers=("origin=WhatsApp",)),
    FilterSpec(headers=("instance=*",)),
    FilterSpec(key="alpha", events=("call",)),
    FilterSpec(text="john"),
    FilterSpec(jsonpath="$.data.pushName"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.describe())
def test_matches_record_answers_as_matches_on_the_decoded_record(spec: FilterSpec) -> None:
    compiled = spec.compile()
    for limit in (PARSE_LIMIT, 100):
        for record in RECORDS:
            decoded = decode(record.value, record.headers, record.key, max_parse=limit)
            assert compiled.matches_record(record, max_parse=limit) == compiled.matches(decoded), (record, limit)


def test_identity_prefers_the_body_then_the_headers() -> None:
    assert identity(RECORDS[2]) == ("call", "alpha")
    assert identity(RECORDS[3]) == ("call", "gamma")
    assert identity(RECORDS[4]) == ("messages.upsert", None)
    assert identity(RECORDS[7], max_parse=100) == ("qrcode.updated", None)


def test_an_empty_filter_reads_nothing() -> None:
    compiled = FilterSpec().compile()
    assert compiled.accepts_all and not FilterSpec(key="k").compile().accepts_all
    # Not even a record whose every part is unreadable is looked at.
    assert compiled.matches_record(_record(b"\xff", [("\xff", b"\xff")], b"\xff"))
