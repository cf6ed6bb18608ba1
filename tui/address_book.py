"""Who is who in the traffic: contacts' names and groups' subjects, by WhatsApp id (JID), as the events told us.

A stream pane shows ``Sophie Turner @ Família: Oi`` rather than two raw ids because the traffic said so earlier:
``contacts.*`` and ``messages.upsert`` carry push names, ``groups.upsert``/``groups.update`` and ``chats.*`` carry
subjects. :class:`AddressBook` remembers them, bounded (the least recently told name goes first), and counts
its changes in :attr:`AddressBook.version` so a view knows when rows it summarised earlier could now read better.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

CAPACITY = 5_000
"""Names kept at most; the least recently told is forgotten first."""
NAME_CHARS = 60
"""A name longer than this is kept cut (a row shows far less)."""

TEACHING_EVENTS = frozenset(
    {
        "contacts.set",
        "contacts.upsert",
        "contacts.update",
        "groups.upsert",
        "groups.update",
        "chats.set",
        "chats.upsert",
        "chats.update",
    }
)
"""Events whose whole purpose is to say who is who: worth reading even when no row of them is drawn."""
MESSAGE_EVENTS = frozenset({"messages.upsert", "send.message", "messages.set"})
"""Events that carry the sender's push name along with a message."""

GROUP_SERVER = "@g.us"


def is_group(jid: str) -> bool:
    """Whether ``jid`` names a group chat."""
    return jid.endswith(GROUP_SERVER)


def user_part(jid: str) -> str:
    """``5511999999999@s.whatsapp.net`` → ``5511999999999``."""
    return jid.split("@", 1)[0]


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value[:NAME_CHARS] if value else None
    return None


def _items(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        inner = data.get("messages") if isinstance(data.get("messages"), list) else None
        return inner if inner is not None else [data]
    return []


class AddressBook:
    """Names by JID, learned from events; bounded to ``capacity`` entries."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._names: OrderedDict[str, str] = OrderedDict()
        self.version = 0
        """Bumped each time a name is added or changes (not when it is told again)."""

    def __len__(self) -> int:
        return len(self._names)

    def name(self, jid: str | None) -> str | None:
        """The name known for ``jid`` (a contact's push name, a group's subject), or None."""
        if not jid:
            return None
        return self._names.get(jid)

    def remember(self, jid: Any, name: Any) -> None:
        """Keep ``name`` for ``jid`` (either not text: ignored)."""
        key, value = _text(jid), _text(name)
        if key is None or value is None or "@" not in key:
            return
        names = self._names
        if names.get(key) == value:
            names.move_to_end(key)
            return
        names[key] = value
        names.move_to_end(key)
        self.version += 1
        while len(names) > self.capacity:
            names.popitem(last=False)

    def learn(self, event: str | None, data: Any) -> None:
        """Remember what an event's ``data`` says about names; any shape is accepted, nothing raises."""
        try:
            if event in TEACHING_EVENTS:
                for item in _items(data)[:500]:
                    if isinstance(item, Mapping):
                        jid = item.get("id") or item.get("remoteJid")
                        self.remember(
                            jid,
                            item.get("subject")
                            or item.get("name")
                            or item.get("pushName")
                            or item.get("verifiedName")
                            or item.get("notify"),
                        )
            elif event in MESSAGE_EVENTS:
                for item in _items(data)[:50]:
                    if not isinstance(item, Mapping):
                        continue
                    key = item.get("key")
                    if not isinstance(key, Mapping) or key.get("fromMe") is True:
                        continue
                    remote = key.get("remoteJid")
                    sender = key.get("participant") if isinstance(remote, str) and is_group(remote) else remote
                    self.remember(sender, item.get("pushName"))
        except (TypeError, ValueError, AttributeError):  # a shape nobody foresaw teaches nothing
            return

    def label(self, jid: Any) -> str | None:
        """How a row names ``jid``: its known name, else ``+number`` (contacts) or a shortened group id."""
        if not isinstance(jid, str) or not jid:
            return None
        known = self._names.get(jid)
        if known is not None:
            return known
        user = user_part(jid)
        if is_group(jid):
            return f"group {user[:6]}…{user[-4:]}" if len(user) > 12 else f"group {user}"
        if user.isdigit():
            return "+" + user
        return user
