"""Realistic WhatsApp traffic for the demo: what Evolution API would hand its Kafka publisher.

A :class:`Traffic` is an endless, deterministic iterator of :class:`TrafficEvent` ``(event, instance, data)``
tuples: the same seed (and start time) gives the same traffic. Each instance first connects (``qrcode.updated``,
then ``connection.update`` connecting → open, then the history sync), then lives: conversations
(``messages.upsert``, then ``messages.update`` receipts DELIVERY_ACK → READ, edits and deletes), presence,
chats and contacts, groups and their participants, calls and labels. Texts are Brazilian Portuguese or English,
by contact.

:func:`demo_instances` is the seed set of instances: varied names, one with dots, one disabled, some with
partial event lists, as ``POST /kafka/set/<instance>`` would store them.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import random
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from tui import catalog
from tui.instance_settings import InstanceSettings

DEFAULT_START = 1_709_550_600.0
"""The simulated clock's default start (2024-03-04T11:10:00Z, the reference's example time)."""
DEFAULT_INSTANCES = 5
MAX_INSTANCES = 50

PERSONAL = "@s.whatsapp.net"
GROUP = "@g.us"


class Language(StrEnum):
    """The language a contact (or an instance's operator) writes in."""

    PT = "pt-BR"
    EN = "en"


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


# --- the people and the words ------------------------------------------------------------------------

_AREAS = ("11", "21", "31", "41", "51", "61", "71", "81", "85", "19")
_PT_NAMES = (
    "Ana Souza",
    "Bruno Lima",
    "Carla Mendes",
    "Diego Alves",
    "Fernanda Rocha",
    "Gabriel Costa",
    "Juliana Pereira",
    "Lucas Oliveira",
    "Mariana Santos",
    "Rafael Ribeiro",
    "Tatiane Gomes",
    "Vinícius Martins",
)
_EN_NAMES = (
    "John Doe",
    "Emily Clark",
    "Michael Brown",
    "Sarah Johnson",
    "David Wilson",
    "Olivia Taylor",
    "James Anderson",
    "Sophie Turner",
)
_GROUP_SUBJECTS = {
    Language.PT: ("Equipe Vendas SP", "Clientes VIP", "Família Souza", "Entregadores Zona Sul", "Suporte N2"),
    Language.EN: ("Sales Team", "VIP Customers", "Weekend Plans", "Release Crew", "Support Tier 2"),
}
_OPENERS = {
    Language.PT: (
        "Oi, tudo bem?",
        "Bom dia! Vocês abrem hoje?",
        "Olá, gostaria de fazer um pedido",
        "Qual o prazo de entrega pra Campinas?",
        "Meu pedido ainda não chegou 😕",
        "Vocês aceitam Pix?",
        "Boa tarde, preciso de uma segunda via do boleto",
        "Tem horário disponível amanhã às 14h?",
        "Quanto custa o frete?",
        "Obrigado pelo atendimento!",
    ),
    Language.EN: (
        "Hi there!",
        "Hello, is the store open today?",
        "I'd like to place an order",
        "When will my package arrive?",
        "Can I change my delivery address?",
        "Do you take credit cards?",
        "Thanks for the quick reply!",
        "Is there a slot tomorrow at 2pm?",
        "What's the shipping cost?",
        "My order number is 48213",
    ),
}
_REPLIES = {
    Language.PT: (
        "Olá! Tudo ótimo, e com você? 😊",
        "Bom dia! Abrimos às 8h.",
        "Claro! Pode me mandar o que deseja?",
        "O prazo é de 2 a 3 dias úteis.",
        "Vou verificar com a transportadora e já te retorno.",
        "Aceitamos sim, a chave Pix é o nosso CNPJ.",
        "Segue a segunda via em anexo.",
        "Temos sim, posso confirmar?",
        "O frete fica R$ 12,90.",
        "Nós que agradecemos!",
    ),
    Language.EN: (
        "Hello! How can we help?",
        "Yes, we're open until 6pm.",
        "Sure, what would you like?",
        "It should arrive within 2 business days.",
        "Of course, please send the new address.",
        "We do, all major cards.",
        "You're welcome!",
        "Yes, shall I book it for you?",
        "Shipping is $4.99.",
        "Thanks, checking it now.",
    ),
}
_EDIT_SUFFIX = {Language.PT: " (corrigido)", Language.EN: " (edited)"}
_LABELS = {
    Language.PT: ("Novo cliente", "Pedido pago", "Aguardando", "Pós-venda"),
    Language.EN: ("New customer", "Paid", "Pending", "Follow-up"),
}
_SOURCES = ("android", "ios", "web")


@dataclass(slots=True)
class _Contact:
    jid: str
    name: str
    language: Language


@dataclass(slots=True)
class _Group:
    jid: str
    subject: str
    members: list[str]
    admins: set[str]


@dataclass(slots=True)
class _Sent:
    remote: str
    message_id: str
    from_me: bool
    text: str
    participant: str | None


@dataclass(slots=True)
class _Account:
    """What the generator remembers about one instance's WhatsApp account."""

    instance: DemoInstance
    instance_id: str
    contacts: list[_Contact] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=list)
    recent: deque[_Sent] = field(default_factory=lambda: deque(maxlen=20))
    labels: list[str] = field(default_factory=list)
    connected: bool = False
    paired: bool = False
    queue: deque[tuple[str, Any]] = field(default_factory=deque)


