"""The instance x event matrix, live: which instance publishes which event, how fast, and how long ago.

Rows are instances, columns events grouped by category; each cell is the rate and the time since the last
record, coloured by recency. ``v`` switches between the per-instance topics and the global ones (attributed by
key), ``enter`` opens a stream pane on exactly that instance and event. The counts come from one reading of
every event topic under the prefix (``flow_of(session).matrix_reader``) that starts :data:`LOOK_BACK_MS` back, into
a pure :class:`~tui.event_matrix.EventMatrix`; the grid redraws once a second, never per record.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from tui.console.screens.base import ConsoleScreen
from tui.console.session_flow import flow_of
from tui.console.widgets.event_matrix_grid import EventMatrixGrid
from tui.event_matrix import EventMatrix
from tui.filters import FilterSpec
from tui.selection import PaneSpec, Selection, StartPosition
from tui.status import ReaderStatus
from tui.summaries import one_line
from tui.topology import Layout

LOOK_BACK_MS = 10 * 60 * 1000
"""How far back the matrix starts counting when it opens."""
REDRAW_S = 1.0


class MatrixScreen(ConsoleScreen):
    """The live instance x event matrix; see the module docstring for the keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "layout", "Per-instance/global", id="matrix-layout"),
    ]

    def __init__(self, matrix: EventMatrix | None = None) -> None:
        """``matrix``: fixed counts to show (snapshots); else the screen reads the topics itself."""
        super().__init__(classes="matrix-screen")
        self._fixed = matrix is not None
        self.matrix = matrix or EventMatrix("")
        self.reader_state = ""
        """The reader's state as the title shows it (empty while not reading)."""

    def compose_body(self) -> ComposeResult:
        if not self._fixed:
            self.matrix.prefix = self.session.settings.topic_prefix
        yield Static(id="matrix-title", markup=False)
        yield EventMatrixGrid(self.matrix, self.session.clock, id="matrix-grid")
        yield Static(id="matrix-cursor", markup=False)

    def on_mount(self) -> None:
        session = self.session
        with contextlib.suppress(Exception):  # a registry not synced yet: rows come with the records
            self.matrix.seed(Layout.INSTANCE, session.registry_entries())
        self.query_one(EventMatrixGrid).focus()
        self._title()
        self.set_interval(REDRAW_S, self._redraw)
        self.grid.action_move(0, 0)  # names the cell under the cursor
        if session.connect and not self._fixed:
            self.reader_state = "starting"
            self._read()

    @property
    def grid(self) -> EventMatrixGrid:
        """The grid widget."""
        return self.query_one(EventMatrixGrid)

    def _redraw(self) -> None:
        self.grid.refresh()
        self._title()

    def _title(self) -> None:
        grid = self.grid
        layout = "per-instance topics" if grid.topic_layout is Layout.INSTANCE else "global topics (instance from the key)"
        rows = len(grid.rows)
        text = Text.assemble(
            (f"Matrix — {layout}", "bold"),
            f"  {rows:,} instances · {self.matrix.total(grid.topic_layout):,} records",
            (f" · {self.reader_state}" if self.reader_state else "", "italic"),
        )
        self.query_one("#matrix-title", Static).update(text)

    @work(group="matrix", exclusive=True, exit_on_error=False, name="matrix reader")
    async def _read(self) -> None:
        session = self.session
        since = int(session.clock() * 1000) - LOOK_BACK_MS
        reader = flow_of(session).matrix_reader(StartPosition("time", since))
        try:
            async for batch in reader.follow(self._reader_changed, initial_delay_ms=500):
                self.matrix.add(batch)
                await asyncio.sleep(0)  # keys and frames between batches
        finally:
            await asyncio.shield(reader.stop())

    def _reader_changed(self, status: ReaderStatus) -> None:
        self.reader_state = status.state if status.error is None else f"{status.state}: {one_line(status.error, 60)}"

    @on(EventMatrixGrid.CursorMoved)
    def _cursor_moved(self, message: EventMatrixGrid.CursorMoved) -> None:
        grid = self.grid
        if message.instance is None:
            self.query_one("#matrix-cursor", Static).update("no instance yet")
            return
        cell = self.matrix.cell(grid.topic_layout, message.instance, message.event.wire)
        seen = f"{cell.count:,} records" if cell is not None else "nothing seen"
        self.query_one("#matrix-cursor", Static).update(
            Text(f"{one_line(message.instance, 40)} · {message.event.wire} ({message.event.category.value}): {seen}"
                 " — enter: open a pane")
        )

    def action_layout(self) -> None:
        """Switch between per-instance and global topics."""
        grid = self.grid
        grid.show_layout(Layout.GLOBAL if grid.topic_layout is Layout.INSTANCE else Layout.INSTANCE)
        self._title()

    @on(EventMatrixGrid.CellChosen)
    async def _open_pane(self, message: EventMatrixGrid.CellChosen) -> None:
        spec = pane_for(message.layout, message.instance, message.event.wire)
        # Imported here: the streams screen is another area's module, needed only when a cell is chosen.
        from tui.console.screens.streams import StreamsScreen

        await self.app.switch_mode("streams")
        screen = self.app.screen
        if isinstance(screen, StreamsScreen):
            await screen.add_pane(spec)


def pane_for(layout: Layout, instance: str, event: str) -> PaneSpec:
    """A pane on exactly one instance and event: its per-instance topic, or the global topic kept to its key."""
    if layout is Layout.INSTANCE:
        return PaneSpec(f"{instance}/{event}", Selection(instances=(instance,), events=(event,)), "-20")
    return PaneSpec(
        f"global/{event} of {instance}", Selection(global_events=(event,)), "-200", FilterSpec(key=f"{instance}-{event}")
    )
