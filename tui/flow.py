"""Event flow, as evokafka's debugging commands answer it: a WhatsApp message's life as a timeline with its gaps.

What ``evokafka trace`` (and the console's trace screen) shows: every record of an instance's topics, in both
layouts, that refers to one WhatsApp message id (or one chat), ordered by the envelope's ``timestamp``, and the
gaps in that life: "READ without an upsert", "upsert never acknowledged", an edit or delete of a message never
seen, a receipt skipped.

The Kafka layer (:mod:`tui.kafka.trace`) finds the records; everything here is pure (no I/O, no Textual, no
aiokafka), so a screen and the command line build on the same :class:`Timeline`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tui.records import Record
from tui.topology import Layout, parse_topic

MESSAGE_EVENTS: frozenset[str] = frozenset(
    {
        "send.message",
        "messages.set",
        "messages.upsert",
        "messages.update",
        "send.message.update",
        "messages.edited",
        "messages.delete",
    }
)
"""The events that can refer to a message id."""
CHAT_EVENTS: frozenset[str] = MESSAGE_EVENTS | {
    "chats.upsert",
    "chats.update",
    "chats.delete",
    "presence.update",
    "labels.association",
    "call",
}
"""The events that can refer to a chat."""
RECEIPTS = ("SERVER_ACK", "DELIVERY_ACK", "READ")
"""A sent message's receipts, in the order they come."""
_STARTS = frozenset({"send.message", "messages.upsert", "messages.set"})
_RECEIPT_EVENTS = frozenset({"messages.update", "send.message.update"})


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """What to trace: one message id or one chat (a JID), of one instance or of all, in a time window (ms)."""

    message_id: str | None = None
    chat: str | None = None
    instance: str | None = None
    since_ms: int = 0
    until_ms: int | None = None

    def __post_init__(self) -> None:
        if bool(self.message_id) == bool(self.chat):
            raise ValueError("trace needs exactly one of a message id or a chat JID")

    @property
    def events(self) -> frozenset[str]:
        """The wire names whose topics can hold a matching record."""
        return MESSAGE_EVENTS if self.message_id else CHAT_EVENTS

    @property
    def needle(self) -> bytes:
        """Bytes every matching record's value contains (a cheap test before parsing)."""
        return (self.message_id or self.chat or "").encode()

    def describe(self) -> str:
        """``message 3EB0… of acme-sales`` / ``chat 5511…@s.whatsapp.net of every instance``."""
        what = f"message {self.message_id}" if self.message_id else f"chat {self.chat}"
        return f"{what} of {self.instance or 'every instance'}"


@dataclass(frozen=True, slots=True)
class Reference:
    """What one event's data says about one message: its id, chat, direction, status, text."""

    message_id: str | None
    chat: str | None
    from_me: bool | None = None
    status: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class FlowStep:
    """One record of the timeline."""

    timestamp: int
    """The envelope's ``timestamp`` (epoch ms); the record's own time when the body has none."""
    event: str
    instance: str
    layout: Layout
    topic: str
    partition: int
    offset: int
    message_id: str | None
    chat: str | None
    from_me: bool | None = None
    status: str | None = None
    text: str | None = None

    @property
    def time(self) -> datetime:
        """:attr:`timestamp` as an aware datetime (UTC)."""
        return datetime.fromtimestamp(self.timestamp / 1000, UTC)

    @property
    def label(self) -> str:
        """``messages.update READ`` — the event, with the status of a receipt."""
        return f"{self.event} {self.status}" if self.status and self.event in _RECEIPT_EVENTS else self.event

    def to_json(self) -> dict[str, Any]:
        """The step as one JSON object."""
        return {
            "timestamp": self.timestamp,
            "time": _iso(self.timestamp),
            "event": self.event,
            "status": self.status,
            "instance": self.instance,
            "layout": self.layout.value,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "message_id": self.message_id,
            "chat": self.chat,
            "from_me": self.from_me,
            "text": self.text,
        }


class GapKind(StrEnum):
    """What is missing from a message's life."""

    RECEIPT_WITHOUT_UPSERT = "receipt-without-upsert"
    NEVER_ACKNOWLEDGED = "never-acknowledged"
    SKIPPED_RECEIPT = "skipped-receipt"
    EDIT_WITHOUT_UPSERT = "edit-without-upsert"
    DELETE_WITHOUT_UPSERT = "delete-without-upsert"
    RECEIPT_BEFORE_UPSERT = "receipt-before-upsert"


@dataclass(frozen=True, slots=True)
class Gap:
    """A flagged gap: its kind, the message it concerns and one line saying it."""

    kind: GapKind
    message_id: str
    text: str

    def to_json(self) -> dict[str, Any]:
        """The gap as one JSON object."""
        return {"kind": self.kind.value, "message_id": self.message_id, "text": self.text}


