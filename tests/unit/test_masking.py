"""Secrets masked in any bytes (JSON at any depth and in any case, text that is not JSON, headers, binary), and
invisible format characters made visible wherever control characters are."""

from __future__ import annotations

import json
import re
import unicodedata

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.envelope import decode
from tui.masking import (
    FOLD_INTO_SECRET,
    MASK,
    _spellings,
    is_secret_name,
    redact,
    redact_bytes,
    redact_headers,
    redact_text,
)
from tui.records import Record, safe_json, to_json
from tui.summaries import INVISIBLE, summarize_decoded, visible

SECRET = "s3cr3t-KEY"


@pytest.mark.parametrize("name", ["apikey", "apiKey", "APIKEY", "ApiKey", "api_key", "API-KEY"])
def test_every_spelling_is_a_secret(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["api", "key", "apikeys", "x-apikey-id", "token"])
def test_other_names_are_not(name: str) -> None:
    assert not is_secret_name(name)


def test_redact_masks_any_depth_and_list_and_keeps_nulls() -> None:
    body = {"apikey": SECRET, "data": {"nested": {"apiKey": SECRET}, "list": [{"APIKEY": SECRET}], "n": None},
            "x": {"apikey": None}, "keep": 1}
    out = redact(body)
    assert SECRET not in orjson.dumps(out).decode()
    assert out["data"]["nested"]["apiKey"] == MASK and out["data"]["list"][0]["APIKEY"] == MASK
    assert out["x"]["apikey"] is None and out["keep"] == 1
    assert body["apikey"] == SECRET  # the original is untouched
    assert redact(body, reveal=True) is body
    plain = {"a": [1, {"b": 2}]}
    assert redact(plain) is plain  # nothing to hide: nothing copied


def test_redact_goes_as_deep_as_json_does() -> None:
    body = orjson.loads("[" * 1023 + f'{{"apikey": "{SECRET}"}}' + "]" * 1023)
    out = redact(body)
    for _ in range(1023):
        out = out[0]
    assert out == {"apikey": MASK}


@pytest.mark.parametrize("depth", [199, 201, 1000, 1023])
def test_json_too_deep_to_write_is_shown_as_text_masked(depth: int) -> None:
    value = ("[" * depth + f'{{"apikey": "{SECRET}"}}' + "]" * depth).encode()
    decoded = decode(value)
    assert decoded.is_json == (depth + 1 <= 200)
    line = safe_json(to_json(Record("t", 0, 0, 0, 0, None, value)))  # no RecursionError
    assert SECRET not in line and MASK in line
    assert SECRET not in summarize_decoded(decoded)


@pytest.mark.parametrize(
    "text",
    [
        f'\ufeff{{"event": "x", "apikey": "{SECRET}"}}',
        f'{{"apikey": "{SECRET}",}}',
        f'{{"timestamp": NaN, "data": {{"nested": {{"apiKey": "{SECRET}"}}}}}}',
        "[" * 1100 + f'{{"APIKEY": "{SECRET}"}}' + "]" * 1100,
        f'{{"\\u0061pikey": "{SECRET}"}}',
        f'{{"apikey": "a\\"{SECRET}"}}',
        f"{{'apiKey': '{SECRET}'}}",
        f"apikey={SECRET}&x=1",
        f"apikey: {SECRET}",
        f'{{"apikey": {{"inner": ["{SECRET}", "}}"]}}, "x": 1}}',
        f'{{"apikey": "{SECRET[:4]}',
    ],
)
def test_text_that_is_not_json_is_masked(text: str) -> None:
    shown = redact_text(text)
    assert SECRET[:4] not in shown and MASK in shown, shown
    assert redact_text(text, reveal=True) == text


def test_text_without_secret_is_unchanged() -> None:
    for text in ("hello {not json", '{"apikey": null}', '{"api": "x", "key": "y"}', ""):
        assert redact_text(text) == text


def test_bytes_and_headers() -> None:
    raw = b"\xff\xfe" + f'{{"apikey": "{SECRET}"}}'.encode() + b"\x80"
    masked = redact_bytes(raw)
    assert SECRET.encode() not in masked and masked.startswith(b"\xff\xfe") and masked.endswith(b"\x80")
    headers = redact_headers([("ApiKey", SECRET), ("meta", f'{{"apikey": "{SECRET}"}}'), ("event", "x")])
    assert headers[0] == ("ApiKey", MASK) and SECRET not in headers[1][1] and headers[2] == ("event", "x")


