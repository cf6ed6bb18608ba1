"""A consumed record as evokafka shows it: the JSON line of ``evokafka tail`` and of pane exports.

Pure domain module. Output is terminal-safe: every control character (C0, DEL, C1) is escaped, so no
escape sequence in a record can reach the terminal.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tui.envelope import Decoded, decode, redact

_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029]")
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
    def time(self) -> datetime:
        """The record timestamp as an aware datetime (UTC)."""
        try:
            return datetime.fromtimestamp(self.timestamp / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return datetime.fromtimestamp(0, UTC)


def safe_json(obj: Any) -> str:
    """JSON on one line with every terminal control character escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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
        "headers": [[name, value] for name, value in d.headers],
        "size": d.size,
    }
    if d.is_json:
        out["value"] = redact(d.body, reveal)
    elif d.is_null:
        out["value"] = None
    elif d.text is not None:
        out["value_text"] = d.text if len(d.text) <= MAX_TEXT else d.text[:MAX_TEXT]
        if len(d.text) > MAX_TEXT:
            out["truncated"] = True
    elif d.raw is not None:
        raw = d.raw[:MAX_TEXT]
        out["value_base64"] = base64.b64encode(raw).decode()
        if len(d.raw) > MAX_TEXT:
            out["truncated"] = True
    if d.key_raw is not None and d.key is not None and "key is not UTF-8" in d.problems:
        out["key_base64"] = base64.b64encode(d.key_raw).decode()
    if d.problems:
        out["problems"] = d.problems
    return out