@dataclass(frozen=True, slots=True)
class Timeline:
    """The answer: the steps in order, the gaps, and what was read to find them."""

    query: TraceQuery
    steps: tuple[FlowStep, ...]
    gaps: tuple[Gap, ...]
    topics: tuple[str, ...] = ()
    """The topics read."""
    scanned: int = 0
    """Records read in the window (most of them ruled out before parsing)."""
    notes: tuple[str, ...] = field(default=())

    @property
    def found(self) -> bool:
        """Whether any record refers to the message or chat."""
        return bool(self.steps)

    def to_json(self) -> dict[str, Any]:
        """One JSON document: the query, the steps, the gaps, the topics read."""
        q = self.query
        return {
            "query": {
                "message_id": q.message_id,
                "chat": q.chat,
                "instance": q.instance,
                "since": _iso(q.since_ms),
                "until": _iso(q.until_ms) if q.until_ms is not None else None,
            },
            "steps": [s.to_json() for s in self.steps],
            "gaps": [g.to_json() for g in self.gaps],
            "topics": list(self.topics),
            "scanned": self.scanned,
            "notes": list(self.notes),
        }


def _iso(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- what an event's data refers to --------------------------------------------------------------------


def references(event: str, data: Any) -> list[Reference]:
    """The messages (or chats) ``data`` of ``event`` refers to, from Evolution API's shapes; never raises."""
    try:
        return list(_references(event, data))
    except (AttributeError, TypeError, KeyError, ValueError):
        return []


def _items(data: Any, inner: str) -> Iterator[Any]:
    # Evolution sends one object or a list; some history events wrap the list (``{"messages": [...]}``).
    if isinstance(data, list):
        yield from data
    elif isinstance(data, dict) and isinstance(data.get(inner), list):
        yield from data[inner]
    elif data is not None:
        yield data


def _references(event: str, data: Any) -> Iterator[Reference]:
    if event in ("messages.upsert", "send.message", "messages.set", "messages.edited"):
        for item in _items(data, "messages"):
            key = item.get("key") or {}
            yield Reference(
                _str(key.get("id")), _str(key.get("remoteJid")), _bool(key.get("fromMe")),
                _str(item.get("status")) if event != "messages.edited" else None, _text(item.get("message")),
            )
    elif event in _RECEIPT_EVENTS:
        for item in _items(data, "messages"):
            message_id = item.get("keyId") or item.get("messageId") or (item.get("key") or {}).get("id")
            status = item.get("status") or (item.get("update") or {}).get("status")
            yield Reference(_str(message_id), _str(item.get("remoteJid")), _bool(item.get("fromMe")), _str(status))
    elif event == "messages.delete":
        for item in _items(data, "keys"):
            key = item.get("key") if isinstance(item.get("key"), dict) else item
            yield Reference(_str(key.get("id")), _str(key.get("remoteJid")), _bool(key.get("fromMe")))
    else:
        for item in _items(data, "chats"):
            if isinstance(item, str):
                yield Reference(None, item)
            elif isinstance(item, dict):
                jid = item.get("remoteJid") or item.get("chatId") or item.get("id")
                yield Reference(None, _str(jid))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _text(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    if isinstance(message.get("conversation"), str):
        return str(message["conversation"])
    for inner in message.values():
        if isinstance(inner, dict):
            for name in ("caption", "text", "conversation"):
                if isinstance(inner.get(name), str):
                    return str(inner[name])
            found = _text(inner.get("editedMessage"))
            if found is not None:
                return found
    return None


def steps_of(record: Record, query: TraceQuery, prefix: str) -> list[FlowStep]:
    """The steps ``record`` contributes to ``query``'s timeline (none when it does not refer to it)."""
    value = record.value
    if value is None or query.needle not in value:
        return []
    ref = parse_topic(record.topic, prefix)
    if ref is None or ref.event.wire not in query.events:
        return []
    body = record.decoded.body
    if not isinstance(body, dict):
        return []
    instance = body.get("instance") if isinstance(body.get("instance"), str) else ref.instance
    if instance is None or (query.instance is not None and instance != query.instance):
        return []
    stamp = body.get("timestamp")
    timestamp = int(stamp) if isinstance(stamp, int | float) and not isinstance(stamp, bool) else record.timestamp
    if timestamp < query.since_ms or (query.until_ms is not None and timestamp > query.until_ms):
        return []
    out: list[FlowStep] = []
    for found in references(ref.event.wire, body.get("data")):
        if query.message_id is not None and found.message_id != query.message_id:
            continue
        if query.chat is not None and found.chat != query.chat:
            continue
        out.append(
            FlowStep(
                timestamp, ref.event.wire, instance, ref.layout, record.topic, record.partition, record.offset,
                found.message_id, found.chat, found.from_me, found.status, found.text,
            )
        )
    return out


# --- the timeline and its gaps -------------------------------------------------------------------------

_STAGES = {"send.message": 0, "messages.set": 1, "messages.upsert": 2, "messages.edited": 6, "messages.delete": 7}
"""A life's order: sent, stored, the receipts (3 + their order in :data:`RECEIPTS`), edited, deleted."""


def _step_order(step: FlowStep) -> tuple[int, int, int, int, str, int, int]:
    # By the envelope's time; in the same millisecond (a burst) by the life's own order — a receipt by its status,
    # whichever event carries it — then per-instance before global.
    if step.event in _RECEIPT_EVENTS:
        stage = 3 + (RECEIPTS.index(step.status) if step.status in RECEIPTS else len(RECEIPTS))
    else:
        stage = _STAGES.get(step.event, 3 + len(RECEIPTS))
    carrier = 1 if step.event == "send.message.update" else 0
    layout = 0 if step.layout is Layout.INSTANCE else 1
    return (step.timestamp, stage, carrier, layout, step.topic, step.partition, step.offset)


def timeline(
    query: TraceQuery, steps: Iterable[FlowStep], *, topics: Iterable[str] = (), scanned: int = 0,
    notes: Iterable[str] = (),
) -> Timeline:
    """The ordered steps and their gaps."""
    ordered = tuple(sorted(steps, key=_step_order))
    return Timeline(query, ordered, tuple(gaps(ordered)), tuple(sorted(set(topics))), scanned, tuple(notes))


def gaps(steps: Iterable[FlowStep]) -> list[Gap]:
    """What is missing from each message's life (steps in timeline order; both layouts count as one)."""
    by_id: dict[str, list[FlowStep]] = {}
    for step in steps:
        if step.message_id is not None:
            by_id.setdefault(step.message_id, []).append(step)
    out: list[Gap] = []
    for message_id, life in by_id.items():
        out.extend(_gaps_of(message_id, life))
    return out


def _gaps_of(message_id: str, life: list[FlowStep]) -> Iterator[Gap]:
    starts = [s for s in life if s.event in _STARTS]
    receipts = [s for s in life if s.event in _RECEIPT_EVENTS and s.status in RECEIPTS]
    statuses = {s.status for s in receipts}
    short = message_id if len(message_id) <= 24 else message_id[:21] + "…"
    if not starts:
        for status in (r for r in RECEIPTS if r in statuses):
            yield Gap(GapKind.RECEIPT_WITHOUT_UPSERT, message_id, f"{status} without an upsert ({short})")
        if any(s.event == "messages.edited" for s in life):
            yield Gap(GapKind.EDIT_WITHOUT_UPSERT, message_id, f"edited without an upsert ({short})")
        if any(s.event == "messages.delete" for s in life):
            yield Gap(GapKind.DELETE_WITHOUT_UPSERT, message_id, f"deleted without an upsert ({short})")
        return
    sent_by_us = any(s.from_me for s in starts)
    if sent_by_us and not statuses:
        yield Gap(GapKind.NEVER_ACKNOWLEDGED, message_id, f"upsert never acknowledged ({short})")
    if statuses:
        highest = max(RECEIPTS.index(s) for s in statuses if s is not None)
        for skipped in RECEIPTS[:highest]:
            if skipped not in statuses:
                yield Gap(
                    GapKind.SKIPPED_RECEIPT, message_id, f"{RECEIPTS[highest]} without {skipped} ({short})"
                )
        first_start = min(s.timestamp for s in starts)
        early = [r for r in receipts if r.timestamp < first_start]
        if early:
            yield Gap(
                GapKind.RECEIPT_BEFORE_UPSERT, message_id, f"{early[0].status} before its upsert ({short})"
            )



# --- moments, as the commands take them ----------------------------------------------------------------

_UNITS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


class MomentError(ValueError):
    """A time that cannot be read (the message says what is allowed)."""


def parse_moment(text: str, now_ms: int) -> int:
    """Epoch ms of ``text``: a duration back from now (``90s``, ``30m``, ``2h``, ``1d``), ``@MILLIS`` or ISO-8601
    (UTC unless it says otherwise)."""
    value = text.strip()
    if len(value) > 1 and value[-1] in _UNITS and value[:-1].isdigit():
        return now_ms - int(value[:-1]) * _UNITS[value[-1]]
    if value.startswith("@") and value[1:].isdigit():
        return int(value[1:])
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MomentError(
            f"bad time {text!r}; allowed: a duration back from now (90s, 30m, 2h, 1d), @epoch-millis, ISO time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
