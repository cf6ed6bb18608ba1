"""What a WhatsApp ``message`` object says, in a few words: its text, a media caption, a reaction, or its kind.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def text_of(value: Any) -> str | None:
    """A non-empty string as it is, a number as text; anything else None."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def dig(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]…`` through mappings; None where the way stops."""
    for name in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(name)
    return obj


def message_text(message: Any) -> str | None:
    """The readable content of a WhatsApp ``message`` object (text, caption, reaction, kind of media)."""
    if not isinstance(message, Mapping):
        return None
    text = text_of(message.get("conversation"))
    if text:
        return text
    text = text_of(dig(message, "extendedTextMessage", "text"))
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
            caption = text_of(dig(media, "caption")) or text_of(dig(media, "fileName"))
            return f"[{label}] {caption}" if caption else f"[{label}]"
    reaction = message.get("reactionMessage")
    if isinstance(reaction, Mapping):
        emoji = text_of(reaction.get("text"))
        target = text_of(dig(reaction, "key", "id"))
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
                text_of(item.get("name"))
                or text_of(item.get("displayName"))
                or text_of(item.get("selectedDisplayText"))
                or text_of(item.get("title"))
            )
            return f"[{label}] {detail}" if detail else f"[{label}]"
    protocol = message.get("protocolMessage")
    if isinstance(protocol, Mapping):
        return f"[protocol] {text_of(protocol.get('type')) or ''}".rstrip()
    kinds = [k for k in message if isinstance(k, str) and k != "messageContextInfo"]
    return f"[{kinds[0]}]" if kinds else None
