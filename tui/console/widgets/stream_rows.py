"""A stream pane's rows: what a row keeps of its record, the columns for a width, and one row as styled segments.

A row keeps its raw record only: it is decoded and summarised the first time it is drawn (a flood of which only
the newest ~20 rows per frame reach the screen decodes only those), and what a drawn row shows is kept as a few
short strings (:class:`RowLook`), never the parsed body. The summary gets the width: on layout topics the topic
collapses to ``instance · event`` (the layout is known), and the summary says who and what first
(:mod:`tui.summaries`, naming people and groups from the pane's :class:`~tui.address_book.AddressBook`).
Everything taken from a record is shown literally: plain-text segments (no markup is ever parsed), control
characters as visible escapes (``\\x1b``). Undecodable records are shown, flagged with ``!`` and coloured.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tui.address_book import MESSAGE_EVENTS, AddressBook
from tui.envelope import Decoded, decode
from tui.records import Record
from tui.summaries import one_line, summarize_decoded
from tui.topology import Layout, TopicRef, parse_topic

ROW_PARSE_LIMIT = 1024 * 1024
"""Values larger than this are not parsed for rows and filters (the detail view parses them, lazily)."""
SUMMARY_CHARS = 600
"""Characters of a summary a row keeps (→ scrolls through them)."""
MESSAGE_ROOM = 20
"""Characters of a message's text a row keeps in sight, whatever the length of who wrote it."""
_WHO_FIRST = MESSAGE_EVENTS | {"messages.edited", "messages.delete", "chats.update"}
"""Events whose summary starts with ``who:`` (drawn bold)."""


@dataclass(frozen=True, slots=True)
class RowLook:
    """What a drawn row shows of its record: a few short, printable strings (the parsed body is not kept)."""

    key: str
    event: str | None
    instance: str | None
    size: int
    problem: str | None
    """The first thing that could not be read (the row is flagged), or None."""
    summary: str
    names_version: int = -1
    """The address book's version the summary was made with (-1: made without one)."""

    @property
    def flagged(self) -> bool:
        """Not a readable envelope: shown, but marked."""
        return self.problem is not None

    @classmethod
    def of(cls, decoded: Decoded, names: AddressBook | None = None) -> RowLook:
        """The look of a decoded record (people and groups named from ``names``, which learns from it too)."""
        if names is not None and decoded.is_envelope and isinstance(decoded.body, Mapping):
            names.learn(decoded.event, decoded.body.get("data"))
        return cls(
            key=one_line(decoded.key or "", 100),
            event=one_line(decoded.event, 60) if decoded.event is not None else None,
            instance=one_line(decoded.instance, 100) if decoded.instance is not None else None,
            size=decoded.size,
            problem=one_line(decoded.problems[0], 120) if decoded.problems else None,
            summary=summarize_decoded(decoded, limit=SUMMARY_CHARS, names=names),
            names_version=names.version if names is not None else -1,
        )

    def text(self) -> str:
        """What the pane's ``/`` searches: key, instance, event and summary."""
        return " ".join((self.key, self.instance or "", self.event or "", self.summary))


class StreamRow:
    """A record as a pane keeps it: the record, and its :class:`RowLook` once drawn.

    Light on purpose (a pane holds thousands and a flood passes millions): nothing is decoded on the way in.
    """

    __slots__ = ("_look", "_nbytes", "record")

    def __init__(self, record: Record) -> None:
        self.record = record
        self._look: RowLook | None = None
        self._nbytes = -1

    @property
    def nbytes(self) -> int:
        """What the record weighs for a pane's byte budget (:attr:`Record.nbytes`), weighed once: panes that
        read the same batch share its rows (:class:`BatchRows`), and each pane's buffer weighs every row."""
        size = self._nbytes
        if size < 0:
            size = self._nbytes = self.record.nbytes
        return size

    def __repr__(self) -> str:
        record = self.record
        return f"StreamRow({record.topic!r}, {record.partition}, {record.offset})"

    @property
    def decoded(self) -> Decoded:
        """The record decoded (values over :data:`ROW_PARSE_LIMIT` not parsed). Made on each call, never kept."""
        record = self.record
        return decode(record.value, record.headers, record.key, max_parse=ROW_PARSE_LIMIT)

    @property
    def look(self) -> RowLook:
        """What the row shows, computed on first use (only drawn rows pay for it)."""
        look = self._look
        if look is None:
            look = self._look = RowLook.of(self.decoded)
        return look

    def look_with(self, names: AddressBook) -> RowLook:
        """The look, made again when ``names`` learned something since (a raw id may now have a name)."""
        look = self._look
        if look is None or look.names_version != names.version:
            look = self._look = RowLook.of(self.decoded, names)
        return look

    @property
    def summary(self) -> str:
        """The one-line summary."""
        return self.look.summary

    @property
    def drawn(self) -> bool:
        """Whether the row was decoded for drawing (its look is kept)."""
        return self._look is not None


