"""The JSON lines ``evokafka tail`` writes, a batch at a time.

Each line is exactly :func:`tui.records.safe_json_bytes` of :func:`tui.records.to_json`, the one definition of
the shape. The usual record (an Evolution envelope whose key and headers are UTF-8 text and whose headers hold
nothing to mask) is built here in one pass, without the :class:`~tui.envelope.Decoded` a reader keeps; any other
record goes through ``to_json``. A test holds both ways to the same bytes.

Pure domain module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from tui.envelope import MAX_DEPTH, MAX_PARSE
from tui.masking import headers_may_hold_secret, redact
from tui.records import Record, safe_json_bytes, to_json


def json_lines(records: Iterable[Record], reveal: bool = False) -> bytes:
    """The line of every record (secrets masked unless ``reveal``), each ending with a newline."""
    lines: list[bytes] = []
    append = lines.append
    for record in records:
        try:
            shape = _usual(record, reveal)
        except Exception:  # whatever the client handed over (headers not pairs…): to_json reads anything
            shape = None
        append(safe_json_bytes(shape if shape is not None else to_json(record, reveal)))
    if not lines:
        return b""
    append(b"")
    return b"\n".join(lines)


def _usual(record: Record, reveal: bool) -> dict[str, Any] | None:
    """:func:`~tui.records.to_json` of ``record`` when it is the usual record, else None."""
    value = record.value
    if type(value) is not bytes or len(value) > MAX_PARSE:
        return None
    key = record.key
    key_text: str | None = None
    if key is not None:
        if type(key) is not bytes:
            return None
        try:
            key_text = key.decode("utf-8")
        except UnicodeDecodeError:
            return None
    headers: list[list[str]] = []
    for name, raw in record.headers:
        if type(name) is not str or type(raw) is not bytes:
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        headers.append([name, text])
    if not reveal and headers and headers_may_hold_secret(headers):
        return None
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if type(body) is not dict:
        return None
    event, instance = body.get("event"), body.get("instance")
    if not (isinstance(event, str) and isinstance(instance, str)):
        return None
    # Deeper than MAX_DEPTH takes MAX_DEPTH + 1 brackets opened and as many closed outside strings: a shorter
    # value cannot be, and is not counted (counting costs a pass per bracket over the whole value).
    if len(value) > 2 * MAX_DEPTH + 1 and value.count(b"[") + value.count(b"{") > MAX_DEPTH:
        return None  # perhaps too deep to write as JSON: to_json decides
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestamp_type": "create" if record.timestamp_type == 0 else "log_append",
        "key": key_text,
        "headers": headers,
        "size": len(value),
        "value": redact(body, reveal, source=value),
    }
