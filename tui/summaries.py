"""One-line summaries of WhatsApp events, as a stream pane's row shows them.

``summarize(event, data)`` knows the payloads Evolution API publishes (``messages.upsert`` text and sender,
``connection.update`` state, ``group-participants.update`` action and participants, …) and falls back to a
short, generic description for anything else. It never raises, whatever the shape of ``data``, and the
result is one line of printable text: control characters are shown as visible escapes (``\\x1b``).

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from tui.address_book import AddressBook, is_group
from tui.envelope import Decoded
from tui.masking import redact_bytes, redact_text
from tui.message_content import dig, message_text, text_of

MAX_SUMMARY = 160
"""Characters a summary is cut to (an ellipsis marks the cut)."""

INVISIBLE = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
"""Invisible format characters (Unicode category Cf): bidi overrides and isolates (U+202E…), zero-width space,
BOM, tags. Kept: U+200C and U+200D, the joiners emoji sequences and Persian or Indic words are made of (they
move nothing and hide nothing). A regular-expression class body; a unit test checks it against unicodedata."""
CONTROL_CLASS = "\x00-\x1f\x7f-\x9f\u2028\u2029" + INVISIBLE
"""Every character a terminal must never get raw: C0, DEL, C1, line separators and :data:`INVISIBLE`."""
_CONTROL = re.compile(f"[{CONTROL_CLASS}]")


def visible(text: str) -> str:
    """``text`` with every control character (C0, DEL, C1, line separators) and invisible format character
    (bidi controls, zero-width space, …) as a visible escape."""

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    if text.isprintable():  # nothing to escape (the class holds only unprintable characters): the common case
        return text
    return _CONTROL.sub(escape, text)


def one_line(text: str, limit: int = MAX_SUMMARY) -> str:
    """``text`` made safe for one row: escapes visible, cut to ``limit`` characters."""
    # Cut before escaping too, so a 5 MB string costs no more than a short one.
    head = text[: limit * 2]
    shown = visible(head)
    if len(shown) > limit or len(text) > len(head):
        return shown[: max(limit - 1, 0)] + "…"
    return shown


def _first(items: Any) -> Any:
    """The payload's subject: ``data`` itself, or the first element when it is a list."""
    if isinstance(items, list):
        return items[0] if items else None
    return items


def _count_suffix(items: Any) -> str:
    return f" (+{len(items) - 1} more)" if isinstance(items, list) and len(items) > 1 else ""


def _jid(value: Any) -> str | None:
    """A WhatsApp id without its server part: ``5511999999999@s.whatsapp.net`` → ``5511999999999``."""
    text = text_of(value)
    if text is None:
        return None
    return text.split("@", 1)[0] if "@" in text else text


_TICKS: dict[str | int, tuple[str, str]] = {
    "ERROR": ("✗", "failed"),
    "PENDING": ("◌", "pending"),
    "SERVER_ACK": ("✓", "sent"),
    "DELIVERY_ACK": ("✓✓", "delivered"),
    "READ": ("✓✓", "read"),
    "PLAYED": ("✓✓", "played"),
}
"""WhatsApp's message statuses as the app shows them: ticks, then a word."""
_TICKS.update({number: _TICKS[name] for number, name in enumerate(list(_TICKS))})  # Baileys' numeric form


def ticks(status: Any) -> str | None:
    """``READ`` → ``✓✓ read``; None for a status WhatsApp does not have."""
    found = _TICKS.get(status) if isinstance(status, str | int) and not isinstance(status, bool) else None
    return f"{found[0]} {found[1]}" if found else None


def _remote(item: Any) -> str | None:
    return text_of(dig(item, "key", "remoteJid")) or text_of(dig(item, "remoteJid"))


def _from_me(item: Any) -> bool:
    return dig(item, "key", "fromMe") is True or dig(item, "fromMe") is True


