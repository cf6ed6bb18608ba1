"""The rows of a stream pane: one line per record, drawn with the line API from the pane's bounded buffer.

Only the visible lines are rendered, so a buffer of 100,000 records costs no more per frame than one of 20.
A row keeps its raw record only: it is decoded and summarised the first time it is drawn (a flood of which
only the newest ~20 rows per frame reach the screen decodes only those), and what a drawn row shows is kept
as a few short strings (:class:`RowLook`), never the parsed body.
Everything taken from a record is shown literally: rows are built from :class:`rich.text.Text` pieces (no
markup is ever parsed) and control characters become visible escapes (``\\x1b``). Undecodable records are
shown, flagged with ``!`` and coloured.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.envelope import Decoded, decode
from tui.panebuffer import PaneBuffer
from tui.records import Record
from tui.summaries import one_line, summarize_decoded
from tui.topology import parse_topic

ROW_PARSE_LIMIT = 1024 * 1024
"""Values larger than this are not parsed for rows and filters (the detail view parses them, lazily)."""


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

    @property
    def flagged(self) -> bool:
        """Not a readable envelope: shown, but marked."""
        return self.problem is not None

    @classmethod
    def of(cls, decoded: Decoded) -> RowLook:
        """The look of a decoded record."""
        return cls(
            key=one_line(decoded.key or "", 100),
            event=one_line(decoded.event, 60) if decoded.event is not None else None,
            instance=one_line(decoded.instance, 100) if decoded.instance is not None else None,
            size=decoded.size,
            problem=one_line(decoded.problems[0], 120) if decoded.problems else None,
            summary=summarize_decoded(decoded, limit=200),
        )


class StreamRow:
    """A record as a pane keeps it: the record, and its :class:`RowLook` once drawn.

    Light on purpose (a pane holds thousands and a flood passes millions): nothing is decoded on the way in.
    """

    __slots__ = ("_look", "record")

    def __init__(self, record: Record) -> None:
        self.record = record
        self._look: RowLook | None = None

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

    @property
    def summary(self) -> str:
        """The one-line summary."""
        return self.look.summary

    @property
    def drawn(self) -> bool:
        """Whether the row was decoded for drawing (its look is kept)."""
        return self._look is not None


def short_topic(topic: str, prefix: str, width: int) -> str:
    """``topic`` as a row shows it in ``width`` characters.

    Event topics lose the layout prefix and are cut at the end, so the instance (or ``global``) stays
    readable (the event has its own column); other topics are cut in the middle, keeping both ends.
    """
    ref = parse_topic(topic, prefix) if prefix else None
    if ref is not None:
        name = one_line(topic[len(prefix) + 1 :], 300)
        return name if len(name) <= width else name[: max(width - 1, 0)] + "…"
    name = one_line(topic, 300)
    if len(name) <= width:
        return name
    if width < 5:
        return name[:width]
    head = (width - 1) // 2
    return name[:head] + "…" + name[len(name) - (width - 1 - head) :]


def human_size(size: int) -> str:
    """``812``, ``4.1K``, ``5.0M``."""
    if size < 1000:
        return str(size)
    if size < 1_000_000:
        return f"{size / 1024:.1f}K"
    return f"{size / (1024 * 1024):.1f}M"


def _cell(text: str, width: int) -> str:
    if len(text) > width:
        return text[: max(width - 1, 0)] + "…"
    return text.ljust(width)


@dataclass(frozen=True, slots=True)
class Columns:
    """Column widths for a pane width: narrow panes drop key and instance first."""

    time: int = 12
    topic: int = 18
    position: int = 9
    key: int = 12
    event: int = 17
    instance: int = 10
    size: int = 6

    @classmethod
    def for_width(cls, width: int) -> Columns:
        """The columns that fit ``width`` (the summary takes the rest)."""
        if width >= 150:
            return cls(time=12, topic=28, position=10, key=16, event=20, instance=14)
        if width >= 110:
            return cls()
        if width >= 96:
            return cls(time=12, topic=18, position=8, key=10, event=15, instance=0, size=6)
        if width >= 76:
            return cls(time=12, topic=16, position=8, key=0, event=15, instance=0, size=6)
        return cls(time=8, topic=12, position=0, key=0, event=12, instance=0, size=5)

    def header(self) -> str:
        """The column titles."""
        parts = [" " + _cell("time", self.time), _cell("topic", self.topic)]
        if self.position:
            parts.append(_cell("p/offset", self.position))
        if self.key:
            parts.append(_cell("key", self.key))
        parts.append(_cell("event", self.event))
        if self.instance:
            parts.append(_cell("instance", self.instance))
        parts.append(_cell("size", self.size))
        parts.append("summary")
        return " ".join(parts)


_DIM = Style(dim=True)
_CYAN = Style(color="cyan")
_BOLD = Style(bold=True)
_RED = Style(color="red")
_BOLD_RED = Style(bold=True, color="red")
_PLAIN = Style()


def row_segments(row: StreamRow, columns: Columns, prefix: str, width: int = 1000) -> list[Segment]:
    """One row as styled segments of plain text (record data is never read as markup, escapes are visible).

    The summary is cut to ``width`` characters (a character takes at least one cell: nothing visible is lost).
    """
    record, look = row.record, row.look
    flagged = look.flagged
    when = "?"
    if record.timestamp >= 0:
        with contextlib.suppress(OverflowError, OSError, ValueError):
            when = datetime.fromtimestamp(record.timestamp / 1000, UTC).strftime("%H:%M:%S.%f")[:12]
    if columns.time < 12:
        when = when[:8]
    out = [
        Segment("!" if flagged else " ", _BOLD_RED if flagged else _PLAIN),
        Segment(_cell(when, columns.time), _DIM),
        Segment(" "),
        Segment(_cell(short_topic(record.topic, prefix, columns.topic), columns.topic), _CYAN),
    ]
    if columns.position:
        out.append(Segment(" "))
        out.append(Segment(_cell(f"{record.partition}/{record.offset}", columns.position), _DIM))
    if columns.key:
        out.append(Segment(" " + _cell(look.key, columns.key)))
    out.append(Segment(" "))
    out.append(Segment(_cell(look.event or "?", columns.event), _RED if flagged else _BOLD))
    if columns.instance:
        out.append(Segment(" " + _cell(look.instance or "", columns.instance)))
    out.append(Segment(" "))
    out.append(Segment(_cell(human_size(look.size), columns.size).rjust(columns.size), _DIM))
    out.append(Segment(" "))
    summary = look.summary
    if look.problem is not None:
        summary = f"[{look.problem}] {summary}"
    out.append(Segment(summary[:width], _RED if flagged else _PLAIN))
    return out


def row_text(row: StreamRow, columns: Columns, prefix: str) -> Text:
    """One row as :class:`Text` built from plain pieces (the same pieces :func:`row_segments` draws)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for segment in row_segments(row, columns, prefix):
        text.append(segment.text, style=segment.style)
    return text


