"""Record filters: each criterion alone, together, and the one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tui import events as catalog
from tui.envelope import Decoded, build, decode
from tui.filters import FilterError, FilterSpec, split_names

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
