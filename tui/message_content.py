"""What a WhatsApp ``message`` object says, in a few words: its text, a media caption, a reaction, or its kind.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(name)
    return obj


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
