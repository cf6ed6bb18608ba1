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
        return {"remoteJid": remote, "fromMe": from_me, "id": self.message_id}

    def message(self, text: str, *, from_me: bool = False, status: str = "DELIVERY_ACK") -> dict[str, Any]:
        return {
            "key": self.key(from_me),
            "pushName": PROFILE_NAME if from_me else PUSH_NAME,
            "status": status,
            "message": {"conversation": text},
            "messageType": "conversation",
            "messageTimestamp": self.seconds,
            "instanceId": self.instance_id,
            "source": "android",
        }


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
    return {
        "qrcode": {
            "instance": f.instance,
            "pairingCode": None,
            "code": f"2@{ref},{f.call_id[:43]},{f.call_id[-20:]}=",
            "base64": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAQAAAAEAAQMAAABmvDolAAAABlBMVEX///8AAABVwtN+",
        }
    }


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
    key = f.key(from_me=True)
    return {
        "key": key,
        "message": {
            "protocolMessage": {
                "key": key,
                "type": "MESSAGE_EDIT",
                "editedMessage": {"conversation": "Hello from WhatsApp! (edited)"},
                "timestampMs": str(f.millis),
            }
        },
        "messageType": "protocolMessage",
        "messageTimestamp": f.seconds,
        "instanceId": f.instance_id,
    }


def _messages_update(f: _Facts) -> dict[str, Any]:
    return {
        "messageId": f.message_id,
        "keyId": f.message_id,
        "remoteJid": CONTACT,
        "fromMe": True,
        "participant": CONTACT,
        "status": "READ",
        "instanceId": f.instance_id,
    }


def _messages_delete(f: _Facts) -> dict[str, Any]:
    return {"remoteJid": CONTACT, "fromMe": False, "id": f.message_id, "participant": None}


def _send_message(f: _Facts) -> dict[str, Any]:
    return f.message("Your order #4821 has shipped.", from_me=True, status="PENDING")


def _send_message_update(f: _Facts) -> dict[str, Any]:
    return {
        "messageId": f.message_id,
        "keyId": f.message_id,
        "remoteJid": CONTACT,
        "fromMe": True,
        "status": "SERVER_ACK",
        "instanceId": f.instance_id,
    }


def _contact(f: _Facts, jid: str = CONTACT, name: str = PUSH_NAME) -> dict[str, Any]:
    return {"remoteJid": jid, "pushName": name, "profilePicUrl": None, "instanceId": f.instance_id}


def _contacts_set(f: _Facts) -> dict[str, Any]:
    return {"contacts": [_contact(f), _contact(f, OTHER, "Maria Silva")]}


def _contacts_upsert(f: _Facts) -> dict[str, Any]:
    return _contact(f)


def _contacts_update(f: _Facts) -> dict[str, Any]:
    return {
        "remoteJid": CONTACT,
        "pushName": PUSH_NAME,
        "profilePicUrl": "https://pps.whatsapp.net/v/t61.24694-24/123456789_n.jpg",
        "instanceId": f.instance_id,
    }


def _presence_update(f: _Facts) -> dict[str, Any]:
    return {"id": CONTACT, "presences": {CONTACT: {"lastKnownPresence": "composing"}}}


def _chat(f: _Facts, jid: str = CONTACT, unread: int = 1) -> dict[str, Any]:
    return {"remoteJid": jid, "instanceId": f.instance_id, "unreadMessages": unread}


def _chats_set(f: _Facts) -> dict[str, Any]:
    return {"chats": [_chat(f), _chat(f, GROUP, 0)]}


def _chats_upsert(f: _Facts) -> dict[str, Any]:
    return _chat(f)


def _chats_update(f: _Facts) -> dict[str, Any]:
    return {**_chat(f, unread=0), "conversationTimestamp": f.seconds}


def _chats_delete(f: _Facts) -> dict[str, Any]:
    return {"remoteJid": CONTACT, "instanceId": f.instance_id}


def _group(f: _Facts) -> dict[str, Any]:
    return {
        "id": GROUP,
        "subject": "Equipe de Vendas",
        "subjectOwner": OWNER,
        "subjectTime": f.seconds,
        "size": 3,
        "creation": f.seconds,
        "owner": OWNER,
        "desc": None,
        "restrict": False,
        "announce": False,
        "participants": [
            {"id": OWNER, "admin": "superadmin"},
            {"id": CONTACT, "admin": None},
            {"id": OTHER, "admin": "admin"},
        ],
    }


def _groups_upsert(f: _Facts) -> dict[str, Any]:
    return _group(f)


def _groups_update(f: _Facts) -> dict[str, Any]:
    return {"id": GROUP, "subject": "Equipe de Vendas 2024", "subjectOwner": OWNER, "subjectTime": f.seconds}


def _group_participants_update(f: _Facts) -> dict[str, Any]:
    return {"id": GROUP, "author": OWNER, "participants": [OTHER], "action": "add"}


def _labels_edit(f: _Facts) -> dict[str, Any]:
    return {"id": "1", "name": "New customer", "color": 1, "deleted": False, "predefinedId": "1"}


def _labels_association(f: _Facts) -> dict[str, Any]:
    return {"instance": f.instance, "type": "add", "chatId": CONTACT, "labelId": "1"}


def _call(f: _Facts) -> dict[str, Any]:
    return {
        "id": f.call_id,
        "from": CONTACT,
        "chatId": CONTACT,
        "date": f.iso,
        "isVideo": False,
        "isGroup": False,
        "status": "offer",
        "offline": False,
    }


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
