"""The message Evolution API publishes: body and headers; encode, and a decode that never raises.

Body (UTF-8 JSON object, in this key order)::

    {"event", "instance", "data", "server_url", "date_time", "sender", "apikey", "timestamp"}

``date_time`` is ISO-8601 with milliseconds and ``Z``; ``timestamp`` is epoch milliseconds (a number).
Headers: ``event``, ``instance``, ``origin``, ``timestamp`` (the ``date_time`` string), as UTF-8 bytes.

Pure domain module.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from tui import catalog

DEFAULT_ORIGIN = "WhatsApp"
DEFAULT_SERVER_URL = "http://localhost:8080"
SECRET_FIELDS = frozenset({"apikey"})
"""Secret names, normalised (:func:`is_secret_name`): ``apiKey``, ``APIKEY``, ``api_key`` are all ``apikey``."""
MASK = "********"

Headers = Sequence[tuple[str, bytes | None]]

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
    max_parse: int = 16 * 1024 * 1024,
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
    data = bytes(value) if value is not None else None
    result = Decoded(len(data) if data is not None else 0, data)
    problems = result.problems
    if key is not None:
        key_bytes = bytes(key)
        result.key_raw = key_bytes
        try:
            result.key = key_bytes.decode("utf-8")
        except UnicodeDecodeError:
            result.key = key_bytes.decode("utf-8", errors="replace")
            problems.append("key is not UTF-8")
    header_event: str | None = None
    header_instance: str | None = None
    if headers:
        out = result.headers
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
            if name == "event":
                header_event = text
            elif name == "instance":
                header_instance = text
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
            result.body = orjson.loads(data)
            result.is_json = True
            result._utf8 = True
            if _deeper_than(data, result.body, MAX_DEPTH):
                result.body, result.is_json = None, False
                problems.append(f"nested deeper than {MAX_DEPTH} levels: shown as text")
        except orjson.JSONDecodeError as exc:
            if not result._check_utf8():
                problems.append("value is not UTF-8 (binary)")
            elif not data.strip():
                problems.append("empty value")
            else:
                reason = str(exc).split(":", 1)[0]
                problems.append(f"not JSON ({reason[:80]})")
    body = result.body
    if type(body) is dict:
        event, instance = body.get("event"), body.get("instance")
        if isinstance(event, str) and isinstance(instance, str):
            result.is_envelope = True
            result.event, result.instance = event, instance
        else:
            problems.append("JSON but not an envelope (no event/instance)")
    elif result.is_json:
        problems.append("JSON but not an object")
    if result.event is None and header_event:
        result.event = header_event
    if result.instance is None and header_instance:
        result.instance = header_instance
    return result


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


@functools.lru_cache(maxsize=4096)  # a stream repeats the same few dozen names: asked once each
def is_secret_name(name: str) -> bool:
    """Whether a JSON key or header named ``name`` holds a secret: ``apikey`` in any case, with or without
    ``_``/``-`` (``apiKey``, ``APIKEY``, ``api_key``)."""
    # The length first: nearly every key is not 6 or 7 characters long, and this runs for every key of a record.
    return 6 <= len(name) <= 7 and name.casefold().replace("_", "").replace("-", "") in SECRET_FIELDS


def redact(body: Any, reveal: bool = False, *, source: bytes | None = None) -> Any:
    """``body`` with the value of every key spelled ``apikey`` (any case, any depth, in lists too) masked,
    unless ``reveal``. Copy on write: only the objects on the way to a secret are copied, and the body itself
    is returned when it holds none.

    ``source``, the JSON ``body`` was parsed from, lets the usual envelope skip the walk over every key: when
    each place the text could spell a secret name is one of the body's own top-level keys, only those are
    masked (an exact shortcut, see :func:`_top_level_only`)."""
    if reveal or not isinstance(body, dict | list):
        return body
    if source is not None and type(body) is dict:
        top = _top_level_only(body, source)
        if top is not None:
            if not top:
                return body
            copy = dict(body)
            for key in top:
                copy[key] = MASK
            return copy
    return _masked(body, 0)


_SPELLED_SECRET = re.compile(r"a[-_]?p[-_]?i[-_]?k[-_]?e[-_]?y")
"""Matches wherever casefolded text could spell a secret name (:func:`is_secret_name`): a superset."""


def _top_level_only(body: dict[Any, Any], source: bytes) -> list[Any] | None:
    """The top-level keys of ``body`` to mask when no other key of it can be a secret, else None (walk it).

    Exact: a key spelled ``apikey`` appears in the text, casefolded as the name test casefolds it, as a match
    of :data:`_SPELLED_SECRET` of its own, unless it is written with ``\\u`` escapes (then: None). So when the
    text holds as many matches as the body has secret top-level keys, every match is one of those keys, and no
    deeper key can be a secret."""
    if b"\\u" in source:
        return None
    try:
        text = source.decode("utf-8").casefold()
    except UnicodeDecodeError:
        return None
    found = len(_SPELLED_SECRET.findall(text))
    if not found:
        return []
    top = [key for key, value in body.items() if type(key) is str and 6 <= len(key) <= 7 and is_secret_name(key)]
    if len(top) != found:
        return None
    return [key for key in top if body[key]]


_RECURSION_DEPTH = 400
"""Deeper than this :func:`_masked` hands over to the iterative :func:`_masked_deep` (decoded bodies are at most
:data:`MAX_DEPTH` deep, so the recursion is the usual path)."""


def _masked(node: Any, depth: int) -> Any:
    """``node`` with its secrets masked, or ``node`` itself when it holds none."""
    if depth > _RECURSION_DEPTH:
        return _masked_deep(node)
    copy: Any = None
    if type(node) is dict:
        for key, value in node.items():
            # The length first: nearly every key is not 6 or 7 characters long, and this runs for every key.
            if value and type(key) is str and 6 <= len(key) <= 7 and is_secret_name(key):
                new: Any = MASK
            elif type(value) is dict or type(value) is list:
                new = _masked(value, depth + 1)
                if new is value:
                    continue
            else:
                continue
            if copy is None:
                copy = dict(node)
            copy[key] = new
    elif type(node) is list:
        for index, value in enumerate(node):
            if type(value) is dict or type(value) is list:
                new = _masked(value, depth + 1)
                if new is not value:
                    if copy is None:
                        copy = list(node)
                    copy[index] = new
    return node if copy is None else copy


def _masked_deep(body: Any) -> Any:
    """:func:`_masked` without recursion, for bodies nested deeper than Python's recursion allows: the whole
    body is copied."""
    root: Any = {} if isinstance(body, dict) else []
    stack: list[tuple[Any, Any]] = [(body, root)]
    while stack:
        source, target = stack.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in pairs:
            if isinstance(key, str) and value and is_secret_name(key):
                copy: Any = MASK
            elif isinstance(value, dict):
                copy = {}
                stack.append((value, copy))
            elif isinstance(value, list):
                copy = []
                stack.append((value, copy))
            else:
                copy = value
            if isinstance(target, dict):
                target[key] = copy
            else:
                target.append(copy)
    return root


_MAYBE_SECRET = re.compile(r"(?i)api|\\")
"""Text without ``api`` (any case) and without a backslash (an escaped key) holds no secret key: not scanned."""
_KEY_THEN_SEPARATOR = re.compile(
    r"""(?P<key>"(?:[^"\\\n]|\\.){1,96}"|'(?:[^'\\\n]|\\.){1,96}'|\b[A-Za-z][\w-]{2,15})\s*[:=]\s*"""
)
_CLOSERS = {"{": "}", "[": "]"}
_BARE_VALUE = re.compile(r"[^\s,;}\]&]*")