def test_tail_shape_masks_every_part() -> None:
    for value in (f'{{"apikey": "{SECRET}",}}'.encode(), b"\xff" + f'"apikey":"{SECRET}"'.encode()):
        record = Record("t", 0, 0, 0, 0, b"k", value, [("APIKEY", SECRET.encode())])
        line = safe_json(to_json(record))
        assert SECRET not in line and SECRET not in str(to_json(record))
        assert SECRET not in summarize_decoded(decode(value))
        assert SECRET in safe_json(to_json(record, reveal=True))


def test_invisible_class_is_every_format_character_but_the_joiners() -> None:
    pattern = re.compile(f"[{INVISIBLE}]")
    expected = {c for c in map(chr, range(0x110000)) if unicodedata.category(c) == "Cf"} - {"\u200c", "\u200d"}
    found = {c for c in map(chr, range(0x110000)) if pattern.fullmatch(c)}
    assert expected <= found and all(unicodedata.category(c) in ("Cf", "Cn") for c in found)


def test_bidi_is_escaped_in_rows_and_in_json_lines() -> None:
    text = "user\u202egnp.exe \u2066x\u2069 \u200b \U000e0041 family \U0001f468\u200d\U0001f469"
    assert visible(text) == (
        "user\\u202egnp.exe \\u2066x\\u2069 \\u200b \\ue0041 family \U0001f468\u200d\U0001f469"
    )
    line = safe_json({"t": text})
    assert not re.search(f"[{INVISIBLE}]", line) and orjson.loads(line)["t"] == text


_KEYS = st.sampled_from(["apikey", "apiKey", "APIKEY", "api_key", "Api-Key", "_apikey", "apikey_", "api\u212aey",
                         "key", "api", "apikeys", "name", "event", "data", "x\\u0061pikey"])
_BODIES = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.text(max_size=12) | st.sampled_from(["apikey", "a_pikey"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS | st.text(max_size=8), children,
                                                                     max_size=5),
    max_leaves=25,
)


@given(body=st.dictionaries(_KEYS, _BODIES, max_size=6), escape=st.booleans())
def test_the_shortcut_from_the_source_answers_as_the_walk(body: dict[str, object], escape: bool) -> None:
    source = json.dumps(body, ensure_ascii=escape).encode()
    assert redact(body, source=source) == redact(body)
    assert redact(body, source=orjson.dumps(body)) == redact(body)


def test_the_shortcut_masks_only_the_top_level_when_nothing_deeper_can_be_a_secret() -> None:
    body = {"event": "x", "apikey": "s3cret", "data": {"n": 1}}
    masked = redact(body, source=orjson.dumps(body))
    assert masked == {"event": "x", "apikey": MASK, "data": {"n": 1}}
    assert masked["data"] is body["data"]  # shared, not copied
    deeper = {"apikey": "a", "data": {"nested": {"APIKEY": "b"}}}
    assert redact(deeper, source=orjson.dumps(deeper)) == {"apikey": MASK, "data": {"nested": {"APIKEY": MASK}}}


def test_the_characters_that_casefold_into_a_secret_name_are_known() -> None:
    letters = set("apikey-_")
    found = {c for c in map(chr, range(0x80, 0x110000)) if not 0xD800 <= ord(c) <= 0xDFFF and letters & set(c.casefold())}
    assert found == set(FOLD_INTO_SECRET)


@given(text=st.text(alphabet=st.sampled_from([*"aApPiIkKeEyY-_x\"é", "ß", "\u0130", "\u212a", "\ufb01", "\ufb03", "İ"]),
                    max_size=40))
def test_spellings_are_counted_as_the_casefolded_text_holds_them(text: str) -> None:
    matches = len(re.findall(r"a[-_]?p[-_]?i[-_]?k[-_]?e[-_]?y", text.casefold()))
    counted = _spellings(text.encode())
    assert counted is not None and counted >= matches
    assert counted == text.casefold().replace("-", "").replace("_", "").count("apikey")
