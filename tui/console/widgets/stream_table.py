"""The rows of a stream pane, drawn with the line API from the pane's bounded buffer.

Only the visible lines are rendered, so a buffer of 100,000 records costs no more per frame than one of 20
(what a row keeps and how it is drawn: :mod:`tui.console.widgets.stream_rows`). ``/`` in the pane narrows the
rows as the operator types (:meth:`StreamTable.narrow`: text over key, instance, event and summary); only then
are rows decoded that no frame draws, and only the pane's own. ``←``/``→`` scroll the summary, ``W`` shows the
wide columns (topic, partition/offset, key, size), ``y`` copies the row as JSON (secrets masked), ``Y`` its key.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.address_book import AddressBook
from tui.console.widgets.stream_rows import Columns, StreamRow, TopicNames, row_segments
from tui.panebuffer import PaneBuffer
from tui.records import Record, safe_json, to_json

SCAN_PER_FRAME = 400
"""Buffered rows tested per frame when ``/`` starts narrowing (new ones are all tested as they arrive)."""
SHIFT_STEP = 20
"""Characters ``←``/``→`` scroll the summary by."""
MAX_CACHED_LINES = 256
"""Drawn lines kept for drawing again (a few screens of rows; the cache starts over past it)."""


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
        Binding("left", "shift(-1)", "Scroll left", show=False),
        Binding("right", "shift(1)", "Scroll right", show=False),
        Binding("enter", "choose", "Detail", id="stream-detail"),
        Binding("y", "copy(False)", "Copy row", id="stream-copy"),
        Binding("Y", "copy(True)", "Copy key", show=False, id="stream-copy-key"),
        Binding("W", "wide", "Wide columns", show=False, id="stream-wide"),
        Binding("escape", "clear_narrowing", "Clear /", show=False, id="stream-clear-find"),
    ]

    @dataclass
    class RecordChosen(Message):
        """The operator asked for the detail of a row."""

        row: StreamRow
        table: StreamTable

    @dataclass
    class FollowChanged(Message):
        """Moving the cursor away from the end stops following; going to the end starts it again."""

        follow: bool

    @dataclass
    class NarrowingCleared(Message):
        """``Esc`` on the rows cleared the pane's ``/`` text."""

    def __init__(
        self,
        buffer: PaneBuffer[StreamRow],
        prefix: str,
        *,
        names: AddressBook | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.buffer = buffer
        self.prefix = prefix
        self.topics = TopicNames(prefix)
        self.names = names if names is not None else AddressBook()
        self.cursor = -1
        self.follow = True
        self.shift = 0
        """How many characters of the summary are scrolled out to the left."""
        self.wide = False
        """Whether the wide columns (topic, partition/offset, key, size) replace ``instance · event``."""
        self.query_text = ""
        """The pane's ``/`` text: only rows containing it (any case) are shown."""
        self._needle = ""
        self._view: deque[tuple[int, StreamRow]] | None = None
        """The rows that match the ``/`` text, with their sequence numbers; None when nothing is narrowed."""
        self._scanned = 0
        self._backlog = 0
        self._count = 0
        self._dropped_seen = 0
        self._line_style: Style | None = None
        self._line_width: int | None = None
        self._line_columns: tuple[int, bool, Columns] | None = None
        self._strips: dict[int, tuple[tuple[str, int, int, int], bool, Strip]] = {}
        """Drawn lines by row (``id``): which record the row holds (topic, partition, offset, timestamp), whether
        the cursor was on it, the line. A line is drawn again only when its row, the cursor on it or
        :attr:`_strips_key` changed — a focus change, a pane's outline or the tab bar repaint the table without
        anything in it changing, and a quiet stream shows mostly the same rows frame after frame. Neither the row
        nor its record is kept here (a row the buffer let go would stay in memory, with its value, up to 1 MB); an
        ``id`` that comes round again for another row matches only if that row holds the same record."""
        self._cursor_style: Style | None = None
        self._strips_key: tuple[object, ...] = ()
        """What every cached line depends on besides its row: width, shift, wide columns, the names learned,
        the line's and the cursor's styles."""

    # -- what is shown ------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows shown (all buffered ones, or those matching the ``/`` text)."""
        view = self._view
        return len(self.buffer) if view is None else len(view)

    def row_at(self, index: int) -> StreamRow | None:
        """The shown row at ``index``, or None."""
        view = self._view
        if view is None:
            return self.buffer[index] if 0 <= index < len(self.buffer) else None
        return view[index][1] if 0 <= index < len(view) else None

    def rows(self) -> list[StreamRow]:
        """The shown rows, oldest first (a copy)."""
        view = self._view
        return self.buffer.snapshot() if view is None else [row for _, row in view]

    def columns(self) -> Columns:
        """The columns for the table's width and mode."""
        return Columns.for_width(self.scrollable_content_region.width or 80, wide=self.wide)

    def narrow(self, text: str) -> None:
        """Show only the rows whose key, instance, event or summary contain ``text`` (any case); empty: all."""
        self.query_text = text
        self._needle = text.strip().casefold()
        if not self._needle:
            self._view = None
        else:
            self._view = deque()
            # New arrivals are tested from here on; the rows already buffered are tested newest first, a
            # bounded number a frame (a first keystroke over 5,000 undrawn rows would otherwise freeze a frame).
            self._scanned = self._backlog = self.buffer.matched
        self.cursor = -1 if self.follow else 0
        self._dropped_seen = self.buffer.dropped
        self.sync()

    @property
    def scanning(self) -> bool:
        """Narrowed, and buffered rows are still being tested (a bounded number each frame)."""
        return self._view is not None and self._backlog > self.buffer.oldest_seq

    def _catch_up(self) -> int:
        """Test the rows that arrived since the last frame and a share of the older ones not tested yet; drop
        those that left the buffer. Returns how the index of a shown row moved (rows added above it count)."""
        view, buffer = self._view, self.buffer
        if view is None:
            return 0
        oldest, newest = buffer.oldest_seq, buffer.matched
        moved = 0
        if self._backlog > oldest:
            low = max(oldest, self._backlog - SCAN_PER_FRAME)
            needle, names = self._needle, self.names
            found = []
            for seq in range(self._backlog - 1, low - 1, -1):
                row = buffer[seq - oldest]
                if needle in row.look_with(names).text().casefold():
                    found.append((seq, row))
            view.extendleft(found)  # found runs newest to oldest: extendleft puts them back in order
            moved += len(found)
            self._backlog = low
        start = max(self._scanned, oldest)
        if start < newest:
            needle, names = self._needle, self.names
            seq = start
            for row in buffer.newest(newest - start):
                if needle in row.look_with(names).text().casefold():
                    view.append((seq, row))
                seq += 1
        self._scanned = newest
        while view and view[0][0] < oldest:
            view.popleft()
            moved -= 1
        return moved

    def sync(self) -> None:
        """Bring the view up to the buffer (called by the pane's frame timer, never per record)."""
        moved = self._dropped_seen - self.buffer.dropped if self._view is None else self._catch_up()
        self._dropped_seen = self.buffer.dropped
        count = self.row_count
        if self.cursor >= 0:
            self.cursor = max(self.cursor + moved, 0)
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
        return self.row_at(self.cursor)

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every line of this pass shares, asked once: the widget's style walks every ancestor, and a
        # following pane redraws all its lines ten times a second.
        style = self._line_style = self.rich_style
        width = self._line_width = self.scrollable_content_region.width
        # The cursor's colour is from the stylesheet (Textual keeps it until the styles change): a theme or
        # style change that touches either style draws every line again.
        self._cursor_style = self.get_component_rich_style("stream-table--cursor")
        key = (width, self.shift, self.wide, self.names.version, style, self._cursor_style)
        if key != self._strips_key or len(self._strips) > MAX_CACHED_LINES:
            self._strips_key = key
            self._strips = {}
        try:
            return super().render_lines(crop)
        finally:
            self._line_style = self._line_width = self._cursor_style = None

    def _columns(self, width: int) -> Columns:
        cached = self._line_columns
        if cached is None or cached[0] != width or cached[1] != self.wide:
            cached = self._line_columns = (width, self.wide, Columns.for_width(width, wide=self.wide))
        return cached[2]

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self._line_width if self._line_width is not None else self.scrollable_content_region.width
        style = self._line_style if self._line_style is not None else self.rich_style
        row = self.row_at(index) if index < self._count else None
        if row is None:
            return Strip.blank(width, style)
        on_cursor = index == self.cursor
        cached = self._strips.get(id(row)) if self._line_width is not None else None
        record = row.record
        where = (record.topic, record.partition, record.offset, record.timestamp)
        if cached is not None and cached[1] == on_cursor and cached[0] == where:
            return cached[2]
        # Segments straight from the row's pieces (no rich Text layout per line: a frame draws ~20 rows per
        # pane); the strip is cut or padded to the width, the last cell an ellipsis when cut.
        segments = row_segments(row, self._columns(width), self.topics, width, names=self.names, shift=self.shift)
        strip = Strip(segments)
        if strip.cell_length > width:
            # A wide character at the cut may leave a cell short: padded again after the ellipsis.
            strip = Strip([*strip.crop(0, max(width - 1, 0)), Segment("…")])
        strip = strip.extend_cell_length(width)
        if on_cursor:
            cursor_style = self._cursor_style or self.get_component_rich_style("stream-table--cursor")
            strip = strip.apply_style(cursor_style)
        strip = strip.apply_style(style) if style else strip
        if self._line_width is not None:
            self._strips[id(row)] = (where, on_cursor, strip)
        return strip

    # -- moving -------------------------------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        """Put the cursor on shown row ``index`` (clamped), scrolling it into view; the last row follows."""
        count = self.row_count
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

    def index_of(self, row: StreamRow) -> int | None:
        """Where ``row`` is shown, or None when it is not (any more)."""
        for index in range(self.row_count - 1, -1, -1):
            if self.row_at(index) is row:
                return index
        return None

    def neighbour(self, record: Record, step: int) -> Record | None:
        """The record ``step`` shown rows away from ``record`` (the cursor moves there), or None."""
        index = next(
            (i for i in range(self.row_count - 1, -1, -1) if (r := self.row_at(i)) is not None and r.record is record),
            None,
        )
        if index is None or not 0 <= index + step < self.row_count:
            return None
        self.move_to(index + step)
        row = self.row_at(index + step)
        return row.record if row is not None else None

    def find_position(self, partition: int | None, offset: int) -> int | None:
        """The shown row of ``partition`` (any, when None) at ``offset``, else the first one after it."""
        best: tuple[int, int] | None = None
        for index in range(self.row_count):
            row = self.row_at(index)
            if row is None:
                continue
            record = row.record
            if partition is not None and record.partition != partition:
                continue
            if record.offset == offset:
                return index
            if record.offset > offset and (best is None or record.offset < best[1]):
                best = (index, record.offset)
        return best[0] if best is not None else None

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows."""
        self.move_to((self.cursor if self.cursor >= 0 else self.row_count - 1) + delta)

    def action_first(self) -> None:
        """Go to the oldest buffered record."""
        self.move_to(0)

    def action_last(self) -> None:
        """Go to the newest record (and follow)."""
        self.move_to(self.row_count - 1)

    def action_shift(self, direction: int) -> None:
        """Scroll the summary left or right (what does not fit the width)."""
        self.shift = max(0, self.shift + direction * SHIFT_STEP)
        self.post_message(self.FollowChanged(self.follow))  # the pane redraws its header
        self.refresh()

    def action_wide(self) -> None:
        """Show the wide columns (topic, partition/offset, key, size) or ``instance · event`` again."""
        self.wide = not self.wide
        self.post_message(self.FollowChanged(self.follow))
        self.refresh()

    def action_choose(self) -> None:
        """Open the record under the cursor."""
        row = self.selected()
        if row is not None:
            self.post_message(self.RecordChosen(row, self))

    def action_copy(self, key_only: bool) -> None:
        """Copy the row to the operator's clipboard (OSC 52, so it works over SSH): the record as JSON in
        ``evokafka tail``'s shape, secrets masked; or only its key."""
        row = self.selected()
        if row is None:
            self.notify("no row to copy", severity="warning", timeout=2)
            return
        if key_only:
            text = row.record.key_text
            if text is None:
                self.notify("this record has no key", severity="warning", timeout=2)
                return
        else:
            text = safe_json(to_json(row.record, reveal=False))
        self.app.copy_to_clipboard(text)
        what = "key" if key_only else "record (secrets masked)"
        self.notify(f"copied the {what}, {len(text):,} characters", timeout=2)

    def action_clear_narrowing(self) -> None:
        """Esc: show every row again (when ``/`` narrowed them)."""
        if not self.query_text:
            raise SkipAction()
        self.narrow("")
        self.post_message(self.NarrowingCleared())

    def watch_has_focus(self, _has_focus: bool) -> None:
        # Textual restyles a widget and its scrollbars on every focus change (for ``:focus`` rules). No rule
        # styles this table by focus — the active pane shows by its outline — so ]/[ skip that work (~3 ms of a
        # press under a flood). A ``StreamTable:focus`` rule would need this removed.
        return

    def on_click(self, event: events.Click) -> None:
        self.move_to(int(self.scroll_offset.y) + event.y)
