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

from tui.envelope import Decoded

MAX_SUMMARY = 160
"""Characters a summary is cut to (an ellipsis marks the cut)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def visible(text: str) -> str:
    """``text`` with every control character (C0, DEL, C1, line separators) as a visible escape."""

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _CONTROL.sub(escape, text)


def one_line(text: str, limit: int = MAX_SUMMARY) -> str:
    """``text`` made safe for one row: escapes visible, cut to ``limit`` characters."""
    # Cut before escaping too, so a 5 MB string costs no more than a short one.
    head = text[: limit * 2]
    shown = visible(head)
    if len(shown) > limit or len(text) > len(head):
        return shown[: max(limit - 1, 0)] + "…"
    return shown


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(name)
    return obj


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _first(items: Any) -> Any:
    """The payload's subject: ``data`` itself, or the first element when it is a list."""
    if isinstance(items, list):
        return items[0] if items else None
    return items


def _count_suffix(items: Any) -> str:
    return f" (+{len(items) - 1} more)" if isinstance(items, list) and len(items) > 1 else ""


def _jid(value: Any) -> str | None:
    """A WhatsApp id without its server part: ``5511999999999@s.whatsapp.net`` → ``5511999999999``."""
    text = _str(value)
    if text is None:
        return None
    return text.split("@", 1)[0] if "@" in text else text


def message_text(message: Any) -> str | None:
    """The readable content of a WhatsApp ``message`` object (text, caption, reaction, kind of media)."""
    if not isinstance(message, Mapping):
        return None
    text = _str(message.get("conversation"))
    if text:
        return text
    text = _str(_get(message, "extendedTextMessage", "text"))
    if text:
        return text
    for kind, label in (
        ("imageMessage", "image"),
        ("videoMessage", "video"),
        ("documentMessage", "document"),
        ("documentWithCaptionMessage", "document"),
    ):
        media = message.get(kind)
        if isinstance(media, Mapping):
            inner = media.get("message") if kind == "documentWithCaptionMessage" else None
            if isinstance(inner, Mapping):
                media = inner.get("documentMessage") or media
            caption = _str(_get(media, "caption")) or _str(_get(media, "fileName"))
            return f"[{label}] {caption}" if caption else f"[{label}]"
    reaction = message.get("reactionMessage")
    if isinstance(reaction, Mapping):
        emoji = _str(reaction.get("text"))
        target = _str(_get(reaction, "key", "id"))
        return f"reaction {emoji or '(removed)'}" + (f" to {target}" if target else "")
    for kind, label in (
        ("audioMessage", "audio"),
        ("stickerMessage", "sticker"),
        ("locationMessage", "location"),
        ("contactMessage", "contact"),
        ("pollCreationMessage", "poll"),
        ("buttonsResponseMessage", "button reply"),
        ("listResponseMessage", "list reply"),
    ):
        item = message.get(kind)
        if isinstance(item, Mapping):
            detail = (
                _str(item.get("name"))
                or _str(item.get("displayName"))
                or _str(item.get("selectedDisplayText"))
                or _str(item.get("title"))
            )
            return f"[{label}] {detail}" if detail else f"[{label}]"
    protocol = message.get("protocolMessage")
    if isinstance(protocol, Mapping):
        return f"[protocol] {_str(protocol.get('type')) or ''}".rstrip()
    kinds = [k for k in message if isinstance(k, str) and k != "messageContextInfo"]
    return f"[{kinds[0]}]" if kinds else None


def _sender(data: Mapping[str, Any]) -> str | None:
    key = data.get("key")
    if _get(key, "fromMe") is True:
        return "me"
    name = _str(data.get("pushName"))
    jid = _jid(_get(key, "participant")) or _jid(_get(key, "remoteJid"))
    if name and jid:
        return f"{name} ({jid})"
    return name or jid


def _messages_upsert(data: Any) -> str:
    item = _first(_get(data, "messages")) if isinstance(_get(data, "messages"), list) else _first(data)
    if not isinstance(item, Mapping):
        return ""
    who = _sender(item)
    text = message_text(item.get("message"))
    if text is None:
        text = _str(item.get("messageType")) or "(no content)"
    out = f"{who}: {text}" if who else text
    return out + _count_suffix(data)


def _messages_update(data: Any) -> str:
    item = _first(data)
    if not isinstance(item, Mapping):
        return ""
    status = _str(item.get("status")) or _str(_get(item, "update", "status"))
    target = _str(item.get("keyId")) or _str(_get(item, "key", "id"))
    jid = _jid(item.get("remoteJid")) or _jid(_get(item, "key", "remoteJid"))
    parts = [f"status {status}" if status else "update"]
    if target:
        parts.append(target)
    if jid:
        parts.append(f"in {jid}")
    return " ".join(parts) + _count_suffix(data)


def _messages_delete(data: Any) -> str:
    item = _first(data)
    target = _str(_get(item, "id")) or _str(_get(item, "key", "id"))
    jid = _jid(_get(item, "remoteJid")) or _jid(_get(item, "key", "remoteJid"))
    return "deleted" + (f" {target}" if target else "") + (f" in {jid}" if jid else "")


def _messages_edited(data: Any) -> str:
    item = _first(data)
    if not isinstance(item, Mapping):
        return ""
    edited = _get(item, "message", "protocolMessage", "editedMessage") or _get(item, "editedMessage")
    text = message_text(edited) or message_text(item.get("message"))
    who = _sender(item)
    return f"edited by {who}: {text}" if who and text else f"edited: {text or '(no content)'}"


