"""Realistic WhatsApp traffic for the demo: what Evolution API would hand its Kafka publisher.

A :class:`Traffic` is an endless, deterministic iterator of :class:`TrafficEvent` ``(event, instance, data)``
tuples: the same seed (and start time) gives the same traffic. Each instance first connects (``qrcode.updated``,
then ``connection.update`` connecting → open, then the history sync), then lives: conversations
(``messages.upsert``, the answer's ``send.message`` and receipts SERVER_ACK → DELIVERY_ACK → READ, edits and
deletes), presence,
chats and contacts, groups and their participants, calls and labels. Texts are Brazilian Portuguese or English,
by contact. The message flows (a message's whole life, one never acknowledged) are in
:mod:`tui.demo.conversations`; the people and words in :mod:`tui.demo.words`; what the traffic remembers per
account in :mod:`tui.demo.world`; the payloads are :mod:`tui.templates`' shapes.

:func:`demo_instances` is the seed set of instances: varied names, one with dots, one disabled, some with
partial event lists, as ``POST /kafka/set/<instance>`` would store them.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from tui import catalog, templates
from tui.demo import conversations, words
from tui.demo.words import Language
from tui.demo.world import PERSONAL, Account, Group, World
from tui.instance_settings import InstanceSettings

DEFAULT_START = 1_709_550_600.0
"""The simulated clock's default start (2024-03-04T11:10:00Z, the reference's example time)."""
DEFAULT_INSTANCES = 5
MAX_INSTANCES = 50


class TrafficEvent(NamedTuple):
    """One event as Evolution API hands it to its publisher."""

    event: catalog.Event
    instance: str
    data: Any


@dataclass(frozen=True, slots=True)
class DemoInstance:
    """A seeded instance: its name, its Kafka settings and the WhatsApp account behind it."""

    name: str
    settings: InstanceSettings
    owner: str
    """The instance's own number as a JID: the envelope's ``sender``."""
    profile_name: str
    language: Language
    apikey: str
    """The instance's token, as Evolution API puts it in the envelope's ``apikey`` (a secret: shown masked)."""


# name, profile name, language, enabled, events (empty = all). Ordered so that the first five already show
# every case: all events, dots in the name with the reference's own partial list, another partial list,
# a disabled instance.
_SEEDS: tuple[tuple[str, str, Language, bool, tuple[str, ...]], ...] = (
    ("acme-sales", "ACME Vendas", Language.PT, True, ()),
    (
        "acme.support.br",
        "ACME Suporte",
        Language.PT,
        True,
        ("MESSAGES_UPSERT", "MESSAGES_UPDATE", "QRCODE_UPDATED", "CONNECTION_UPDATE"),
    ),
    (
        "padaria_do_joao",
        "Padaria do João",
        Language.PT,
        True,
        (
            "MESSAGES_UPSERT",
            "MESSAGES_UPDATE",
            "MESSAGES_EDITED",
            "MESSAGES_DELETE",
            "PRESENCE_UPDATE",
            "CHATS_UPSERT",
            "CHATS_UPDATE",
            "CALL",
        ),
    ),
    ("legacy-bot", "Legacy Bot", Language.EN, False, ()),
    ("globex_helpdesk", "Globex Helpdesk", Language.EN, True, ()),
    (
        "clinica-vida",
        "Clínica Vida",
        Language.PT,
        True,
        ("MESSAGES_UPSERT", "MESSAGES_UPDATE", "CONNECTION_UPDATE", "GROUPS_UPSERT", "GROUP_PARTICIPANTS_UPDATE"),
    ),
    ("escola.online", "Escola Online", Language.PT, True, ()),
    ("delivery-rapido", "Delivery Rápido", Language.PT, True, ("MESSAGES_UPSERT", "SEND_MESSAGE", "CALL")),
)


def _owner_number(name: str) -> str:
    # Derived from the name, so an instance keeps its number whatever the seed and the order.
    digits = f"{zlib.crc32(name.encode()) % 100_000_000:08d}"
    return f"55119{digits}{PERSONAL}"


def _token(name: str) -> str:
    # Shaped like Evolution API's instance tokens (32 upper-case hex digits), stable per name.
    return "".join(f"{zlib.crc32(f'{name}:{part}'.encode()):08X}" for part in range(4))


def demo_instances(count: int = DEFAULT_INSTANCES) -> list[DemoInstance]:
    """The first ``count`` seeded instances (beyond the named ones: ``demo-09``, ``demo-10``, …).

    ``count`` must be between 1 and :data:`MAX_INSTANCES`.
    """
    if not 1 <= count <= MAX_INSTANCES:
        raise ValueError(f"instances must be between 1 and {MAX_INSTANCES}, not {count}")
    out: list[DemoInstance] = []
    for index in range(count):
        if index < len(_SEEDS):
            name, profile, language, enabled, events = _SEEDS[index]
        else:
            name = f"demo-{index + 1:02d}"
            profile, language, enabled, events = f"Demo {index + 1}", Language.PT, True, ()
        settings = InstanceSettings.from_request(enabled, events)
        out.append(DemoInstance(name, settings, _owner_number(name), profile, language, _token(name)))
    return out


def seed_settings(instances: Sequence[DemoInstance]) -> dict[str, InstanceSettings]:
    """``{name: settings}`` for the registry."""
    return {i.name: i.settings for i in instances}


class Traffic(Iterator[TrafficEvent]):
    """An endless, deterministic stream of WhatsApp events for ``instances``.

    ``seed`` fixes every choice; ``start`` (epoch seconds) is the simulated clock's start, which moves on
    by a few random seconds per event and stamps ``messageTimestamp`` and the like. With ``wall`` (``time.time``)
    the clock follows it instead: the live demo's timestamps are the time the events are made.
    """

    def __init__(
        self,
        instances: Sequence[DemoInstance],
        seed: int = 0,
        start: float = DEFAULT_START,
        wall: Callable[[], float] | None = None,
    ) -> None:
        if not instances:
            raise ValueError("traffic needs at least one instance")
        self._world = world = World(seed, start, wall)
        self._accounts = [Account(i, world.uuid()) for i in instances]
        self._owners = {i.name: i.owner for i in instances}
        self._scenarios: tuple[tuple[Callable[[World, Account], None], int], ...] = (
            (conversations.conversation, 40),
            (conversations.unacknowledged, 2),
            (_presence, 10),
            (_contact_change, 6),
            (_chat_change, 6),
            (_group_change, 8),
            (_call, 5),
            (_label, 4),
            (_disconnect, 1),
        )

    @property
    def now(self) -> float:
        """The simulated clock (epoch seconds)."""
        return self._world.clock

    def sender(self, instance: str) -> str | None:
        """The envelope's ``sender`` for ``instance``: its own number's JID."""
        return self._owners.get(instance)

    def take(self, count: int) -> list[TrafficEvent]:
        """The next ``count`` events."""
        return [next(self) for _ in range(count)]

    def __iter__(self) -> Traffic:
        return self

    def __next__(self) -> TrafficEvent:
        world = self._world
        # One event at a time from a randomly chosen instance: scenarios interleave across instances, as on
        # a real server, while each instance's own events stay in order.
        account = world.rng.choice(self._accounts)
        if not account.queue:
            self._plan(account)
        wire, data = account.queue.popleft()
        world.tick()
        return TrafficEvent(catalog.BY_WIRE[wire], account.instance.name, data)

    def _plan(self, account: Account) -> None:
        if not account.connected:
            _connect(self._world, account)
            return
        scenarios = self._scenarios
        choice = self._world.rng.choices([s for s, _ in scenarios], weights=[w for _, w in scenarios])[0]
        choice(self._world, account)


# --- scenarios -------------------------------------------------------------------------------------------


def _connect(world: World, account: Account) -> None:
    name = account.instance.name
    if not account.paired:
        account.emit("qrcode.updated", {"qrcode": templates.qrcode(name, _qrcode_text(world))})
    account.emit("connection.update", {"instance": name, "state": "connecting", "statusReason": 200})
    account.emit(
        "connection.update",
        {
            "instance": name,
            "wuid": account.instance.owner,
            "profileName": account.instance.profile_name,
            "profilePictureUrl": None,
            "state": "open",
            "statusReason": 200,
        },
    )
    if not account.paired:
        # The first connection syncs the history: contacts, chats, then recent messages.
        for _ in range(world.rng.randint(3, 5)):
            account.contacts.append(world.new_contact(account.instance.language))
        account.emit("contacts.set", [_contact_json(world, account, c.jid, c.name) for c in account.contacts])
        account.emit("chats.set", [templates.chat(c.jid, account.instance_id, 0) for c in account.contacts])
        old = world.rng.choice(account.contacts)
        text = world.rng.choice(words.OPENERS[old.language])
        account.emit("messages.set", [conversations.message(world, account, old.jid, False, text, old.name, None)[1]])
        account.emit("groups.upsert", [_group_json(world, account, world.new_group(account))])
    account.paired = True
    account.connected = True


def _disconnect(world: World, account: Account) -> None:
    # 428: the connection was closed by the server; Evolution reconnects with the stored session.
    account.emit("connection.update", {"instance": account.instance.name, "state": "close", "statusReason": 428})
    account.connected = False


def _presence(world: World, account: Account) -> None:
    contact = world.pick_contact(account)
    state = world.rng.choice(("available", "unavailable", "composing", "recording", "paused"))
    account.emit("presence.update", templates.presence(contact.jid, state))


def _contact_change(world: World, account: Account) -> None:
    if world.rng.random() < 0.5 or not account.contacts:
        contact = world.new_contact(world.language_for(account))
        account.contacts.append(contact)
        account.emit("contacts.upsert", [_contact_json(world, account, contact.jid, contact.name)])
        account.emit("chats.upsert", [templates.chat(contact.jid, account.instance_id, 0)])
    else:
        contact = world.rng.choice(account.contacts)
        account.emit("contacts.update", [_contact_json(world, account, contact.jid, contact.name)])


def _chat_change(world: World, account: Account) -> None:
    contact = world.pick_contact(account)
    if world.rng.random() < 0.15:
        account.emit("chats.delete", [contact.jid])
    else:
        archived = world.rng.random() < 0.3
        account.emit("chats.update", [{"remoteJid": contact.jid, "archived": archived, "unreadMessages": 0}])


def _group_change(world: World, account: Account) -> None:
    rng = world.rng
    if not account.groups or rng.random() < 0.2:
        account.emit("groups.upsert", [_group_json(world, account, world.new_group(account))])
        return
    group = rng.choice(account.groups)
    owner = account.instance.owner
    action = rng.choice(("add", "add", "remove", "promote", "subject"))
    if action == "subject":
        group.subject = rng.choice(words.GROUP_SUBJECTS[world.language_for(account)])
        account.emit("groups.update", [{"id": group.jid, "subject": group.subject, "author": owner}])
        return
    if action == "add" or len(group.members) < 3:
        newcomer = world.pick_contact(account).jid
        if newcomer in group.members:
            newcomer = world.new_contact(world.language_for(account)).jid
        group.members.append(newcomer)
        who, action = newcomer, "add"
    elif action == "remove":
        who = rng.choice([m for m in group.members if m != owner] or group.members)
        if who in group.members and who != owner:
            group.members.remove(who)
        group.admins.discard(who)
    else:
        who = rng.choice([m for m in group.members if m != owner] or group.members)
        group.admins.add(who)
    account.emit("group-participants.update", templates.participants(group.jid, owner, [who], action))


def _call(world: World, account: Account) -> None:
    rng = world.rng
    contact = world.pick_contact(account)
    call_id, iso, video = world.hex(32), world.iso(), rng.random() < 0.3
    account.emit("call", templates.call(call_id, contact.jid, iso, "offer", video=video))
    outcome = rng.choice(("reject", "timeout", "accept"))
    account.emit("call", templates.call(call_id, contact.jid, iso, outcome, video=video))


def _label(world: World, account: Account) -> None:
    rng = world.rng
    language = world.language_for(account)
    if not account.labels or rng.random() < 0.3:
        name = rng.choice(words.LABELS[language])
        if name not in account.labels:
            account.labels.append(name)
        label_id = str(account.labels.index(name) + 1)
        account.emit("labels.edit", {"id": label_id, "name": name, "color": rng.randint(0, 19), "deleted": False})
    label_id = str(rng.randint(1, len(account.labels)))
    contact = world.pick_contact(account)
    kind = "add" if rng.random() < 0.8 else "remove"
    account.emit(
        "labels.association",
        {"instance": account.instance.name, "type": kind, "chatId": contact.jid, "labelId": label_id},
    )


# --- shapes ------------------------------------------------------------------------------------------------


def _contact_json(world: World, account: Account, jid: str, name: str) -> dict[str, Any]:
    picture = (
        f"https://pps.whatsapp.net/v/t61.24694-24/{world.hex(16).lower()}.jpg" if world.rng.random() < 0.6 else None
    )
    return templates.contact(jid, name, account.instance_id, picture)


def _group_json(world: World, account: Account, group: Group) -> dict[str, Any]:
    owner = account.instance.owner
    return templates.group(group.jid, group.subject, owner, group.members, group.admins, world.seconds)


def _qrcode_text(world: World) -> str:
    return f"2@{world.hex(24)},{world.hex(43)},{world.hex(43)},{world.hex(43)}="


GENERATED_EVENTS: frozenset[str] = frozenset(
    {
        "qrcode.updated",
        "connection.update",
        "messages.set",
        "messages.upsert",
        "messages.edited",
        "messages.update",
        "messages.delete",
        "send.message",
        "send.message.update",
        "contacts.set",
        "contacts.upsert",
        "contacts.update",
        "presence.update",
        "chats.set",
        "chats.upsert",
        "chats.update",
        "chats.delete",
        "groups.upsert",
        "groups.update",
        "group-participants.update",
        "labels.edit",
        "labels.association",
        "call",
    }
)
"""The wire names the demo traffic can contain (the catalog's default-on events)."""