class StreamTable(ScrollView, can_focus=True):
    """A pane's rows, oldest at the top; a cursor picks a record for the detail view."""

    DEFAULT_CSS = """
    StreamTable { height: 1fr; overflow-x: hidden; }
    StreamTable > .stream-table--cursor { background: $accent 40%; }
    """
    COMPONENT_CLASSES = {"stream-table--cursor"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-10)", "Page up", show=False),
        Binding("pagedown", "cursor(10)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last (follow)", show=False),
        Binding("enter", "choose", "Detail", id="stream-detail"),
    ]

    @dataclass
    class RecordChosen(Message):
        """The operator asked for the detail of a row."""

        row: StreamRow

    @dataclass
    class FollowChanged(Message):
        """Moving the cursor away from the end stops following; going to the end starts it again."""

        follow: bool

    def __init__(self, buffer: PaneBuffer[StreamRow], prefix: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = buffer
        self.prefix = prefix
        self.cursor = -1
        self.follow = True
        self._count = 0
        self._dropped_seen = 0

    def sync(self) -> None:
        """Bring the view up to the buffer (called by the pane's frame timer, never per record)."""
        fell = self.buffer.dropped - self._dropped_seen
        self._dropped_seen = self.buffer.dropped
        count = len(self.buffer)
        if self.cursor >= 0:
            self.cursor = max(self.cursor - fell, 0)
        if self.follow:
            self.cursor = count - 1
        self.cursor = min(self.cursor, count - 1)
        self._count = count
        self.virtual_size = Size(0, count)
        if self.follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        self.refresh()

    @property
    def behind(self) -> bool:
        """Following, but not showing the newest row yet (the size was not known at the last sync)."""
        return self.follow and self._count > 0 and self.scroll_offset.y < self.max_scroll_y

    def selected(self) -> StreamRow | None:
        """The row under the cursor."""
        if 0 <= self.cursor < len(self.buffer):
            return self.buffer[self.cursor]
        return None

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        if index >= min(self._count, len(self.buffer)) or index < 0:
            return Strip.blank(width, self.rich_style)
        # Segments straight from the row's pieces (no rich Text layout per line: a frame draws ~20 rows per
        # pane); the strip is cut or padded to the width, the last cell an ellipsis when cut.
        segments = row_segments(self.buffer[index], Columns.for_width(width), self.prefix, width)
        strip = Strip(segments)
        if strip.cell_length > width:
            # A wide character at the cut may leave a cell short: padded again after the ellipsis.
            strip = Strip([*strip.crop(0, max(width - 1, 0)), Segment("…")])
        strip = strip.extend_cell_length(width)
        if index == self.cursor:
            cursor_style = self.get_component_rich_style("stream-table--cursor")
            strip = strip.apply_style(cursor_style)
        return strip.apply_style(self.rich_style) if self.rich_style else strip

    def _move(self, index: int) -> None:
        count = len(self.buffer)
        if count == 0:
            return
        self.cursor = max(0, min(index, count - 1))
        following = self.cursor == count - 1
        if following != self.follow:
            self.follow = following
            self.post_message(self.FollowChanged(following))
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + self.size.height:
            self.scroll_to(y=self.cursor - self.size.height + 1, animate=False, immediate=True)
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows."""
        self._move((self.cursor if self.cursor >= 0 else len(self.buffer) - 1) + delta)

    def action_first(self) -> None:
        """Go to the oldest buffered record."""
        self._move(0)

    def action_last(self) -> None:
        """Go to the newest record (and follow)."""
        self._move(len(self.buffer) - 1)

    def action_choose(self) -> None:
        """Open the record under the cursor."""
        row = self.selected()
        if row is not None:
            self.post_message(self.RecordChosen(row))

    def on_click(self, event: events.Click) -> None:
        self._move(int(self.scroll_offset.y) + event.y)

