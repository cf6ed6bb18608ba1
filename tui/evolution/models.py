"""Evolution API's JSON shapes, parsed and produced: instances, Kafka records, error bodies.

Shapes as Evolution API v2 answers them (EvolutionAPI/evolution-api):

- ``GET /instance/fetchInstances`` → a JSON array of Prisma ``Instance`` rows (``prisma/*-schema.prisma``, model
  ``Instance``; returned by ``WAMonitoringService.instanceInfo`` in ``src/api/services/monitor.service.ts``):
  ``id, name, connectionStatus (open|close|connecting), ownerJid, profileName, profilePicUrl, integration,
  number, businessId, token, clientName, createdAt, updatedAt`` plus included relations.
- ``GET /kafka/find/<instance>`` → the ``Kafka`` row ``{id, enabled, events, createdAt, updatedAt, instanceId}``
  (``prisma/postgresql-migrations/20250918182355_add_kafka_integration/migration.sql``) or ``null``.
- ``POST /kafka/set/<instance>`` with ``{"kafka": {"enabled", "events"}}`` → 201 and the stored row; disabled
  stores no events, enabled with an empty list stores ``EventController.events``
  (``src/api/integrations/event/event.controller.ts``).
- errors → ``{"status", "error", "response": {"message"}}`` (the error handler in ``src/main.ts``).

Evolution's "all events" list (``EventController.events``, :data:`tui.routing.EVOLUTION_ALL_EVENTS`) has 31
names, ``SEND_MESSAGE_UPDATE`` and ``GROUP_UPDATE`` among them; its publisher matches the name derived from the
wire name, so ``groups.update`` (``GROUPS_UPDATE``, which the schema refuses) never reaches a per-instance topic:
:func:`silently_missed` says so, for the UI and the CLI.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tui import catalog
from tui.instance_settings import InstanceSettings
from tui.routing import EVOLUTION_ALL_EVENTS, evolution_name, stored_events


class EvolutionShapeError(ValueError):
    """A JSON answer that is not of the shape Evolution API gives (one line, naming the field)."""


def evolution_all_misses() -> tuple[catalog.Event, ...]:
    """Catalog events that Evolution's "all events" never publishes per instance: ``groups.update``."""
    return tuple(e for e in catalog.EVENTS if evolution_name(e) not in EVOLUTION_ALL_EVENTS)


def evolution_rejects(event: catalog.Event) -> bool:
    """Whether Evolution cannot publish ``event`` per instance whatever is sent to ``/kafka/set``."""
    return evolution_name(event) not in EVOLUTION_ALL_EVENTS


def request_name(event: catalog.Event) -> str:
    """The name to send to ``/kafka/set`` for ``event`` (``GROUP_UPDATE`` for ``groups.update``: the only
    spelling the schema accepts, though the publisher never matches it)."""
    return "GROUP_UPDATE" if event.name == "GROUPS_UPDATE" else event.name


def silently_missed(events: Iterable[str], enabled: bool = True) -> tuple[catalog.Event, ...]:
    """Events an operator asked for in an Evolution Kafka record that Evolution nonetheless never publishes:
    ``GROUP_UPDATE`` stored (groups.update asked for, never matched). Empty when disabled."""
    if not enabled:
        return ()
    stored = set(events)
    return tuple(e for e in catalog.EVENTS if e.name == "GROUPS_UPDATE" and "GROUP_UPDATE" in stored)


def published_events(events: Iterable[str], enabled: bool) -> tuple[catalog.Event, ...]:
    """The catalog events an Evolution record sends to per-instance topics: the stored array holds the name
    derived from the wire name (exactly; ``GROUP_UPDATE`` matches nothing)."""
    if not enabled:
        return ()
    stored = set(events)
    return tuple(e for e in catalog.EVENTS if evolution_name(e) in stored and evolution_name(e) != "GROUPS_UPDATE")


def asked_events(events: Iterable[str], enabled: bool) -> tuple[catalog.Event, ...]:
    """The catalog events a record asks for, ``GROUP_UPDATE`` read as groups.update (what an operator sees as
    "on", whether or not Evolution publishes it)."""
    if not enabled:
        return ()
    return tuple(e for e in catalog.EVENTS if request_name(e) in set(events) or e.name in set(events))