def _connection_update(data: Any) -> str:
    state = _str(_get(data, "state")) or _str(_get(data, "connection"))
    reason = _get(data, "statusReason")
    who = _str(_get(data, "wuid")) or _str(_get(data, "profileName"))
    out = f"state {state}" if state else "connection update"
    if reason is not None and not isinstance(reason, bool) and _str(reason):
        out += f" (reason {reason})"
    return out + (f" as {_jid(who)}" if who else "")


def _qrcode(data: Any) -> str:
    qr = _get(data, "qrcode")
    pairing = _str(_get(qr, "pairingCode")) or _str(_get(data, "pairingCode"))
    code = _get(qr, "code") or _get(data, "code")
    out = "QR code updated"
    if pairing:
        out += f", pairing code {pairing}"
    elif isinstance(code, str):
        out += f" ({len(code)} chars)"
    return out


def _participants(data: Any) -> str:
    action = _str(_get(data, "action")) or "update"
    group = _jid(_get(data, "id"))
    people = _get(data, "participants")
    names: list[str] = []
    if isinstance(people, list):
        for person in people:
            name = _jid(person) or _jid(_get(person, "id")) or _jid(_get(person, "phoneNumber"))
            if name:
                names.append(name)
    who = ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
    return f"{action} {who or '(nobody)'}" + (f" in {group}" if group else "")


def _presence(data: Any) -> str:
    chat = _jid(_get(data, "id"))
    presences = _get(data, "presences")
    states: list[str] = []
    if isinstance(presences, Mapping):
        for jid, value in list(presences.items())[:3]:
            state = _str(_get(value, "lastKnownPresence")) or "?"
            states.append(f"{_jid(jid)} {state}")
    out = ", ".join(states) or "presence"
    return out + (f" in {chat}" if chat and not (states and states[0].startswith(chat)) else "")


def _call(data: Any) -> str:
    item = _first(data)
    status = _str(_get(item, "status")) or "call"
    who = _jid(_get(item, "from")) or _jid(_get(item, "chatId"))
    video = _get(item, "isVideo")
    kind = "video call" if video is True else "call"
    return f"{kind} {status}" + (f" from {who}" if who else "")


def _named_items(label: str) -> Callable[[Any], str]:
    def summary(data: Any) -> str:
        items = data if isinstance(data, list) else [data] if data is not None else []
        names: list[str] = []
        for item in items[:3]:
            name = (
                _str(_get(item, "pushName"))
                or _str(_get(item, "name"))
                or _str(_get(item, "subject"))
                or _jid(_get(item, "remoteJid"))
                or _jid(_get(item, "id"))
            )
            if name:
                names.append(name)
        more = f" (+{len(items) - 3} more)" if len(items) > 3 else ""
        count = f"{len(items)} {label}" if len(items) != 1 else f"1 {label.rstrip('s')}"
        return f"{count}: {', '.join(names)}{more}" if names else count

    return summary


def _chats_delete(data: Any) -> str:
    items = data if isinstance(data, list) else [data]
    names = [n for n in (_jid(i) or _jid(_get(i, "remoteJid")) or _jid(_get(i, "id")) for i in items[:3]) if n]
    return "deleted " + (", ".join(names) or "chat")


def _labels_edit(data: Any) -> str:
    name = _str(_get(data, "name")) or _str(_get(data, "id")) or "label"
    if _get(data, "deleted") is True:
        return f"label {name} deleted"
    color = _get(data, "color")
    return f"label {name}" + (f" (color {color})" if _str(color) else "")


def _labels_association(data: Any) -> str:
    kind = _str(_get(data, "type")) or "change"
    label = _str(_get(data, "labelId")) or _str(_get(data, "label", "id")) or "?"
    chat = _jid(_get(data, "chatId"))
    return f"{kind} label {label}" + (f" on {chat}" if chat else "")


def _typebot(data: Any) -> str:
    status = _str(_get(data, "status"))
    jid = _jid(_get(data, "remoteJid"))
    url = _str(_get(data, "url"))
    return " ".join(p for p in ("typebot", status, jid, url) if p)


def _instance_event(data: Any) -> str:
    name = _str(_get(data, "instanceName")) or _str(_get(data, "instance"))
    status = _str(_get(data, "status")) or _str(_get(data, "state"))
    return " ".join(p for p in (name, status) if p) or "instance event"


_BY_EVENT: dict[str, Callable[[Any], str]] = {
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
    "chats.update": _named_items("chats"),
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


def summarize(event: str | None, data: Any, limit: int = MAX_SUMMARY) -> str:
    """A one-line, printable summary of an event's ``data``; never raises."""
    try:
        handler = _BY_EVENT.get(event or "", _generic)
        text = handler(data) or _generic(data)
    except Exception:  # a shape no handler foresaw: fall back, a row must always render
        try:
            text = _generic(data)
        except Exception:
            text = "(unreadable payload)"
    return one_line(text, limit)


def summarize_decoded(decoded: Decoded, limit: int = MAX_SUMMARY) -> str:
    """The row summary of a decoded record: the event summary for envelopes, else what the value is."""
    try:
        if decoded.is_envelope and isinstance(decoded.body, Mapping):
            return summarize(decoded.event, decoded.body.get("data"), limit)
        if decoded.is_null:
            return "(null value)"
        if decoded.is_json:
            return one_line(_generic(decoded.body), limit)
        if decoded.text is not None:
            if decoded.problems and decoded.problems[0].startswith("value too large"):
                return one_line(f"(large value, {decoded.size:,} bytes) {decoded.text[:limit]}", limit)
            return one_line(decoded.text, limit)
        if decoded.raw is not None:
            return one_line("(binary) " + decoded.raw[:limit].hex(" "), limit)
    except Exception:
        pass
    return "(unreadable record)"
