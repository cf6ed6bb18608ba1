"""Record filters of a stream pane: key, instance, event, header value, free text and JSONPath.

A :class:`FilterSpec` is what the operator typed (plain data, saved with a view); :meth:`FilterSpec.compile`
checks it and returns a :class:`RecordFilter` that tests decoded records. Every given criterion must hold.

- key: exact, or a glob (``*``, ``?``) when it has wildcards;
- instances / events: any of the names (events in either form, ``MESSAGES_UPSERT`` or ``messages.upsert``);
- headers: ``name=value`` pairs (value a glob too); every pair must be present;
- text: case-insensitive substring of the value text, the key or a header value;
- jsonpath: a JSONPath (jsonpath-ng, extended syntax) on the body; it matches when it finds something.
  ``$[?(...)]`` filters the body itself, e.g. ``$[?(@.data.pushName == "John")]``.

A stream pane tests raw records with :meth:`RecordFilter.matches_record`, which reads only what the criteria
need: nothing for an empty filter, the key or the headers for key and header criteria, the body's ``event`` and
``instance`` (one parse, no text made) for those; free text is searched in the raw bytes and the simple JSONPath
shapes are evaluated on the parsed body (:mod:`tui.rawmatch`), a full :func:`~tui.envelope.decode` only for other
JSONPaths. It answers exactly as :meth:`RecordFilter.matches` on the decoded record would.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from tui import catalog
from tui.envelope import Decoded, decode
from tui.failures import reason
from tui.rawmatch import SimplePath, TextNeedle, simple_path
from tui.records import Record

TEXT_SEARCH_LIMIT = 4 * 1024 * 1024
"""Characters of a value the free-text filter looks at (a 16 MB value is not scanned end to end)."""
PARSE_LIMIT = 1024 * 1024
"""Values larger than this are not parsed by :meth:`RecordFilter.matches_record` (as a pane's rows: their
event and instance come from the headers, and a JSONPath cannot match them)."""


class FilterError(ValueError):
    """A filter that cannot be used; the message is one line naming what is wrong."""


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """What to keep, as the operator wrote it. Empty fields do not filter."""

    key: str = ""
    instances: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    """``name=value`` pairs."""
    text: str = ""
    jsonpath: str = ""

    @property
    def empty(self) -> bool:
        """Whether nothing is filtered."""
        return not (self.key or self.instances or self.events or self.headers or self.text or self.jsonpath)

    def describe(self) -> str:
        """One short line of what is filtered (``all records`` when nothing)."""
        parts: list[str] = []
        if self.key:
            parts.append(f"key={self.key}")
        if self.instances:
            parts.append("instance=" + ",".join(self.instances))
        if self.events:
            parts.append("event=" + ",".join(self.events))
        parts.extend(f"header {h}" for h in self.headers)
        if self.text:
            parts.append(f"text~{self.text}")
        if self.jsonpath:
            parts.append(f"jsonpath {self.jsonpath}")
        return "; ".join(parts) if parts else "all records"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (for saved views)."""
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FilterSpec:
        """The inverse of :meth:`to_dict`; unknown keys are ignored, wrong types are a :class:`FilterError`."""

        def text(name: str) -> str:
            value = data.get(name, "")
            if not isinstance(value, str):
                raise FilterError(f"filter {name}: expected text, got {type(value).__name__}")
            return value

        def texts(name: str) -> tuple[str, ...]:
            value = data.get(name, [])
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise FilterError(f"filter {name}: expected a list of text")
            return tuple(value)

        return cls(
            key=text("key"),
            instances=texts("instances"),
            events=texts("events"),
            headers=texts("headers"),
            text=text("text"),
            jsonpath=text("jsonpath"),
        )

    def compile(self) -> RecordFilter:
        """Check every criterion; a bad one raises :class:`FilterError` with one line."""
        return RecordFilter(self)


def split_names(text: str) -> tuple[str, ...]:
    """``"a, b  c"`` → ``("a", "b", "c")``: how pick lists and filter fields are typed."""
    return tuple(part for part in re.split(r"[,\s]+", text.strip()) if part)