class BatchRows:
    """The rows of a batch, made once for every pane that reads it: panes of one selection share one fetch
    (:mod:`tui.kafka.shared`) and so the very same list of records, and with it they share rows (and each row's
    look, drawn once). Per address book, since a row's summary names people from it. Only the last batch is kept:
    the panes of a fetch take each batch in turn before the next comes."""

    def __init__(self) -> None:
        self._batch: list[Record] | None = None
        self._names: AddressBook | None = None
        self._rows: list[StreamRow] = []
        self._some: list[StreamRow | None] | None = None
        """Rows made for some records of the batch only (filtered panes), by index; None: all are made."""

    def rows(self, batch: list[Record], names: AddressBook) -> list[StreamRow]:
        """A row for each record of ``batch``, in order (shared with the other panes given the same batch)."""
        if batch is not self._batch or names is not self._names:
            self._batch, self._names, self._some = batch, names, None
            self._rows = [StreamRow(record) for record in batch]
        elif self._some is not None:
            self._rows = [row if row is not None else StreamRow(record) for row, record in zip(self._some, batch, strict=True)]
            self._some = None
        return self._rows

    def pick(self, batch: list[Record], names: AddressBook, indices: Sequence[int]) -> list[StreamRow]:
        """The rows of the records of ``batch`` at ``indices`` (a filtered pane's matches): only those are made,
        and shared as :meth:`rows` shares them."""
        if batch is not self._batch or names is not self._names:
            self._batch, self._names, self._rows = batch, names, []
            self._some = [None] * len(batch)
        some = self._some
        if some is None:
            rows = self._rows
            return [rows[i] for i in indices]
        picked: list[StreamRow] = []
        for i in indices:
            row = some[i]
            if row is None:
                row = some[i] = StreamRow(batch[i])
            picked.append(row)
        return picked


_SHORT_EVENTS = {
    "messages.": "msg.",
    "send.message.update": "sent.update",
    "send.message": "sent",
    "connection.update": "connection",
    "presence.update": "presence",
    "group-participants.update": "participants",
    "qrcode.updated": "qrcode",
    "contacts.": "contact.",
    "chats.": "chat.",
    "groups.": "group.",
    "labels.": "label.",
    "typebot.change-status": "typebot.status",
    "application.startup": "startup",
}


def short_event(wire: str) -> str:
    """A compact name for narrow rows: ``messages.upsert`` → ``msg.upsert``."""
    for long, short in _SHORT_EVENTS.items():
        if wire.startswith(long):
            return short + wire[len(long) :]
    return wire


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, an ellipsis marking a cut."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def short_topic(topic: str, prefix: str, width: int) -> str:
    """``topic`` as a row shows it in ``width`` characters.

    Event topics lose the layout prefix and are cut at the end; other topics are cut in the middle, keeping
    both ends.
    """
    ref = parse_topic(topic, prefix) if prefix else None
    if ref is not None:
        return cut(one_line(topic[len(prefix) + 1 :], 300), width)
    name = one_line(topic, 300)
    if len(name) <= width:
        return name
    if width < 5:
        return name[:width]
    head = (width - 1) // 2
    return name[:head] + "…" + name[len(name) - (width - 1 - head) :]


def where_parts(instance: str, event: str, width: int) -> tuple[str, str, str]:
    """``(instance, separator, event)`` fitting ``width``: the event shortened first, then the instance cut."""
    for sep in (" · ", "·"):
        for shown in (event, short_event(event)):
            if len(instance) + len(sep) + len(shown) <= width:
                return instance, sep, shown
    shown = short_event(event)
    room = width - len(shown) - 1
    if room >= 4:
        return cut(instance, room), "·", shown
    return "", "", cut(shown, width)


def human_size(size: int) -> str:
    """``812``, ``4.1K``, ``5.0M``."""
    if size < 1000:
        return str(size)
    if size < 1_000_000:
        return f"{size / 1024:.1f}K"
    return f"{size / (1024 * 1024):.1f}M"


def _cell(text: str, width: int) -> str:
    return cut(text, width).ljust(width)


@dataclass(frozen=True, slots=True)
class Columns:
    """Column widths for a pane width; the summary takes the rest. ``wide`` shows the topic, partition/offset,
    key and size instead of ``instance · event``."""

    time: int = 8
    where: int = 22
    topic: int = 0
    position: int = 0
    key: int = 0
    size: int = 0

    @classmethod
    def for_width(cls, width: int, *, wide: bool = False) -> Columns:
        """The columns for ``width`` (an 80-column terminal leaves the summary 46 of its 78)."""
        if wide:
            if width >= 150:
                return cls(time=12, where=0, topic=40, position=10, key=20, size=6)
            if width >= 110:
                return cls(time=12, where=0, topic=30, position=9, key=14, size=6)
            return cls(time=12, where=0, topic=22, position=8, key=10, size=5)
        if width >= 150:
            return cls(time=12, where=36, position=10, size=6)
        if width >= 110:
            return cls(time=12, where=30, position=9)
        if width >= 76:
            return cls()
        return cls(where=18)

    def header(self, shift: int = 0) -> str:
        """The column titles (``shift``: how far the summary is scrolled)."""
        parts = [" " + _cell("time", self.time)]
        if self.where:
            parts.append(_cell("instance · event", self.where))
        if self.topic:
            parts.append(_cell("topic", self.topic))
        if self.position:
            parts.append(_cell("p/offset", self.position))
        if self.key:
            parts.append(_cell("key", self.key))
        if self.size:
            parts.append(_cell("size", self.size))
        parts.append(f"summary \u203a{shift}" if shift else "summary")
        return " ".join(parts)


