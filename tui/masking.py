"""Secrets masked in whatever a record holds: a JSON body at any depth, text that is not JSON, raw bytes, headers.

A secret is the value of a key or header spelled ``apikey`` in any case, with or without ``_``/``-``
(:func:`is_secret_name`). Every output of a record (``tail``, panes, the detail view, copy, export) masks through
these functions unless the operator asks to reveal.

Pure domain module.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

SECRET_FIELDS = frozenset({"apikey"})
"""Secret names, normalised (:func:`is_secret_name`): ``apiKey``, ``APIKEY``, ``api_key`` are all ``apikey``."""
MASK = "********"


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
_FOLD_ASCII = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
"""ASCII lowered, as ASCII casefolds."""


FOLD_INTO_SECRET = "\u0130\u1e99\u1e9a\u212a\ufb01\ufb03"
"""Every character beyond ASCII whose casefold holds one of ``a p i k e y - _`` (a test recomputes them from the
Unicode database of the running Python)."""


def _spellings(source: bytes) -> int | None:
    """At least as many as the matches of :data:`_SPELLED_SECRET` in ``source`` casefolded (None: not UTF-8).

    Counted as ``apikey`` in the text casefolded with every ``-`` and ``_`` taken out: each match becomes one
    such ``apikey`` of its own (a superset, which is all :func:`_top_level_only` needs), at a fraction of the
    cost of the regular expression. Without a character of :data:`FOLD_INTO_SECRET`, each character beyond
    ASCII casefolds to something that holds none of those letters and separates them as its bytes (all beyond
    ASCII) do: the bytes are counted as they are, ASCII lowered, without casefolding text."""
    if source.isascii():
        return source.translate(_FOLD_ASCII, b"-_").count(b"apikey")
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(char in text for char in FOLD_INTO_SECRET):
        return text.casefold().replace("-", "").replace("_", "").count("apikey")
    return source.translate(_FOLD_ASCII, b"-_").count(b"apikey")


def _top_level_only(body: dict[Any, Any], source: bytes) -> list[Any] | None:
    """The top-level keys of ``body`` to mask when no other key of it can be a secret, else None (walk it).

    Exact: a key spelled ``apikey`` appears in the text, casefolded as the name test casefolds it, as a match
    of :data:`_SPELLED_SECRET` of its own, unless it is written with ``\\u`` escapes (then: None). So when the
    text holds no more matches (:func:`_spellings` counts at least as many) than the body has secret top-level
    keys, every match is one of those keys, and no deeper key can be a secret."""
    # find, not `in`: bytes' `in` tries its operand as an int first and clears a formatted TypeError each time.
    if source.find(b"\\") >= 0 and source.find(b"\\u") >= 0:  # one byte is found faster than two: asked first
        return None
    found = _spellings(source)
    if found is None:
        return None
    if not found:
        return []
    if found == 1 and "apikey" in body:
        # Evolution's own envelope: its one match is its top-level "apikey" key (that key's text is a match).
        return ["apikey"] if body["apikey"] else []
    top = [key for key in body if type(key) is str and 6 <= len(key) <= 7 and is_secret_name(key)]
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


def _may_hold_secret(text: str) -> bool:
    """Whether :data:`_MAYBE_SECRET` is found in ``text``: for ASCII text (nearly every header value, most
    records) without the regular expression, whose case-insensitive search costs several times more."""
    if text.isascii():
        return "api" in text.lower() or "\\" in text
    return _MAYBE_SECRET.search(text) is not None
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
    if reveal or not _may_hold_secret(text):
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


def headers_may_hold_secret(headers: Iterable[Sequence[str]]) -> bool:
    """Whether :func:`redact_headers` may change any of ``headers`` (name, value pairs): a superset, when False
    it certainly does not."""
    values: list[str] = []
    for name, value in headers:
        if 6 <= len(name) <= 7 and is_secret_name(name):
            return True
        values.append(value)
    return _may_hold_secret("\n".join(values))


def redact_headers(headers: Sequence[tuple[str, str]], reveal: bool = False) -> list[tuple[str, str]]:
    """Decoded headers with the value of a header named ``apikey`` (any case) masked, and secrets inside any
    header value masked as in text, unless ``reveal``."""
    if reveal or not headers_may_hold_secret(headers):
        return list(headers)
    return [(name, MASK if value and is_secret_name(name) else redact_text(value)) for name, value in headers]
