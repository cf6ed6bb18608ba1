"""Record filters of a stream pane: key, instance, event, header value, free text and JSONPath.

A :class:`FilterSpec` is what the operator typed (plain data, saved with a view); :meth:`FilterSpec.compile`
checks it and returns a :class:`RecordFilter` that tests decoded records. Every given criterion must hold.

- key: exact, or a glob (``*``, ``?``) when it has wildcards;
- instances / events: any of the names (events in either form, ``MESSAGES_UPSERT`` or ``messages.upsert``);
- headers: ``name=value`` pairs (value a glob too); every pair must be present;
- text: case-insensitive substring of the value text, the key or a header value;
- jsonpath: a JSONPath (jsonpath-ng, extended syntax) on the body; it matches when it finds something.
  ``$[?(...)]`` filters the body itself, e.g. ``$[?(@.data.pushName == "John")]``.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext.parser import parse as parse_jsonpath

from tui import events as catalog
from tui.envelope import Decoded

TEXT_SEARCH_LIMIT = 4 * 1024 * 1024
"""Characters of a value the free-text filter looks at (a 16 MB value is not scanned end to end)."""


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
            try:
                self._path = parse_jsonpath(expression)
            except (JSONPathError, Exception) as exc:  # the parser raises plain Exceptions too
                reason = " ".join(str(exc).split()) or exc.__class__.__name__
                raise FilterError(f"bad JSONPath {expression!r}: {reason[:120]}") from None
            # jsonpath-ng filters apply to lists: ``$[?(...)]`` filters the body itself.
            self._wrap = expression.startswith("$[?") or expression.startswith("[?")

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
