"""How Evolution API 2.3.6 reads its ``KAFKA_*`` environment, value by value (``src/config/env.config.ts``).

- a boolean is true only for the exact text ``true``; ``KAFKA_SSL_REJECT_UNAUTHORIZED`` is true unless exactly
  ``false``;
- an empty or missing value takes the default (JavaScript's ``||``);
- numbers are ``Number.parseInt`` (``3abc`` → 3, ``0x10`` → 16, ``abc`` → NaN); NaN and 0 are falsy, so the
  client falls back to the default (``CONNECTION_TIMEOUT || 3000``);
- ``KAFKA_EVENTS_*``: 28 variables, each false when missing; none for STATUS_INSTANCE, REMOVE_INSTANCE,
  LOGOUT_INSTANCE; ``EVENTS.GROUP_UPDATE`` is read from ``KAFKA_EVENTS_GROUPS_UPDATE``;
- ``KAFKA_SSL_CA``/``_CERT``/``_KEY`` are handed to Node's TLS as PEM *contents* (the integration document shows
  paths); evokafka takes either and says which.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from tui import catalog

INT32_MAX = 2**31 - 1
"""The longest timeout Node's timers (kafkajs) and aiokafka accept, in milliseconds."""

_PARSE_INT = re.compile(r"^[\s\ufeff\xa0]*([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)")


def parse_int(text: str) -> int | None:
    """JavaScript's ``Number.parseInt(text)`` without a radix: the leading integer, None for NaN."""
    match = _PARSE_INT.match(text)
    if match is None:
        return None
    sign, digits = match.groups()
    value = int(digits, 16) if digits[:2].lower() == "0x" else int(digits)
    return -value if sign == "-" else value


def parse_bool(text: str, *, true_unless_false: bool = False) -> bool:
    """``text === 'true'`` (or ``text !== 'false'`` for ``KAFKA_SSL_REJECT_UNAUTHORIZED``)."""
    return text != "false" if true_unless_false else text == "true"


EVOLUTION_EVENT_KEYS: dict[str, str] = {
    e.name: ("GROUP_UPDATE" if e.name == "GROUPS_UPDATE" else e.name)
    for e in catalog.EVENTS
    if e.name not in ("STATUS_INSTANCE", "REMOVE_INSTANCE", "LOGOUT_INSTANCE")
}
"""Settings name → the key of Evolution's ``EVENTS`` map it fills (28 variables ``KAFKA_EVENTS_<name>``)."""

DOCUMENT_EVENT_BLOCK: dict[str, str] = {
    f"KAFKA_EVENTS_{e.name}": "true" for e in catalog.EVENTS if e.default and e.name in EVOLUTION_EVENT_KEYS
}
"""The integration document's ``KAFKA_EVENTS_*`` block, the 22 variables it sets true (Evolution reads a missing
one as false): for a demo or a test that means "configured as the document shows"."""

DOCUMENT_EVENT_FIELDS: dict[str, str] = {
    name.removeprefix("KAFKA_").lower(): value for name, value in DOCUMENT_EVENT_BLOCK.items()
}
""":data:`DOCUMENT_EVENT_BLOCK` as settings field names, for ``load_settings(**overrides)``."""

NO_VARIABLE: frozenset[str] = frozenset({"STATUS_INSTANCE", "REMOVE_INSTANCE", "LOGOUT_INSTANCE"})
"""Events without a ``KAFKA_EVENTS_*`` variable in Evolution: never on a global topic."""

DOCUMENT_DEFAULTS: dict[str, str] = {
    "KAFKA_ENABLED": "the document's block sets true; Evolution's default is false: without KAFKA_ENABLED=true "
    "it sends nothing",
    "KAFKA_SSL_CA": "the document shows a path; Evolution passes the value to TLS as PEM contents (a path is "
    "ignored there); evokafka takes either",
    "KAFKA_SSL_CERT": "the document shows a path; Evolution passes the value to TLS as PEM contents; evokafka "
    "takes either",
    "KAFKA_SSL_KEY": "the document shows a path; Evolution passes the value to TLS as PEM contents (a path makes "
    "it fail); evokafka takes either",
}
"""Where the integration document says something Evolution's code does not do (shown by ``evokafka config``)."""


class Source(StrEnum):
    """Where a setting's value came from."""

    ENVIRONMENT = "environment"
    ENV_FILE = ".env"
    DEFAULT = "default"
    OVERRIDE = "command line"


@dataclass(frozen=True, slots=True)
class SslMaterial:
    """A ``KAFKA_SSL_CA``/``_CERT``/``_KEY`` value: PEM text (as Evolution reads it) or a path (as the document)."""

    kind: Literal["pem", "path"]
    value: str

    @property
    def described(self) -> str:
        """``PEM text (N bytes)`` or ``file <path>``: what evokafka used, never the key's contents."""
        return f"PEM text ({len(self.value)} bytes)" if self.kind == "pem" else f"file {self.value}"


_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")


def ssl_material(text: str | None) -> SslMaterial | None:
    """Classify an SSL value: PEM contents when it holds a ``-----BEGIN …-----`` block, else a path.

    A ``.env`` value may carry its newlines as ``\\n``: they are turned back into newlines.
    """
    if text is None or not text.strip():
        return None
    if _PEM.search(text):
        return SslMaterial("pem", text.replace("\\n", "\n").strip() + "\n")
    return SslMaterial("path", text.strip())


def note_for_number(variable: str, raw: str, parsed: int | None, default: int) -> str | None:
    """The line ``config`` shows when Evolution reads ``raw`` differently from how it is written."""
    if parsed is None:
        return f"{raw!r} is not a number: Evolution's parseInt gives NaN, so the default {default} is used"
    if parsed == 0:
        return f"{raw!r} is 0: Evolution treats it as unset (|| {default}), so the default is used"
    if raw.strip() != str(parsed):
        return f"{raw!r} is read as {parsed} (Evolution's parseInt)"
    return None


def note_for_bool(variable: str, raw: str, parsed: bool) -> str | None:
    """The line ``config`` shows when a boolean is not written as Evolution compares it."""
    if raw in ("true", "false"):
        return None
    if variable == "KAFKA_SSL_REJECT_UNAUTHORIZED":
        return f"{raw!r} is not exactly 'false': Evolution keeps certificate verification on"
    return f"{raw!r} is not exactly 'true': Evolution reads it as false"


def note_for_event_variable(variable: str) -> str | None:
    """A ``KAFKA_EVENTS_*`` variable Evolution never reads (none for three events; GROUP_UPDATE's real name)."""
    name = variable.removeprefix("KAFKA_EVENTS_")
    if name in NO_VARIABLE:
        return f"Evolution has no {variable}: {catalog.BY_NAME[name].wire} never goes to a global topic"
    if name == "GROUP_UPDATE":
        return "Evolution does not read KAFKA_EVENTS_GROUP_UPDATE: its GROUP_UPDATE switch is KAFKA_EVENTS_GROUPS_UPDATE"
    return None