class ConnectionStatus(StrEnum):
    """WhatsApp connection state of an Evolution instance (Prisma enum ``InstanceConnectionStatus``)."""

    OPEN = "open"
    CLOSE = "close"
    CONNECTING = "connecting"
    UNKNOWN = "unknown"
    """Anything else the server says (kept as :attr:`EvolutionInstance.raw_status`)."""


def _opt_str(value: Mapping[str, Any], key: str) -> str | None:
    item = value.get(key)
    if item is None:
        return None
    if not isinstance(item, str):
        raise EvolutionShapeError(f"{key!r} is not a string")
    return item


@dataclass(frozen=True, slots=True)
class EvolutionInstance:
    """One entry of ``fetchInstances``. The instance ``token`` (its own API key) is deliberately not kept."""

    name: str
    connection_status: ConnectionStatus
    raw_status: str | None = None
    id: str | None = None
    owner_jid: str | None = None
    profile_name: str | None = None
    profile_pic_url: str | None = None
    integration: str | None = None
    number: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def phone(self) -> str | None:
        """The number to show: ``number``, else the user part of ``ownerJid`` (``5511…@s.whatsapp.net``)."""
        if self.number:
            return self.number
        if self.owner_jid:
            return self.owner_jid.split("@", 1)[0].split(":", 1)[0]
        return None

    @classmethod
    def from_json(cls, value: Any) -> EvolutionInstance:
        """Parse one ``fetchInstances`` entry; :class:`EvolutionShapeError` when it is not one."""
        if not isinstance(value, Mapping):
            raise EvolutionShapeError("instance entry is not a JSON object")
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise EvolutionShapeError("instance entry has no 'name'")
        raw = _opt_str(value, "connectionStatus")
        try:
            status = ConnectionStatus(raw) if raw is not None else ConnectionStatus.UNKNOWN
        except ValueError:
            status = ConnectionStatus.UNKNOWN
        return cls(
            name=name,
            connection_status=status,
            raw_status=raw,
            id=_opt_str(value, "id"),
            owner_jid=_opt_str(value, "ownerJid"),
            profile_name=_opt_str(value, "profileName"),
            profile_pic_url=_opt_str(value, "profilePicUrl"),
            integration=_opt_str(value, "integration"),
            number=_opt_str(value, "number"),
            created_at=_opt_str(value, "createdAt"),
            updated_at=_opt_str(value, "updatedAt"),
        )


def parse_instances(value: Any) -> list[EvolutionInstance]:
    """Parse a ``fetchInstances`` answer (a JSON array)."""
    if not isinstance(value, list):
        raise EvolutionShapeError("fetchInstances did not answer a JSON array")
    return [EvolutionInstance.from_json(item) for item in value]


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """An instance's Kafka row on Evolution: ``{id, enabled, events, createdAt, updatedAt, instanceId}``."""

    enabled: bool
    events: tuple[str, ...]
    """As stored, Evolution's spelling (``GROUP_UPDATE`` included)."""
    id: str | None = None
    instance_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_json(cls, value: Any) -> KafkaRecord:
        """Parse a ``kafka/find`` or ``kafka/set`` answer (not ``null``: see :func:`parse_kafka_find`)."""
        if not isinstance(value, Mapping):
            raise EvolutionShapeError("Kafka record is not a JSON object")
        enabled = value.get("enabled")
        if not isinstance(enabled, bool):
            raise EvolutionShapeError("Kafka record's 'enabled' is not true/false")
        events = value.get("events")
        if events is None:
            events = []
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise EvolutionShapeError("Kafka record's 'events' is not a list of names")
        return cls(
            enabled=enabled,
            events=tuple(events),
            id=_opt_str(value, "id"),
            instance_id=_opt_str(value, "instanceId"),
            created_at=_opt_str(value, "createdAt"),
            updated_at=_opt_str(value, "updatedAt"),
        )

    @property
    def published(self) -> tuple[catalog.Event, ...]:
        """Events Evolution sends to this instance's topics (catalog order)."""
        return published_events(self.events, self.enabled)

    @property
    def missed(self) -> tuple[catalog.Event, ...]:
        """Events this record seems to ask for but Evolution never publishes (see :func:`silently_missed`)."""
        return silently_missed(self.events, self.enabled)

    @property
    def unknown(self) -> tuple[str, ...]:
        """Stored names that are in neither the catalog nor its aliases (kept, shown, never dropped)."""
        return tuple(e for e in self.events if catalog.find(e) is None)