def _author(item: Mapping[str, Any], names: AddressBook) -> str:
    """Who wrote a message, first as a row says it: ``▸ me``, the push name, a known name or the number; in a
    group, ``who @ group``."""
    remote = _remote(item)
    group = remote is not None and is_group(remote)
    if _from_me(item):
        who = "▸ me"
    else:
        sender = text_of(dig(item, "key", "participant")) or text_of(item.get("participant")) if group else remote
        who = text_of(item.get("pushName")) or names.label(sender) or "?"
    if group:
        who += f" @ {names.label(remote)}"
    return who


def _to_whom(item: Mapping[str, Any], names: AddressBook) -> str:
    remote = _remote(item)
    if not _from_me(item) or remote is None or is_group(remote):
        return ""
    return f" (to {names.label(remote)})"


def _messages_upsert(data: Any, names: AddressBook) -> str:
    item = _first(dig(data, "messages")) if isinstance(dig(data, "messages"), list) else _first(data)
    if not isinstance(item, Mapping):
        return ""
    text = message_text(item.get("message"))
    if text is None:
        text = text_of(item.get("messageType")) or "(no content)"
    if not isinstance(item.get("key"), Mapping) and item.get("pushName") is None:
        return text + _count_suffix(data)
    return f"{_author(item, names)}: {text}{_to_whom(item, names)}" + _count_suffix(data)


def _messages_update(data: Any, names: AddressBook) -> str:
    item = _first(data)
    if not isinstance(item, Mapping):
        return ""
    status = item.get("status") if item.get("status") is not None else dig(item, "update", "status")
    shown = ticks(status) or (f"status {text_of(status)}" if text_of(status) else "update")
    remote = _remote(item)
    if remote is None:
        target = text_of(item.get("keyId")) or text_of(dig(item, "key", "id"))
        return shown + (f" {target}" if target else "") + _count_suffix(data)
    if is_group(remote):
        where = "in"
    elif not _from_me(item):
        where = "from"
    else:
        where = "by" if shown.endswith(("read", "played")) else "to"
    return f"{shown} {where} {names.label(remote)}" + _count_suffix(data)


def _messages_delete(data: Any, names: AddressBook) -> str:
    item = _first(data)
    if not isinstance(item, Mapping):
        return "message deleted"
    remote = _remote(item)
    who = "▸ me" if _from_me(item) else names.label(remote)
    target = text_of(item.get("id")) or text_of(dig(item, "key", "id"))
    out = f"{who}: message deleted" if who else "message deleted"
    return out + (f" {target}" if target else "") + _to_whom(item, names)


def _messages_edited(data: Any, names: AddressBook) -> str:
    item = _first(data)
    if not isinstance(item, Mapping):
        return ""
    edited = dig(item, "message", "protocolMessage", "editedMessage") or dig(item, "editedMessage")
    text = message_text(edited) or message_text(item.get("message")) or "(no content)"
    if not isinstance(item.get("key"), Mapping) and item.get("pushName") is None:
        return f"edited: {text}"
    return f"{_author(item, names)} edited: {text}{_to_whom(item, names)}"


def _connection_update(data: Any, names: AddressBook) -> str:
    state = text_of(dig(data, "state")) or text_of(dig(data, "connection"))
    reason = dig(data, "statusReason")
    who = text_of(dig(data, "wuid")) or text_of(dig(data, "profileName"))
    out = f"state {state}" if state else "connection update"
    if reason is not None and not isinstance(reason, bool) and text_of(reason):
        out += f" (reason {reason})"
    return out + (f" as {_jid(who)}" if who else "")


def _qrcode(data: Any, names: AddressBook) -> str:
    qr = dig(data, "qrcode")
    pairing = text_of(dig(qr, "pairingCode")) or text_of(dig(data, "pairingCode"))
    code = dig(qr, "code") or dig(data, "code")
    out = "QR code updated"
    if pairing:
        out += f", pairing code {pairing}"
    elif isinstance(code, str):
        out += f" ({len(code)} chars)"
    return out


