"""Cheap tests on a record's raw bytes that answer exactly as the decoded filter would.

A pane with a free-text or JSONPath filter must look at every record's value; :func:`~tui.envelope.decode`
builds the whole :class:`~tui.envelope.Decoded` for that. These tests reach the same answer with less:

- :class:`TextNeedle`: the free-text test (case-insensitive substring of the value's text) without making the
  text when it cannot matter. For an ASCII needle and an ASCII value, a case-insensitive search of the bytes is
  the same test. For an ASCII needle and a non-ASCII value, a match in the bytes is a match (ASCII characters
  casefold on their own) once the value is known to be UTF-8; no match in the bytes is no match unless the value
  holds one of the few characters whose casefold contains ASCII letters (:data:`ASCII_FOLDING`, e.g. the Kelvin
  sign folds to ``k``) and the needle's core (the part no such character can produce) is there, and only then is
  the text made and folded. The key, the header values and the value are searched at once, joined.
- :class:`SimplePath`: the JSONPath shapes operators type — ``$.data.pushName`` (a member exists) and
  ``$[?(@.data.key.fromMe == true)]`` (one or more comparisons of a member with a literal) — evaluated on the
  parsed body with plain dict lookups and RFC 9535 comparisons, as jsonpath-ng evaluates them. Before parsing,
  necessary conditions on the bytes, unless the value holds a backslash (an escape could spell a name or a
  literal otherwise): the parents' names appear as written, and the member's name, a colon and its literal (or
  the first character of the type it must have). Any other shape is left to jsonpath-ng.

Searches use ``bytes.find``, never ``in``: ``bytes.__contains__`` first tries its operand as an integer (an
exception raised and cleared per call), which costs more than the search of a 500-byte envelope.

Property tests (tests/unit/test_rawmatch.py, tests/unit/test_rawmatch_envelopes.py) check both against the slow
answers. Pure domain module.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

ASCII_FOLDING = "\u00df\u0130\u0149\u017f\u01f0\u1e96\u1e97\u1e98\u1e99\u1e9a\u1e9e\u212a\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"
"""Every non-ASCII character whose ``str.casefold()`` contains an ASCII character (checked by a unit test
against the interpreter's Unicode database)."""

_FOLDS_TO_ASCII = re.compile(b"|".join(re.escape(c.encode()) for c in ASCII_FOLDING))
_ASCII = bytes(range(128))
_second = operator.itemgetter(1)
_FOLDED_ASCII = "".join(sorted({c for char in ASCII_FOLDING for c in char.casefold() if c.isascii()}))
"""The ASCII characters that some non-ASCII character casefolds to (``s`` from ``\u017f``, ``k`` from the Kelvin
sign, ...)."""


def _core(needle: str) -> str:
    """The longest run of ``needle`` made of characters that no non-ASCII character casefolds to (empty if none).

    Wherever an ASCII needle is in a text's casefold, its core is in the text's bytes, lowered: each of the core's
    characters can only come from the same ASCII character in either case (one character each), so they are
    consecutive in the text, and ASCII bytes in UTF-8 are the characters themselves.
    """
    return max(re.split(f"[{re.escape(_FOLDED_ASCII)}]", needle), key=len)


def _may_fold_to_ascii(raw: bytes) -> bool:
    """False when ``raw`` holds none of :data:`ASCII_FOLDING` (UTF-8 encoded); True may be a false alarm."""
    if raw.isascii():
        return False
    # Their encodings are all non-ASCII bytes: searching only those (a short remainder) is much cheaper.
    return _FOLDS_TO_ASCII.search(raw.translate(None, _ASCII)) is not None


class TextNeedle:
    """``needle in value.decode().casefold()`` (with the value's length bounded), answered cheaply."""

    __slots__ = ("_bytes", "_core", "_folded", "_limit", "_sep")

    def __init__(self, folded: str, limit: int) -> None:
        self._folded = folded
        """The needle, already casefolded (non-empty)."""
        self._limit = limit
        """Characters of the value's text that are searched."""
        self._bytes = folded.encode() if folded.isascii() else None
        """The needle's bytes when it is ASCII (already lower case: casefold lowers ASCII)."""
        self._sep = next(bytes([b]) for b in range(128) if chr(b) not in folded) if self._bytes else b""
        """An ASCII byte the needle does not hold: parts joined with it can be searched at once."""
        self._core = _core(folded).encode() if self._bytes else b""
        """What must be in the lowered bytes for the needle to be in the text (see :func:`_core`); when it is
        the whole needle, no other character can matter."""

    def in_record(self, key: bytes | None, headers: Sequence[tuple[str, bytes | None]], value: bytes | None) -> bool:
        """Whether the needle is in the key's, a header value's or the value's text (as :meth:`in_label` and
        :meth:`in_value` say), with one search of them all for the common answer: not there."""
        needle = self._bytes
        if needle is not None and (value is None or len(value) <= self._limit):
            try:
                # Every part at C speed (the header values, the value, the key), joined by a byte the needle lacks
                # so that no match spans two of them.
                joined = self._sep.join((*map(_second, headers), value, key))  # type: ignore[arg-type]
            except TypeError:  # a header without a value, or no key or no value
                parts = (*map(_second, headers), value, key)
                joined = self._sep.join([part for part in parts if part is not None])
            # ``find``, not ``in``: ``bytes.__contains__`` first tries the needle as an integer, at a cost.
            lowered = joined.lower()
            if lowered.find(needle) < 0 and (joined.isascii() or not self._may_fold_into(joined, lowered)):
                return False
        if key is not None and self.in_label(key):
            return True
        if any(self.in_label(raw) for _, raw in headers if raw is not None):
            return True
        return value is not None and self.in_value(value)

    def _may_fold_into(self, joined: bytes, lowered: bytes) -> bool:
        """Whether the needle, not in the ``lowered`` bytes, may still be in the casefold of their text: not when
        its core is not there either (see :func:`_core`), nor when the text holds none of :data:`ASCII_FOLDING`."""
        core = self._core
        if core == self._bytes or (core and lowered.find(core) < 0):
            return False
        return _may_fold_to_ascii(joined)

    def in_label(self, raw: bytes) -> bool:
        """Whether the needle is in a key's or header value's text (all of it; undecodable bytes replaced).

        An ASCII byte always decodes to itself, even next to undecodable ones, so the search of the bytes holds.
        """
        needle = self._bytes
        if needle is not None:
            if raw.lower().find(needle) >= 0:
                return True
            if not _may_fold_to_ascii(raw):
                return False
        return self._folded in raw.decode("utf-8", errors="replace").casefold()

    def in_value(self, value: bytes) -> bool:
        """Whether the needle is in the value's text (its first ``limit`` characters; False when not UTF-8)."""
        needle = self._bytes
        if needle is not None and len(value) <= self._limit:
            if value.lower().find(needle) >= 0:
                return _is_utf8(value)
            if not _may_fold_to_ascii(value):
                return False
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return self._folded in text[: self._limit].casefold()


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_MISSING = object()

_ORDERED: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_EQUALITY_ONLY: dict[str, Callable[[bool], bool]] = {
    "==": bool,
    "=": bool,
    "!=": operator.not_,
    "<=": bool,
    ">=": bool,
    "<": lambda equal: False,
    ">": lambda equal: False,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _member(body: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if type(body) is not dict:
            return _MISSING
        body = body.get(name, _MISSING)
        if body is _MISSING:
            return _MISSING
    return body


@dataclass(frozen=True, slots=True)
class _Comparison:
    """``@.a.b OP literal`` (``op`` None: ``@.a.b`` exists)."""

    names: tuple[str, ...]
    op: str | None
    literal: Any

    def holds(self, body: Any) -> bool:
        found = _member(body, self.names)
        op, literal = self.op, self.literal
        if found is _MISSING:
            return op == "!="
        if op is None:
            return True
        if literal is None:
            return _EQUALITY_ONLY[op](found is None)
        if isinstance(found, bool) or isinstance(literal, bool):
            return _EQUALITY_ONLY[op](found is literal)
        if (_is_number(found) and _is_number(literal)) or (isinstance(found, str) and isinstance(literal, str)):
            return _ORDERED[op](found, literal)
        # A literal here is a number or a string; a value of another type (or a container) never equals it.
        return _EQUALITY_ONLY[op](False)

    def names_needed(self) -> list[bytes]:
        """Member names, as JSON writes them without escapes, that a value without backslashes holds when this
        holds: the objects the member is in (the deepest first), and the member itself when it only has to exist."""
        if self.op == "!=":
            return []  # a missing member matches
        names = self.names if self.op is None else self.names[:-1]
        return [orjson.dumps(name) for name in reversed(names)]

    def pattern(self) -> bytes | None:
        """A regular expression that a value without backslashes matches when this compares the member with a
        literal and holds: the member's name, a colon, and the start of the literal it must equal or of the type
        it must have (see :meth:`holds`). None for ``!=`` (a missing member matches) and for existence."""
        op, literal = self.op, self.literal
        if op is None or op == "!=":
            return None
        if literal is None or isinstance(literal, bool):
            value = re.escape(orjson.dumps(literal))  # only ``found is literal`` holds (never, for < and >)
        elif isinstance(literal, str):
            value = re.escape(orjson.dumps(literal)) if op in ("==", "=") else b'"'
        else:
            value = b"[-0-9]"  # a number: JSON writes it with a digit or a minus sign first
        return re.escape(orjson.dumps(self.names[-1])) + _COLON + value


_COLON = rb"[ \t\n\r]*:[ \t\n\r]*"
"""Between a member's name and its value: a colon and JSON whitespace, nothing else."""


class SimplePath:
    """A JSONPath of a simple shape, evaluated without jsonpath-ng (see the module docstring)."""

    __slots__ = ("_searches", "comparisons", "names", "patterns")

    def __init__(self, comparisons: tuple[_Comparison, ...]) -> None:
        self.comparisons = comparisons
        """All must hold (a filter); for a plain member path, one existence test."""
        self.names = tuple(dict.fromkeys(name for c in comparisons for name in c.names_needed()))
        """Bytes a value without backslashes holds when it matches (searched first: ``bytes.find`` is cheaper
        than a regular expression)."""
        self.patterns = tuple(dict.fromkeys(p for c in comparisons if (p := c.pattern()) is not None))
        """Regular expressions a value without backslashes matches when it matches (see :meth:`_Comparison.pattern`);
        searched after the names."""
        self._searches = tuple(re.compile(pattern).search for pattern in self.patterns)

    def matches_body(self, body: Any) -> bool:
        """Whether jsonpath-ng would find something (the body already parsed)."""
        for comparison in self.comparisons:  # noqa: SIM110 - a loop: no generator per record on the hot path
            if not comparison.holds(body):
                return False
        return True

    def matches_value(self, value: bytes, max_parse: int) -> bool:
        """Whether jsonpath-ng would find something in the parsed value (no match when not JSON or too large).

        Most values are ruled out by their bytes alone, before parsing: a name or pattern is not there as written,
        and no backslash says an escape could write it otherwise.
        """
        if len(value) > max_parse:
            return False
        for name in self.names:
            if value.find(name) < 0:
                if value.find(b"\\") < 0:
                    return False
                break
        else:
            for search in self._searches:
                if search(value) is None:
                    if value.find(b"\\") < 0:
                        return False
                    break
        try:
            body = orjson.loads(value)
        except orjson.JSONDecodeError:
            return False
        return self.matches_body(body)


def simple_path(path: Any, wrapped: bool) -> SimplePath | None:
    """The fast form of a parsed jsonpath-ng expression, or None when its shape is not one of the simple ones.

    ``wrapped``: the filter applies the path to ``[body]`` (a ``$[?(...)]`` expression filters the body itself).
    """
    from jsonpath_ng.ext.filter import Expression, Filter
    from jsonpath_ng.jsonpath import Child, JSONPath, Root

    def names(node: Any, base: type) -> tuple[str, ...] | None:
        chain: list[str] = []
        while type(node) is Child:
            field = _single_field(node.right)
            if field is None:
                return None
            chain.append(field)
            node = node.left
        if type(node) is not base:
            return None
        return tuple(reversed(chain))

    from jsonpath_ng.jsonpath import This

    comparisons: list[_Comparison] = []
    if wrapped:
        if type(path) is not Child or type(path.left) is not Root or type(path.right) is not Filter:
            return None
        for expression in path.right.expressions:
            if type(expression) is not Expression:
                return None
            op, literal = expression.op, expression.value
            if op is not None and op not in _ORDERED:
                return None
            if isinstance(literal, JSONPath) or not (literal is None or isinstance(literal, bool | int | float | str)):
                return None
            if op is None and literal is not None:
                return None
            chain = names(expression.target, This)
            if not chain:
                return None
            comparisons.append(_Comparison(chain, op, literal))
        if not comparisons:
            return None
    else:
        chain = names(path, Root)
        if not chain:
            return None
        comparisons.append(_Comparison(chain, None, None))
    return SimplePath(tuple(comparisons))


def _single_field(node: Any) -> str | None:
    from jsonpath_ng import jsonpath

    if type(node) is not jsonpath.Fields or len(node.fields) != 1:
        return None
    field = node.fields[0]
    if not isinstance(field, str) or field == "*" or field == jsonpath.auto_id_field:
        return None
    if getattr(node, "_deprecated_wildcard_use", False):
        return None
    return field