class Traffic(Iterator[TrafficEvent]):
    """An endless, deterministic stream of WhatsApp events for ``instances``.

    ``seed`` fixes every choice; ``start`` (epoch seconds) is the simulated clock's start, which moves on
    by a few random seconds per event and stamps ``messageTimestamp`` and the like.
    """

    def __init__(self, instances: Sequence[DemoInstance], seed: int = 0, start: float = DEFAULT_START) -> None:
        if not instances:
            raise ValueError("traffic needs at least one instance")
        self._rng = random.Random(seed)
        self._clock = float(start)
        self._accounts = [_Account(i, self._uuid()) for i in instances]
        self._owners = {i.name: i.owner for i in instances}

    @property
    def now(self) -> float:
        """The simulated clock (epoch seconds)."""
        return self._clock

    def sender(self, instance: str) -> str | None:
        """The envelope's ``sender`` for ``instance``: its own number's JID."""
        return self._owners.get(instance)

    def take(self, count: int) -> list[TrafficEvent]:
        """The next ``count`` events."""
        return [next(self) for _ in range(count)]

    def __iter__(self) -> Traffic:
        return self

    def __next__(self) -> TrafficEvent:
        rng = self._rng
        # One event at a time from a randomly chosen instance: scenarios interleave across instances, as on
        # a real server, while each instance's own events stay in order.
        account = rng.choice(self._accounts)
        if not account.queue:
            self._plan(account)
        wire, data = account.queue.popleft()
        self._clock += rng.uniform(0.05, 2.5)
        return TrafficEvent(catalog.BY_WIRE[wire], account.instance.name, data)

    # --- scenarios -------------------------------------------------------------------------------------

    def _plan(self, account: _Account) -> None:
        if not account.connected:
            self._connect(account)
            return
        scenarios = (
            (self._conversation, 40),
            (self._presence, 10),
            (self._contact_change, 6),
            (self._chat_change, 6),
            (self._group_change, 8),
            (self._call, 5),
            (self._label, 4),
            (self._disconnect, 1),
        )
        choice = self._rng.choices([s for s, _ in scenarios], weights=[w for _, w in scenarios])[0]
        choice(account)

    def _connect(self, account: _Account) -> None:
        name = account.instance.name
        queue = account.queue
        if not account.paired:
            queue.append(("qrcode.updated", {"qrcode": self._qrcode(name)}))
        queue.append(("connection.update", {"instance": name, "state": "connecting", "statusReason": 200}))
        queue.append(
            (
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
        )
        if not account.paired:
            # The first connection syncs the history: contacts, chats, then recent messages.
            for _ in range(self._rng.randint(3, 5)):
                account.contacts.append(self._new_contact(account.instance.language))
            queue.append(("contacts.set", [self._contact_json(account, c) for c in account.contacts]))
            queue.append(
                (
                    "chats.set",
                    [
                        {"remoteJid": c.jid, "instanceId": account.instance_id, "unreadMessages": 0}
                        for c in account.contacts
                    ],
                )
            )
            old = self._rng.choice(account.contacts)
            text = self._rng.choice(_OPENERS[old.language])
            queue.append(("messages.set", [self._message(account, old.jid, False, text, old.name, None)[1]]))
            queue.append(("groups.upsert", [self._group_json(account, self._new_group(account))]))
        account.paired = True
        account.connected = True

    def _disconnect(self, account: _Account) -> None:
        name = account.instance.name
        # 428: the connection was closed by the server; Evolution reconnects with the stored session.
        account.queue.append(("connection.update", {"instance": name, "state": "close", "statusReason": 428}))
        account.connected = False

    def _conversation(self, account: _Account) -> None:
        rng, queue = self._rng, account.queue
        in_group = bool(account.groups) and rng.random() < 0.25
        if in_group:
            group = rng.choice(account.groups)
            remote, author = group.jid, rng.choice(group.members)
            contact = self._contact_by_jid(account, author) or _Contact(author, rng.choice(_PT_NAMES), Language.PT)
        else:
            contact = self._pick_contact(account)
            remote, author = contact.jid, contact.jid
        language = contact.language
        queue.append(self._presence_json(author, "composing"))
        opener = rng.choice(_OPENERS[language])
        message_id, upsert = self._message(account, remote, False, opener, contact.name, author if in_group else None)
        queue.append(("messages.upsert", upsert))
        account.recent.append(_Sent(remote, message_id, False, opener, author if in_group else None))
        queue.append(("chats.update", [{"remoteJid": remote, "unreadMessages": rng.randint(1, 3)}]))
        # The operator reads, answers, and the answer is delivered then read.
        reply = rng.choice(_REPLIES[language])
        reply_id, sent = self._message(
            account, remote, True, reply, account.instance.profile_name, None, status="PENDING"
        )
        queue.append(("send.message", sent))
        queue.append(("messages.upsert", sent))
        account.recent.append(_Sent(remote, reply_id, True, reply, None))
        queue.append(("messages.update", self._receipt(account, remote, reply_id, True, "DELIVERY_ACK")))
        queue.append(("send.message.update", self._receipt(account, remote, reply_id, True, "DELIVERY_ACK")))
        queue.append(("messages.update", self._receipt(account, remote, reply_id, True, "READ")))
        queue.append(("chats.update", [{"remoteJid": remote, "unreadMessages": 0}]))
        roll = rng.random()
        if roll < 0.2:
            queue.append(("messages.edited", self._edit(account, remote, reply_id, reply + _EDIT_SUFFIX[language])))
        elif roll < 0.3:
            queue.append(("messages.delete", {"remoteJid": remote, "fromMe": True, "id": reply_id}))
        queue.append(self._presence_json(author, "paused" if rng.random() < 0.5 else "available"))

    def _presence(self, account: _Account) -> None:
        contact = self._pick_contact(account)
        state = self._rng.choice(("available", "unavailable", "composing", "recording", "paused"))
        account.queue.append(self._presence_json(contact.jid, state))

    def _contact_change(self, account: _Account) -> None:
        if self._rng.random() < 0.5 or not account.contacts:
            contact = self._new_contact(self._language_for(account))
            account.contacts.append(contact)
            account.queue.append(("contacts.upsert", [self._contact_json(account, contact)]))
            account.queue.append(
                ("chats.upsert", [{"remoteJid": contact.jid, "instanceId": account.instance_id, "unreadMessages": 0}])
            )
        else:
            contact = self._rng.choice(account.contacts)
            account.queue.append(("contacts.update", [self._contact_json(account, contact)]))

    def _chat_change(self, account: _Account) -> None:
        contact = self._pick_contact(account)
        if self._rng.random() < 0.15:
            account.queue.append(("chats.delete", [contact.jid]))
        else:
            archived = self._rng.random() < 0.3
            account.queue.append(
                ("chats.update", [{"remoteJid": contact.jid, "archived": archived, "unreadMessages": 0}])
            )

    def _group_change(self, account: _Account) -> None:
        rng = self._rng
        if not account.groups or rng.random() < 0.2:
            group = self._new_group(account)
            account.queue.append(("groups.upsert", [self._group_json(account, group)]))
            return
        group = rng.choice(account.groups)
        owner = account.instance.owner
        action = rng.choice(("add", "add", "remove", "promote", "subject"))
        if action == "subject":
            group.subject = rng.choice(_GROUP_SUBJECTS[self._language_for(account)])
            account.queue.append(("groups.update", [{"id": group.jid, "subject": group.subject, "author": owner}]))
            return
        if action == "add" or len(group.members) < 3:
            newcomer = self._pick_contact(account).jid
            if newcomer in group.members:
                newcomer = self._new_contact(self._language_for(account)).jid
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
        account.queue.append(
            (
                "group-participants.update",
                {"id": group.jid, "author": owner, "participants": [who], "action": action},
            )
        )

    def _call(self, account: _Account) -> None:
        rng = self._rng
        contact = self._pick_contact(account)
        call = {
            "id": self._hex(32),
            "from": contact.jid,
            "chatId": contact.jid,
            "date": self._iso(),
            "offline": False,
            "isVideo": rng.random() < 0.3,
            "isGroup": False,
        }
        account.queue.append(("call", {**call, "status": "offer"}))
        account.queue.append(("call", {**call, "status": rng.choice(("reject", "timeout", "accept"))}))

    def _label(self, account: _Account) -> None:
        rng = self._rng
        language = self._language_for(account)
        if not account.labels or rng.random() < 0.3:
            name = rng.choice(_LABELS[language])
            if name not in account.labels:
                account.labels.append(name)
            label_id = str(account.labels.index(name) + 1)
            account.queue.append(
                ("labels.edit", {"id": label_id, "name": name, "color": rng.randint(0, 19), "deleted": False})
            )
        label_id = str(rng.randint(1, len(account.labels)))
        contact = self._pick_contact(account)
        account.queue.append(
            (
                "labels.association",
                {
                    "instance": account.instance.name,
                    "type": "add" if rng.random() < 0.8 else "remove",
                    "chatId": contact.jid,
                    "labelId": label_id,
                },
            )
        )

    # --- shapes ------------------------------------------------------------------------------------------

    def _message(
        self,
        account: _Account,
        remote: str,
        from_me: bool,
        text: str,
        push_name: str,
        participant: str | None,
        *,
        status: str = "DELIVERY_ACK",
    ) -> tuple[str, dict[str, Any]]:
        message_id = "3EB0" + self._hex(16)
        key: dict[str, Any] = {"remoteJid": remote, "fromMe": from_me, "id": message_id}
        if participant is not None:
            key["participant"] = participant
        if not from_me and self._rng.random() < 0.15:
            message: dict[str, Any] = {
                "imageMessage": {
                    "caption": text,
                    "mimetype": "image/jpeg",
                    "fileLength": str(self._rng.randint(20_000, 400_000)),
                    "url": f"https://mmg.whatsapp.net/v/t62.7118-24/{self._hex(20).lower()}.enc",
                }
            }
            message_type = "imageMessage"
        else:
            message, message_type = {"conversation": text}, "conversation"
        data = {
            "key": key,
            "pushName": push_name,
            "status": status,
            "message": message,
            "messageType": message_type,
            "messageTimestamp": int(self._clock),
            "instanceId": account.instance_id,
            "source": self._rng.choice(_SOURCES),
        }
        return message_id, data

    def _receipt(self, account: _Account, remote: str, message_id: str, from_me: bool, status: str) -> dict[str, Any]:
        return {
            "messageId": message_id,
            "keyId": message_id,
            "remoteJid": remote,
            "fromMe": from_me,
            "participant": remote,
            "status": status,
            "instanceId": account.instance_id,
        }

    def _edit(self, account: _Account, remote: str, message_id: str, text: str) -> dict[str, Any]:
        key = {"remoteJid": remote, "fromMe": True, "id": message_id}
        return {
            "key": key,
            "message": {
                "protocolMessage": {
                    "key": key,
                    "type": "MESSAGE_EDIT",
                    "editedMessage": {"conversation": text},
                    "timestampMs": str(int(self._clock * 1000)),
                }
            },
            "messageType": "protocolMessage",
            "messageTimestamp": int(self._clock),
            "instanceId": account.instance_id,
        }

    @staticmethod
    def _presence_json(jid: str, state: str) -> tuple[str, Any]:
        return ("presence.update", {"id": jid, "presences": {jid: {"lastKnownPresence": state}}})

    def _contact_json(self, account: _Account, contact: _Contact) -> dict[str, Any]:
        picture = (
            f"https://pps.whatsapp.net/v/t61.24694-24/{self._hex(16).lower()}.jpg" if self._rng.random() < 0.6 else None
        )
        return {
            "remoteJid": contact.jid,
            "pushName": contact.name,
            "profilePicUrl": picture,
            "instanceId": account.instance_id,
        }

    def _group_json(self, account: _Account, group: _Group) -> dict[str, Any]:
        owner = account.instance.owner
        return {
            "id": group.jid,
            "subject": group.subject,
            "subjectOwner": owner,
            "subjectTime": int(self._clock),
            "size": len(group.members),
            "creation": int(self._clock),
            "owner": owner,
            "desc": None,
            "restrict": False,
            "announce": False,
            "participants": [
                {"id": m, "admin": "superadmin" if m == owner else ("admin" if m in group.admins else None)}
                for m in group.members
            ],
        }

    def _qrcode(self, name: str) -> dict[str, Any]:
        ref = self._hex(24)
        return {
            "instance": name,
            "pairingCode": None,
            "code": f"2@{ref},{self._hex(43)},{self._hex(43)},{self._hex(43)}=",
            "base64": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAQAAAAEAAQMAAABmvDolAAAABlBMVEX///8AAABVwtN+",
        }

    # --- people ------------------------------------------------------------------------------------------

    def _language_for(self, account: _Account) -> Language:
        # Mostly the instance's own language, now and then the other one.
        if self._rng.random() < 0.8:
            return account.instance.language
        return Language.EN if account.instance.language is Language.PT else Language.PT

    def _new_contact(self, language: Language) -> _Contact:
        rng = self._rng
        area = rng.choice(_AREAS)
        jid = f"55{area}9{rng.randint(0, 99_999_999):08d}{PERSONAL}"
        name = rng.choice(_PT_NAMES if language is Language.PT else _EN_NAMES)
        return _Contact(jid, name, language)

    def _pick_contact(self, account: _Account) -> _Contact:
        if not account.contacts or self._rng.random() < 0.05:
            account.contacts.append(self._new_contact(self._language_for(account)))
        return self._rng.choice(account.contacts)

    @staticmethod
    def _contact_by_jid(account: _Account, jid: str) -> _Contact | None:
        return next((c for c in account.contacts if c.jid == jid), None)

    def _new_group(self, account: _Account) -> _Group:
        rng = self._rng
        jid = f"120363{rng.randint(0, 999_999_999_999):012d}{GROUP}"
        owner = account.instance.owner
        # dict.fromkeys, not a set: a set's order follows string hashing, which changes from run to run.
        picked = dict.fromkeys(self._pick_contact(account).jid for _ in range(rng.randint(2, 4)))
        members = [owner, *picked]
        group = _Group(jid, rng.choice(_GROUP_SUBJECTS[self._language_for(account)]), members, set())
        account.groups.append(group)
        return group

    # --- ids and times -----------------------------------------------------------------------------------

    def _hex(self, length: int) -> str:
        return f"{self._rng.getrandbits(length * 4):0{length}X}"

    def _uuid(self) -> str:
        raw = f"{self._rng.getrandbits(128):032x}"
        return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-a{raw[17:20]}-{raw[20:]}"

    def _iso(self) -> str:
        moment = datetime.fromtimestamp(self._clock, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