def _participants(data: Any, names: AddressBook) -> str:
    action = text_of(dig(data, "action")) or "update"
    group = text_of(dig(data, "id"))
    people = dig(data, "participants")
    shown: list[str] = []
    if isinstance(people, list):
        for person in people:
            jid = text_of(person) or text_of(dig(person, "id")) or text_of(dig(person, "phoneNumber"))
            label = names.label(jid)
            if label:
                shown.append(label)
    who = ", ".join(shown[:5]) + (f" (+{len(shown) - 5} more)" if len(shown) > 5 else "")
    return f"{action} {who or '(nobody)'}" + (f" in {names.label(group)}" if group else "")


def _presence(data: Any, names: AddressBook) -> str:
    chat = text_of(dig(data, "id"))
    presences = dig(data, "presences")
    states: list[str] = []
    if isinstance(presences, Mapping):
        for jid, value in list(presences.items())[:3]:
            state = text_of(dig(value, "lastKnownPresence")) or "?"
            states.append(f"{names.label(jid)} {state}")
    out = ", ".join(states) or "presence"
    if chat and is_group(chat):
        out += f" in {names.label(chat)}"
    elif chat and not states:
        out += f" of {names.label(chat)}"
    return out


def _call(data: Any, names: AddressBook) -> str:
    item = _first(data)
    status = text_of(dig(item, "status")) or "call"
    who = names.label(text_of(dig(item, "from")) or text_of(dig(item, "chatId")))
    video = dig(item, "isVideo")
    kind = "video call" if video is True else "call"
    return f"{kind} {status}" + (f" from {who}" if who else "")


Summary = Callable[[Any, AddressBook], str]


def _named_items(label: str) -> Summary:
    def summary(data: Any, names: AddressBook) -> str:
        items = data if isinstance(data, list) else [data] if data is not None else []
        shown: list[str] = []
        for item in items[:3]:
            jid = text_of(dig(item, "remoteJid")) or text_of(dig(item, "id"))
            name = (
                text_of(dig(item, "pushName"))
                or text_of(dig(item, "name"))
                or text_of(dig(item, "subject"))
                or names.label(jid)
            )
            if name:
                shown.append(name)
        more = f" (+{len(items) - 3} more)" if len(items) > 3 else ""
        count = f"{len(items)} {label}" if len(items) != 1 else f"1 {label.rstrip('s')}"
        return f"{count}: {', '.join(shown)}{more}" if shown else count

    return summary


def _chats_update(data: Any, names: AddressBook) -> str:
    item = _first(data)
    unread = dig(item, "unreadMessages")
    jid = text_of(dig(item, "remoteJid")) or text_of(dig(item, "id"))
    if isinstance(unread, int) and not isinstance(unread, bool) and jid:
        state = f"{unread} unread" if unread else "all read"
        return f"{names.label(jid)}: {state}" + _count_suffix(data)
    return _named_items("chats")(data, names)


def _chats_delete(data: Any, names: AddressBook) -> str:
    items = data if isinstance(data, list) else [data]
    jids = (text_of(i) or text_of(dig(i, "remoteJid")) or text_of(dig(i, "id")) for i in items[:3])
    shown = [label for label in (names.label(j) for j in jids) if label]
    return "deleted " + (", ".join(shown) or "chat")


def _labels_edit(data: Any, names: AddressBook) -> str:
    name = text_of(dig(data, "name")) or text_of(dig(data, "id")) or "label"
    if dig(data, "deleted") is True:
        return f"label {name} deleted"
    color = dig(data, "color")
    return f"label {name}" + (f" (color {color})" if text_of(color) else "")


def _labels_association(data: Any, names: AddressBook) -> str:
    kind = text_of(dig(data, "type")) or "change"
    label = text_of(dig(data, "labelId")) or text_of(dig(data, "label", "id")) or "?"
    chat = names.label(text_of(dig(data, "chatId")))
    return f"{kind} label {label}" + (f" on {chat}" if chat else "")


