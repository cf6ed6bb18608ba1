"""The instance x event grid: instances as rows, events (grouped by category) as columns, each cell the rate and
the time since the last record, coloured by recency.

Only the visible cells are drawn (one line at a time, :meth:`render_line`), so a thousand instances cost what the
screen shows. The instance column and the two header lines stay put while the cursor scrolls the rest. ``enter``
posts :class:`EventMatrixGrid.CellChosen` for the cell under the cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from tui import catalog
from tui.event_matrix import EventMatrix, Recency, columns
from tui.topology import Layout

NAME_WIDTH = 18
CELL_WIDTH = 10
HEADER_LINES = 2
_SHORT = (
    ("messages.", "msg."), ("send.message", "send.msg"), ("contacts.", "contact."), ("group-participants", "g-part"),
    ("groups.", "group."), ("application.", "app."), ("connection.", "conn."), ("instance.", "inst."),
    ("typebot.", "bot."), ("presence.", "pres."), ("labels.", "label."), ("qrcode.", "qr."),
)


def short_name(wire: str) -> str:
    """An event's wire name, short enough for a column header."""
    for long, short in _SHORT:
        wire = wire.replace(long, short)
    return wire[: CELL_WIDTH - 1]


class EventMatrixGrid(Widget, can_focus=True):
    """The grid of one :class:`~tui.event_matrix.EventMatrix` in one layout; arrows move the cursor."""

    DEFAULT_CSS = """
    EventMatrixGrid { height: 1fr; }
    EventMatrixGrid > .matrix--header { text-style: bold; color: $text-muted; }
    EventMatrixGrid > .matrix--name { color: $text; }
    EventMatrixGrid > .matrix--now { color: $success; text-style: bold; }
    EventMatrixGrid > .matrix--recent { color: $warning; }
    EventMatrixGrid > .matrix--stale { color: $text-muted; }
    EventMatrixGrid > .matrix--never { color: $text-disabled; }
    EventMatrixGrid > .matrix--cursor { background: $accent; color: $text; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "matrix--header", "matrix--name", "matrix--now", "matrix--recent", "matrix--stale", "matrix--never",
        "matrix--cursor",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("pageup", "move(-10, 0)", "Page up", show=False),
        Binding("pagedown", "move(10, 0)", "Page down", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "choose", "Open pane", id="matrix-open"),
    ]

    @dataclass
    class CellChosen(Message):
        """The operator chose a cell: open a pane on exactly that instance and event."""

        layout: Layout
        instance: str
        event: catalog.Event

    @dataclass
    class CursorMoved(Message):
        """The cursor is on another cell (the screen names it in full)."""

        instance: str | None
        event: catalog.Event

    def __init__(self, matrix: EventMatrix, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.matrix = matrix
        self.topic_layout = Layout.INSTANCE
        self.events = columns()
        self.cursor_row = 0
        self.cursor_col = 0
        self.row_offset = 0
        self.col_offset = 0
        self._clock = clock

    # -- geometry ------------------------------------------------------------------------------------------

    @property
    def rows(self) -> list[str]:
        """The instances of the layout shown, in order."""
        return self.matrix.rows(self.topic_layout)

    def _visible_rows(self) -> int:
        return max(self.size.height - HEADER_LINES, 1)

    def _visible_cols(self) -> int:
        return max((self.size.width - NAME_WIDTH) // CELL_WIDTH, 1)

    def _keep_cursor_in_view(self) -> None:
        rows, cols = self._visible_rows(), self._visible_cols()
        self.row_offset = min(max(self.row_offset, self.cursor_row - rows + 1), self.cursor_row)
        self.col_offset = min(max(self.col_offset, self.cursor_col - cols + 1), self.cursor_col)
        self.row_offset = max(0, min(self.row_offset, max(len(self.rows) - rows, 0)))

    @property
    def current(self) -> tuple[str | None, catalog.Event]:
        """The instance (None: no rows) and event under the cursor."""
        rows = self.rows
        instance = rows[self.cursor_row] if rows and self.cursor_row < len(rows) else None
        return instance, self.events[self.cursor_col]

    def show_layout(self, layout: Layout) -> None:
        """Show the cells of ``layout`` (the cursor goes back to the first row)."""
        self.topic_layout = layout
        self.cursor_row = self.row_offset = 0
        self.refresh()
        self._moved()

    # -- drawing -------------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.get_component_rich_style
        first, last = self.col_offset, min(self.col_offset + self._visible_cols(), len(self.events))
        shown = self.events[first:last]
        if y == 0:
            segments = [Segment(f"{'instance' if self.topic_layout is Layout.INSTANCE else 'instance (by key)':<{NAME_WIDTH}}"
                                [:NAME_WIDTH], style("matrix--header"))]
            previous = None  # the first visible column always names its category
            for event in shown:
                label = event.category.value if event.category != previous else ""
                previous = event.category
                segments.append(Segment(f"{label[: CELL_WIDTH - 1]:<{CELL_WIDTH}}", style("matrix--header")))
            return Strip(segments).crop_extend(0, width, None)
        if y == 1:
            segments = [Segment(" " * NAME_WIDTH, style("matrix--header"))]
            segments += [Segment(f"{short_name(e.wire):<{CELL_WIDTH}}", style("matrix--header")) for e in shown]
            return Strip(segments).crop_extend(0, width, None)
        rows = self.rows
        index = self.row_offset + y - HEADER_LINES
        if index >= len(rows):
            return Strip.blank(width)
        instance = rows[index]
        name = instance if len(instance) < NAME_WIDTH else instance[: NAME_WIDTH - 2] + "…"
        segments = [Segment(f"{name:<{NAME_WIDTH}}", style("matrix--name"))]
        now_ms = int(self._clock() * 1000)
        cursor = style("matrix--cursor") if self.has_focus else Style(reverse=True)
        for col, event in enumerate(shown, start=first):
            cell = self.matrix.cell(self.topic_layout, instance, event.wire)
            text = cell.text(now_ms) if cell is not None else "·"
            recency = cell.recency(now_ms) if cell is not None else Recency.NEVER
            cell_style = style(f"matrix--{recency.value}")
            if index == self.cursor_row and col == self.cursor_col:
                cell_style = cell_style + cursor
            segments.append(Segment(f"{text[: CELL_WIDTH - 1]:<{CELL_WIDTH - 1}}", cell_style))
            segments.append(Segment(" "))
        return Strip(segments).crop_extend(0, width, None)

    def on_resize(self) -> None:
        self._keep_cursor_in_view()

    # -- keys ----------------------------------------------------------------------------------------------

    def action_move(self, rows: int, cols: int) -> None:
        """Move the cursor by ``rows`` and ``cols``."""
        self.cursor_row = max(0, min(self.cursor_row + rows, len(self.rows) - 1))
        self.cursor_col = max(0, min(self.cursor_col + cols, len(self.events) - 1))
        self._keep_cursor_in_view()
        self.refresh()
        self._moved()

    def action_edge(self, direction: int) -> None:
        """Go to the first (``home``) or last (``end``) instance."""
        self.cursor_row = 0 if direction < 0 else max(len(self.rows) - 1, 0)
        self._keep_cursor_in_view()
        self.refresh()
        self._moved()

    def action_choose(self) -> None:
        """Open a pane on the cell under the cursor."""
        instance, event = self.current
        if instance is not None:
            self.post_message(self.CellChosen(self.topic_layout, instance, event))

    def _moved(self) -> None:
        instance, event = self.current
        self.post_message(self.CursorMoved(instance, event))
