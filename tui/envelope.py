"""The message Evolution API publishes: body and headers; encode, and a decode that never raises.

Body (UTF-8 JSON object, in this key order)::

    {"event", "instance", "data", "server_url", "date_time", "sender", "apikey", "timestamp"}

``date_time`` is ISO-8601 with milliseconds and ``Z``; ``timestamp`` is epoch milliseconds (a number).
Headers: ``event``, ``instance``, ``origin``, ``timestamp`` (the ``date_time`` string), as UTF-8 bytes.

Pure domain module.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from tui import catalog

DEFAULT_ORIGIN = "WhatsApp"
DEFAULT_SERVER_URL = "http://localhost:8080"

Headers = Sequence[tuple[str, bytes | None]]

MAX_PARSE = 16 * 1024 * 1024
"""Values larger than this are not parsed (:func:`decode`'s default)."""
MAX_DEPTH = 200
"""JSON nested deeper than this is shown as text: every writer of JSON (``json``, ``orjson``) and every walk over
it stays far from its recursion limit."""


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
    """Build the body and headers exactly as Evolution API does (``now``: the moment, else the clock's);
    an unknown ``sender`` is left out of the body, as Evolution does."""
    if now is None:
        millis = time.time_ns() // 1_000_000
        date_time = _clock_iso_millis(millis)
    else:
        date_time = iso_millis(now)
        millis = int(now.timestamp() * 1000)
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
    if sender is None:
        del body["sender"]  # Evolution's JSON.stringify leaves an undefined sender out
    headers = [
        ("event", _utf8(event.wire)),
        ("instance", _utf8(instance)),
        ("origin", _utf8(origin)),
        ("timestamp", date_time.encode()),
    ]
    return Envelope(body, headers)


# The publisher builds tens of thousands of envelopes a second, mostly within the same second: the
# "YYYY-MM-DDTHH:MM:SS" part is formatted once per second (datetime.isoformat per record cost more than the
# rest of build together), only the milliseconds per record.
_second: tuple[int, str] = (-1, "")


def _clock_iso_millis(millis: int) -> str:
    global _second
    seconds, ms = divmod(millis, 1000)
    cached_second, head = _second
    if seconds != cached_second:
        head = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _second = (seconds, head)
    return f"{head}.{ms:03d}Z"


# Header values repeat (a few event names, instances and origins): encode each once. Bounded, as instance
# names come from outside.
_UTF8_CACHE: dict[str, bytes] = {}
_UTF8_CACHE_MAX = 4096


def _utf8(text: str) -> bytes:
    cached = _UTF8_CACHE.get(text)
    if cached is None:
        if len(_UTF8_CACHE) >= _UTF8_CACHE_MAX:
            _UTF8_CACHE.clear()
        cached = _UTF8_CACHE[text] = text.encode()
    return cached


class Decoded:
    """What could be read of a record, and what could not. Built by :func:`decode`, which never raises.

    The value's text is made only when asked for (``text``): a JSON value is parsed straight from its bytes.
    """

    __slots__ = (
        "_text",
        "_utf8",
        "_value",
        "body",
        "event",
        "headers",
        "instance",
        "is_envelope",
        "is_json",
        "is_null",
        "key",
        "key_raw",
        "problems",
        "size",
    )

    def __init__(self, size: int, value: bytes | None = None) -> None:
        self.size = size
        """Bytes of the value (0 for null)."""
        self._value = value
        self._utf8: bool | None = None
        self._text: str | None = None
        self.body: Any = None
        """The parsed JSON value, when the value is JSON."""
        self.key: str | None = None
        self.key_raw: bytes | None = None
        self.headers: list[tuple[str, str]] = []
        """Header values as text; undecodable bytes shown with replacement characters."""
        self.event: str | None = None
        """From the body, else from the ``event`` header."""
        self.instance: str | None = None
        self.is_null = False
        self.is_json = False
        self.is_envelope = False
        """A JSON object with the envelope's ``event`` and ``instance`` strings."""
        self.problems: list[str] = []
        """One short line per thing that could not be read."""

    def _check_utf8(self) -> bool:
        if self._utf8 is None:
            if self._value is None:
                self._utf8 = False
            else:
                try:
                    self._text = self._value.decode("utf-8")
                    self._utf8 = True
                except UnicodeDecodeError:
                    self._utf8 = False
        return self._utf8

    @property
    def text(self) -> str | None:
        """The value as text when it is valid UTF-8 (JSON or not), else None."""
        if not self._check_utf8():
            return None
        if self._text is None and self._value is not None:
            self._text = self._value.decode("utf-8")
        return self._text

    @property
    def raw(self) -> bytes | None:
        """The value's bytes when they are not UTF-8 (binary), kept for a hex view; else None."""
        if self._value is None or self._check_utf8():
            return None
        return self._value

    @property
    def flagged(self) -> bool:
        """Not a readable envelope: shown, but marked."""
        return bool(self.problems)


def decode(
    value: bytes | None,
    headers: Headers | None = None,
    key: bytes | None = None,
    *,
    max_parse: int = MAX_PARSE,
) -> Decoded:
    """Read any record. Never raises, whatever the bytes: what cannot be read is listed in ``problems``."""
    try:
        return _decode(value, headers, key, max_parse)
    except Exception as exc:  # pragma: no cover - last line of defence for foreign bytes
        result = Decoded(size=len(value or b""), value=bytes(value) if value is not None else None)
        result._utf8 = False
        result.problems.append(f"undecodable: {exc.__class__.__name__}")
        return result


def _decode(value: bytes | None, headers: Headers | None, key: bytes | None, max_parse: int) -> Decoded:
    # Run for every record a reader shows or prints: the usual record (UTF-8 key and headers, a JSON envelope)
    # takes the straight path, anything else the careful one.
    data = value if value is None or type(value) is bytes else bytes(value)
    result = Decoded(len(data) if data is not None else 0, data)
    problems = result.problems
    if key is not None:
        key_bytes = key if type(key) is bytes else bytes(key)
        result.key_raw = key_bytes
        try:
            result.key = key_bytes.decode("utf-8")
        except UnicodeDecodeError:
            result.key = key_bytes.decode("utf-8", errors="replace")
            problems.append("key is not UTF-8")
    if headers:
        try:
            # The usual headers (text names, UTF-8 values) in one go; anything else (a null or undecodable
            # value) header by header.
            result.headers = [(str(name), raw.decode("utf-8")) for name, raw in headers]  # type: ignore[union-attr]
        except (UnicodeDecodeError, AttributeError):
            result.headers = _decode_headers(headers, problems)
    if data is None:
        result.is_null = True
        problems.append("null value")
    elif len(data) > max_parse:
        if result._check_utf8():
            problems.append(f"value too large to parse ({len(data)} bytes)")
        else:
            problems.append("value is not UTF-8 (binary)")
    else:
        try:
            # orjson validates UTF-8 itself: a parsed value is valid text, decoded only when asked for.
            body = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if not result._check_utf8():
                problems.append("value is not UTF-8 (binary)")
            elif not data.strip():
                problems.append("empty value")
            else:
                reason = str(exc).split(":", 1)[0]
                problems.append(f"not JSON ({reason[:80]})")
        else:
            result._utf8 = True
            if _deeper_than(data, body, MAX_DEPTH):
                problems.append(f"nested deeper than {MAX_DEPTH} levels: shown as text")
            else:
                result.body, result.is_json = body, True
                if type(body) is dict:
                    event, instance = body.get("event"), body.get("instance")
                    if isinstance(event, str) and isinstance(instance, str):
                        result.is_envelope = True
                        result.event, result.instance = event, instance
                        return result  # the usual record ends here
                    problems.append("JSON but not an envelope (no event/instance)")
                else:
                    problems.append("JSON but not an object")
    if result.headers:
        # The last header of each name, when not empty, stands in for what the body does not say.
        named = dict(result.headers)
        if result.event is None and named.get("event"):
            result.event = named["event"]
        if result.instance is None and named.get("instance"):
            result.instance = named["instance"]
    return result


def _decode_headers(headers: Headers, problems: list[str]) -> list[tuple[str, str]]:
    """Headers as text, undecodable bytes replaced (a problem listed for each)."""
    out: list[tuple[str, str]] = []
    for name, raw in headers:
        name = str(name)
        if raw is None:
            text = ""
        else:
            try:
                text = bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                text = bytes(raw).decode("utf-8", errors="replace")
                problems.append(f"header {name[:40]!r} is not UTF-8")
        out.append((name, text))
    return out


def _deeper_than(data: bytes, body: Any, limit: int) -> bool:
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # cannot be: spares the walk for nearly every record
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if type(item) is dict else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