def parse_kafka_find(value: Any) -> KafkaRecord | None:
    """Parse a ``kafka/find`` answer: ``null`` when the instance has no Kafka settings."""
    if value is None:
        return None
    return KafkaRecord.from_json(value)


def error_message(body: Any) -> str | None:
    """The message of an Evolution error body ``{"status", "error", "response": {"message"}}``, one line.

    ``message`` may be a string, a list, or a list of lists (validation errors); all are joined with ``; ``.
    """
    if not isinstance(body, Mapping):
        return None
    response = body.get("response")
    message: Any = response.get("message") if isinstance(response, Mapping) else body.get("message")
    parts: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for sub in item:
                walk(sub)
        elif isinstance(item, Mapping):
            walk(item.get("message"))
        elif item is not None:
            parts.append(str(item))

    walk(message)
    text = "; ".join(p.strip() for p in parts if str(p).strip())
    if not text and isinstance(body.get("error"), str):
        text = body["error"]
    return " ".join(text.split()) or None


# --- producing the shapes (``evokafka serve``) --------------------------------------------------------------

_NAMESPACE = uuid.UUID("6f7e3d1c-5a0b-4c8e-9e4f-0b7a1c2d3e4f")


def instance_id(instance: str) -> str:
    """A stable id for ``instance`` (Evolution uses a cuid; any string of this shape will do for clients)."""
    return str(uuid.uuid5(_NAMESPACE, f"instance:{instance}"))


def error_json(status: int, error: str, message: str | list[Any]) -> dict[str, Any]:
    """Evolution's error body."""
    return {"status": status, "error": error, "response": {"message": message}}


def kafka_record_json(instance: str, settings: InstanceSettings) -> dict[str, Any]:
    """The ``kafka/find`` / ``kafka/set`` row for evokafka's settings of ``instance``.

    ``events`` as Evolution would hold them (:func:`tui.routing.stored_events`): as sent over ``/kafka/set``,
    "all" as its 31 names, ``groups.update`` spelled ``GROUP_UPDATE`` so that a client can send the list back.
    evokafka keeps one time per instance, so ``createdAt`` is the time of the last change too.
    """
    events = [("GROUP_UPDATE" if n == "GROUPS_UPDATE" else n) for n in stored_events(settings)]
    return {
        "id": str(uuid.uuid5(_NAMESPACE, f"kafka:{instance}")),
        "enabled": settings.enabled,
        "events": events if settings.enabled else [],
        "createdAt": settings.updated_at or None,
        "updatedAt": settings.updated_at or None,
        "instanceId": instance_id(instance),
    }


def instance_json(instance: str, settings: InstanceSettings | None, integration: str) -> dict[str, Any]:
    """A ``fetchInstances`` entry for an instance evokafka knows only by name and Kafka settings.

    evokafka holds no WhatsApp session, so the connection status is ``close`` and the WhatsApp fields are null.
    """
    when = settings.updated_at if settings is not None and settings.updated_at else None
    return {
        "id": instance_id(instance),
        "name": instance,
        "connectionStatus": ConnectionStatus.CLOSE.value,
        "ownerJid": None,
        "profileName": None,
        "profilePicUrl": None,
        "integration": integration,
        "number": None,
        "businessId": None,
        "token": settings.token if settings is not None and settings.token else None,
        "clientName": None,
        "disconnectionReasonCode": None,
        "disconnectionObject": None,
        "disconnectionAt": None,
        "createdAt": when,
        "updatedAt": when,
        "Chatwoot": None,
        "Proxy": None,
        "Rabbitmq": None,
        "Nats": None,
        "Sqs": None,
        "Websocket": None,
        "Setting": None,
        "_count": {"Message": 0, "Contact": 0, "Chat": 0},
    }
