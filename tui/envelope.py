"""The message Evolution API publishes: body and headers; encode, and a decode that never raises.

Body (UTF-8 JSON object, in this key order)::

    {"event", "instance", "data", "server_url", "date_time", "sender", "apikey", "timestamp"}

``date_time`` is ISO-8601 with milliseconds and ``Z``; ``timestamp`` is epoch milliseconds (a number).
Headers: ``event``, ``instance``, ``origin``, ``timestamp`` (the ``date_time`` string), as UTF-8 bytes.

Pure domain module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from tui import events as catalog

DEFAULT_ORIGIN = "WhatsApp"
DEFAULT_SERVER_URL = "http://localhost:8080"
SECRET_FIELDS = frozenset({"apikey"})
MASK = "********"

Headers = Sequence[tuple[str, bytes | None]]


def iso_millis(moment: datetime) -> str:
    """``2024-03-04T10:30:00.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Envelope:
    """A built message: the body as an ordered dict, and the headers."""

    body: dict[str, Any]
    headers: list[tuple[str, bytes]]

    @property
    def event(self) -> str:
        """The wire name."""
        return str(self.body["event"])

    @property
    def instance(self) -> str:
        """The instance name."""
        return str(self.body["instance"])

    def encode(self) -> bytes:
        """The record value: compact UTF-8 JSON, keys in the contract's order."""
        return orjson.dumps(self.body)


def build(
    event: catalog.Event,
    instance: str,
    data: Any,
    *,
    server_url: str = DEFAULT_SERVER_URL,
    sender: str | None = None,
    apikey: str | None = None,
    origin: str = DEFAULT_ORIGIN,
    now: datetime | None = None,
) -> Envelope:
    """Build the body and headers exactly as Evolution API does."""
    moment = now or datetime.now(UTC)
    date_time = iso_millis(moment)
    millis = int(moment.timestamp() * 1000)
    body: dict[str, Any] = {
        "event": event.wire,
        "instance": instance,
        "data": data,
        "server_url": server_url,
        "date_time": date_time,
        "sender": sender,
        "apikey": apikey,
        "timestamp": millis,
    }
    headers = [
        ("event", event.wire.encode()),
        ("instance", instance.encode()),
        ("origin", origin.encode()),
        ("timestamp", date_time.encode()),
    ]
    return Envelope(body, headers)


@dataclass(slots=True)
class Decoded:
    """What could be read of a record, and what could not. Built by :func:`decode`, which never raises."""

    size: int
    """Bytes of the value (0 for null)."""
    body: Any = None
    """The parsed JSON value, when the value is JSON."""
    text: str | None = None
    """The value as text when it is valid UTF-8 (JSON or not)."""
    raw: bytes | None = None
    """The value's bytes, kept for a hex view when it is not UTF-8."""
    key: str | None = None
    key_raw: bytes | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    """Header values as text; undecodable bytes shown with replacement characters."""
    event: str | None = None
    """From the body, else from the ``event`` header."""
    instance: str | None = None
    is_null: bool = False
    is_json: bool = False
    is_envelope: bool = False
    """A JSON object with the envelope's ``event`` and ``instance`` strings."""
    problems: list[str] = field(default_factory=list)
    """One short line per thing that could not be read."""

    @property
    def flagged(self) -> bool:
        """Not a readable envelope: shown, but marked."""
        return bool(self.problems)


def _text(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), False


def decode(
    value: bytes | None,
    headers: Headers | None = None,
    key: bytes | None = None,
    *,
    max_parse: int = 16 * 1024 * 1024,
) -> Decoded:
    """Read any record. Never raises, whatever the bytes: what cannot be read is listed in ``problems``."""
    try:
        return _decode(value, headers, key, max_parse)
    except Exception as exc:  # pragma: no cover - last line of defence for foreign bytes
        return Decoded(size=len(value or b""), raw=value, problems=[f"undecodable: {exc.__class__.__name__}"])


def _decode(value: bytes | None, headers: Headers | None, key: bytes | None, max_parse: int) -> Decoded:
    result = Decoded(size=len(value) if value is not None else 0)
    if key is not None:
        result.key_raw = bytes(key)
        text, ok = _text(bytes(key))
        result.key = text
        if not ok:
            result.problems.append("key is not UTF-8")
    for name, raw in headers or ():
        if raw is None:
            result.headers.append((str(name), ""))
            continue
        text, ok = _text(bytes(raw))
        if not ok:
            result.problems.append(f"header {str(name)[:40]!r} is not UTF-8")
        result.headers.append((str(name), text))
    header_map = dict(result.headers)
    if value is None:
        result.is_null = True
        result.problems.append("null value")
    else:
        data = bytes(value)
        text, ok = _text(data)
        if not ok:
            result.raw = data
            result.problems.append("value is not UTF-8 (binary)")
        else:
            result.text = text
            if not data.strip():
                result.problems.append("empty value")
            elif len(data) > max_parse:
                result.problems.append(f"value too large to parse ({len(data)} bytes)")
            else:
                try:
                    result.body = orjson.loads(data)
                    result.is_json = True
                except orjson.JSONDecodeError as exc:
                    reason = str(exc).split(":", 1)[0]
                    result.problems.append(f"not JSON ({reason[:80]})")
    body = result.body
    if isinstance(body, dict):
        event, instance = body.get("event"), body.get("instance")
        if isinstance(event, str) and isinstance(instance, str):
            result.is_envelope = True
            result.event, result.instance = event, instance
        elif result.is_json:
            result.problems.append("JSON but not an envelope (no event/instance)")
    elif result.is_json:
        result.problems.append("JSON but not an object")
    if result.event is None and header_map.get("event"):
        result.event = header_map["event"]
    if result.instance is None and header_map.get("instance"):
        result.instance = header_map["instance"]
    return result


def redact(body: Any, reveal: bool = False) -> Any:
    """A copy of an envelope body with the ``apikey`` masked (top level and in ``data``) unless ``reveal``."""
    if reveal or not isinstance(body, dict):
        return body
    out = dict(body)
    for name in SECRET_FIELDS:
        if out.get(name):
            out[name] = MASK
    data = out.get("data")
    if isinstance(data, dict) and any(data.get(n) for n in SECRET_FIELDS):
        out["data"] = {k: (MASK if k in SECRET_FIELDS and v else v) for k, v in data.items()}
    return out
