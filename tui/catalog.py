"""The event catalog of Evolution API's Kafka integration.

Every event has a settings name (``MESSAGES_UPSERT``, used in ``KAFKA_EVENTS_<NAME>`` and in the
``/kafka/set`` body), a wire name (``messages.upsert``, used in topic names, headers and the body), a
category and the reference's default for its ``KAFKA_EVENTS_<NAME>`` variable.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """The reference's groups of events, in the order the reference lists them."""

    INSTANCE = "Instance"
    MESSAGE = "Message"
    CONTACT = "Contact"
    CHAT_GROUP = "Chat & Group"
    OTHER = "Other"


@dataclass(frozen=True, slots=True)
class Event:
    """One event of the catalog."""

    name: str
    """Settings name, e.g. ``MESSAGES_UPSERT``."""
    wire: str
    """Wire name, e.g. ``messages.upsert``: topic suffix, ``event`` header and body field."""
    category: Category
    default: bool
    """The reference's default for ``KAFKA_EVENTS_<name>``."""

    @property
    def setting(self) -> str:
        """The environment variable that turns this event on for the global topics."""
        return f"KAFKA_EVENTS_{self.name}"

    def __str__(self) -> str:
        return self.wire


class UnknownEventError(ValueError):
    """An event name that is in neither form of the catalog."""

    def __init__(self, given: str, suggestions: list[str]) -> None:
        self.given = given
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown event {given!r}{hint}")


def _e(name: str, wire: str, category: Category, default: bool = True) -> Event:
    return Event(name, wire, category, default)


_I, _M, _C, _G, _O = (
    Category.INSTANCE,
    Category.MESSAGE,
    Category.CONTACT,
    Category.CHAT_GROUP,
    Category.OTHER,
)

EVENTS: tuple[Event, ...] = (
    _e("APPLICATION_STARTUP", "application.startup", _I, False),
    _e("INSTANCE_CREATE", "instance.create", _I, False),
    _e("INSTANCE_DELETE", "instance.delete", _I, False),
    _e("QRCODE_UPDATED", "qrcode.updated", _I),
    _e("CONNECTION_UPDATE", "connection.update", _I),
    _e("STATUS_INSTANCE", "status.instance", _I, False),
    _e("REMOVE_INSTANCE", "remove.instance", _I, False),
    _e("LOGOUT_INSTANCE", "logout.instance", _I, False),
    _e("MESSAGES_SET", "messages.set", _M),
    _e("MESSAGES_UPSERT", "messages.upsert", _M),
    _e("MESSAGES_EDITED", "messages.edited", _M),
    _e("MESSAGES_UPDATE", "messages.update", _M),
    _e("MESSAGES_DELETE", "messages.delete", _M),
    _e("SEND_MESSAGE", "send.message", _M),
    _e("SEND_MESSAGE_UPDATE", "send.message.update", _M),
    _e("CONTACTS_SET", "contacts.set", _C),
    _e("CONTACTS_UPSERT", "contacts.upsert", _C),
    _e("CONTACTS_UPDATE", "contacts.update", _C),
    _e("PRESENCE_UPDATE", "presence.update", _C),
    _e("CHATS_SET", "chats.set", _G),
    _e("CHATS_UPSERT", "chats.upsert", _G),
    _e("CHATS_UPDATE", "chats.update", _G),
    _e("CHATS_DELETE", "chats.delete", _G),
    _e("GROUPS_UPSERT", "groups.upsert", _G),
    _e("GROUPS_UPDATE", "groups.update", _G),
    _e("GROUP_PARTICIPANTS_UPDATE", "group-participants.update", _G),
    _e("LABELS_EDIT", "labels.edit", _O),
    _e("LABELS_ASSOCIATION", "labels.association", _O),
    _e("CALL", "call", _O),
    _e("TYPEBOT_START", "typebot.start", _O, False),
    _e("TYPEBOT_CHANGE_STATUS", "typebot.change-status", _O, False),
)

ALIASES: dict[str, str] = {"GROUP_UPDATE": "GROUPS_UPDATE"}
"""Input-only aliases: Evolution API itself names ``GROUPS_UPDATE`` ``GROUP_UPDATE`` in places."""

EVOLUTION_MISNAMED_TOPIC: dict[str, str] = {
    "group-participants.update": "group.participants.update",
    "typebot.change-status": "typebot.change.status",
    "groups.update": "group.update",
}
"""Global topics Evolution API 2.3.6 auto-creates under another name than the one it publishes to: it names them
from its ``EVENTS`` keys (``GROUP_PARTICIPANTS_UPDATE``, ``TYPEBOT_CHANGE_STATUS``, ``GROUP_UPDATE``) with ``_`` as
``.``, and publishes to the wire name (hyphens kept; ``groups.update`` is never published at all)."""

BY_NAME: dict[str, Event] = {e.name: e for e in EVENTS}
BY_WIRE: dict[str, Event] = {e.wire: e for e in EVENTS}
WIRE_NAMES: frozenset[str] = frozenset(BY_WIRE)


def find(name: str) -> Event | None:
    """The event named ``name`` in either form (settings or wire, any case), or None."""
    exact = BY_NAME.get(name)
    if exact is not None:  # the common case (a registry replay resolves every stored name): one dict lookup
        return exact
    key = name.strip()
    upper = key.upper().replace("-", "_").replace(".", "_")
    if key.upper() in BY_NAME:
        return BY_NAME[key.upper()]
    if key.upper() in ALIASES:
        return BY_NAME[ALIASES[key.upper()]]
    if key.lower() in BY_WIRE:
        return BY_WIRE[key.lower()]
    # ``group_participants_update``, ``GROUP-PARTICIPANTS-UPDATE`` and similar spellings.
    if upper in BY_NAME:
        return BY_NAME[upper]
    return None


def suggestions(name: str, limit: int = 3) -> list[str]:
    """The known names nearest to ``name`` (settings names), best first."""
    key = name.strip().upper().replace("-", "_").replace(".", "_")
    candidates = [*BY_NAME, *ALIASES]
    return difflib.get_close_matches(key, candidates, n=limit, cutoff=0.5)


def lookup(name: str) -> Event:
    """The event named ``name`` in either form; :class:`UnknownEventError` listing the nearest names."""
    event = find(name)
    if event is None:
        raise UnknownEventError(name, suggestions(name))
    return event


def by_category() -> dict[Category, list[Event]]:
    """The catalog grouped by category, in catalog order."""
    groups: dict[Category, list[Event]] = {c: [] for c in Category}
    for event in EVENTS:
        groups[event.category].append(event)
    return groups