def _typebot(data: Any, names: AddressBook) -> str:
    status = text_of(dig(data, "status"))
    jid = names.label(text_of(dig(data, "remoteJid")))
    url = text_of(dig(data, "url"))
    return " ".join(p for p in ("typebot", status, jid, url) if p)


def _instance_event(data: Any, names: AddressBook) -> str:
    name = text_of(dig(data, "instanceName")) or text_of(dig(data, "instance"))
    status = text_of(dig(data, "status")) or text_of(dig(data, "state"))
    return " ".join(p for p in (name, status) if p) or "instance event"


_BY_EVENT: dict[str, Summary] = {
    "messages.upsert": _messages_upsert,
    "send.message": _messages_upsert,
    "messages.set": _named_items("messages"),
    "messages.update": _messages_update,
    "send.message.update": _messages_update,
    "messages.delete": _messages_delete,
    "messages.edited": _messages_edited,
    "connection.update": _connection_update,
    "qrcode.updated": _qrcode,
    "group-participants.update": _participants,
    "presence.update": _presence,
    "call": _call,
    "contacts.set": _named_items("contacts"),
    "contacts.upsert": _named_items("contacts"),
    "contacts.update": _named_items("contacts"),
    "chats.set": _named_items("chats"),
    "chats.upsert": _named_items("chats"),
    "chats.update": _chats_update,
    "chats.delete": _chats_delete,
    "groups.upsert": _named_items("groups"),
    "groups.update": _named_items("groups"),
    "labels.edit": _labels_edit,
    "labels.association": _labels_association,
    "typebot.start": _typebot,
    "typebot.change-status": _typebot,
    "application.startup": _instance_event,
    "instance.create": _instance_event,
    "instance.delete": _instance_event,
    "status.instance": _instance_event,
    "remove.instance": _instance_event,
    "logout.instance": _instance_event,
}


def _generic(data: Any) -> str:
    if isinstance(data, Mapping):
        keys = [str(k) for k in list(data)[:6]]
        return "{" + ", ".join(keys) + (", …" if len(data) > 6 else "") + "}"
    if isinstance(data, list):
        return f"[{len(data)} items]"
    if isinstance(data, str):
        return data
    return "" if data is None else repr(data)


_NOBODY = AddressBook(capacity=1)
"""The book of a summary made without one: it knows no names (never taught)."""


def _generic_summary(data: Any, names: AddressBook) -> str:
    return _generic(data)


def summarize(event: str | None, data: Any, limit: int = MAX_SUMMARY, names: AddressBook | None = None) -> str:
    """A one-line, printable summary of an event's ``data``, who and what first, naming people and groups from
    ``names`` where it knows them; never raises."""
    try:
        handler = _BY_EVENT.get(event or "", _generic_summary)
        text = handler(data, names or _NOBODY) or _generic(data)
    except Exception:  # a shape no handler foresaw: fall back, a row must always render
        try:
            text = _generic(data)
        except Exception:
            text = "(unreadable payload)"
    return one_line(text, limit)


def summarize_decoded(decoded: Decoded, limit: int = MAX_SUMMARY, names: AddressBook | None = None) -> str:
    """The row summary of a decoded record: the event summary for envelopes, else what the value is."""
    try:
        if decoded.is_envelope and isinstance(decoded.body, Mapping):
            return summarize(decoded.event, decoded.body.get("data"), limit, names)
        if decoded.is_null:
            return "(null value)"
        if decoded.is_json:
            return one_line(_generic(decoded.body), limit)
        if decoded.text is not None:
            if decoded.problems and decoded.problems[0].startswith("value too large"):
                shown = redact_text(decoded.text[: limit * 2])
                return one_line(f"(large value, {decoded.size:,} bytes) {shown}", limit)
            return one_line(redact_text(decoded.text[: limit * 2]), limit)
        if decoded.raw is not None:
            return one_line("(binary) " + redact_bytes(decoded.raw[: limit * 2])[:limit].hex(" "), limit)
    except Exception:
        pass
    return "(unreadable record)"
