"""The message flows of the demo's traffic: what ``evokafka trace`` follows.

A conversation: the contact types and writes (``messages.upsert``), the operator answers — ``send.message``,
``messages.upsert``, then the receipts ``messages.update`` SERVER_ACK → DELIVERY_ACK (with
``send.message.update``) → READ — and now and then edits the answer (``messages.edited``), deletes it
(``messages.delete``), or both. An unacknowledged message: the operator sends to a phone that is off, and
nothing ever comes back (``send.message`` and ``messages.upsert`` with status PENDING, no receipt).

Payloads are :mod:`tui.templates`' shapes. Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui import templates
from tui.demo import words
from tui.demo.world import Account, Contact, Sent, World

EDIT_SHARE = 0.2
"""Share of answers that are edited after being read."""
DELETE_SHARE = 0.1
"""Share of answers that are deleted after being read."""
EDIT_THEN_DELETE_SHARE = 0.1
"""Share of answers edited, then deleted: the whole life of a message."""
RECEIPTS = ("SERVER_ACK", "DELIVERY_ACK", "READ")
"""The receipts of a message that reached its reader, in order."""


def message(
    world: World,
    account: Account,
    remote: str,
    from_me: bool,
    text: str,
    push_name: str,
    participant: str | None,
    *,
    status: str = "DELIVERY_ACK",
) -> tuple[str, dict[str, Any]]:
    """A new message's id and data (contacts send an image now and then)."""
    rng = world.rng
    message_id = world.message_id()
    key = templates.message_key(remote, from_me, message_id, participant)
    image: dict[str, Any] | None = None
    if not from_me and rng.random() < 0.15:
        image = {
            "mimetype": "image/jpeg",
            "fileLength": str(rng.randint(20_000, 400_000)),
            "url": f"https://mmg.whatsapp.net/v/t62.7118-24/{world.hex(20).lower()}.enc",
        }
    data = templates.message(
        key,
        push_name,
        text,
        seconds=world.seconds,
        instance_id=account.instance_id,
        status=status,
        source=rng.choice(words.SOURCES),
        image=image,
    )
    return message_id, data


def conversation(world: World, account: Account) -> None:
    """A contact writes, the operator answers; the answer is acknowledged, read, maybe edited and deleted."""
    rng = world.rng
    in_group = bool(account.groups) and rng.random() < 0.25
    if in_group:
        group = rng.choice(account.groups)
        remote, author = group.jid, rng.choice(group.members)
        contact = world.contact_by_jid(account, author) or Contact(
            author, rng.choice(words.PT_NAMES), words.Language.PT
        )
    else:
        contact = world.pick_contact(account)
        remote, author = contact.jid, contact.jid
    language = contact.language
    participant = author if in_group else None
    account.emit("presence.update", templates.presence(author, "composing"))
    opener = rng.choice(words.OPENERS[language])
    message_id, upsert = message(world, account, remote, False, opener, contact.name, participant)
    account.emit("messages.upsert", upsert)
    account.recent.append(Sent(remote, message_id, False, opener, participant))
    account.emit("chats.update", [{"remoteJid": remote, "unreadMessages": rng.randint(1, 3)}])
    # The operator reads, answers, and the answer is acknowledged by the server, delivered, then read.
    reply = rng.choice(words.REPLIES[language])
    reply_id, _ = _send(world, account, remote, reply)
    receipt = _receipts(account, remote, reply_id)
    account.emit("messages.update", receipt("SERVER_ACK"))
    account.emit("messages.update", receipt("DELIVERY_ACK"))
    account.emit("send.message.update", receipt("DELIVERY_ACK"))
    account.emit("messages.update", receipt("READ"))
    account.emit("chats.update", [{"remoteJid": remote, "unreadMessages": 0}])
    roll = rng.random()
    edited = roll < EDIT_SHARE + EDIT_THEN_DELETE_SHARE
    deleted = EDIT_SHARE <= roll < EDIT_SHARE + EDIT_THEN_DELETE_SHARE + DELETE_SHARE
    if edited:
        world.tick()  # an edit comes a little later: its own timestamp
        key = templates.message_key(remote, True, reply_id)
        text = reply + words.EDIT_SUFFIX[language]
        account.emit("messages.edited", templates.edit(key, text, millis=world.millis, instance_id=account.instance_id))
    if deleted:
        account.emit("messages.delete", templates.deletion(remote, True, reply_id))
    account.emit("presence.update", templates.presence(author, "paused" if rng.random() < 0.5 else "available"))


def unacknowledged(world: World, account: Account) -> None:
    """The operator writes to a phone that stays off: the message is sent and stored, and never acknowledged."""
    contact = world.pick_contact(account)
    text = world.rng.choice(words.REPLIES[contact.language])
    _send(world, account, contact.jid, text)


def _send(world: World, account: Account, remote: str, text: str) -> tuple[str, dict[str, Any]]:
    """The operator sends ``text``: ``send.message`` then ``messages.upsert``, both PENDING."""
    message_id, sent = message(
        world, account, remote, True, text, account.instance.profile_name, None, status="PENDING"
    )
    account.emit("send.message", sent)
    account.emit("messages.upsert", sent)
    account.recent.append(Sent(remote, message_id, True, text, None))
    return message_id, sent


def _receipts(account: Account, remote: str, message_id: str) -> Callable[[str], dict[str, Any]]:
    def receipt(status: str) -> dict[str, Any]:
        return templates.receipt(message_id, remote, True, status, account.instance_id, participant=remote)

    return receipt
