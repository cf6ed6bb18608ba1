"""Hostile records: whatever bytes a topic holds, ``evokafka tail`` prints every record, flags what it cannot
read, masks secrets, and lets no escape sequence reach the terminal.

The corpus is published with raw aiokafka (no envelope, no validation) to the real broker.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import unicodedata
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from tui.config import KafkaSettings
from tui.kafka.options import ConnectionOptions

pytestmark = pytest.mark.broker

SECRET = "SECRET-APIKEY-6f1d"
FIVE_MB = 5 * 1024 * 1024
ESCAPES = "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ \x9b2J \x07\x08\x00\x7f"
MARKUP = "[bold red]boom[/] [link=http://evil.example]click[/link] [@click=app.quit]quit[/]"

Headers = list[tuple[str, bytes]]
BIDI = "user\u202egnp.exe\u202c \u2066iso\u2069 zero\u200bwidth \ufeffbom \u061c\u00ad \U000e0041tag"
"""Bidi overrides and isolates, zero-width space, BOM, Arabic letter mark, soft hyphen, a tag character."""


def envelope(**extra: Any) -> bytes:
    body: dict[str, Any] = {
        "event": "messages.upsert",
        "instance": "hostile",
        "data": {"text": "hi"},
        "server_url": "http://localhost:8080",
        "date_time": "2024-03-04T10:30:00.000Z",
        "sender": "5511999999999",
        "apikey": SECRET,
        "timestamp": 1709550600000,
    }
    body.update(extra)
    return json.dumps(body).encode()


def _spellings() -> list[tuple[str, bytes]]:
    """The apikey under every spelling and in every value that is not strict JSON."""
    strict = envelope().decode()
    return [
        ("camel", envelope(apiKey=SECRET, apikey=None)),
        ("upper", envelope(APIKEY=SECRET, apikey=None)),
        ("nested", envelope(data={"nested": {"apikey": SECRET}, "list": [{"ApiKey": SECRET}]})),
        ("bom", b"\xef\xbb\xbf" + envelope()),
        ("trailing-comma", (strict[:-1] + ",}").encode()),
        ("nan", strict.replace('"timestamp": 1709550600000', '"timestamp": NaN').encode()),
        ("deeper-than-1024", (strict[:-1] + ', "deep": ' + "[" * 1100 + "]" * 1100 + "}").encode()),
        ("deep-nested-key", ("[" * 1100 + f'{{"apikey": "{SECRET}"}}' + "]" * 1100).encode()),
        ("escaped-key", f'{{"\\u0061pi\\u004bey": "{SECRET}", }}'.encode()),
        ("single-quotes", f"{{'event': 'x', 'apiKey': '{SECRET}'}}".encode()),
        ("query-string", f"instance=x&apikey={SECRET}&event=y".encode()),
        ("object-value", f'{{"apikey": {{"token": "{SECRET}"}}, }}'.encode()),
        ("cut-short", strict[: strict.index(SECRET) + 6].encode()),
        ("binary", b"\xff\xfe" + envelope()),
    ]


SECRET_SPELLINGS = _spellings()

CORPUS: list[tuple[str, bytes | None, bytes | None, Headers]] = [
    # (name, key, value, headers)
    ("non-json", b"k", b"hello {not json", []),
    ("invalid-utf8", b"k", b"\xff\xfe\xfd\x80abc", []),
    ("binary", b"k", bytes(range(256)) * 4, []),
    ("empty", b"k", b"", []),
    ("null", b"k", None, []),
    ("five-mb", b"k", envelope(data={"blob": "x" * FIVE_MB}), []),
    ("deep-array", b"k", b"[" * 10_000 + b"]" * 10_000, []),
    ("deep-object", b"k", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, []),
    ("million", b"k", ("[" + ",".join(["0"] * 1_000_000) + "]").encode(), []),
    ("markup", MARKUP.encode(), envelope(instance=MARKUP, data={"text": MARKUP}), [(MARKUP, MARKUP.encode())]),
    ("escapes-json", ESCAPES.encode(), envelope(data={"text": ESCAPES, ESCAPES: ESCAPES}), []),
    ("escapes-raw", ESCAPES.encode(), ("plain text " + ESCAPES).encode(), [("x\x1b[2Jy", ESCAPES.encode())]),
    ("control-chars", bytes(range(32)), bytes(range(32)) + "\u0085\u2028\u009d".encode(), []),
    ("many-headers", b"k", envelope(), [(f"h{i}", f"v{i}\x1b[1m".encode()) for i in range(1000)]),
    ("non-utf8-headers", b"\xff\xfekey", envelope(), [("event", b"\xff\xfe"), ("instance", b"\xc3\x28")]),
    ("apikey-in-data", b"k", envelope(data={"apikey": SECRET, "text": "nested"}), []),
    *[(f"apikey-{name}", b"k", value, []) for name, value in SECRET_SPELLINGS],
    ("apikey-header", b"k", envelope(), [("apikey", SECRET.encode()), ("APIKEY", SECRET.encode()),
                                         ("meta", f'{{"apiKey": "{SECRET}"}}'.encode())]),
    ("bidi", BIDI.encode(), envelope(data={"text": BIDI}), [("bidi", BIDI.encode())]),
    ("bidi-raw", b"k", ("not json " + BIDI).encode(), []),
]


async def publish(settings: KafkaSettings, topic: str) -> None:
    options = ConnectionOptions.from_settings(settings)
    producer = AIOKafkaProducer(**options.client_kwargs(), max_request_size=8 * 1024 * 1024, acks="all")
    await producer.start()
    try:
        for _name, key, value, headers in CORPUS:
            await producer.send_and_wait(topic, value, key=key, headers=headers, partition=0)
    finally:
        await producer.stop()


def tail(settings: KafkaSettings, topic: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_"))}
    env.update(KAFKA_BROKERS=",".join(settings.brokers), KAFKA_CONNECTION_TIMEOUT="3000")
    return subprocess.run(
        [sys.executable, "-m", "tui", "tail", topic, "--from", "earliest", "--exit", *extra],
        capture_output=True, env=env, timeout=120, check=False,
    )


# Raw ESC, the C1 range (as bytes of a non-UTF-8 stream or as UTF-8 encoded characters), other C0 controls, and
# the invisible format characters (category Cf: bidi controls, zero-width space, BOM, tags; joiners excepted).
_RAW_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029"
    + "".join(c for c in map(chr, range(0x110000)) if unicodedata.category(c) == "Cf" and c not in "\u200c\u200d")
    + "]"
)


@pytest.fixture
async def hostile_topic(settings: KafkaSettings, prefix: str) -> str:
    topic = f"{prefix}.hostile.messages.upsert"
    await publish(settings, topic)
    return topic


async def test_tail_prints_every_hostile_record_safely(settings: KafkaSettings, hostile_topic: str) -> None:
    done = await asyncio.to_thread(tail, settings, hostile_topic)
    assert done.returncode == 0, done.stderr[-2000:]
    assert b"Traceback" not in done.stderr
    assert b"\x1b" not in done.stdout
    text = done.stdout.decode("utf-8")  # the output itself is valid UTF-8
    assert not _RAW_CONTROL.search(text), _RAW_CONTROL.search(text)
    lines = text.splitlines()
    assert len(lines) == len(CORPUS)
    records = {name: json.loads(line) for (name, *_), line in zip(CORPUS, lines, strict=True)}

    assert "not JSON" in " ".join(records["non-json"]["problems"])
    assert records["non-json"]["value_text"] == "hello {not json"
    for name in ("invalid-utf8", "binary"):
        assert "value is not UTF-8 (binary)" in records[name]["problems"]
        assert "value_base64" in records[name]
    assert "empty value" in records["empty"]["problems"]
    assert records["null"]["value"] is None and "null value" in records["null"]["problems"]
    assert records["five-mb"]["size"] > FIVE_MB and len(records["five-mb"]["value"]["data"]["blob"]) == FIVE_MB
    for name in ("deep-array", "deep-object"):
        assert records[name]["problems"], records[name]  # too deep to parse: shown as text, flagged
    assert len(records["million"]["value"]) == 1_000_000

    # Markup and escapes come out literally (as JSON text), never interpreted.
    assert records["markup"]["value"]["instance"] == MARKUP
    assert records["markup"]["headers"] == [[MARKUP, MARKUP]]
    assert records["escapes-json"]["value"]["data"]["text"] == ESCAPES
    assert records["escapes-raw"]["key"] == ESCAPES
    assert records["escapes-raw"]["headers"][0][0] == "x\x1b[2Jy"
    assert records["control-chars"]["key"] == "".join(map(chr, range(32)))

    assert len(records["many-headers"]["headers"]) == 1000
    flagged = records["non-utf8-headers"]
    assert any("not UTF-8" in p for p in flagged["problems"]) and "key_base64" in flagged
    assert "key is not UTF-8" in flagged["problems"]

    # Secrets: the envelope's apikey is masked, top level and in data, under every spelling, in values that are
    # not strict JSON, in headers, and in the bytes of binary values.
    assert SECRET.encode() not in done.stdout
    assert SECRET[:6].encode() not in done.stdout  # not even the head of one cut short
    for record in records.values():
        if "value_base64" in record:
            assert SECRET[:6].encode() not in base64.b64decode(record["value_base64"])
    assert records["apikey-in-data"]["value"]["apikey"] == "********"
    assert records["apikey-in-data"]["value"]["data"]["apikey"] == "********"
    assert records["apikey-camel"]["value"]["apiKey"] == "********"
    assert records["apikey-nested"]["value"]["data"]["nested"]["apikey"] == "********"
    for name in ("bom", "trailing-comma", "nan", "deeper-than-1024", "deep-nested-key", "escaped-key",
                 "single-quotes", "query-string", "object-value", "cut-short"):
        assert "********" in records[f"apikey-{name}"]["value_text"], records[f"apikey-{name}"]
    headers = dict(records["apikey-header"]["headers"])
    assert headers["apikey"] == headers["APIKEY"] == "********" and "********" in headers["meta"]

    # Bidi and other invisible characters arrive escaped (the JSON still reads back as the original).
    assert records["bidi"]["value"]["data"]["text"] == BIDI and records["bidi"]["key"] == BIDI
    assert "\\u202e" in lines[[n for n, *_ in CORPUS].index("bidi-raw")]


async def test_reveal_shows_the_apikey(settings: KafkaSettings, hostile_topic: str) -> None:
    done = await asyncio.to_thread(tail, settings, hostile_topic, "--reveal", "--key", "k")
    assert done.returncode == 0, done.stderr[-2000:]
    assert SECRET.encode() in done.stdout
    assert b"\x1b" not in done.stdout