def _glob(pattern: str) -> re.Pattern[str] | None:
    """A compiled glob when ``pattern`` has wildcards, else None (exact match is cheaper)."""
    if any(c in pattern for c in "*?["):
        return re.compile(fnmatch.translate(pattern), re.DOTALL)
    return None


@dataclass(slots=True)
class _Header:
    name: str
    value: str
    glob: re.Pattern[str] | None = None

    def holds(self, headers: Iterable[tuple[str, str]]) -> bool:
        for name, value in headers:
            if name == self.name and (self.glob.fullmatch(value) if self.glob else value == self.value):
                return True
        return False


@dataclass(slots=True)
class RecordFilter:
    """A checked :class:`FilterSpec`; :meth:`matches` tests one decoded record."""

    spec: FilterSpec
    _key_glob: re.Pattern[str] | None = field(init=False, default=None)
    _instances: frozenset[str] = field(init=False, default=frozenset())
    _events: frozenset[str] = field(init=False, default=frozenset())
    _headers: list[_Header] = field(init=False, default_factory=list)
    _text: str = field(init=False, default="")
    _path: Any = field(init=False, default=None)
    _wrap: bool = field(init=False, default=False)
    _needs_decode: bool = field(init=False, default=False)
    _needle: TextNeedle | None = field(init=False, default=None)
    _simple: SimplePath | None = field(init=False, default=None)
    _raw: bool = field(init=False, default=False)
    _empty: bool = field(init=False, default=True)
    _light: bool = field(init=False, default=False)
    _needs_identity: bool = field(init=False, default=False)

    @property
    def accepts_all(self) -> bool:
        """Whether every record passes (an empty filter): nothing needs to be read to know."""
        return self.spec.empty

    def __post_init__(self) -> None:
        spec = self.spec
        self._key_glob = _glob(spec.key) if spec.key else None
        self._instances = frozenset(spec.instances)
        wires: set[str] = set()
        for name in spec.events:
            event = catalog.find(name)
            if event is None:
                suggestions = catalog.suggestions(name)
                hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
                raise FilterError(f"unknown event {name!r}{hint}")
            wires.add(event.wire)
        self._events = frozenset(wires)
        for pair in spec.headers:
            name, sep, value = pair.partition("=")
            if not sep or not name.strip():
                raise FilterError(f"header filter {pair!r}: expected name=value")
            self._headers.append(_Header(name.strip(), value, _glob(value)))
        self._text = spec.text.casefold()
        expression = spec.jsonpath.strip()
        if expression:
            # Imported when a filter has a JSONPath: the console's first frame has none to parse.
            from jsonpath_ng.exceptions import JSONPathError
            from jsonpath_ng.ext.parser import parse as parse_jsonpath

            try:
                self._path = parse_jsonpath(expression)
            except (JSONPathError, Exception) as exc:  # the parser raises plain Exceptions too
                raise FilterError(f"bad JSONPath {expression!r}: {reason(exc)[:120]}") from None
            # jsonpath-ng filters apply to lists: ``$[?(...)]`` filters the body itself.
            self._wrap = expression.startswith("$[?") or expression.startswith("[?")
        # What matches_record must read: free text and JSONPath look at the whole value; event and instance
        # at the body's identity only; key and headers at neither.
        self._needs_decode = bool(self._text or self._path is not None)
        self._needs_identity = bool(self._instances or self._events)
        # The raw tests answer as decode() + _matches would, for free text and the simple JSONPath shapes.
        self._needle = TextNeedle(self._text, TEXT_SEARCH_LIMIT) if self._text else None
        self._simple = simple_path(self._path, self._wrap) if self._path is not None else None
        self._raw = self._path is None or self._simple is not None
        self._empty = spec.empty
        self._light = bool(spec.key or self._headers or self._needs_identity)

    def matches_record(self, record: Record, *, max_parse: int = PARSE_LIMIT) -> bool:
        """Whether a raw record passes, reading only what the criteria need (see the module docstring).

        Same answer as ``matches(decode(record.value, record.headers, record.key, max_parse=max_parse))``, at a
        fraction of the cost when no criterion looks at the value's text. Never raises.
        """
        if self._empty:
            return True
        try:
            if not self._raw:
                return self._matches(decode(record.value, record.headers, record.key, max_parse=max_parse))
            if self._light and not self._matches_light(record, max_parse):
                return False
            if self._needle is not None and not self._needle.in_record(record.key, record.headers, record.value):
                return False
            if self._simple is not None:
                value = record.value
                return value is not None and self._simple.matches_value(value, max_parse)
            return True
        except Exception:  # a hostile record must not stop a stream: it does not match
            return False

    def _matches_light(self, record: Record, max_parse: int) -> bool:
        spec = self.spec
        if spec.key:
            raw_key = record.key
            if raw_key is None:
                return False
            key = _utf8(raw_key)
            if self._key_glob is not None:
                if not self._key_glob.fullmatch(key):
                    return False
            elif key != spec.key:
                return False
        if self._headers:
            headers = [(str(name), _utf8(raw) if raw is not None else "") for name, raw in record.headers or ()]
            for header in self._headers:
                if not header.holds(headers):
                    return False
        if self._needs_identity:
            event, instance = identity(record, max_parse)
            if self._instances and instance not in self._instances:
                return False
            if self._events and event not in self._events:
                return False
        return True

    def matches(self, decoded: Decoded) -> bool:
        """Whether the record passes every criterion. Never raises."""
        try:
            return self._matches(decoded)
        except Exception:  # a hostile body must not stop a stream: it does not match
            return False

    def _matches(self, decoded: Decoded) -> bool:
        spec = self.spec
        if spec.key:
            key = decoded.key
            if key is None:
                return False
            if self._key_glob is not None:
                if not self._key_glob.fullmatch(key):
                    return False
            elif key != spec.key:
                return False
        if self._instances and decoded.instance not in self._instances:
            return False
        if self._events and decoded.event not in self._events:
            return False
        for header in self._headers:
            if not header.holds(decoded.headers):
                return False
        if self._text and not self._text_found(decoded):
            return False
        if self._path is not None:
            if not decoded.is_json:
                return False
            target = [decoded.body] if self._wrap else decoded.body
            if not self._path.find(target):
                return False
        return True

    def _text_found(self, decoded: Decoded) -> bool:
        needle = self._text
        if decoded.key and needle in decoded.key.casefold():
            return True
        if any(needle in value.casefold() for _, value in decoded.headers):
            return True
        if decoded.text is not None:
            return needle in decoded.text[:TEXT_SEARCH_LIMIT].casefold()
        return False


def _utf8(raw: bytes) -> str:
    """Bytes as text the way :func:`~tui.envelope.decode` shows them (undecodable bytes replaced)."""
    return bytes(raw).decode("utf-8", errors="replace")


def identity(record: Record, max_parse: int = PARSE_LIMIT) -> tuple[str | None, str | None]:
    """A record's ``(event, instance)`` as :func:`~tui.envelope.decode` finds them, without decoding the rest.

    The body's, when the value (up to ``max_parse`` bytes) is an envelope; else the last ``event`` and
    ``instance`` headers (empty ones count as absent). One JSON parse, no text made, no :class:`Decoded`.
    """
    value = record.value
    if value is not None and len(value) <= max_parse:
        try:
            body = orjson.loads(value)
        except orjson.JSONDecodeError:
            body = None
        if type(body) is dict:
            event, instance = body.get("event"), body.get("instance")
            if isinstance(event, str) and isinstance(instance, str):
                return event, instance
    header_event: str | None = None
    header_instance: str | None = None
    for key, raw in record.headers or ():
        name = str(key)
        if name == "event":
            header_event = _utf8(raw) if raw is not None else ""
        elif name == "instance":
            header_instance = _utf8(raw) if raw is not None else ""
    return header_event or None, header_instance or None
