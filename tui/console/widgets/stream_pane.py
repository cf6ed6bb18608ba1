"""A stream pane: one subscription, its filters, a bounded buffer and a view redrawn at a bounded frame rate.

Reading runs in an async worker: each batch is filtered and appended to the pane's
:class:`~tui.panebuffer.PaneBuffer` as raw records. Panes of one selection and start share one fetch (the
session's ``follow``, :mod:`tui.kafka.shared`) and, given the screen's
:class:`~tui.console.widgets.stream_rows.BatchRows`, the rows of each batch. Nothing is decoded on the way in
unless the filter needs it (an empty filter reads nothing, a key filter only the key: :meth:`~tui.filters.RecordFilter.matches_record`);
rows are decoded and summarised when drawn, and only the visible ones. Nothing is drawn per record: a timer
(``FRAME_RATE`` a second) redraws from the buffer when it moved, so a flood of any rate costs at most ten
redraws a second, and the reader hands the event loop back after every batch so key presses are served in
between. Records of the events that say who is who (``contacts.*``, ``groups.*``, ``chats.*``) are noted at
ingest by their topic alone and read for the pane's :class:`~tui.address_book.AddressBook` at the next frames.
``/`` narrows the rows as the operator types (:meth:`StreamPane.narrow`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from tui.address_book import TEACHING_EVENTS, AddressBook
from tui.console.widgets.find_bar import FindBar
from tui.console.widgets.stream_rows import ROW_PARSE_LIMIT, BatchRows, Columns, StreamRow
from tui.console.widgets.stream_table import StreamTable
from tui.envelope import decode
from tui.failures import reason
from tui.filters import RecordFilter
from tui.handles import StreamReader
from tui.panebuffer import PaneBuffer
from tui.records import Record, safe_json, to_json
from tui.selection import PaneSpec, Selection, StartPosition
from tui.status import ReaderStatus
from tui.summaries import one_line

FRAME_RATE = 10.0
"""Redraws a second at most, whatever the inbound rate."""
TEACH_PER_FRAME = 50
"""Records of ``contacts.*``, ``groups.*`` and ``chats.*`` read for names per frame at most (they are rare; a
burst of them waits a few frames rather than stalling one)."""
BATCH_MAX = 100
"""Records per fetched batch. A pane takes one batch per event-loop turn, and a key press waits for the turn to
end at each step to the screen: 100 keeps three flooded panes' turn to a few milliseconds (500 held it ~35 ms
and put the key p99 over 400 ms), and the per-batch overhead still leaves ingest far above the 20,000/s goal."""

Clock = Callable[[], float]
Follow = Callable[[Selection, StartPosition, int], StreamReader]
"""Opens a live reading of a selection from a start, ``n`` records a batch at most (``Session.follow``)."""


def export_records(rows: Iterable[StreamRow], path: str | Path, *, reveal: bool = False) -> int:
    """Write ``rows`` to ``path`` (``~`` expanded) as JSON lines in ``evokafka tail``'s shape; secrets masked
    unless ``reveal``. Returns how many were written."""
    count = 0
    with Path(path).expanduser().open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(safe_json(to_json(row.record, reveal)) + "\n")
            count += 1
    return count


class StreamPane(Vertical, can_focus=False):
    """One live pane, reading through ``follow`` (the session's). ``reading=False`` or no ``follow`` builds it
    without Kafka (records can be fed with :meth:`ingest`);
    ``clocked=False`` leaves the frames to the owner, which calls :meth:`draw_frame` ``FRAME_RATE`` a second.
    ``names`` is the address book rows name people and groups from, ``rows`` where rows are made (the screen
    shares one of each between panes: panes reading the same batch then hold the same rows)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "find", "Find", id="stream-find", priority=True),
    ]

    @dataclass
    class StateChanged(Message):
        """Paused, following or the subscription's state changed (for the screen's tab titles)."""

        pane: StreamPane

    def __init__(
        self,
        spec: PaneSpec,
        *,
        prefix: str,
        capacity: int,
        max_bytes: int | None = None,
        clock: Clock = time.monotonic,
        follow: Follow | None = None,
        reading: bool = True,
        retry_delay_ms: int = 500,
        clocked: bool = True,
        names: AddressBook | None = None,
        rows: BatchRows | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="stream-pane")
        self.spec = spec
        self._follow = follow
        self.prefix = prefix
        self.filter: RecordFilter = spec.filter.compile()
        self.start_position = StartPosition.parse(spec.start)
        self.buffer: PaneBuffer[StreamRow] = PaneBuffer(capacity, clock=clock, max_bytes=max_bytes, size=_row_bytes)
        self.reading = reading and follow is not None
        self.retry_delay_ms = retry_delay_ms
        """The first wait before reconnecting after the cluster is lost (it doubles, up to 30 s)."""
        self.clocked = clocked
        """Whether the pane runs its own frame timer; False when its screen draws every pane on one clock (all
        panes then change in the same frame: one screen update per tick, not one per pane)."""
        self.reader_status: ReaderStatus | None = None
        self.subscription: StreamReader | None = None
        self.state = "starting" if self.reading else "idle"
        self._cluster_silent = False
        self.error: str | None = None
        self.frames = 0
        """Frames drawn so far (tests wait on it instead of sleeping)."""
        self._drawn_version = -1
        self._header_width: tuple[int, bool, int] | None = None
        self._counters_text = ""
        # Held, not queried: a frame touches them ten times a second, and a pane being removed still has them.
        self._title_line = Static(self._title_text(), classes="stream-pane--title", markup=False)
        self._header_line = Static(Columns.for_width(80).header(), classes="stream-pane--header", markup=False)
        self.names = names if names is not None else AddressBook()
        self._rows = rows if rows is not None else BatchRows()
        """Where rows are made: panes given the same one (and the same batches) share rows."""
        self._table = StreamTable(self.buffer, self.prefix, names=self.names)
        self._find = FindBar()
        self._counters_line = Static("", classes="stream-pane--counters", markup=False)
        self._teach: deque[Record] = deque(maxlen=1000)
        """Records that say who is who (``contacts.*``, ``groups.*``, ``chats.*``), read for names at the next
        frames: never at ingest."""
        self._teaching_topics: dict[str, bool] = {}
        self._timer: Timer | None = None
        self._user_paused = False
        self.weight = 1
        """The pane's share of the grid's height (``+``/``-``)."""

    def compose(self) -> ComposeResult:
        yield self._title_line
        yield self._header_line
        yield self._table
        yield self._find
        yield self._counters_line

    @property
    def table(self) -> StreamTable:
        """The rows."""
        return self._table

    @property
    def paused(self) -> bool:
        """Whether the operator paused reading."""
        return self._user_paused

    @property
    def parked(self) -> bool:
        """Paused, and the reader has stopped fetching (every batch read so far is counted)."""
        sub = self.subscription
        return self._user_paused and (sub is None or sub.parked.is_set())

    @property
    def follow(self) -> bool:
        """Whether the view sticks to the newest record."""
        return self.table.follow

    def on_mount(self) -> None:
        if self.clocked:
            self._timer = self.set_interval(1 / FRAME_RATE, self.draw_frame)
        if self.reading:
            self._read()
        self.draw_frame()

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    # -- reading ----------------------------------------------------------------------------------------

    @work(group="stream-panes", exit_on_error=False, name="stream-pane")
    async def _read(self) -> None:
        if self._follow is None:
            return
        sub = self._follow(self.spec.selection, self.start_position, BATCH_MAX)
        self.subscription = sub
        if self._user_paused:
            sub.pause()
        try:
            # ``follow`` survives the cluster going away: it reports each reconnect attempt (shown in the
            # title) and carries on reading when the broker is back.
            async for batch in sub.follow(self._reader_changed, initial_delay_ms=self.retry_delay_ms):
                self.ingest(batch)
                # Let key presses and frames in between batches, whatever the inbound rate.
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._set_state("failed", one_line(reason(exc), 200))
        finally:
            await asyncio.shield(sub.stop())

    def _reader_changed(self, status: ReaderStatus) -> None:
        self.reader_status = status
        if status.state == "reconnecting":
            self._set_state(f"reconnecting… attempt {status.attempt}", status.error)
        elif status.state == "reading":
            self._set_state("reading")

    def ingest(self, records: list[Record]) -> int:
        """Filter and buffer a batch; returns how many matched.

        Records are kept raw: only what the filter needs is read now (nothing for an empty filter), the rest
        when a row is drawn.
        """
        teaching = self._teaching_topics
        for record in records:
            teaches = teaching.get(record.topic)
            if teaches is None:
                ref = self._table.topics.ref(record.topic)
                teaches = teaching[record.topic] = ref is not None and ref.event.wire in TEACHING_EVENTS
            if teaches:
                self._teach.append(record)
        flt = self.filter
        if flt.accepts_all:
            matched = self._rows.rows(records, self.names)
        else:
            # Rows are made for the matches only (most records of a filtered pane fail its filter).
            test = flt.matches_record
            found = [i for i, record in enumerate(records) if test(record, max_parse=ROW_PARSE_LIMIT)]
            matched = self._rows.pick(records, self.names, found)
        self.buffer.add(len(records), matched)
        return len(matched)

    def set_cluster_silent(self, silent: bool) -> None:
        """Whether the session's last check found the cluster not answering: a pane still "reading" then says it
        is stalled (its own fetches wait on the cluster, and would say so only after their request timeout)."""
        if silent != self._cluster_silent:
            self._cluster_silent = silent
            self._refresh_title()

    def _set_state(self, state: str, error: str | None = None) -> None:
        self.state, self.error = state, error
        self.post_message(self.StateChanged(self))
        self._refresh_title()

    # -- drawing ------------------------------------------------------------------------------------------

    def draw_frame(self) -> None:
        """One frame: redraw the rows if the buffer moved, and the counters."""
        if not self.is_mounted:
            return
        table = self.table
        if self._teach:
            self._learn_names()
        if self.buffer.version != self._drawn_version or table.behind or table.scanning:
            self._drawn_version = self.buffer.version
            table.sync()
        self.buffer.frame()
        self.frames += 1
        # The title, header and counter lines are one row high each (styles/streams.tcss): updating them never
        # changes the layout, so no layout pass per frame; and each is updated only when its text changed.
        width = table.size.width or 80
        header = (width, table.wide, table.shift)
        if header != self._header_width:
            self._header_width = header
            self._header_line.update(table.columns().header(table.shift), layout=False)
        # What the operator must not miss comes first: the counters are the part a narrow pane cuts.
        flags = []
        if self._user_paused:
            flags.append("PAUSED")
        if not table.follow:
            flags.append("not following (End: follow)")
        if table.query_text:
            searching = " (searching…)" if table.scanning else ""
            flags.append(f"/{one_line(table.query_text, 30)}: {table.row_count:,} of {len(self.buffer):,}{searching}")
        counters = self.buffer.counters().describe()
        line = " · ".join(flags) + ("  " if flags else "") + counters
        if line != self._counters_text:
            self._counters_text = line
            self._counters_line.update(Text(line, no_wrap=True, overflow="ellipsis"), layout=False)

    def _learn_names(self) -> None:
        names, teach = self.names, self._teach
        for _ in range(min(TEACH_PER_FRAME, len(teach))):
            record = teach.popleft()
            decoded = decode(record.value, record.headers, record.key, max_parse=ROW_PARSE_LIMIT)
            if decoded.is_envelope and isinstance(decoded.body, dict):
                names.learn(decoded.event, decoded.body.get("data"))

    def _title_text(self) -> Text:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(one_line(self.spec.title, 40), style="bold")
        # The state first: a narrow pane cuts the end of the line (with an ellipsis), never the state.
        state = self.state
        if state == "reading" and self._cluster_silent:
            state = "stalled: the cluster does not answer"
        elif self.subscription is not None and self.subscription.missing and state == "reading":
            state = "waiting for " + ", ".join(self.subscription.missing[:2])
        style = "yellow" if state.startswith(("reconnecting", "stalled")) else "red" if self.error else "green"
        title.append(f"  [{state}]", style=style)
        if self.error:
            title.append(" " + self.error, style=style)
        if not self.spec.filter.empty:
            title.append("  filter: " + one_line(self.spec.filter.describe(), 120), style="yellow")
        title.append("  " + one_line(self.spec.selection.describe(), 120), style="cyan")
        title.append(f"  from {one_line(self.spec.start, 40)}", style="dim")
        return title

    def _refresh_title(self) -> None:
        if self.is_mounted:
            self._title_line.update(self._title_text(), layout=False)

    # -- flow control -----------------------------------------------------------------------------------

    def toggle_pause(self) -> bool:
        """Pause or resume reading (nothing is lost: reading resumes where it stopped)."""
        self._user_paused = not self._user_paused
        sub = self.subscription
        if sub is not None:
            if self._user_paused:
                sub.pause()
            else:
                sub.resume()
        self.post_message(self.StateChanged(self))
        self.draw_frame()
        return self._user_paused

    def toggle_follow(self) -> bool:
        """Follow the newest record, or stay where the cursor is."""
        table = self.table
        table.follow = not table.follow
        if table.follow:
            table.sync()
        self.draw_frame()
        return table.follow

    def clear(self) -> int:
        """Empty the pane (counted as dropped, never silently)."""
        gone = self.buffer.clear()
        self.table.sync()
        self.draw_frame()
        return gone

    def export(self, path: str | Path, *, reveal: bool = False) -> int:
        """Write the pane's records (the filtered view) to ``path`` (``~`` expanded) as JSON lines."""
        return export_records(self.buffer.snapshot(), path, reveal=reveal)

    def on_stream_table_follow_changed(self, event: StreamTable.FollowChanged) -> None:
        self.draw_frame()

    # -- / : narrow the rows as the operator types ---------------------------------------------------------

    def action_find(self) -> None:
        """Open the pane's ``/`` field: the rows narrow to those containing the text as it is typed."""
        # A priority key (routed as soon as it arrives, so the letters typed right after it land in the field);
        # in a text field it stays a "/".
        if isinstance(self.screen.focused, Input):
            raise SkipAction()
        self._find.open()

    def narrow(self, text: str) -> None:
        """Show only the rows whose key, instance, event or summary contain ``text`` (empty: every row)."""
        if self._find.value != text:
            with self._find.prevent(FindBar.Changed):
                self._find.value = text
        self.table.narrow(text)
        self.draw_frame()

    @on(FindBar.Narrowed)
    def _narrowed(self, event: FindBar.Narrowed) -> None:
        event.stop()
        self.table.narrow(event.text)
        self.draw_frame()

    @on(FindBar.Done)
    def _find_done(self, event: FindBar.Done) -> None:
        event.stop()
        self.table.focus()

    @on(StreamTable.NarrowingCleared)
    def _narrowing_cleared(self, event: StreamTable.NarrowingCleared) -> None:
        event.stop()
        self._find.action_clear_and_close()


def _row_bytes(row: StreamRow) -> int:
    return row.nbytes
