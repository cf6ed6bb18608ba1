"""The envelope: body and headers exactly as the design says; decode never raises on any bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tui import catalog
from tui.envelope import build, decode
from tui.masking import MASK, redact
from tui.records import Record, safe_json, to_json

MOMENT = datetime(2024, 3, 4, 10, 30, 0, tzinfo=UTC)


def test_body_and_headers_match_the_design() -> None:
    data = {"key": {"remoteJid": "5511999999999@s.whatsapp.net", "fromMe": False, "id": "3EB0XXXXX"}}
    env = build(catalog.lookup("messages.upsert"), "my_instance", data, server_url="https://your-evolution-api.com",
                sender="5511999999999", apikey="instance_api_key", now=MOMENT)
    body = json.loads(env.encode())
    assert list(body) == ["event", "instance", "data", "server_url", "date_time", "sender", "apikey", "timestamp"]
    assert body["event"] == "messages.upsert"
    assert body["date_time"] == "2024-03-04T10:30:00.000Z"
    assert body["timestamp"] == 1709548200000
    assert isinstance(body["timestamp"], int)
    assert env.headers == [
        ("event", b"messages.upsert"),
        ("instance", b"my_instance"),
        ("origin", b"WhatsApp"),
        ("timestamp", b"2024-03-04T10:30:00.000Z"),
    ]


def test_milliseconds_are_kept() -> None:
    env = build(catalog.lookup("CALL"), "i", {}, now=datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC))
    assert env.body["date_time"] == "2024-01-01T00:00:00.123Z"
    assert env.body["timestamp"] % 1000 == 123


def test_decode_reads_an_envelope() -> None:
    env = build(catalog.lookup("CALL"), "inst", {"a": 1}, now=MOMENT)
    d = decode(env.encode(), env.headers, b"inst")
    assert d.is_envelope and not d.flagged
    assert (d.event, d.instance, d.key) == ("call", "inst", "inst")


def test_decode_flags_what_it_cannot_read() -> None:
    assert decode(None).is_null and decode(None).flagged
    assert "empty value" in decode(b"").problems
    assert decode(b"\xff\xfe\x00").raw == b"\xff\xfe\x00"
    assert decode(b"not json").text == "not json"
    assert any("not JSON" in p for p in decode(b"not json").problems)
    assert any("not an object" in p for p in decode(b"[1,2]").problems)
    deep = b"[" * 10000 + b"]" * 10000
    assert decode(deep).flagged
    d = decode(b"{}", [("event", b"\xff"), ("instance", None)], b"\xc3")
    assert any("header" in p for p in d.problems) and any("key" in p for p in d.problems)


@given(value=st.one_of(st.none(), st.binary(max_size=2000)),
       headers=st.lists(st.tuples(st.text(max_size=20), st.one_of(st.none(), st.binary(max_size=50))), max_size=20),
       key=st.one_of(st.none(), st.binary(max_size=50)))
def test_decode_never_raises(value: bytes | None, headers: list[tuple[str, bytes | None]], key: bytes | None) -> None:
    d = decode(value, headers, key)
    assert d.size == (len(value) if value is not None else 0)
    record = Record("t", 0, 0, 0, 0, key, value, headers)
    line = safe_json(to_json(record))
    assert "\x1b" not in line and "\n" not in line
    assert not any(0x80 <= ord(c) <= 0x9F for c in line)


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
                    lambda children: st.lists(children) | st.dictionaries(st.text(), children), max_leaves=30))
def test_decode_reads_any_json_and_says_what_it_is(value: object) -> None:
    raw = json.dumps(value).encode()
    d = decode(raw)
    assert d.size == len(raw) and d.is_json and d.body == value
    if isinstance(value, dict):
        envelope = isinstance(value.get("event"), str) and isinstance(value.get("instance"), str)
        assert d.is_envelope is envelope
        assert envelope or "JSON but not an envelope (no event/instance)" in d.problems
    else:
        # The envelope is always an object: anything else is kept, and flagged.
        assert not d.is_envelope and "JSON but not an object" in d.problems


def test_redact_masks_apikey_unless_revealed() -> None:
    body = {"event": "x", "instance": "i", "apikey": "secret", "data": {"apikey": "inner"}}
    masked = redact(body)
    assert masked["apikey"] == MASK and masked["data"]["apikey"] == MASK
    assert body["apikey"] == "secret"
    assert redact(body, reveal=True)["apikey"] == "secret"


def test_tail_line_escapes_terminal_controls() -> None:
    value = json.dumps({"event": "\x1b[31mred\x1b]0;title\x07", "instance": "\x9b2J"}).encode()
    record = Record("t", 0, 1, 0, 0, b"[bold]k", value, [("h", b"\x1b[2J")])
    line = safe_json(to_json(record))
    assert "\x1b" not in line and "\x07" not in line and "\x9b" not in line
    assert "\\u001b" in line and "\\u009b" in line


@given(st.lists(st.integers(min_value=0, max_value=253_402_300_799_999), min_size=1, max_size=20))
def test_the_clock_path_formats_every_millisecond_like_isoformat(moments: list[int]) -> None:
    """build() formats the date part once per second and reuses it: any order of moments, same text."""
    from datetime import timedelta

    from tui.envelope import _clock_iso_millis, iso_millis

    for millis in moments:
        expected = iso_millis(datetime.fromtimestamp(millis // 1000, UTC) + timedelta(milliseconds=millis % 1000))
        assert _clock_iso_millis(millis) == expected


def test_date_time_timestamp_and_header_agree_without_a_given_moment() -> None:
    for _ in range(500):
        env = build(catalog.lookup("CALL"), "inst", {})
        moment = datetime.fromtimestamp(env.body["timestamp"] / 1000, UTC)
        assert env.body["date_time"] == moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert dict(env.headers)["timestamp"] == env.body["date_time"].encode()


def test_unknown_sender_is_left_out_as_evolution_does() -> None:
    body = build(catalog.lookup("call"), "acme", {}, now=MOMENT).body
    assert "sender" not in body
    assert list(body) == ["event", "instance", "data", "server_url", "date_time", "apikey", "timestamp"]
