"""Realistic ``data`` for every event of the catalog: what Evolution API puts in the envelope's ``data``.

``evokafka publish EVENT`` sends :func:`template` when no ``--data`` is given, so a consumer written for
Evolution API sees the shapes it expects: WhatsApp JIDs (``5511999999999@s.whatsapp.net``, groups
``120363025246125486@g.us``), Baileys message keys (``remoteJid``, ``fromMe``, ``id``), ``pushName``,
``messageTimestamp`` in seconds, connection states, group participant actions.

The result is deterministic for a given ``(event, instance, seq, now)``: ``seq`` varies message ids so that
``--count`` sends distinct messages.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tui import catalog

CONTACT = "5511999999999@s.whatsapp.net"
"""The contact in every template (the reference's example number)."""
OWNER = "5511988887777@s.whatsapp.net"
"""The WhatsApp account behind the instance."""
OTHER = "5521977776666@s.whatsapp.net"
GROUP = "120363025246125486@g.us"
PUSH_NAME = "John Doe"
PROFILE_NAME = "Acme Sales"


# --- shapes: the WhatsApp payloads, built from explicit values (the templates below and the demo's traffic) ---


def message_key(remote: str, from_me: bool, message_id: str, participant: str | None = None) -> dict[str, Any]:
    """A Baileys message key; ``participant`` only in groups (the author)."""
    key: dict[str, Any] = {"remoteJid": remote, "fromMe": from_me, "id": message_id}
    if participant is not None:
        key["participant"] = participant
    return key


def message(
    key: dict[str, Any],
    push_name: str,
    text: str,
    *,
    seconds: int,
    instance_id: str,
    status: str = "DELIVERY_ACK",
    source: str = "android",
    image: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message as ``messages.upsert`` and ``send.message`` carry it: a text, or an image with ``text`` as caption
    (``image``: the ``imageMessage`` fields other than the caption)."""
    content: dict[str, Any] = (
        {"conversation": text} if image is None else {"imageMessage": {"caption": text, **image}}
    )
    return {
        "key": key,
        "pushName": push_name,
        "status": status,
        "message": content,
        "messageType": "conversation" if image is None else "imageMessage",
        "messageTimestamp": seconds,
        "instanceId": instance_id,
        "source": source,
    }


def receipt(
    message_id: str, remote: str, from_me: bool, status: str, instance_id: str, participant: str | None = None
) -> dict[str, Any]:
    """A status change of a message (``messages.update``, ``send.message.update``): SERVER_ACK, DELIVERY_ACK, READ."""
    data: dict[str, Any] = {"messageId": message_id, "keyId": message_id, "remoteJid": remote, "fromMe": from_me}
    if participant is not None:
        data["participant"] = participant
    data.update(status=status, instanceId=instance_id)
    return data


def edit(key: dict[str, Any], text: str, *, millis: int, instance_id: str) -> dict[str, Any]:
    """An edit of the message with ``key`` (``messages.edited``)."""
    return {
        "key": key,
        "message": {
            "protocolMessage": {
                "key": key,
                "type": "MESSAGE_EDIT",
                "editedMessage": {"conversation": text},
                "timestampMs": str(millis),
            }
        },
        "messageType": "protocolMessage",
        "messageTimestamp": millis // 1000,
        "instanceId": instance_id,
    }


def deletion(remote: str, from_me: bool, message_id: str, participant: str | None = None) -> dict[str, Any]:
    """A deleted message (``messages.delete``)."""
    return {"remoteJid": remote, "fromMe": from_me, "id": message_id, "participant": participant}


def presence(jid: str, state: str) -> dict[str, Any]:
    """``presence.update``: available, unavailable, composing, recording, paused."""
    return {"id": jid, "presences": {jid: {"lastKnownPresence": state}}}


def contact(jid: str, name: str, instance_id: str, picture: str | None = None) -> dict[str, Any]:
    """A contact (``contacts.*``)."""
    return {"remoteJid": jid, "pushName": name, "profilePicUrl": picture, "instanceId": instance_id}


def chat(jid: str, instance_id: str, unread: int) -> dict[str, Any]:
    """A chat (``chats.set``, ``chats.upsert``)."""
    return {"remoteJid": jid, "instanceId": instance_id, "unreadMessages": unread}


def group(
    jid: str, subject: str, owner: str, members: list[str], admins: set[str] | frozenset[str], seconds: int
) -> dict[str, Any]:
    """A group's metadata (``groups.upsert``); ``owner`` is the super-admin."""
    return {
        "id": jid,
        "subject": subject,
        "subjectOwner": owner,
        "subjectTime": seconds,
        "size": len(members),
        "creation": seconds,
        "owner": owner,
        "desc": None,
        "restrict": False,
        "announce": False,
        "participants": [
            {"id": m, "admin": "superadmin" if m == owner else ("admin" if m in admins else None)} for m in members
        ],
    }


def participants(group_jid: str, author: str, who: list[str], action: str) -> dict[str, Any]:
    """``group-participants.update``: add, remove, promote, demote."""
    return {"id": group_jid, "author": author, "participants": who, "action": action}


def qrcode(instance: str, code: str) -> dict[str, Any]:
    """A pairing QR code (``qrcode.updated``'s ``qrcode``)."""
    return {
        "instance": instance,
        "pairingCode": None,
        "code": code,
        "base64": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAQAAAAEAAQMAAABmvDolAAAABlBMVEX///8AAABVwtN+",
    }


def call(call_id: str, jid: str, iso: str, status: str, *, video: bool = False) -> dict[str, Any]:
    """A call (``call``): offer, then accept, reject or timeout."""
    return {
        "id": call_id,
        "from": jid,
        "chatId": jid,
        "date": iso,
        "isVideo": video,
        "isGroup": False,
        "status": status,
        "offline": False,
    }


class _Facts:
    """Values one template is built from: ids derived from the inputs, one clock."""

    def __init__(self, event: catalog.Event, instance: str, seq: int, now: datetime) -> None:
        digest = hashlib.sha256(f"{instance}\0{event.wire}\0{seq}".encode()).hexdigest().upper()
        self.instance = instance
        self.seq = seq
        self.message_id = "3EB0" + digest[:16]
        self.other_id = "3EB0" + digest[16:32]
        self.instance_id = _uuid(hashlib.sha256(f"instance\0{instance}".encode()).hexdigest())
        self.call_id = digest[32:64]
        self.seconds = int(now.timestamp())
        self.millis = int(now.timestamp() * 1000)
        self.iso = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def key(self, from_me: bool = False, remote: str = CONTACT) -> dict[str, Any]:
        return message_key(remote, from_me, self.message_id)

    def message(self, text: str, *, from_me: bool = False, status: str = "DELIVERY_ACK") -> dict[str, Any]:
        push_name = PROFILE_NAME if from_me else PUSH_NAME
        return message(
            self.key(from_me), push_name, text, seconds=self.seconds, instance_id=self.instance_id, status=status
        )


def _uuid(hex_digest: str) -> str:
    h = hex_digest[:32]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _instance_info(f: _Facts) -> dict[str, Any]:
    return {"instanceName": f.instance, "instanceId": f.instance_id, "integration": "WHATSAPP-BAILEYS"}


def _application_startup(f: _Facts) -> dict[str, Any]:
    return {"message": "Evolution API started", "version": "2.2.3", "clientName": "evolution_exchange"}


def _instance_create(f: _Facts) -> dict[str, Any]:
    return {**_instance_info(f), "status": "created"}


def _instance_delete(f: _Facts) -> dict[str, Any]:
    return {**_instance_info(f), "status": "deleted"}


def _qrcode_updated(f: _Facts) -> dict[str, Any]:
    ref = f.message_id.lower() + f.other_id.lower()
    return {"qrcode": qrcode(f.instance, f"2@{ref},{f.call_id[:43]},{f.call_id[-20:]}=")}

def _connection_update(f: _Facts) -> dict[str, Any]:
    return {
        "instance": f.instance,
        "wuid": OWNER,
        "profileName": PROFILE_NAME,
        "profilePictureUrl": None,
        "state": "open",
        "statusReason": 200,
    }


def _status_instance(f: _Facts) -> dict[str, Any]:
    return {"instance": f.instance, "status": "open"}


def _remove_instance(f: _Facts) -> dict[str, Any]:
    return {**_instance_info(f), "status": "removed"}


def _logout_instance(f: _Facts) -> dict[str, Any]:
    return {**_instance_info(f), "state": "close", "statusReason": 401}


def _messages_set(f: _Facts) -> dict[str, Any]:
    return {"messages": [f.message("Oi! Tudo bem?")], "isLatest": True}


def _messages_upsert(f: _Facts) -> dict[str, Any]:
    return f.message("Hello from WhatsApp!")


def _messages_edited(f: _Facts) -> dict[str, Any]:
    return edit(f.key(from_me=True), "Hello from WhatsApp! (edited)", millis=f.millis, instance_id=f.instance_id)

def _messages_update(f: _Facts) -> dict[str, Any]:
    return receipt(f.message_id, CONTACT, True, "READ", f.instance_id, participant=CONTACT)

def _messages_delete(f: _Facts) -> dict[str, Any]:
    return deletion(CONTACT, False, f.message_id)

def _send_message(f: _Facts) -> dict[str, Any]:
    return f.message("Your order #4821 has shipped.", from_me=True, status="PENDING")


def _send_message_update(f: _Facts) -> dict[str, Any]:
    return receipt(f.message_id, CONTACT, True, "SERVER_ACK", f.instance_id)

def _contact(f: _Facts, jid: str = CONTACT, name: str = PUSH_NAME) -> dict[str, Any]:
    return contact(jid, name, f.instance_id)

def _contacts_set(f: _Facts) -> dict[str, Any]:
    return {"contacts": [_contact(f), _contact(f, OTHER, "Maria Silva")]}


def _contacts_upsert(f: _Facts) -> dict[str, Any]:
    return _contact(f)


def _contacts_update(f: _Facts) -> dict[str, Any]:
    return contact(CONTACT, PUSH_NAME, f.instance_id, "https://pps.whatsapp.net/v/t61.24694-24/123456789_n.jpg")

def _presence_update(f: _Facts) -> dict[str, Any]:
    return presence(CONTACT, "composing")

def _chat(f: _Facts, jid: str = CONTACT, unread: int = 1) -> dict[str, Any]:
    return chat(jid, f.instance_id, unread)

def _chats_set(f: _Facts) -> dict[str, Any]:
    return {"chats": [_chat(f), _chat(f, GROUP, 0)]}


def _chats_upsert(f: _Facts) -> dict[str, Any]:
    return _chat(f)


def _chats_update(f: _Facts) -> dict[str, Any]:
    return {**_chat(f, unread=0), "conversationTimestamp": f.seconds}


def _chats_delete(f: _Facts) -> dict[str, Any]:
    return {"remoteJid": CONTACT, "instanceId": f.instance_id}


def _group(f: _Facts) -> dict[str, Any]:
    return group(GROUP, "Equipe de Vendas", OWNER, [OWNER, CONTACT, OTHER], {OTHER}, f.seconds)

def _groups_upsert(f: _Facts) -> dict[str, Any]:
    return _group(f)


def _groups_update(f: _Facts) -> dict[str, Any]:
    return {"id": GROUP, "subject": "Equipe de Vendas 2024", "subjectOwner": OWNER, "subjectTime": f.seconds}


def _group_participants_update(f: _Facts) -> dict[str, Any]:
    return participants(GROUP, OWNER, [OTHER], "add")

def _labels_edit(f: _Facts) -> dict[str, Any]:
    return {"id": "1", "name": "New customer", "color": 1, "deleted": False, "predefinedId": "1"}


def _labels_association(f: _Facts) -> dict[str, Any]:
    return {"instance": f.instance, "type": "add", "chatId": CONTACT, "labelId": "1"}


def _call(f: _Facts) -> dict[str, Any]:
    return call(f.call_id, CONTACT, f.iso, "offer")

def _typebot(f: _Facts) -> dict[str, Any]:
    return {"remoteJid": CONTACT, "url": "https://typebot.example.com", "typebot": "atendimento-v1"}


def _typebot_start(f: _Facts) -> dict[str, Any]:
    return {**_typebot(f), "pushName": PUSH_NAME, "prefilledVariables": {"pushName": PUSH_NAME}}


def _typebot_change_status(f: _Facts) -> dict[str, Any]:
    return {**_typebot(f), "status": "paused"}


_BUILDERS: dict[str, Callable[[_Facts], dict[str, Any]]] = {
    "APPLICATION_STARTUP": _application_startup,
    "INSTANCE_CREATE": _instance_create,
    "INSTANCE_DELETE": _instance_delete,
    "QRCODE_UPDATED": _qrcode_updated,
    "CONNECTION_UPDATE": _connection_update,
    "STATUS_INSTANCE": _status_instance,
    "REMOVE_INSTANCE": _remove_instance,
    "LOGOUT_INSTANCE": _logout_instance,
    "MESSAGES_SET": _messages_set,
    "MESSAGES_UPSERT": _messages_upsert,
    "MESSAGES_EDITED": _messages_edited,
    "MESSAGES_UPDATE": _messages_update,
    "MESSAGES_DELETE": _messages_delete,
    "SEND_MESSAGE": _send_message,
    "SEND_MESSAGE_UPDATE": _send_message_update,
    "CONTACTS_SET": _contacts_set,
    "CONTACTS_UPSERT": _contacts_upsert,
    "CONTACTS_UPDATE": _contacts_update,
    "PRESENCE_UPDATE": _presence_update,
    "CHATS_SET": _chats_set,
    "CHATS_UPSERT": _chats_upsert,
    "CHATS_UPDATE": _chats_update,
    "CHATS_DELETE": _chats_delete,
    "GROUPS_UPSERT": _groups_upsert,
    "GROUPS_UPDATE": _groups_update,
    "GROUP_PARTICIPANTS_UPDATE": _group_participants_update,
    "LABELS_EDIT": _labels_edit,
    "LABELS_ASSOCIATION": _labels_association,
    "CALL": _call,
    "TYPEBOT_START": _typebot_start,
    "TYPEBOT_CHANGE_STATUS": _typebot_change_status,
}


def template(
    event: catalog.Event, instance: str, *, seq: int = 0, now: datetime | None = None
) -> dict[str, Any]:
    """Realistic WhatsApp-shaped ``data`` for ``event`` of ``instance``.

    ``seq`` makes message and call ids distinct between messages; ``now`` fixes the clock (default: now).
    """
    builder = _BUILDERS[event.name]
    return builder(_Facts(event, instance, seq, now or datetime.now(UTC)))