def _key_name(token: str) -> str:
    if token[0] == '"':
        try:
            decoded = json.loads(token)
            return decoded if isinstance(decoded, str) else token
        except ValueError:
            return token[1:-1]
    return token.strip("'")


def _value_end(text: str, start: int) -> int:
    """Where the value that begins at ``start`` ends: a quoted string, a bracketed object or list (strings in
    it skipped), or a bare word; an unterminated one runs to the end of the text."""
    if start >= len(text):
        return start
    first = text[start]
    if first in "\"'":
        index = start + 1
        while index < len(text):
            char = text[index]
            if char == "\\":
                index += 2
                continue
            if char == first:
                return index + 1
            index += 1
        return len(text)
    if first in _CLOSERS:
        depth, index, quote = 0, start, ""
        while index < len(text):
            char = text[index]
            if quote:
                if char == "\\":
                    index += 1
                elif char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
        return len(text)
    match = _BARE_VALUE.match(text, start)
    return match.end() if match else start


def redact_text(text: str, reveal: bool = False) -> str:
    """``text`` that is not (strict) JSON — a BOM, a trailing comma, ``NaN``, too deep, cut short, a log line —
    with the value after every key spelled ``apikey`` (quoted or not, escaped or not, then ``:`` or ``=``)
    masked, unless ``reveal``."""
    if reveal or not _MAYBE_SECRET.search(text):
        return text
    out: list[str] = []
    done = 0
    for match in _KEY_THEN_SEPARATOR.finditer(text):
        if match.start() < done or not is_secret_name(_key_name(match.group("key"))):
            continue
        end = _value_end(text, match.end())
        value = text[match.end() : end]
        if value and value not in ("null", '""', "''"):
            out.append(text[done : match.end()])
            out.append(f'"{MASK}"')
            done = end
    out.append(text[done:])
    return "".join(out)


def redact_bytes(raw: bytes, reveal: bool = False) -> bytes:
    """Bytes that are not UTF-8 (a hex or base64 view) with the secrets masked as :func:`redact_text` does:
    undecodable bytes are kept as they are."""
    if reveal:
        return raw
    text = raw.decode("utf-8", errors="surrogateescape")
    return redact_text(text).encode("utf-8", errors="surrogateescape")


def redact_headers(headers: Sequence[tuple[str, str]], reveal: bool = False) -> list[tuple[str, str]]:
    """Decoded headers with the value of a header named ``apikey`` (any case) masked, and secrets inside any
    header value masked as in text, unless ``reveal``."""
    if reveal or (
        not any(6 <= len(name) <= 7 and is_secret_name(name) for name, _ in headers)
        and not _MAYBE_SECRET.search("\n".join([value for _, value in headers]))
    ):
        return list(headers)
    return [(name, MASK if value and is_secret_name(name) else redact_text(value)) for name, value in headers]
