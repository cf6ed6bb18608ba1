"""The lag panel: a consumer group's committed offset, end offset and lag per topic and partition, live."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tui.kafka.lag import GroupLag, LagMonitor
from tui.kafka.options import ConnectionOptions
from tui.summaries import one_line

REFRESH_S = 2.0
"""Seconds between two looks at the group's offsets."""


class LagPanel(Vertical):
    """Lag of ``group`` on the topics matching ``pattern`` (default: the layout prefix's topics)."""

    DEFAULT_CSS = """
    LagPanel { height: 10; border-top: solid $primary; }
    LagPanel > DataTable { height: 1fr; }
    """

    def __init__(self, options: ConnectionOptions, group: str, pattern: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.options = options
        self.group = group
        self.pattern = pattern
        self.last: GroupLag | None = None
        self.error: str | None = None
        self.refreshes = 0

    def compose(self) -> ComposeResult:
        yield Static(Text(f"lag of group {one_line(self.group, 80)}: connecting…"), id="lag-title", markup=False)
        table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns("topic", "partition", "committed", "end", "lag")
        yield table

    def on_mount(self) -> None:
        self._watch()

    @work(group="lag", exclusive=True, exit_on_error=False, name="lag")
    async def _watch(self) -> None:
        monitor = LagMonitor(self.options, self.group)
        try:
            await monitor.start()
        except Exception as exc:
            self._show_error(str(exc) or exc.__class__.__name__)
            return
        try:
            while True:
                try:
                    snapshot = await monitor.snapshot(pattern=self.pattern)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._show_error(str(exc) or exc.__class__.__name__)
                else:
                    self.show(snapshot)
                # A refresh period, not a wait for a condition: the panel is a live view.
                await asyncio.sleep(REFRESH_S)
        finally:
            await asyncio.shield(monitor.stop())

    def _show_error(self, message: str) -> None:
        self.error = one_line(message, 200)
        self.query_one("#lag-title", Static).update(
            Text(f"lag of group {one_line(self.group, 80)}: {self.error}", style="red")
        )

    def show(self, lag: GroupLag) -> None:
        """Draw a snapshot."""
        self.last, self.error = lag, None
        self.refreshes += 1
        title = f"lag of group {one_line(self.group, 80)}: total {lag.total:,} on {len(lag.partitions)} partitions"
        if not lag.partitions:
            title += " (no committed offsets on these topics)"
        self.query_one("#lag-title", Static).update(Text(title))
        table: DataTable[str | Text] = self.query_one(DataTable)
        table.clear()
        for row in lag.partitions:
            lag_value = row.lag
            shown = Text("-" if lag_value is None else f"{lag_value:,}", style="bold red" if lag_value else "")
            table.add_row(
                one_line(row.topic, 80),
                str(row.partition),
                "-" if row.committed is None else f"{row.committed:,}",
                f"{row.end:,}",
                shown,
            )