_DIM = Style(dim=True)
_CYAN = Style(color="cyan")
_MAGENTA = Style(color="magenta")
_BOLD = Style(bold=True)
_RED = Style(color="red")
_BOLD_RED = Style(bold=True, color="red")
_PLAIN = Style()


class TopicNames:
    """Topics parsed against the layout once each (a pane reads few topics, and draws rows ten times a second)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._refs: dict[str, TopicRef | None] = {}

    def ref(self, topic: str) -> TopicRef | None:
        """The topic's layout, instance and event, or None for a topic outside the layout."""
        refs = self._refs
        if topic in refs:
            return refs[topic]
        ref = parse_topic(topic, self.prefix) if self.prefix else None
        if len(refs) < 10_000:
            refs[topic] = ref
        return ref


def row_segments(
    row: StreamRow,
    columns: Columns,
    topics: TopicNames,
    width: int = 1000,
    *,
    names: AddressBook | None = None,
    shift: int = 0,
) -> list[Segment]:
    """One row as styled segments of plain text (record data is never read as markup, escapes are visible).

    The summary starts ``shift`` characters in and is cut to ``width`` characters.
    """
    record = row.record
    look = row.look_with(names) if names is not None else row.look
    flagged = look.flagged
    ref = topics.ref(record.topic)
    when = "?"
    if record.timestamp >= 0:
        with contextlib.suppress(OverflowError, OSError, ValueError):
            when = datetime.fromtimestamp(record.timestamp / 1000, UTC).strftime("%H:%M:%S.%f")[: columns.time]
    is_global = ref is not None and ref.layout is Layout.GLOBAL
    out = [
        Segment("!" if flagged else " ", _BOLD_RED if flagged else _PLAIN),
        Segment(_cell(when, columns.time), _DIM),
        Segment(" "),
    ]
    if columns.where:
        event = look.event or (ref.event.wire if ref is not None else None)
        instance = (ref.instance if ref is not None else None) or look.instance
        if ref is None and look.event is None:
            out.append(Segment(_cell(short_topic(record.topic, topics.prefix, columns.where), columns.where), _CYAN))
        else:
            shown_instance, sep, shown_event = where_parts(instance or "?", event or "?", columns.where)
            # Global topics' instance (from the envelope) in another colour; W shows the topic itself.
            out.append(Segment(shown_instance, _MAGENTA if is_global else _CYAN))
            out.append(Segment(sep, _DIM))
            out.append(Segment(shown_event, _RED if flagged else _BOLD))
            pad = columns.where - len(shown_instance) - len(sep) - len(shown_event)
            if pad > 0:
                out.append(Segment(" " * pad))
        out.append(Segment(" "))
    if columns.topic:
        out.append(Segment(_cell(short_topic(record.topic, topics.prefix, columns.topic), columns.topic), _CYAN))
        out.append(Segment(" "))
    if columns.position:
        out.append(Segment(_cell(f"{record.partition}/{record.offset}", columns.position) + " ", _DIM))
    if columns.key:
        out.append(Segment(_cell(look.key, columns.key) + " "))
    if columns.size:
        out.append(Segment(human_size(look.size).rjust(columns.size) + " ", _DIM))
    summary = look.summary
    if look.problem is not None:
        summary = f"[{look.problem}] {summary}"
    if shift:
        summary = "\u2039" + summary[shift + 1 :]
    elif look.event in _WHO_FIRST and not flagged:
        who, colon, rest = summary.partition(": ")
        if colon and who:
            # Long names give way: the first MESSAGE_ROOM characters of the text stay in sight.
            keep = min(len(rest), MESSAGE_ROOM) + (1 if len(rest) > MESSAGE_ROOM else 0)
            room = width - sum(len(segment.text) for segment in out) - len(colon) - keep
            out.append(Segment(cut(who, max(room, 8)) + colon, _BOLD))
            summary = rest
    out.append(Segment(summary[:width], _RED if flagged else _PLAIN))
    return out


def row_text(row: StreamRow, columns: Columns, prefix: str) -> Text:
    """One row as :class:`Text` built from plain pieces (the same pieces :func:`row_segments` draws)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for segment in row_segments(row, columns, TopicNames(prefix)):
        text.append(segment.text, style=segment.style)
    return text
