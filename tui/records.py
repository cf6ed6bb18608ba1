"""A consumed record as evokafka shows it: the JSON line of ``evokafka tail`` and of pane exports.

Pure domain module. Output is terminal-safe: every control character (C0, DEL, C1) and invisible format
character (bidi overrides, zero-width space, …) is escaped, so no escape sequence in a record can reach the
terminal, and no text can be reordered or hidden. Secrets are masked in every part (value as JSON, as text or
as bytes; headers) unless revealed.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import orjson

from tui.envelope import Decoded, decode
from tui.masking import redact, redact_bytes, redact_headers, redact_text
from tui.summaries import CONTROL_CLASS

_UNSAFE = re.compile(f"[{CONTROL_CLASS}]")
RECORD_OVERHEAD = 400
"""Bytes a held record costs beyond its key, value and headers (the record, its row, the buffer's slot)."""
HEADER_OVERHEAD = 120
"""Bytes each header costs beyond its name and value (the tuple and the two objects)."""
MAX_TEXT = 1 << 20
"""Non-JSON text values longer than this are truncated in tail lines (marked)."""


@dataclass(slots=True)
class Record:
    """One record as read from a topic partition."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    """Milliseconds since the epoch, as the broker gave it."""
    timestamp_type: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] = ()
    """As the client gave them (not copied: a flood makes every per-record object count for the collector)."""

    @property
    def decoded(self) -> Decoded:
        """The decoded record, made anew on each call: nothing parsed is kept on the record, so records held in
        bounded buffers stay as light as their bytes. Callers that need it twice keep the result."""
        return decode(self.value, self.headers, self.key)

    @property
    def key_text(self) -> str | None:
        """The key as text (undecodable bytes replaced), as :attr:`decoded` gives it, without reading the value."""
        return self.key.decode("utf-8", errors="replace") if self.key is not None else None

    @property
    def nbytes(self) -> int:
        """What the record weighs in memory, roughly: its key, value and headers, plus a fixed overhead for the
        objects around them (what a pane's byte budget counts)."""
        headers = self.headers
        size = RECORD_OVERHEAD + len(self.key or b"") + len(self.value or b"") + HEADER_OVERHEAD * len(headers)
        try:
            # Every name and value at C speed (a flood weighs tens of thousands of records a second) ...
            size += sum(map(len, chain.from_iterable(headers)))  # type: ignore[arg-type]
        except TypeError:  # ... unless a header has no value
            size += sum(len(name) + len(value or b"") for name, value in headers)
        return size

    @property
    def time(self) -> datetime:
        """The record timestamp as an aware datetime (UTC)."""
        try:
            return datetime.fromtimestamp(self.timestamp / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return datetime.fromtimestamp(0, UTC)


def safe_json(obj: Any) -> str:
    """JSON on one line with every terminal control character and invisible format character escaped."""
    return safe_json_bytes(obj).decode("utf-8")


def safe_json_bytes(obj: Any) -> bytes:
    """:func:`safe_json` as UTF-8 bytes, ready for a binary stream (what ``tail`` writes, record after record)."""
    try:
        # orjson writes C0 controls, quotes and backslashes escaped and the rest as UTF-8, as json.dumps with
        # ensure_ascii=False does, at a tenth of the cost; pure ASCII without DEL is then safe as it is.
        line = orjson.dumps(obj, default=str)
    except (TypeError, orjson.JSONEncodeError):
        # What orjson refuses (integers over 64 bits, lone surrogates, keys that are not text) the standard
        # library writes.
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str).encode(
            "utf-8", errors="backslashreplace"
        )
    # find, not ``in``: ``in`` on bytes first tries its operand as an integer, and raises and clears a formatted
    # TypeError for every line (~1,800 instructions of ~75,000 per tail line in callgrind).
    if line.isascii() and line.find(b"\x7f") < 0:
        return line
    text = line.decode("utf-8")
    if text.isprintable():  # every character the class names is unprintable: the common case costs one C call
        return line
    return _UNSAFE.sub(_json_escape, text).encode("utf-8")


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # JSON spells a character beyond the BMP as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def to_json(record: Record, reveal: bool = False) -> dict[str, Any]:
    """The tail/export shape: topic, partition, offset, timestamp, key, headers, value (or raw described)."""
    d = record.decoded
    out: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestamp_type": "create" if record.timestamp_type == 0 else "log_append",
        "key": d.key,
        "headers": [[name, value] for name, value in redact_headers(d.headers, reveal)],
        "size": d.size,
    }
    if d.is_json:
        out["value"] = redact(d.body, reveal, source=record.value)
    elif d.is_null:
        out["value"] = None
    elif d.text is not None:
        out["value_text"] = redact_text(d.text if len(d.text) <= MAX_TEXT else d.text[:MAX_TEXT], reveal)
        if len(d.text) > MAX_TEXT:
            out["truncated"] = True
    elif d.raw is not None:
        raw = redact_bytes(d.raw[:MAX_TEXT], reveal)
        out["value_base64"] = base64.b64encode(raw).decode()
        if len(d.raw) > MAX_TEXT:
            out["truncated"] = True
    if d.key_raw is not None and d.key is not None and "key is not UTF-8" in d.problems:
        out["key_base64"] = base64.b64encode(d.key_raw).decode()
    if d.problems:
        out["problems"] = d.problems
    return out
